// `harvgen status` and `harvgen discover` through the binary (test/status.test.ts has the library):
// a line per node, the unknown machines, --json, exit 2 for an unreadable log; a stub per unknown
// machine in discovered/.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { discover } from '../src/status/discover.ts';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type NodeStatus } from '../src/status/index.ts';
import { assertJson } from './helpers/cli-spawn.ts';
import { runCli } from './helpers/cli.ts';
import { site, line, logs } from './helpers/status.ts';

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
  assert.match(dry.stdout, /would write +\S*discovered\/new-ff0001\.yaml/);
  assert.not.ok(existsSync(join(dir, 'discovered')));
  const r = await discover({ sites: [dir], logs: [log], write: true });
  assert.equal(
    r.unknown.map((u) => [u.mac, u.written]),
    [
      ['52:54:00:ff:00:01', true],
      ['52:54:00:ff:00:02', true],
    ],
  );
  const stub = readFileSync(join(dir, 'discovered/new-ff0001.yaml'), 'utf8');
  assert.match(stub, /manufacturer Dell Inc\., product PowerEdge R650, serial SN 123, SMBIOS UUID 4c4c4544/);
  assert.equal(parse(stub), { macs: ['52:54:00:ff:00:01'] });
  // The reported values are anyone's: no line break of theirs reaches the file.
  const evil = readFileSync(join(dir, 'discovered/new-ff0002.yaml'), 'utf8');
  assert.equal(parse(evil), { macs: ['52:54:00:ff:00:02'] });
  assert.match(evil, /serial x\?hostname: pwned\?ip: 10\.0\.0\.1/);
  // Not loaded: the site checks as before; a second run keeps the (maybe edited) stubs.
  writeFileSync(join(dir, 'discovered/new-ff0001.yaml'), `${stub}# edited\n`);
  const again = await discover({ sites: [dir], logs: [log], write: true });
  assert.ok(again.unknown.every((u) => !u.written));
  assert.match(readFileSync(join(dir, 'discovered/new-ff0001.yaml'), 'utf8'), /# edited/);
  const check = runCli(['check', dir]);
  assert.is(check.code, 0, check.stderr);
  const json = runCli(['discover', dir, '--log', log, '--json']);
  assert.is(assertJson<{ unknown: unknown[] }>(json.stdout, 'discover --json').unknown.length, 2);
});

test.run();
