// Layers through the binary (test/layers.test.ts has the rest): `harvgen explain` shows the file
// and line of a value from each layer, and one `harvgen build` builds every site of the repository.
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import './helpers/example.ts'; // sets HARVGEN_TEST_TOKEN / HARVGEN_TEST_PASSWORD
import { runCli } from './helpers/cli.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

const fixture = join(repo, 'test/fixtures/layers');

test('explain shows the file and line of a value from each layer', () => {
  const r = runCli(['explain', 'sites/lab_a', 'a2', '--json'], fixture);
  assert.is(r.code, 0, r.stderr);
  const e = JSON.parse(r.stdout) as { values: { key: string; source: { file?: string; line?: number; kind: string } }[] };
  const at = (k: string) => {
    const s = e.values.find((v) => v.key === k)!.source;
    return s.kind === 'inventory' ? `${s.file}:${s.line}` : s.kind;
  };
  assert.is(at('install.tty'), 'sites/lab_a/site.yaml:30');
  assert.is(at('lab.memory_mib'), 'sites/_profiles/small.yaml:5');
  assert.is(at('lab.vcpus'), 'sites/_profiles/r650.yaml:12');
  assert.is(at('lab.disk_gib'), 'sites/lab_a/site.yaml:20');
  assert.is(at('mtu'), 'sites/_defaults.yaml:8');
  assert.is(at('lab.nic_model'), 'built-in');
});

test('one harvgen build (no directory) builds all three sites of the repository', () => {
  const out = tempDir('layers-out');
  const r = runCli(['build', '--out', out, '--quiet'], fixture);
  assert.is(r.code, 0, r.stderr);
  for (const s of ['lab_a', 'lab_b', 'lab_c']) assert.ok(readTree(join(out, s)).has('manifest.json'), s);
});

test.run();
