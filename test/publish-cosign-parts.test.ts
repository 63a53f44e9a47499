// Every manifest publish pushes is signed for cosign, not only the index: containers/image (podman,
// skopeo, CRI-O) checks the signature of each manifest of an index as it copies them all
// (test/real/containers-image.test.ts runs its own code). Here: which manifests carry a signature,
// what a republish asks of the registry, a signature removed or made with another key signed
// again, and the signatures an export carries.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { publish } from '../src/publish/index.ts';
import { exportSites } from '../src/publish/run.ts';
import { signatureTag } from '../src/publish/cosign.ts';
import { CosignKey } from '../src/sign/cosign-key.ts';
import { holdsSignature } from '../src/publish/cosign-push.ts';
import { cosignPair, fakeReleases, loggedRegistry, MemoryRegistry, planUpgrade, publishedRepo } from './helpers/publish.ts';
import { tempDir } from './helpers/tmp.ts';

const REGISTRY = 'registry.example.net/harvgen';
const REPO = `${REGISTRY}/location_y`;

/** location_y with a cosign key, a planned upgrade (a cluster side) and its release files from a mirror. */
function signedRepo(type: 'p256' | 'ed25519' | 'rsa' = 'p256') {
  const repo = publishedRepo(REGISTRY, { cosign: type });
  planUpgrade(repo);
  const releasesDir = fakeReleases(tempDir('cosign-parts-releases'));
  fakeReleases(releasesDir, 'v1.6.1');
  // The upgrade pins the ISO the mirror holds.
  const list = readFileSync(join(releasesDir, 'v1.6.1/harvester-v1.6.1-amd64.sha512'), 'utf8');
  const iso = /^([0-9a-f]{128}) {2}harvester-v1\.6\.1-amd64\.iso$/m.exec(list)![1]!;
  const yaml = join(repo.site, 'site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('ab'.repeat(64), iso));
  repo.commit("pin the mirror's ISO");
  return { repo, releasesDir };
}

/** The key of the repository's site.yaml, as publish reads it. */
function keyOf(root: string): CosignKey {
  const site = join(root, 'sites/location_y');
  const pem = readFileSync(join(site, 'secrets/cosign.key'), 'utf8');
  const pub = /cosign_public_key: \|\n((?: {4}.*\n)+)/.exec(readFileSync(join(site, 'site.yaml'), 'utf8'))![1]!.replace(/^ {4}/gm, '');
  return CosignKey.from(pem, pub) as CosignKey;
}

/** Every manifest the site's index names, the index and the cluster side. */
function pushedManifests(reg: MemoryRegistry, index: string, cluster: string): string[] {
  const doc = JSON.parse(reg.manifests.get(REPO)!.get(index)!.toString('utf8')) as { manifests: { digest: string }[] };
  return [index, ...doc.manifests.map((m) => m.digest), cluster];
}

for (const type of ['p256', 'ed25519', 'rsa'] as const) {
  test(`publish with a ${type} cosign key signs the index, the site part, every node part, every release part and the cluster side`, async () => {
    const { repo, releasesDir } = signedRepo(type);
    const reg = new MemoryRegistry();
    const r = await publish({ sites: [repo.site], sinkFor: (x) => reg.sink(x), cwd: repo.root, recordDir: null, releasesDir });
    assert.equal(
      r.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    const s = r.sites[0]!;
    const all = pushedManifests(reg, s.digest!, s.cluster!.digest);
    const doc = JSON.parse(reg.manifests.get(REPO)!.get(s.digest!)!.toString('utf8')) as { manifests: { artifactType?: string }[] };
    assert.ok(doc.manifests.length >= 3, 'a site part, node parts and a release part');
    const signer = { key: keyOf(repo.root), repository: REPO };
    for (const d of all) {
      const sig = reg.tags.get(REPO)!.get(signatureTag(d));
      assert.ok(sig, `${d} is signed`);
      assert.ok(holdsSignature(reg.manifests.get(REPO)!.get(sig!)!, signer, d), `${d}: the signature verifies`);
    }
    // The release parts are signed where the site names them, not in the releases repository.
    assert.not.ok([...(reg.tags.get(`${REGISTRY}/releases`)?.keys() ?? [])].some((t) => t.endsWith('.sig')));
  });
}

test('a republish of an unchanged site asks one request per manifest and sends nothing; a removed signature is sent again alone', async () => {
  const { repo, releasesDir } = signedRepo('ed25519');
  const reg = new MemoryRegistry();
  const logged = loggedRegistry(reg);
  const run = () => publish({ sites: [repo.site], sinkFor: logged.sinkFor, cwd: repo.root, recordDir: null, releasesDir, force: true });
  const first = (await run()).sites[0]!;
  const all = pushedManifests(reg, first.digest!, first.cluster!.digest);
  const count = (method: string) => logged.calls.filter((c) => c === `${REPO} ${method}`).length;
  assert.is(count('readTag'), 0, 'a fresh publish asks for no signature');
  logged.calls.length = 0;
  await run();
  assert.is(count('readTag'), all.length, `one read of each signature tag: ${logged.calls.join(' ')}`);
  assert.is(count('hasManifest'), 0, 'a signed manifest is not asked for');
  assert.is(count('putManifest') + count('putBlob'), 0, 'nothing sent');
  // A node part's signature tag removed (as a registry's API deletes a tag): signed again, alone.
  const part = all[2]!;
  reg.tags.get(REPO)!.delete(signatureTag(part));
  logged.calls.length = 0;
  await run();
  assert.ok(reg.tags.get(REPO)!.has(signatureTag(part)), 'signed again');
  assert.is(count('putManifest'), 1, logged.calls.join(' '));
  assert.is(count('hasManifest'), 1, 'the part asked for once');
});

test("a signature of another key, or one naming another digest, at a part's tag is replaced", async () => {
  const { repo, releasesDir } = signedRepo('p256');
  const reg = new MemoryRegistry();
  const run = () => publish({ sites: [repo.site], sinkFor: (x) => reg.sink(x), cwd: repo.root, recordDir: null, releasesDir, force: true });
  const s = (await run()).sites[0]!;
  const [, sitePart, nodePart] = pushedManifests(reg, s.digest!, s.cluster!.digest);
  const tags = reg.tags.get(REPO)!;
  // Another key's signature at the site part's tag, the site part's signature at a node part's.
  const dir = tempDir('cosign-parts-other');
  const otherPub = cosignPair(join(dir, 'other.key'));
  const other = CosignKey.from(readFileSync(join(dir, 'other.key'), 'utf8'), otherPub) as CosignKey;
  const { signatureManifest } = await import('../src/publish/cosign.ts');
  const forged = signatureManifest(other, REPO, sitePart!);
  const sink = reg.sink(REPO);
  for (const b of forged.blobs) await sink.putBlob(b.digest, b.bytes);
  await sink.putManifest(forged.tag, forged.manifest.mediaType, forged.manifest.bytes);
  tags.set(signatureTag(nodePart!), tags.get(signatureTag(sitePart!))!);
  await run();
  const signer = { key: keyOf(repo.root), repository: REPO };
  for (const d of [sitePart!, nodePart!])
    assert.ok(
      holdsSignature(reg.manifests.get(REPO)!.get(tags.get(signatureTag(d))!)!, signer, d),
      `${d} signed again with the site's key`,
    );
});

test('export carries every signature into the layout, named after its site; the layout names what publish pushes', async () => {
  const { repo, releasesDir } = signedRepo('ed25519');
  const layout = join(tempDir('cosign-parts-layout'), 'layout');
  const r = await exportSites({ sites: [repo.site], to: `oci:${layout}`, cwd: repo.root, releasesDir });
  if ('problem' in r) throw new Error(r.problem);
  const site = r.published[0]!;
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations: Record<string, string> }[];
  };
  const names = new Map(index.manifests.map((m) => [m.annotations['org.opencontainers.image.ref.name']!, m.digest]));
  const blob = (d: string) => readFileSync(join(layout, 'blobs/sha256', d.slice(7)));
  const doc = JSON.parse(blob(site.digest).toString('utf8')) as { manifests: { digest: string }[] };
  const signer = { key: keyOf(repo.root), repository: REPO };
  for (const d of [site.digest, ...doc.manifests.map((m) => m.digest), site.cluster!.digest]) {
    const sig = names.get(`location_y/${signatureTag(d)}`);
    assert.ok(sig, `${d}: location_y/${signatureTag(d)} in ${[...names.keys()].join(' ')}`);
    assert.ok(holdsSignature(blob(sig!), signer, d));
  }
  assert.is(names.get('location_y'), site.digest);
  // Exported again into the same layout: every signature is there, nothing is signed again.
  const again = await exportSites({ sites: [repo.site], to: `oci:${layout}`, cwd: repo.root, releasesDir });
  if ('problem' in again) throw new Error(again.problem);
  assert.is(again.transfer.manifestsPut, 0, 'nothing written again');
});

test.run();
