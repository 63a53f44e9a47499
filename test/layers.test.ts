// Layers: repo defaults (sites/_defaults.yaml) and hardware profiles (sites/_profiles/*.yaml)
// with one precedence, written once: node > its profile (and the profiles that one builds on) >
// site defaults > their profile > repo defaults > their profile > built-in. Maps merge key by
// key, lists are replaced whole; every value knows the file and line that set it.
import { mkdirSync, cpSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check, type HarvesterNode, type ResolvedNode } from '../src/index.ts';
import './helpers/example.ts'; // sets HARVGEN_TEST_TOKEN / HARVGEN_TEST_PASSWORD
import { tempDir } from './helpers/tmp.ts';
import { harvester } from './helpers/kinds.ts';

const repo = resolve(import.meta.dirname, '..');
const fixture = join(repo, 'test/fixtures/layers');
const sites = ['sites/lab_a', 'sites/lab_b', 'sites/lab_c'];

async function nodes(): Promise<Map<string, HarvesterNode>> {
  const r = await check({ sites, cwd: fixture });
  assert.equal(r.diagnostics, []);
  return new Map(r.sites.flatMap((s) => s.model!.nodes.map((n) => [n.hostname, harvester(n)] as const)));
}

const src = (n: ResolvedNode, key: string) => (n.sources[key] ?? ['built-in']).join('.');

test('every precedence step decides a value: node, its profile, the profile it builds on, site defaults, their profile, repo defaults, their profile, built-in', async () => {
  const n = await nodes();
  const a1 = n.get('a1')!;
  const a2 = n.get('a2')!;
  const a3 = n.get('a3')!;
  const b1 = n.get('b1')!;
  // node
  assert.equal([a2.install.tty, src(a2, 'install.tty')], ['tty1', 'nodes.1.install.tty']);
  assert.equal([a3.mtu, src(a3, 'mtu')], [9000, 'nodes.2.mtu']);
  // node's profile (small), and the profile it builds on (r650)
  assert.equal([a2.lab.memoryMib, src(a2, 'lab.memory_mib')], [9000, '$profiles.small.lab.memory_mib']);
  assert.equal([a2.install.dataDisk, src(a2, 'install.data_disk')], ['/dev/vdb', '$profiles.small.install.data_disk']);
  assert.equal([a2.lab.vcpus, src(a2, 'lab.vcpus')], [16, '$profiles.r650.lab.vcpus']);
  // site defaults over their profile; the site's profile (r650) over repo defaults
  assert.equal([a1.lab.diskGib, src(a1, 'lab.disk_gib')], [200, 'defaults.lab.disk_gib']);
  assert.equal([a1.install.device, src(a1, 'install.device')], ['/dev/disk/by-id/nvme-r650-system', '$profiles.r650.install.device']);
  // repo defaults, and their profile (base)
  assert.equal([a1.install.tty, src(a1, 'install.tty')], ['ttyS0,115200n8', '$repo.install.tty']);
  assert.equal([b1.install.device, src(b1, 'install.device')], ['/dev/vda', '$repo.install.device']);
  assert.equal([a1.lab.memoryMib, src(a1, 'lab.memory_mib')], [12288, '$profiles.base.lab.memory_mib']);
  // built-in
  assert.equal([b1.lab.diskGib, src(b1, 'lab.disk_gib')], [250, 'built-in']);
  // maps merge key by key across layers (device from r650, tty from the node, data_disk from small)
  assert.equal(a2.install, { device: '/dev/disk/by-id/nvme-r650-system', dataDisk: '/dev/vdb', tty: 'tty1' });
  assert.equal(a1.bond, { mode: '802.3ad', miimon: 100 });
  // lists are replaced whole
  assert.equal(a1.interfaces, [{ name: 'eno1' }, { name: 'eno2' }]);
  assert.equal(n.get('c1')!.interfaces, [{ name: 'ens1f0' }]);
});

/** A copy of the fixture repository with one file changed. */
function variant(rel: string, text: string): string {
  const root = tempDir('layers');
  cpSync(fixture, root, { recursive: true });
  mkdirSync(join(root, '.git')); // a repository: layers are read only inside one
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), text);
  return root;
}

test('an unknown profile is NODE_PROFILE_UNKNOWN at the reference, with a suggestion', async () => {
  const root = variant('sites/_profiles/small.yaml', 'profile: r65\n');
  const r = await check({ sites: ['sites/lab_a'], cwd: root });
  const d = r.diagnostics.find((x) => x.code === 'NODE_PROFILE_UNKNOWN')!;
  assert.ok(d, JSON.stringify(r.diagnostics));
  assert.equal([d.file, d.line, d.col], ['sites/_profiles/small.yaml', 1, 10]);
  assert.match(d.message, /did you mean "r650"/);
});

test('profiles that name each other in a loop are NODE_PROFILE_CYCLE, in the profile file', async () => {
  const root = variant('sites/_profiles/r650.yaml', 'profile: small\n');
  const r = await check({ sites: ['sites/lab_a'], cwd: root });
  const d = r.diagnostics.find((x) => x.code === 'NODE_PROFILE_CYCLE')!;
  assert.ok(d, JSON.stringify(r.diagnostics));
  assert.match(d.message, /r650 -> small -> r650|small -> r650 -> small/);
  assert.ok(d.file!.startsWith('sites/_profiles/') && d.line === 1, JSON.stringify(d));
});

test('a key that is not a node setting in a layer file is an error positioned in that file', async () => {
  const root = variant('sites/_defaults.yaml', 'install:\n  device: /dev/vda\nnetwork:\n  cidr: 10.0.0.0/8\n');
  const r = await check({ sites: ['sites/lab_b'], cwd: root });
  assert.equal(
    r.diagnostics.map((d) => `${d.code} ${d.file}:${d.line}:${d.col}`),
    ['SCHEMA_UNKNOWN_KEY sites/_defaults.yaml:3:1'],
  );
});

test.run();
