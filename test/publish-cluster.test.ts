// The cluster side for Flux (src/publish/cluster.ts): a planned upgrade's Version and Upgrade
// published as an artifact of their own, in Flux's layout (OCI manifest, Flux's config media type,
// one tar+gzip layer of the manifests at their paths in the tree), tagged `<site>-cluster` and
// signed for cosign like the index. Flux's own library pulls it in test/real/flux.test.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSite } from '../src/pipeline.ts';
import { clusterArtifact, FLUX } from '../src/publish/cluster.ts';
import { publish } from '../src/publish/index.ts';
import { signatureTag } from '../src/publish/cosign.ts';
import { cosignPair, MemoryRegistry, planUpgrade, publishedRepo } from './helpers/publish.ts';

const REGISTRY = 'registry.example.net/harvgen';
const REPO = `${REGISTRY}/location_y`;
const repoRoot = join(import.meta.dirname, '..');

/** The entries of a tar: name, type and bytes. */
function untar(tar: Buffer): { name: string; type: string; bytes: Buffer; mode: number; mtime: number }[] {
  const out = [];
  for (let at = 0; at + 512 <= tar.length;) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
    out.push({
      name,
      type: String.fromCharCode(h[156]!),
      mode: parseInt(h.subarray(100, 108).toString('ascii').replace(/\0.*$/s, ''), 8),
      mtime: parseInt(h.subarray(136, 148).toString('ascii').replace(/\0.*$/s, ''), 8),
      bytes: tar.subarray(at + 512, at + 512 + size),
    });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

test("the upgrade fixture's cluster side: Flux's media types, one layer holding exactly the tree's Version and Upgrade (each in a directory of its own, for two Kustomizations), the same digest every time", async () => {
  const site = join(repoRoot, 'test/fixtures/build/upgrade/site');
  const built = await compileSite(site, { cwd: repoRoot });
  const meta = { created: '2027-01-15T08:00:00.000Z', revision: 'a'.repeat(40), source: `oci://${REGISTRY}/upgrade` };
  const c = clusterArtifact('upgrade', built.artifacts!, meta)!;
  assert.ok(c, 'an upgrade planned: a cluster side');
  assert.equal(c.files, ['version/version.yaml', 'upgrade/upgrade.yaml']);
  const m = JSON.parse(c.manifest.bytes.toString('utf8'));
  assert.is(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.is(m.config.mediaType, FLUX.config);
  assert.is(m.layers.length, 1);
  assert.is(m.layers[0].mediaType, 'application/vnd.cncf.flux.content.v1.tar+gzip');
  assert.is(m.annotations['org.opencontainers.image.revision'], meta.revision);
  assert.is(m.annotations['org.opencontainers.image.created'], meta.created);
  const layer = c.blobs.find((b) => b.digest === m.layers[0].digest)!;
  const entries = untar(gunzipSync(layer.bytes));
  assert.equal(
    entries.map((e) => `${e.type} ${e.name}`),
    ['5 upgrade/', '5 version/', '0 upgrade/upgrade.yaml', '0 version/version.yaml'],
  );
  for (const e of entries.filter((x) => x.type === '0')) {
    const tree = e.name.replace(/^version\//, 'upgrade/');
    assert.ok(e.bytes.equals(readFileSync(join(site, '../expected', tree))), `${e.name} as the tree holds ${tree}`);
    assert.is(e.mode, 0o644);
    assert.is(e.mtime, 0);
  }
  assert.is(layer.bytes[9], 3, 'gzip OS byte fixed');
  assert.is(clusterArtifact('upgrade', built.artifacts!, meta)!.manifest.digest, c.manifest.digest, 'deterministic');
  // A tree without an upgrade has no cluster side.
  const plain = await compileSite(join(repoRoot, 'sites/location_x'), { cwd: repoRoot });
  assert.is(clusterArtifact('location_x', plain.artifacts!, meta), undefined);
});

test('publish pushes the cluster side as <site>-cluster, signed for cosign, before the site tag; unchanged, not again', async () => {
  const repo = publishedRepo(REGISTRY, { cosign: 'ed25519' });
  planUpgrade(repo);
  const reg = new MemoryRegistry();
  const order: string[] = [];
  const sinkFor = (x: string) => {
    const s = reg.sink(x);
    return { ...s, putManifest: (ref: string, mt: string, b: Buffer) => (order.push(ref), s.putManifest(ref, mt, b)) };
  };
  const r = await publish({ sites: [repo.site], sinkFor, cwd: repo.root, recordDir: null });
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
    [],
  );
  const s = r.sites[0]!;
  assert.is(s.cluster?.tag, 'location_y-cluster');
  const tags = reg.tags.get(REPO)!;
  assert.is(tags.get('location_y-cluster'), s.cluster!.digest);
  assert.ok(tags.get(signatureTag(s.cluster!.digest)), 'the cluster side is signed');
  assert.ok(order.indexOf(signatureTag(s.cluster!.digest)) < order.indexOf('location_y-cluster'), order.join(' '));
  assert.ok(order.indexOf('location_y-cluster') < order.indexOf('location_y'), order.join(' '));
  const m = JSON.parse(reg.manifests.get(REPO)!.get(s.cluster!.digest)!.toString('utf8'));
  const entries = untar(gunzipSync(reg.blobs.get(REPO)!.get(m.layers[0].digest)!));
  assert.equal(
    entries.filter((e) => e.type === '0').map((e) => e.name),
    ['upgrade/upgrade.yaml', 'version/version.yaml'],
  );
  assert.match(entries.find((e) => e.name === 'version/version.yaml')!.bytes.toString('utf8'), /kind: Version/);
  order.length = 0;
  await publish({ sites: [repo.site], sinkFor, cwd: repo.root, recordDir: null });
  assert.not.ok(order.includes('location_y-cluster'), `unchanged: ${order.join(' ')}`);
});

test('a cosign key added to a site whose cluster side is unchanged signs that cluster side too', async () => {
  const repo = publishedRepo(REGISTRY, {});
  planUpgrade(repo);
  const reg = new MemoryRegistry();
  const run = () => publish({ sites: [repo.site], sinkFor: (x) => reg.sink(x), cwd: repo.root, recordDir: null, allowDirty: true });
  const before = (await run()).sites[0]!.cluster!.digest;
  assert.not.ok(reg.tags.get(REPO)!.has(signatureTag(before)), 'no key, no signature');
  // The key added, not committed: the cluster side's annotations (the commit) stay, so does its digest.
  const dir = join(repo.site, 'secrets');
  const pub = cosignPair(join(dir, 'cosign.key'), 'ed25519');
  const yaml = join(repo.site, 'site.yaml');
  const indented = pub
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  writeFileSync(yaml, `${readFileSync(yaml, 'utf8')}  cosign_key: { file: secrets/cosign.key }\n  cosign_public_key: |\n${indented}\n`);
  const after = (await run()).sites[0]!;
  assert.is(after.cluster!.digest, before, 'the cluster side did not change');
  assert.ok(reg.tags.get(REPO)!.has(signatureTag(before)), 'but it is signed now');
});

test.run();
