// A stub `discover` writes points its editor modeline at the node schema of the harvgen that
// wrote it, relative to the stub's own directory: it resolves wherever the site lives and wherever
// harvgen is installed (a checkout, or node_modules/harvgen of the user's repository).
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { discover, MAX_STUBS, schemaPathFrom } from '../src/status/discover.ts';
import { MAX_STRANGERS } from '../src/status/tally.ts';
import { runCli } from './helpers/cli.ts';
import { line, site } from './helpers/status.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

test("a discovered stub's schema line resolves, from the stub's directory, to the node schema harvgen ships", async () => {
  // A site outside the repository, deeper than sites/<x>/: no fixed ../../../ can reach the schema.
  const dir = site();
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, `${line('10.0.0.160', 8, '/ipxe/52-54-00-ff-00-01.ipxe', 404)}\n`);
  const r = await discover({ sites: [dir], logs: [log], write: true, cwd: dir });
  assert.is(r.unknown.length, 1);
  const stub = join(dir, r.unknown[0]!.stub);
  assert.ok(r.unknown[0]!.written && existsSync(stub), stub);
  const m = /^# yaml-language-server: \$schema=(.+)$/m.exec(readFileSync(stub, 'utf8'));
  assert.ok(m, 'no modeline');
  assert.is(resolve(dirname(stub), m[1]!), join(repo, 'schema', 'node.schema.json'));
});

test('the schema path is relative and uses forward slashes from any directory', () => {
  for (const d of ['/srv/sites/x/discovered', join(repo, 'sites', 'x', 'discovered'), '/']) {
    const p = schemaPathFrom(d);
    assert.not.match(p, /\\/);
    assert.not.ok(p.startsWith('/'), p);
    assert.is(resolve(d, p), join(repo, 'schema', 'node.schema.json'));
  }
});

/** A log of one 404 per MAC (an unknown machine asking for its script). */
function unknownLog(dir: string, macs: readonly string[]): string {
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, macs.map((m, i) => line('10.0.0.160', 8 + (i % 50), `/ipxe/${m.replaceAll(':', '-')}.ipxe`, 404)).join('\n') + '\n');
  return log;
}

test("two MACs that share their last three bytes get two stubs: the first one asked does not take the other's", async () => {
  const dir = site();
  const log = unknownLog(dir, ['02:00:00:ff:00:01', '52:54:00:ff:00:01']);
  const r = await discover({ sites: [dir], logs: [log], write: true, cwd: dir });
  assert.equal(
    r.unknown.map((u) => [u.stub, u.written]),
    [
      ['discovered/new-020000ff0001.yaml', true],
      ['discovered/new-525400ff0001.yaml', true],
    ],
  );
  assert.match(readFileSync(join(dir, 'discovered/new-525400ff0001.yaml'), 'utf8'), /^macs: \[52:54:00:ff:00:01\]$/m);
});

test('discovered/ as a link to elsewhere, or a file: DISCOVER_DIR_UNSAFE, nothing written through it', async () => {
  const dir = site();
  const elsewhere = tempDir('discover-elsewhere');
  symlinkSync(elsewhere, join(dir, 'discovered'));
  const log = unknownLog(dir, ['52:54:00:ff:00:01']);
  const r = await discover({ sites: [dir], logs: [log], write: true, cwd: dir });
  assert.equal(
    r.diagnostics.map((d) => [d.code, d.severity]),
    [['DISCOVER_DIR_UNSAFE', 'error']],
  );
  assert.equal(readdirSync(elsewhere), []);
  assert.not.ok(r.unknown[0]!.written);
  assert.not.ok(r.unknown[0]!.kept, 'no stub was there to keep');
  // Only said when it would write: a dry run says what it would do.
  assert.equal((await discover({ sites: [dir], logs: [log], write: false, cwd: dir })).diagnostics, []);
});

test(`one run writes at most ${MAX_STUBS} stubs and says how many more it left`, async () => {
  const dir = site();
  const macs = Array.from(
    { length: MAX_STUBS + 30 },
    (_, i) => `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
  );
  const log = unknownLog(dir, macs);
  const r = await discover({ sites: [dir], logs: [log], write: true, cwd: dir });
  assert.is(r.unknown.filter((u) => u.written).length, MAX_STUBS);
  assert.is(readdirSync(join(dir, 'discovered')).length, MAX_STUBS);
  const capped = r.diagnostics.find((d) => d.code === 'DISCOVER_CAPPED');
  assert.match(capped?.message ?? '', new RegExp(`^${MAX_STUBS} stubs written.*; 30 more unknown MAC`));
  // The ones left out were never written, so none is "kept"; a second run keeps the ones it wrote.
  assert.is(r.unknown.filter((u) => u.kept).length, 0);
  const again = await discover({ sites: [dir], logs: [log], write: true, cwd: dir });
  assert.is(again.unknown.filter((u) => u.kept).length, MAX_STUBS);
  assert.is(again.unknown.filter((u) => u.written).length, 30);
});

test(`the CLI says "no stub" for a stub it did not write, and notes the unknown MACs past the ${MAX_STRANGERS.toLocaleString('en')} a site lists`, () => {
  const dir = site();
  const macs = Array.from(
    { length: MAX_STRANGERS + 5 },
    (_, i) =>
      `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
  );
  const log = unknownLog(dir, macs);
  const r = runCli(['discover', dir, '--log', log]);
  assert.is(r.code, 0, r.stderr);
  const verbs = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('  ')[0]);
  assert.is(verbs.filter((v) => v === 'wrote').length, MAX_STUBS);
  assert.is(verbs.filter((v) => v === 'no stub').length, MAX_STRANGERS - MAX_STUBS, `past the ${MAX_STUBS} stubs of a run: not "kept"`);
  assert.not.match(r.stdout, /new-020000002710\.yaml/, 'the MACs past the 10,000 listed are not listed');
  assert.not.match(r.stdout, /^kept /m);
  assert.match(r.stderr, 'note: st: ');
  assert.match(r.stderr, /5 request\(s\) of unknown MACs past the first 10000 not listed/);
  assert.match(r.stderr, /10000 unknown machine\(s\) listed \(more were left out: note above\)/);
});

test.run();
