// watch's render cache (RenderCache in src/render/index.ts): a node whose resolved model is
// unchanged is not rendered again, a changed node is, and any change to the rest of the site's
// model renders every node again. The files are always those of a render without the cache.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileModel, compileSite } from '../src/pipeline.ts';
import { renderCache, renderSite, type RenderCache } from '../src/render/index.ts';
import { tempDir } from './helpers/tmp.ts';
import { SITE, siteYaml, writeRepo } from './fixtures/bounds/inventories.ts';

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

test("the site's config budget under watch follows each edit as a render without the cache counts it, over the limit and back", async () => {
  process.env.HARVGEN_BOUNDS_TOKEN ??= 'bounds-token';
  process.env.HARVGEN_BOUNDS_PASSWORD ??= 'bounds-password';
  const root = tempDir('render-cache-budget');
  const files: Record<string, string> = { [`${SITE}/site.yaml`]: siteYaml() };
  // 68 nodes: n1 in site.yaml, n2..n68 in files; n2..n67 with 1,010,000 bytes of `config:` each
  // (66.7 MB, under the 64 MiB, 67.1 MB, of the site), n68 with none.
  const big = (i: number) => `config: { os: { environment: { BIG: ${String(i).padEnd(1_010_000, 'x')} } } }\n`;
  const nodeFile = (i: number, config: boolean) =>
    `mac: 52:54:00:00:00:${i.toString(16).padStart(2, '0')}\nip: 10.0.0.${10 + i}\n${config ? big(i) : ''}`;
  for (let i = 2; i <= 68; i++) files[`${SITE}/nodes/n${i}.yaml`] = nodeFile(i, i < 68);
  writeRepo(root, files);
  const site = join(root, SITE);
  const renderCaches = new Map<string, RenderCache>();
  const codes = (c: Awaited<ReturnType<typeof compileSite>>) => c.diagnostics.map((d) => `${d.code} ${d.message}`);
  const step = async () => {
    const cached = await compileSite(site, { renderCaches });
    const plain = await compileSite(site);
    assert.equal(codes(cached), codes(plain));
    assert.equal(
      cached.artifacts?.map((a) => [a.path, a.contents]),
      plain.artifacts?.map((a) => [a.path, a.contents]),
    );
    return codes(cached).filter((c) => c.startsWith('RENDER_SITE_CONFIGS_TOO_LARGE'));
  };
  assert.equal(await step(), []);
  // n68 gets its megabyte: 67.7 MB in all, over the site's 64 MiB (67,108,864 bytes).
  writeFileSync(join(site, 'nodes/n68.yaml'), nodeFile(68, true));
  assert.equal((await step()).length, 1);
  // n2 gives its back: under again.
  writeFileSync(join(site, 'nodes/n2.yaml'), nodeFile(2, false));
  assert.equal(await step(), []);
  // Another node's address edited (its `config:` as it was): still under, as counted whole.
  writeFileSync(join(site, 'nodes/n30.yaml'), nodeFile(30, true).replace('ip: 10.0.0.40', 'ip: 10.0.0.240'));
  assert.equal(await step(), []);
});

test('two files at one path (only a harvgen bug can make them) are each reported and written once, with the cache as without', async () => {
  const site = tempDir('render-cache-dup');
  cpSync(join(repo, 'sites/location_x'), site, { recursive: true });
  const { renderable } = await compileModel(site);
  assert.ok(renderable);
  const { model, locate } = renderable;
  // A second node of the first's hostname (validation refuses one; the model is made here): its
  // config, lab domain and BMC script collide with the first's.
  const twin = { ...model.nodes[0]!, index: model.nodes.length, macs: ['52:54:00:fe:fe:fe'] };
  const doubled = { ...model, nodes: [...model.nodes, twin] } as typeof model;
  const cache = renderCache();
  const runs = [renderSite(doubled, locate), renderSite(doubled, locate, cache), renderSite(doubled, locate, cache)];
  for (const r of runs) {
    const twice = r.diagnostics.filter((d) => d.code === 'RENDER_PATH_ESCAPE').map((d) => d.message);
    assert.ok(twice.includes(`two files would be written at harvester/${twin.hostname}.yaml`), twice.join('; '));
    assert.equal(
      twice,
      runs[0]!.diagnostics.filter((d) => d.code === 'RENDER_PATH_ESCAPE').map((d) => d.message),
    );
    const paths = r.artifacts.map((a) => a.path);
    assert.equal(new Set(paths).size, paths.length, 'each path once');
    // The file kept at a path is the first node's (the one made first), never the twin's: its lab
    // domain names its MAC.
    const domain = String(r.artifacts.find((a) => a.path === `libvirt/${twin.hostname}.xml`)!.contents);
    assert.ok(domain.includes(model.nodes[0]!.macs[0]!), "the first node's domain is kept");
    assert.ok(!domain.includes('52:54:00:fe:fe:fe'), "the twin's domain is left out");
    assert.equal(paths, [...paths].sort(), 'sorted');
  }
  // Without the twin, nothing is reported, from the same cache.
  assert.equal(
    renderSite(model, locate, cache).diagnostics.filter((d) => d.code === 'RENDER_PATH_ESCAPE'),
    [],
  );
});

test.run();
