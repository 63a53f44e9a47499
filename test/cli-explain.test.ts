// `harvgen explain`: every resolved value of a node with the file and line that set it, the
// built-in default, or what it was derived from; found by hostname or any spelling of a MAC;
// secrets masked.
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

interface Value {
  key: string;
  value: unknown;
  source: { kind: string; path?: string; file?: string; line?: number; from?: string };
}

function explain(...args: string[]): { site: string; hostname: string; values: Value[]; version: number } {
  const r = runCli(['explain', ...args, '--json'], repo);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('each value names the layer that set it: the node file, defaults:, a site-wide setting, the built-in default, or a derivation', () => {
  const e = explain('sites/location_y', 'y-hv-02');
  assert.is(e.version, 1);
  const v = (k: string) => e.values.find((x) => x.key === k)!;
  assert.equal(v('install.device').source, {
    kind: 'inventory',
    path: 'nodes[1].install.device',
    file: 'sites/location_y/nodes/y-hv-02.yaml',
    line: 5,
    col: 11,
  });
  assert.equal(
    [v('method').value, v('method').source.path, v('method').source.file],
    ['static', 'defaults.method', 'sites/location_y/site.yaml'],
  );
  assert.equal([v('gateway').value, v('gateway').source.path], ['10.20.0.1', 'network.gateway']);
  assert.equal([v('harvester_role').value, v('harvester_role').source.kind], ['default', 'built-in']);
  assert.equal([v('prefix').value, v('prefix').source.kind], [24, 'derived']);
  assert.equal(v('hostname').source, { kind: 'derived', from: 'the name of the node file' });
  assert.match(String(v('cmdline[b4:96:91:4c:11:b0]').value), /BOOTIF=01-b4-96-91-4c-11-b0/);
  // The line named really holds the value.
  const line = readFileSync(join(repo, v('install.device').source.file!), 'utf8').split('\n')[v('install.device').source.line! - 1]!;
  assert.ok(line.includes(String(v('install.device').value)), line);
});

test('a node is found by hostname or by any spelling of one of its MACs', () => {
  const byName = explain('sites/location_x', 'hv-2');
  const byMac = explain('sites/location_x', '52-54-00-AA-BB-02');
  assert.is(byMac.hostname, 'hv-2');
  assert.equal(byMac.values, byName.values);
});

test('secrets are masked in explain, human and JSON', () => {
  for (const args of [
    ['explain', 'sites/location_x', 'hv-1'],
    ['explain', 'sites/location_x', 'hv-1', '--json'],
  ]) {
    const r = runCli(args, repo);
    assert.is(r.code, 0, r.stderr);
    for (const secret of ['SecretToken.123', 'SecretPassword.123'])
      assert.not.ok(r.stdout.includes(secret) || r.stderr.includes(secret), `${secret} in ${args.join(' ')}`);
    assert.match(r.stdout, /\*\*\*/);
  }
});

test('a site directory name that holds control characters is printed written out (\\x1b), in JSON as it is', () => {
  const dir = tempDir('explain');
  const name = 's\u001b[2J\u001b[41mx';
  assert.is(runCli(['init', join(dir, name), '--lab', '--nodes', '1']).code, 0);
  const r = runCli(['explain', name, 'node-1'], dir);
  assert.is(r.code, 0, r.stderr);
  // Each value set in the inventory names its file, under that directory.
  assert.match(r.stdout, /<- s\\x1b\[2J\\x1b\[41mx\/site\.yaml:\d+:\d+ /);
  assert.not.match(r.stdout, /\u001b/);
  const j = JSON.parse(runCli(['explain', name, 'node-1', '--json'], dir).stdout) as { values: Value[] };
  assert.ok(j.values.some((v) => v.source.file?.startsWith(`${name}/`)));
});

test('an unknown node is a usage error with a suggestion', () => {
  const r = runCli(['explain', 'sites/location_x', 'hv-22'], repo);
  assert.is(r.code, 2);
  assert.match(r.stderr, /has no node "hv-22".*did you mean "hv-2"/);
});

test.run();
