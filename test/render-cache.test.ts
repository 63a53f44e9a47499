// watch's render cache (RenderCache in src/render/index.ts): a node whose resolved model is
// unchanged is not rendered again, a changed node is, and any change to the rest of the site's
// model renders every node again. The files are always those of a render without the cache.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSite } from '../src/pipeline.ts';
import type { RenderCache } from '../src/render/index.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

test('unchanged nodes reuse their files, a changed node and a changed site are rendered again, always as without the cache', async () => {
  const site = tempDir('render-cache');
  cpSync(join(repo, 'sites/location_x'), site, { recursive: true });
  const renderCaches = new Map<string, RenderCache>();
  const compile = async () => {
    const cached = await compileSite(site, { renderCaches });
    const plain = await compileSite(site);
    assert.equal(
      cached.artifacts!.map((a) => [a.path, a.contents, a.mode]),
      plain.artifacts!.map((a) => [a.path, a.contents, a.mode]),
    );
    return new Map(cached.artifacts!.map((a) => [a.path, a]));
  };
  const first = await compile();
  const second = await compile();
  for (const p of ['harvester/hv-1.yaml', 'ipxe/52-54-00-aa-bb-02.ipxe', 'libvirt/hv-3.xml'])
    assert.ok(second.get(p) === first.get(p), `${p} reused`);
  assert.ok(second.get('dnsmasq/harvgen.conf') !== first.get('dnsmasq/harvgen.conf'), 'site-wide files are rendered every time');
  // One node changes: only its files are new.
  const yaml = join(site, 'site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('ip: 192.168.122.13', 'ip: 192.168.122.14'));
  const third = await compile();
  assert.ok(third.get('harvester/hv-1.yaml') === first.get('harvester/hv-1.yaml'));
  assert.ok(third.get('libvirt/hv-3.xml') !== first.get('libvirt/hv-3.xml'));
  // A site-wide value: every node again.
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('0.suse.pool.ntp.org', 'ntp.example.org'));
  const fourth = await compile();
  assert.ok(fourth.get('harvester/hv-1.yaml') !== third.get('harvester/hv-1.yaml'));
  assert.match(fourth.get('harvester/hv-1.yaml')!.contents as string, /ntp\.example\.org/);
});

test('the node that creates by default (no `role: create`) stays the same node while its input does, and follows a change of it', async () => {
  const site = tempDir('render-cache-create');
  cpSync(join(repo, 'sites/location_x'), site, { recursive: true });
  const file = join(site, 'site.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('    role: create\n', ''));
  const renderCaches = new Map<string, RenderCache>();
  const compiled = () => compileSite(site, { renderCaches });
  const config = async () => (await compiled()).artifacts!.find((a) => a.path === 'harvester/hv-1.yaml')!;
  const first = await config();
  assert.match(first.contents as string, /mode: create/);
  assert.ok((await config()) === first, 'rendered once');
  // The very node object again, so that what is kept per node object (rules' findings, site-wide parts) holds for it.
  const creator = async () => (await compiled()).model!.nodes[0]!;
  assert.ok((await creator()) === (await creator()), 'the same creating node');
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace('ip: 192.168.122.11\n', 'ip: 192.168.122.11\n    install: { device: /dev/sdz }\n'),
  );
  const changed = await config();
  assert.ok(changed !== first, 'its input changed: rendered again');
  assert.match(changed.contents as string, /mode: create/);
  assert.match(changed.contents as string, /device: \/dev\/sdz/);
});

test.run();
