// `harvgen facts` as a user runs it: the collector script (valid sh, and run here its output is a
// dump the import reads), a dump imported into facts/<host>.yaml with --json output as the schema
// says, a second import that changes nothing, and FACTS_READ_FAILED with a hint and exit 2 when a
// machine cannot be read (no credentials, not a dump), never a stack trace.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, hasStackTrace } from './helpers/cli.ts';
import { assertJson, runCliWith } from './helpers/cli-spawn.ts';
import { tempDir } from './helpers/tmp.ts';

function site(): string {
  const dir = tempDir('cli-facts');
  writeFileSync(
    join(dir, 'site.yaml'),
    [
      'site: facts',
      'harvester: { version: v1.8.1, artifacts: http://10.0.0.1/artifacts }',
      'boot: { server: http://10.0.0.1 }',
      'network: { cidr: 10.0.0.0/24, gateway: 10.0.0.1, dns: [10.0.0.1], dhcp_range: 10.0.0.100-10.0.0.199 }',
      'cluster: { vip: 10.0.0.10, token: { env: T }, password: { env: P } }',
      'nodes:',
      '  - { hostname: n1, mac: "52:54:00:00:00:01", ip: 10.0.0.11, install: { device: /dev/disk/by-id/ata-X_1 }, bmc: { address: "127.0.0.1:9", user: { env: FACTS_TEST_USER }, password: { env: FACTS_TEST_PASSWORD } } }',
      '',
    ].join('\n'),
  );
  return dir;
}

const DUMP = [
  'harvgen-facts 1',
  'nproc 48',
  'memtotal_kb 131000000',
  'dmi19 128 GB',
  'firmware uefi',
  'virt none',
  'kvm yes',
  'nic eno1 mac 52:54:00:00:00:01',
  'nic eno1 speed 25000',
  'nic eno1 operstate up',
  'disk sda sectors 1875385008',
  'byid sda ata-X_1',
  'end',
  '',
].join('\n');

test('facts --script prints a POSIX sh script; run here, what it prints imports as a dump', () => {
  const r = runCli(['facts', '--script']);
  assert.is(r.code, 0, r.stderr);
  const script = join(tempDir('collect'), 'collect.sh');
  writeFileSync(script, r.stdout);
  const syntax = spawnSync('sh', ['-n', script], { encoding: 'utf8' });
  assert.is(syntax.status, 0, syntax.stderr);
  const ran = spawnSync('sh', [script], { encoding: 'utf8', timeout: 30_000 });
  assert.is(ran.status, 0, ran.stderr);
  assert.match(ran.stdout, /^harvgen-facts 1\nnproc \d+\n/);
  const dir = site();
  const dump = join(dir, 'here.facts');
  writeFileSync(dump, ran.stdout);
  const imported = runCli(['facts', dir, '--node', 'n1', '--dump', dump, '--dry-run', '--json']);
  const doc = assertJson<{ machines: { status: string; facts: { cpus?: number } }[] }>(imported.stdout, 'facts --dry-run --json');
  assert.is(doc.machines[0]!.status, 'measured');
  assert.ok((doc.machines[0]!.facts.cpus ?? 0) >= 1, 'nproc read');
  assert.not.ok(existsSync(join(dir, 'facts')), '--dry-run writes nothing');
});

test('facts --dump writes facts/<host>.yaml (JSON output per the schema); again, it is unchanged; check judges it', () => {
  const dir = site();
  const dump = join(dir, 'n1.facts');
  writeFileSync(dump, DUMP);
  const first = runCli(['facts', dir, '--node', 'n1', '--dump', dump, '--json']);
  assert.is(first.code, 0, first.stdout + first.stderr);
  const doc = assertJson<{ machines: { hostname: string; status: string; file: string }[] }>(first.stdout, 'facts --json');
  assert.equal(
    doc.machines.map((m) => [m.hostname, m.status]),
    [['n1', 'written']],
  );
  const text = readFileSync(join(dir, 'facts', 'n1.yaml'), 'utf8');
  assert.match(text, /^# Hardware of n1 as measured by `harvgen facts` \(dump\)/);
  assert.match(text, /memory_gib: 128\n/);
  assert.match(text, /by_id: \/dev\/disk\/by-id\/ata-X_1\n/);
  const again = runCli(['facts', dir, '--node', 'n1', '--dump', dump]);
  assert.is(again.code, 0);
  assert.match(again.stdout, /^unchanged {2}.*facts\/n1\.yaml {2}\(measured 20\d\d-/);
  assert.is(readFileSync(join(dir, 'facts', 'n1.yaml'), 'utf8'), text);
  const checked = runCliWith(['check', dir], { env: { T: 'token.123', P: 'password.123' } });
  assert.is(checked.code, 0, checked.stdout + checked.stderr);
});

test('FACTS_READ_FAILED: no credentials, or not a dump, is a clear error with a hint and exit 2, no trace', () => {
  const dir = site();
  const noCreds = runCli(['facts', dir, '--json']);
  assert.is(noCreds.code, 2);
  const doc = assertJson<{ diagnostics: { code: string; message: string; hint: string }[] }>(noCreds.stdout, 'facts without credentials');
  assert.is(doc.diagnostics[0]!.code, 'FACTS_READ_FAILED');
  assert.match(doc.diagnostics[0]!.hint, /Export FACTS_TEST_USER and FACTS_TEST_PASSWORD/);
  const junk = join(dir, 'junk.txt');
  writeFileSync(junk, 'hello\n');
  const notDump = runCli(['facts', dir, '--node', 'n1', '--dump', junk]);
  assert.is(notDump.code, 2);
  assert.match(notDump.stderr + notDump.stdout, /FACTS_READ_FAILED .*not the output of `harvgen facts --script`/);
  const fifo = runCli(['facts', dir, '--node', 'n1', '--dump', '/dev/zero']);
  assert.is(fifo.code, 2);
  assert.match(fifo.stderr + fifo.stdout, /is not a regular file/);
  for (const r of [noCreds, notDump, fifo]) assert.not.ok(hasStackTrace(r.stdout + r.stderr));
  const usage = runCli(['facts', dir, '--dump', junk]);
  assert.is(usage.code, 2);
  assert.match(usage.stderr + usage.stdout, /--dump needs exactly one --node/);
  const system = runCli(['facts', dir, '--node', 'n1', '--system', '/redfish/v1/Systems/1']);
  assert.is(system.code, 2);
  assert.match(system.stderr + system.stdout, /--system goes with --bmc/);
  const help = runCli(['facts', '--help']);
  assert.match(help.stdout, /--system <path>/);
});

test.run();
