// `harvgen status` and `harvgen discover` through the binary (test/status.test.ts has the library):
// a line per node, the unknown machines, --json, exit 2 for an unreadable log; a stub per unknown
// machine in discovered/.

import { appendFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { discover } from '../src/status/discover.ts';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type NodeStatus } from '../src/status/index.ts';
import { assertJson } from './helpers/cli-spawn.ts';
import { runCli } from './helpers/cli.ts';
import { site, line, logs, sortedLog } from './helpers/status.ts';
import { tempDir } from './helpers/tmp.ts';

test('the CLI: a line per node, the unknown machines, --json, exit 2 for an unreadable log', () => {
  const dir = site();
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, `${logs().join('\n')}\n`);
  const human = runCli(['status', dir, '--log', log]);
  assert.is(human.code, 0, human.stderr);
  assert.match(human.stdout, /^loop +loop /m);
  assert.match(human.stdout, /^done +installed /m);
  assert.match(human.stdout, /52:54:00:ff:00:01 .*Dell Inc\. PowerEdge R650/);
  const json = runCli(['status', dir, '--log', log, '--json']);
  assert.is(json.code, 0, json.stderr);
  const doc = assertJson<{ command: string; nodes: NodeStatus[]; unknown: unknown[] }>(json.stdout, 'status --json');
  assert.is(doc.command, 'status');
  assert.is(doc.nodes.length, 7);
  assert.is(doc.unknown.length, 1);
  const missing = runCli(['status', dir, '--log', join(dir, 'nope.log'), '--json']);
  assert.is(missing.code, 2);
  assert.match(assertJson(missing.stdout, 'status --json, unreadable log').diagnostics ? missing.stdout : '', /STATUS_LOG_UNREADABLE/);
  // In text, no verdict is printed from a run short of a log's requests (each would read never-booted).
  const missingText = runCli(['status', dir, '--log', log, '--log', join(dir, 'nope.log')]);
  assert.is(missingText.code, 2);
  assert.match(missingText.stderr, /STATUS_LOG_UNREADABLE/);
  assert.match(missingText.stderr, /no verdicts: a log could not be read/);
  assert.is(missingText.stdout, '');
  const noLog = runCli(['status', dir]);
  assert.is(noLog.code, 2);
  assert.match(noLog.stderr, /--log/);
  const badSince = runCli(['status', dir, '--log', log, '--since', 'yesterday']);
  assert.is(badSince.code, 2);
});

test('discover: a stub per unknown machine in discovered/, which the site does not load; a hostile report stays a comment', async () => {
  const dir = site();
  const log = join(dir, '..', 'access.log');
  const hostile = line(
    '10.0.0.161',
    9,
    '/harvgen-discover?mac=52-54-00-ff-00-02&serial=x%0Ahostname:%20pwned%0Dip:%2010.0.0.1&product=%E2%80%A8role:%20create',
    204,
  );
  writeFileSync(log, `${[...logs(), line('10.0.0.161', 9, '/ipxe/52-54-00-ff-00-02.ipxe', 404), hostile].join('\n')}\n`);
  const dry = runCli(['discover', dir, '--log', log, '--dry-run']);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would write +\S*discovered\/new-525400ff0001\.yaml/);
  assert.not.ok(existsSync(join(dir, 'discovered')));
  const r = await discover({ sites: [dir], logs: [log], write: true });
  assert.equal(
    r.unknown.map((u) => [u.mac, u.written]),
    [
      ['52:54:00:ff:00:01', true],
      ['52:54:00:ff:00:02', true],
    ],
  );
  const stub = readFileSync(join(dir, 'discovered/new-525400ff0001.yaml'), 'utf8');
  assert.match(stub, /manufacturer Dell Inc\., product PowerEdge R650, serial SN 123, SMBIOS UUID 4c4c4544/);
  assert.equal(parse(stub), { macs: ['52:54:00:ff:00:01'] });
  // The reported values are anyone's: no line break of theirs reaches the file.
  const evil = readFileSync(join(dir, 'discovered/new-525400ff0002.yaml'), 'utf8');
  assert.equal(parse(evil), { macs: ['52:54:00:ff:00:02'] });
  assert.match(evil, /serial x\?hostname: pwned\?ip: 10\.0\.0\.1/);
  // Not loaded: the site checks as before; a second run keeps the (maybe edited) stubs.
  writeFileSync(join(dir, 'discovered/new-525400ff0001.yaml'), `${stub}# edited\n`);
  const again = await discover({ sites: [dir], logs: [log], write: true });
  assert.ok(again.unknown.every((u) => !u.written));
  assert.match(readFileSync(join(dir, 'discovered/new-525400ff0001.yaml'), 'utf8'), /# edited/);
  const check = runCli(['check', dir]);
  assert.is(check.code, 0, check.stderr);
  const json = runCli(['discover', dir, '--log', log, '--json']);
  assert.is(assertJson<{ unknown: unknown[] }>(json.stdout, 'discover --json').unknown.length, 2);
});

test('--log-dir: a summary line per site, --state reruns that read only the new lines, --metrics, --json with the summaries', () => {
  const root = tempDir('cli-status-fleet');
  const dirs = ['a', 'b'].map((n) => site(n, join(root, 'sites')));
  const text = sortedLog();
  const half = text.indexOf('\n', text.length >> 1) + 1;
  for (const n of ['a', 'b']) {
    mkdirSync(join(root, 'logs', n), { recursive: true });
    writeFileSync(join(root, 'logs', n, 'access.log'), text.slice(0, half));
  }
  const state = join(root, 'state');
  const prom = join(root, 'harvgen.prom');
  const args = [...dirs, '--log-dir', join(root, 'logs'), '--deployed-at', '2026-11-01T00:00:00Z'];
  const first = runCli(['status', ...args, '--state', state, '--metrics', prom]);
  assert.is(first.code, 0, first.stderr);
  for (const n of ['a', 'b']) appendFileSync(join(root, 'logs', n, 'access.log'), text.slice(half));
  const again = runCli(['status', ...args, '--state', state, '--metrics', prom]);
  assert.is(again.code, 0, again.stderr);
  const full = runCli(['status', ...args]);
  assert.is(again.stdout, full.stdout, 'the incremental run prints what a full run prints');
  assert.match(
    full.stdout,
    /^a +7 node\(s\) +never-booted 1 booting 1 local 1 installing 1 installed 2 loop 1 +unknown 2 +requests \d+ last 2026-11-23 \d\d:\d\d:\d\d +never booted 24 h after the deploy of 2026-11-01 00:00:00 \(deployed-at\): 1: never$/m,
  );
  assert.is(full.stdout.trim().split('\n').length, 2, full.stdout);
  const metrics = readFileSync(prom, 'utf8');
  assert.match(metrics, /^harvgen_nodes\{site="b",verdict="installed"\} 2$/m);
  assert.match(metrics, /^harvgen_nodes_never_booted\{site="a"\} 1$/m);
  const json = runCli(['status', ...args, '--json']);
  const doc = assertJson<{ summaries: { site: string; never_booted: string[] }[]; nodes: unknown[] }>(
    json.stdout,
    'status --log-dir --json',
  );
  assert.equal(
    doc.summaries.map((s) => [s.site, s.never_booted]),
    [
      ['a', ['never']],
      ['b', ['never']],
    ],
  );
  assert.is(doc.nodes.length, 0, 'node detail only with --nodes');
  const detailed = runCli(['status', ...args, '--json', '--nodes']);
  assert.is(assertJson<{ nodes: unknown[] }>(detailed.stdout, 'status --nodes --json').nodes.length, 14);
  // A log of site b that cannot be read (a link to a device in its place): exit 2, and no verdict for b,
  // in text, JSON or metrics; a's are given.
  const broken = join(root, 'logs-broken');
  mkdirSync(join(broken, 'a'), { recursive: true });
  writeFileSync(join(broken, 'a', 'access.log'), text);
  mkdirSync(join(broken, 'b'), { recursive: true });
  symlinkSync('/dev/null', join(broken, 'b', 'access.log'));
  const bargs = [...dirs, '--log-dir', broken, '--deployed-at', '2026-11-01T00:00:00Z'];
  const unread = runCli(['status', ...bargs, '--nodes']);
  assert.is(unread.code, 2, unread.stderr);
  assert.match(unread.stderr, 'STATUS_LOG_UNREADABLE');
  assert.match(unread.stderr, 'b: no verdicts: a log could not be read');
  assert.match(unread.stdout, /^a +7 node\(s\)/m);
  assert.not.match(unread.stdout, /^b +7 node\(s\)/m, unread.stdout);
  const unreadJson = assertJson<{ summaries: { site: string }[] }>(
    runCli(['status', ...bargs, '--json']).stdout,
    'status --json, b unreadable',
  );
  assert.equal(
    unreadJson.summaries.map((x) => x.site),
    ['a'],
  );
  // Several sites with --log: a summary line each too; --nodes for the node lines.
  const log = join(root, 'logs', 'a', 'access.log');
  const shared = runCli(['status', ...dirs, '--log', log]);
  assert.match(shared.stdout, /^b +7 node\(s\) /m);
  assert.match(runCli(['status', ...dirs, '--log', log, '--nodes']).stdout, /^loop +loop /m);
  // A metrics file that cannot be written: a diagnostic, exit 2, the summaries printed all the same.
  const unwritable = runCli(['status', ...args, '--metrics', join(root, 'no-such-dir', 'harvgen.prom'), '--json']);
  assert.is(unwritable.code, 2, unwritable.stderr);
  const failed = assertJson<{ diagnostics: { code: string }[]; summaries: unknown[] }>(unwritable.stdout, 'status --metrics unwritable');
  assert.equal(
    failed.diagnostics.map((d) => d.code),
    ['EMIT_WRITE_FAILED'],
  );
  assert.is(failed.summaries.length, 2);
  // Usage errors.
  for (const bad of [
    ['--log', log, '--log-dir', join(root, 'logs')],
    ['--log', log, '--state', state, '--since', '1d'],
    ['--log-dir', join(root, 'logs'), '--never-booted', 'soon'],
    ['--log-dir', join(root, 'logs'), '--deployed-at', 'yesterday'],
  ]) {
    const r = runCli(['status', ...dirs, ...bad]);
    assert.is(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /CLI_USAGE/);
  }
});

test.run();
