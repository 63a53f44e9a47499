// harvgen's cosign signatures judged by containers/image, the library of podman, skopeo, CRI-O and
// `skopeo sync` (github.com/containers/image/v5 v5.36.2, built unpatched from the Go module proxy:
// test/oracle/containers-copy). A site published with `publish.cosign_key` (Ed25519, ECDSA P-256,
// RSA) and its release files to the real Distribution registry (TLS, Basic auth) is copied whole
// (`copy.Image`, CopyAllImages: the index and every manifest it names, each one's signature checked)
// under the policy docs/fleet.md gives: `sigstoreSigned` with the tree's publish/cosign.pub and
// `signedIdentity: matchRepository`, sigstore attachments on in registries.d; by tag and by digest;
// and after `export` to an OCI archive and `import` into its registry.
// Refused: another key; no registries.d (its signatures are not looked for); a part whose signature
// is deleted (the mutation of a publish that signs the index alone); the index's signature copied
// onto a part's `.sig` tag; signatures made for another repository; the tag moved to an index that
// names a manifest harvgen never signed. What containers/image does not check, said as it is: it
// evaluates the policy for each manifest an index names, not for the index, so the tag moved to
// an unsigned index of signed manifests, or back to an older index of the same repository, is
// copied (the index is `harvgen pull`'s to check: the signed provenance and its serial).
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSite } from '../../src/pipeline.ts';
import { exportSites, publishSites } from '../../src/publish/run.ts';
import { signatureTag } from '../../src/publish/cosign.ts';
import { importLayout, registryTarget } from '../../src/publish/stores.ts';
import type { Sink, Source } from '../../src/publish/sink.ts';
import { Registry } from '../../src/oci/client.ts';
import { cosignPair, fakeReleases, publishedRepo, type CosignKeyType, type PublishedRepo } from '../helpers/publish.ts';
import { tempDir } from '../helpers/tmp.ts';
import { buildOracle } from './helpers/go.ts';
import { describe, run } from './helpers/proc.ts';
import { requireProgram } from './helpers/programs.ts';
import { REGISTRY_PROGRAMS, startRegistry, type TestRegistry } from './helpers/registry.ts';

function ready(): boolean {
  return requireProgram(...REGISTRY_PROGRAMS, 'go', 'openssl', 'git', 'ssh-keygen');
}

let reg: TestRegistry | undefined;
test.after(async () => {
  await reg?.stop();
});
const registry = async () => (reg ??= await startRegistry());

let oracle: Promise<string> | undefined;
const containersCopy = () => (oracle ??= buildOracle('containers-copy', path.join(tempDir('containers-copy'), 'containers-copy')));

const releasesDir = fakeReleases(tempDir('cimage-releases'));

/** location_y with a cosign key of `type`, published with its release files to `<host>/<ns>`: the site as published and the tree's cosign.pub. */
async function publishSigned(r: TestRegistry, type: CosignKeyType, ns: string, repo?: PublishedRepo) {
  repo ??= publishedRepo(`${r.host}/${ns}`, { cosign: type, label: `cimage-${ns}` });
  process.env.REGISTRY_AUTH_FILE = r.authFile;
  const result = await publishSites({
    sites: [repo.site],
    cwd: repo.root,
    certDir: r.certDir,
    recordDir: null,
    releasesDir,
    registry: `${r.host}/${ns}`,
    force: true,
  });
  if ('problem' in result) throw new Error(result.problem);
  assert.equal(
    result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
    [],
  );
  const committed = await compileSite(repo.site, { cwd: repo.root });
  const pub = path.join(tempDir('cimage-pub'), 'cosign.pub');
  writeFileSync(pub, String(committed.artifacts!.find((a) => a.path === 'publish/cosign.pub')!.contents));
  return { repo, site: result.published[0]!, pub, ref: `${r.host}/${ns}/location_y` };
}

/**
 * Copy `docker://<ref>` whole with containers/image under the policy docs/fleet.md gives (its key
 * `pub`, `signedIdentity: matchRepository`) and the registries.d file that turns sigstore
 * attachments on for the registry (unless `attachments: false`).
 */
async function copyWhole(r: TestRegistry, pub: string, ref: string, options: { attachments?: boolean; identity?: boolean } = {}) {
  const dir = tempDir('cimage-copy');
  // The namespace `<host>/<ns>` in both files, as docs/fleet.md writes them.
  const namespace = ref.split('/').slice(0, 2).join('/');
  const requirement = {
    type: 'sigstoreSigned',
    keyPath: pub,
    ...(options.identity !== false ? { signedIdentity: { type: 'matchRepository' } } : {}),
  };
  const policy = path.join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { [namespace]: [requirement] } } }));
  const registriesD = path.join(dir, 'registries.d');
  mkdirSync(registriesD);
  if (options.attachments !== false)
    writeFileSync(path.join(registriesD, 'harvgen.yaml'), `docker:\n  ${namespace}:\n    use-sigstore-attachments: true\n`);
  const dest = path.join(dir, 'copy', 'image');
  mkdirSync(path.dirname(dest));
  return run([await containersCopy(), policy, registriesD, r.certDir, r.authFile, `docker://${ref}`, dest], { timeoutMs: 180_000 });
}

/** The test plays a registry that rewrites what it holds (harvgen's client, the test's credentials). */
function store(r: TestRegistry, repository: string): Sink & Source & { close(): void } {
  const target = registryTarget({ certDir: r.certDir, env: { ...process.env, REGISTRY_AUTH_FILE: r.authFile } });
  return Object.assign(target.sinkFor(repository) as Sink & Source, { close: () => target.close() });
}

/** The digests the index names. */
async function children(s: Source, index: string): Promise<string[]> {
  const doc = JSON.parse((await s.getManifest(index, 1 << 20)).toString('utf8')) as { manifests: { digest: string }[] };
  return doc.manifests.map((m) => m.digest);
}

const REFUSED = /[Ss]ignature/;

for (const type of ['ed25519', 'p256', 'rsa'] as const) {
  test(`containers/image copies a site published with an ${type} cosign_key whole under a sigstoreSigned policy, by tag and by digest`, async () => {
    if (!ready()) return;
    const r = await registry();
    const { site, pub, ref } = await publishSigned(r, type, `ok-${type}`);
    const s = store(r, ref);
    try {
      assert.ok((await children(s, site.digest)).length >= 3, 'the site part, node parts and the release part');
    } finally {
      s.close();
    }
    for (const target of [`${ref}:location_y`, `${ref}@${site.digest}`]) {
      const copied = await copyWhole(r, pub, target);
      assert.is(copied.code, 0, `${target}:\n${describe(copied)}`);
      assert.is(copied.stdout.trim(), `copied ${site.digest}`);
    }
  });
}

test('a site exported to an OCI layout and imported into its registry keeps every signature: containers/image copies it', async () => {
  if (!ready()) return;
  const r = await registry();
  const repo = publishedRepo(`${r.host}/airgap`, { cosign: 'ed25519', label: 'cimage-airgap' });
  const layout = path.join(tempDir('cimage-layout'), 'layout');
  const exported = await exportSites({ sites: [repo.site], to: `oci-archive:${layout}.tar`, cwd: repo.root, releasesDir });
  if ('problem' in exported) throw new Error(exported.problem);
  const imported = await importLayout(`oci-archive:${layout}.tar`, `${r.host}/airgap`, {
    certDir: r.certDir,
    env: { ...process.env, REGISTRY_AUTH_FILE: r.authFile },
  });
  assert.equal(imported.diagnostics, []);
  const committed = await compileSite(repo.site, { cwd: repo.root });
  const pub = path.join(tempDir('cimage-airgap-pub'), 'cosign.pub');
  writeFileSync(pub, String(committed.artifacts!.find((a) => a.path === 'publish/cosign.pub')!.contents));
  const copied = await copyWhole(r, pub, `${r.host}/airgap/location_y:location_y`);
  assert.is(copied.code, 0, describe(copied));
  assert.is(copied.stdout.trim(), `copied ${exported.published[0]!.digest}`);
});

test('containers/image refuses: another key, no registries.d, a policy without matchRepository, a part whose signature is deleted, a signature of another digest at a part’s tag', async () => {
  if (!ready()) return;
  const r = await registry();
  const { site, pub, ref } = await publishSigned(r, 'p256', 'refused');
  // Another key.
  const other = path.join(tempDir('cimage-other'), 'other.pub');
  writeFileSync(other, cosignPair(path.join(path.dirname(other), 'other.key')));
  const wrongKey = await copyWhole(r, other, `${ref}@${site.digest}`);
  assert.is(wrongKey.code, 1, describe(wrongKey));
  assert.match(wrongKey.stderr, REFUSED);
  // Without use-sigstore-attachments, containers/image does not look for the signatures at all.
  const noAttachments = await copyWhole(r, pub, `${ref}@${site.digest}`, { attachments: false });
  assert.is(noAttachments.code, 1, describe(noAttachments));
  assert.match(noAttachments.stderr, /A signature was required, but no signature exists/);
  // Without `signedIdentity: matchRepository` (the default, matchRepoDigestOrExact, wants a
  // signature that names a tag or digest; harvgen's, as cosign's, name the repository): refused,
  // by tag and by digest.
  for (const target of [`${ref}:location_y`, `${ref}@${site.digest}`]) {
    const exact = await copyWhole(r, pub, target, { identity: false });
    assert.is(exact.code, 1, describe(exact));
    assert.match(exact.stderr, /Signature for identity .* is not accepted/);
  }
  const s = store(r, ref);
  const client = new Registry({ registry: r.host, certDir: r.certDir, env: { ...process.env, REGISTRY_AUTH_FILE: r.authFile } });
  try {
    const [, nodePart] = await children(s, site.digest);
    // The mutation: a node part unsigned (its signature manifest deleted through the registry's API,
    // which removes its tag), as a publish that signs only the index leaves it.
    const sigDigest = (await s.resolveTag(signatureTag(nodePart!)))!;
    await client.deleteManifest(`refused/location_y`, sigDigest);
    assert.is(await s.resolveTag(signatureTag(nodePart!)), undefined, 'the tag is gone');
    const unsigned = await copyWhole(r, pub, `${ref}:location_y`);
    assert.is(unsigned.code, 1, describe(unsigned));
    assert.match(unsigned.stderr, /A signature was required, but no signature exists/);
    // The index's signature put at that part's tag: its payload names another digest.
    const indexSig = (await s.readTag(signatureTag(site.digest), 1 << 20))!;
    await s.putManifest(signatureTag(nodePart!), 'application/vnd.oci.image.manifest.v1+json', indexSig);
    const replayed = await copyWhole(r, pub, `${ref}:location_y`);
    assert.is(replayed.code, 1, describe(replayed));
    assert.match(replayed.stderr, REFUSED);
  } finally {
    s.close();
    client.close();
  }
});

test('containers/image refuses signatures made for another repository and a tag moved to an index naming an unsigned manifest; an older index, or an unsigned index of signed manifests, passes', async () => {
  if (!ready()) return;
  const r = await registry();
  const first = await publishSigned(r, 'ed25519', 'moved');
  const { repo, pub, ref } = first;
  // A later commit: the repository's tag names a newer index.
  appendFileSync(path.join(repo.site, 'site.yaml'), '# a later commit\n');
  repo.commit('a later commit');
  const later = await publishSigned(r, 'ed25519', 'moved', repo);
  assert.is.not(later.site.digest, first.site.digest, 'a newer index');
  // The same site, same key, published for another repository.
  const elsewhere = await publishSigned(r, 'ed25519', 'elsewhere', repo);
  assert.is(elsewhere.site.digest, later.site.digest, 'the same index, signed for another repository');
  const s = store(r, ref);
  const e = store(r, elsewhere.ref);
  try {
    // The older index of the same repository, signed for it: containers/image checks each
    // manifest's signature and identity, not that the tag names the newest.
    await s.putManifest('location_y', 'application/vnd.oci.image.index.v1+json', await s.getManifest(first.site.digest, 1 << 20));
    const older = await copyWhole(r, pub, `${ref}:location_y`);
    assert.is(older.code, 0, describe(older));
    assert.is(older.stdout.trim(), `copied ${first.site.digest}`);
    // The tag moved to an index no signature names (the newer one, an annotation added), whose
    // manifests are all signed: containers/image checks each manifest an index names, not the
    // index itself (copy.Image evaluates the policy per instance), so it copies it.
    const forged = JSON.parse((await s.getManifest(later.site.digest, 1 << 20)).toString('utf8'));
    forged.annotations = { ...forged.annotations, 'io.harvgen.forged': 'yes' };
    const forgedBytes = Buffer.from(JSON.stringify(forged));
    await s.putManifest('location_y', forged.mediaType, forgedBytes);
    const unsignedIndex = await copyWhole(r, pub, `${ref}:location_y`);
    assert.is(unsignedIndex.code, 0, describe(unsignedIndex));
    // An index that names one manifest harvgen never signed (a node part, an annotation added): refused.
    const part = JSON.parse((await s.getManifest(forged.manifests[1].digest, 1 << 20)).toString('utf8'));
    part.annotations = { ...part.annotations, 'io.harvgen.forged': 'yes' };
    const partBytes = Buffer.from(JSON.stringify(part));
    const partDigest = `sha256:${createHash('sha256').update(partBytes).digest('hex')}`;
    await s.putManifest(partDigest, part.mediaType, partBytes);
    forged.manifests[1] = { ...forged.manifests[1], digest: partDigest, size: partBytes.length };
    await s.putManifest('location_y', forged.mediaType, Buffer.from(JSON.stringify(forged)));
    const moved = await copyWhole(r, pub, `${ref}:location_y`);
    assert.is(moved.code, 1, describe(moved));
    assert.match(moved.stderr, /A signature was required, but no signature exists/);
    // Signatures made for the other repository (same key, same digests) put at this one's tags.
    await s.putManifest('location_y', forged.mediaType, await s.getManifest(later.site.digest, 1 << 20));
    for (const d of [later.site.digest, ...(await children(s, later.site.digest))]) {
      const bytes = (await e.readTag(signatureTag(d), 1 << 20))!;
      const m = JSON.parse(bytes.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
      for (const b of [m.config.digest, ...m.layers.map((l) => l.digest)]) await s.putBlob(b, await e.getBlob(b, 1 << 20));
      await s.putManifest(signatureTag(d), 'application/vnd.oci.image.manifest.v1+json', bytes);
    }
    const foreign = await copyWhole(r, pub, `${ref}:location_y`);
    assert.is(foreign.code, 1, describe(foreign));
    assert.match(foreign.stderr, /not accepted|does not match|identity/i);
    // The same signatures pass where they were made.
    const there = await copyWhole(r, pub, `${elsewhere.ref}:location_y`);
    assert.is(there.code, 0, describe(there));
  } finally {
    s.close();
    e.close();
  }
});

test.run();
