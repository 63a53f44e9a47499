// Cluster lifecycle: once `cluster.created` says the cluster exists, every
// node, the former create node included, installs as a joining node to the VIP, so a reinstall
// never starts a second cluster; the reinstall workflow applied to the create node is refused.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { compileSite } from '../src/index.ts';
import { exampleSite } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

type Doc = Record<string, Record<string, unknown>>;
const nodes = (doc: Doc) => doc.nodes as unknown as Record<string, unknown>[];

async function compile(change: (doc: Doc) => void) {
  const doc = exampleSite();
  change(doc);
  const dir = join(tempDir('cluster-life'), 'site');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return compileSite(dir);
}

/** The installer config of a node, parsed. */
function config(r: Awaited<ReturnType<typeof compile>>, host: string): Record<string, Record<string, unknown>> {
  const a = r.artifacts?.find((x) => x.path === `harvester/${host}.yaml`);
  assert.ok(a, `harvester/${host}.yaml is rendered`);
  return parse(a.contents as string) as Record<string, Record<string, unknown>>;
}

const errors = (r: Awaited<ReturnType<typeof compile>>) => r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);

test('cluster.created: the former create node joins the VIP like every other node', async () => {
  const r = await compile((d) => {
    d.cluster!.created = true;
    delete nodes(d)[0]!.role;
  });
  assert.equal(errors(r), []);
  for (const host of ['hv-1', 'hv-2', 'hv-3']) {
    const c = config(r, host);
    assert.is(c.install!.mode, 'join', `${host} joins`);
    assert.is(c.server_url, 'https://192.168.122.120:443', `${host} joins the VIP`);
    assert.is(c.install!.vip, undefined, `${host} sets no VIP (only a create node does)`);
  }
  const manifest = r.artifacts!.find((a) => a.path === 'manifest.json')!.contents as string;
  assert.equal(
    [...manifest.matchAll(/"role": "(\w+)"/g)].map((x) => x[1]),
    ['join', 'join', 'join'],
  );
});

test('mutation: without cluster.created the first node creates (so the test above is not vacuous)', async () => {
  const r = await compile((d) => delete nodes(d)[0]!.role);
  assert.equal(errors(r), []);
  const c = config(r, 'hv-1');
  assert.is(c.install!.mode, 'create');
  assert.is(c.server_url, undefined);
  assert.is(c.install!.vip, '192.168.122.120');
});

test('cluster.created with role: create left on a node is CLUSTER_ALREADY_CREATED, and nothing renders', async () => {
  const r = await compile((d) => (d.cluster!.created = true));
  assert.equal(errors(r), ['CLUSTER_ALREADY_CREATED']);
  const d = r.diagnostics.find((x) => x.code === 'CLUSTER_ALREADY_CREATED')!;
  assert.match(d.hint!, /rke2-uninstall\.sh/);
  assert.match(d.hint!, /https:\/\/192\.168\.122\.120:443/);
  assert.is(r.artifacts, undefined);
});

test('the reinstall workflow on the create node (state: install, others install-once) is CLUSTER_CREATE_NODE_REINSTALL', async () => {
  const r = await compile((d) => {
    d.defaults!.state = 'install-once';
    nodes(d)[0]!.state = 'install';
  });
  assert.equal(errors(r), ['CLUSTER_CREATE_NODE_REINSTALL']);
  assert.match(r.diagnostics.find((x) => x.code === 'CLUSTER_CREATE_NODE_REINSTALL')!.hint!, /cluster\.created: true/);
  // The same reinstall once the cluster is declared created: hv-1 rejoins.
  const ok = await compile((d) => {
    d.defaults!.state = 'install-once';
    d.cluster!.created = true;
    delete nodes(d)[0]!.role;
    nodes(d)[0]!.state = 'install';
  });
  assert.equal(errors(ok), []);
  assert.is(config(ok, 'hv-1').install!.mode, 'join');
});

test('a create node that keeps the built-in state: install beside install-once nodes is an error too (any layer)', async () => {
  const r = await compile((d) => (nodes(d)[2]!.state = 'install-once'));
  assert.equal(errors(r), ['CLUSTER_CREATE_NODE_REINSTALL']);
  assert.match(r.diagnostics.find((x) => x.code === 'CLUSTER_CREATE_NODE_REINSTALL')!.message, /the built-in default/);
  const local = await compile((d) => (nodes(d)[2]!.state = 'local'));
  assert.equal(errors(local), ['CLUSTER_CREATE_NODE_REINSTALL']);
});

test('a reinstall generation on the create node, from defaults:, is refused until cluster.created', async () => {
  const r = await compile((d) => {
    d.defaults!.state = 'install-once';
    d.defaults!.reinstall = 1;
  });
  assert.equal(errors(r), ['CLUSTER_CREATE_NODE_REINSTALL']);
  const d = r.diagnostics.find((x) => x.code === 'CLUSTER_CREATE_NODE_REINSTALL')!;
  assert.is(d.path, 'defaults.reinstall');
  assert.match(d.hint!, /cluster\.created: true/);
  const ok = await compile((doc) => {
    doc.defaults!.state = 'install-once';
    doc.defaults!.reinstall = 1;
    doc.cluster!.created = true;
    delete nodes(doc)[0]!.role;
  });
  assert.equal(errors(ok), []);
});

test.run();
