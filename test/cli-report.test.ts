// `harvgen report` through the binary (test/report.test.ts has the library): pages written with
// the states of a log, --json, SOURCE_DATE_EPOCH, and usage errors and bad sites that write nothing.
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertJson, runCliWith } from './helpers/cli-spawn.ts';
import { hasStackTrace, runCli } from './helpers/cli.ts';
import { logs, site } from './helpers/status.ts';
import { tempDir } from './helpers/tmp.ts';

test('report writes the index, the site pages and the print view, with the states from the log', () => {
  const dir = site('cr');
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, `${logs().join('\n')}\n`);
  const out = join(tempDir('cli-report'), 'r');
  const r = runCli(['report', dir, '--out', out, '--log', log, '--generated-at', '2026-11-23T12:00:00Z']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, '3 page(s) of 1 site(s): 3 written');
  assert.equal(readdirSync(join(out, 'sites', 'cr')).sort(), ['index.html', 'print.html']);
  const page = readFileSync(join(out, 'sites', 'cr', 'index.html'), 'utf8');
  assert.match(page, 'id="node-done" data-state="installed"');
  assert.match(page, 'id="node-loop" data-state="loop"');
  assert.match(page, '2026-11-23T12:00:00Z');
  // The same run again writes nothing new.
  const again = runCli(['report', dir, '--out', out, '--log', log, '--generated-at', '2026-11-23T12:00:00Z', '--json']);
  assert.is(again.code, 0, again.stderr);
  const doc = assertJson<{ command: string; ok: boolean; report: { pages: number; written: number; unchanged: number } }>(
    again.stdout,
    'report --json',
  );
  assert.equal([doc.command, doc.ok, doc.report.pages, doc.report.written, doc.report.unchanged], ['report', true, 3, 0, 3]);
});

test('SOURCE_DATE_EPOCH fixes the time the pages show', () => {
  const dir = site('ep');
  const out = join(tempDir('cli-report'), 'r');
  const r = runCliWith(['report', dir, '--out', out], { env: { SOURCE_DATE_EPOCH: '1795435200' } });
  assert.is(r.code, 0, r.stderr);
  assert.match(readFileSync(join(out, 'index.html'), 'utf8'), '2026-11-23T12:00:00Z');
});

test('usage errors and a bad site exit non-zero with a diagnostic, no stack trace, and write nothing', () => {
  const dir = site('bad');
  const root = tempDir('cli-report');
  const cases: [string[], number, RegExp][] = [
    [['report', dir], 2, /--out <dir>/],
    [['report', dir, '--out', join(root, 'a'), '--generated-at', 'yesterday'], 2, /--generated-at yesterday: an ISO 8601 time/],
    [['report', dir, '--out', join(root, 'b'), '--per-page', '0'], 2, /--per-page 0/],
    [
      ['report', dir, '--out', join(root, 'e'), '--generated-at', '2026-02-30T10:00:00Z'],
      2,
      /--generated-at 2026-02-30T10:00:00Z: an ISO 8601 time/,
    ],
    [['report', dir, '--out', join(root, 'f'), '--verified', join(root, 'v.json')], 2, /--verified needs --fleet/],
    [['report', dir, '--out', join(root, 'c'), '--fleet', join(root, 'nofleet')], 2, /VERIFY_FLEET_RECORD/],
    [['report', join(root, 'nosuch'), '--out', join(root, 'd')], 1, /LOAD_SITE_DIR_NOT_FOUND/],
  ];
  for (const [args, code, message] of cases) {
    const r = runCli(args);
    assert.is(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.not.ok(hasStackTrace(r.stderr), r.stderr);
  }
  for (const d of ['a', 'b', 'c', 'd', 'e', 'f']) assert.not.ok(existsSync(join(root, d)), `${d} was written`);
  // A directory that is not a report is never written into.
  const foreign = join(root, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'keep.txt'), 'x');
  const r = runCli(['report', dir, '--out', foreign]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /is not empty and holds no report/);
  assert.equal(readdirSync(foreign), ['keep.txt']);
});

test.run();
