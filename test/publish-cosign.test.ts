// cosign signatures beside harvgen's own (`publish.cosign_key`): publish pushes, for each site
// artifact, sigstore's tag-scheme signature (`sha256-<hex>.sig`: an OCI manifest whose one layer is
// the simple signing payload and whose annotation is the signature) before any tag names the
// artifact; the committed tree holds the public key. `cosign verify` itself judges it in
// test/real/cosign.test.ts; here, the structure, the signature with Node's crypto, and the refusals.
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSite } from '../src/pipeline.ts';
import { publish } from '../src/publish/index.ts';
import { COSIGN, signatureTag, simpleSigningPayload } from '../src/publish/cosign.ts';
import { CosignKey } from '../src/sign/cosign-key.ts';
import { pull } from '../src/pull/index.ts';
import type { Sink } from '../src/publish/sink.ts';
import { cosignPair, MemoryRegistry, publishedRepo } from './helpers/publish.ts';
import { tempDir } from './helpers/tmp.ts';

const REGISTRY = 'registry.example.net/harvgen';
const REPO = `${REGISTRY}/location_y`;

async function published(extra: { base?: string } = {}) {
  const repo = publishedRepo(REGISTRY, { cosign: true, ...(extra.base ? { bootServer: { base: extra.base } } : {}) });
  const reg = new MemoryRegistry();
  const order: string[] = [];
  const logged = (x: string): Sink => {
    const s = reg.sink(x);
    return { ...s, putManifest: (ref, mt, bytes) => (order.push(ref), s.putManifest(ref, mt, bytes)) };
  };
  const run = () => publish({ sites: [repo.site], sinkFor: logged, cwd: repo.root, recordDir: null });
  const r = await run();
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
    [],
  );
  return { repo, reg, order, run, site: r.sites[0]! };
}

test('publish signs the index for cosign: a sha256-<hex>.sig tag, one payload layer, a signature the public key verifies', async () => {
  const { repo, reg, site } = await published();
  const digest = site.digest!;
  assert.is(site.cosignSignature, `sha256-${digest.slice(7)}.sig`);
  const sigDigest = reg.tags.get(REPO)!.get(signatureTag(digest));
  assert.ok(sigDigest, 'the signature tag is there');
  const m = JSON.parse(reg.manifests.get(REPO)!.get(sigDigest!)!.toString('utf8'));
  assert.is(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.is(m.layers.length, 1);
  assert.is(m.layers[0].mediaType, COSIGN.payload);
  const payload = reg.blobs.get(REPO)!.get(m.layers[0].digest)!;
  assert.ok(reg.blobs.get(REPO)!.has(m.config.digest), 'the config blob is there');
  const p = JSON.parse(payload.toString('utf8'));
  assert.equal(p, {
    critical: {
      identity: { 'docker-reference': REPO },
      image: { 'docker-manifest-digest': digest },
      type: 'cosign container image signature',
    },
    optional: null,
  });
  const sig = Buffer.from(m.layers[0].annotations[COSIGN.signatureAnnotation], 'base64');
  const key = createPublicKey(repo.cosignPublicKey!);
  assert.ok(verify('sha256', payload, key, sig), 'the signature verifies with cosign_public_key');
  const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
  assert.not.ok(verify('sha256', payload, other, sig), 'and not with another key');
  const tampered = simpleSigningPayload(REPO, `sha256:${'0'.repeat(64)}`);
  assert.not.ok(verify('sha256', tampered, key, sig), 'nor for another digest');
});

test('an Ed25519 key signs the payload itself, and the same signature at every signing', async () => {
  const dir = tempDir('cosign-ed25519');
  const pub = cosignPair(join(dir, 'k'), 'ed25519');
  const key = CosignKey.from(readFileSync(join(dir, 'k'), 'utf8'), pub) as CosignKey;
  assert.ok(key instanceof CosignKey);
  const payload = simpleSigningPayload(REPO, `sha256:${'a'.repeat(64)}`);
  const sig = key.sign(payload);
  assert.is(key.sign(payload), sig, 'deterministic');
  assert.ok(verify(null, payload, createPublicKey(pub), Buffer.from(sig, 'base64')));
});

test('the signatures are pushed before any tag names the index; an unchanged republish keeps them', async () => {
  const { reg, order, run, site } = await published();
  const sigTag = signatureTag(site.digest!);
  const firstTag = order.findIndex((r) => !r.startsWith('sha256:') && !r.endsWith('.sig'));
  assert.ok(order.indexOf(site.digest!) >= 0 && order.indexOf(site.digest!) < order.indexOf(sigTag), order.join(' '));
  assert.ok(order.indexOf(sigTag) < firstTag, order.join(' '));
  assert.ok(order.filter((r) => r.endsWith('.sig')).length > 2, 'the parts are signed too');
  assert.ok(order.findLastIndex((r) => r.endsWith('.sig')) < firstTag, order.join(' '));
  const before = reg.tags.get(REPO)!.get(sigTag);
  order.length = 0;
  const again = await run();
  assert.is(again.sites[0]!.digest, site.digest);
  assert.not.ok(order.includes(sigTag), 'not signed again');
  assert.is(reg.tags.get(REPO)!.get(sigTag), before);
});

test('the committed tree holds the public key as publish/cosign.pub; pull ignores the signature tag', async () => {
  const base = tempDir('cosign-pull');
  const { repo, reg, site } = await published({ base });
  const committed = await compileSite(repo.site, { cwd: repo.root });
  const pub = committed.artifacts!.find((a) => a.path === 'publish/cosign.pub');
  assert.is(String(pub?.contents), repo.cosignPublicKey!.trimEnd() + '\n');
  const config = await repo.pullConfig(base);
  const r = await pull({ config, source: (c) => reg.sink(c.repository), verify: false });
  assert.is(r.action, 'switched', JSON.stringify(r.diagnostics));
  assert.is(r.digest, site.digest);
});

test('a cosign key that is not the public key’s private half, an encrypted one, a P-384 key: refused with what to do', async () => {
  const dir = tempDir('cosign-keys');
  const pubA = cosignPair(join(dir, 'a.key'));
  cosignPair(join(dir, 'b.key'));
  const a = readFileSync(join(dir, 'a.key'), 'utf8');
  const b = readFileSync(join(dir, 'b.key'), 'utf8');
  assert.ok(CosignKey.from(a, pubA) instanceof CosignKey);
  assert.match((CosignKey.from(b, pubA) as { problem: string }).problem, /not the private half of cosign_public_key/);
  const enc = '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n';
  assert.match((CosignKey.from(enc, pubA) as { problem: string }).problem, /is encrypted .* unencrypted PEM key/);
  const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  const pem384 = p384.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const pub384 = p384.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  assert.match((CosignKey.from(pem384, pub384) as { problem: string }).problem, /ECDSA key on secp384r1, not P-256/);
  // In a site: check (the committed tree) refuses the public key; the deploy build refuses a wrong pair.
  const repo = publishedRepo(REGISTRY, { cosign: true });
  const yaml = join(repo.site, 'site.yaml');
  const text = readFileSync(yaml, 'utf8');
  writeFileSync(join(repo.site, 'secrets/cosign.key'), b);
  const deploy = await compileSite(repo.site, { cwd: repo.root, secrets: 'filled' });
  const wrong = deploy.diagnostics.find((d) => d.code === 'PUBLISH_COSIGN_KEY');
  assert.match(wrong?.message ?? '', /publish\.cosign_key is not the private half of cosign_public_key/);
  assert.is(wrong?.severity, 'error');
  assert.ok(wrong?.line !== undefined, 'positioned');
  const indented = pub384
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  writeFileSync(yaml, text.replace(/  cosign_public_key: \|\n(    .*\n)+/, `  cosign_public_key: |\n${indented}\n`));
  const checked = await compileSite(repo.site, { cwd: repo.root });
  const bad = checked.diagnostics.find((d) => d.code === 'PUBLISH_COSIGN_KEY');
  assert.match(bad?.message ?? '', /publish\.cosign_public_key is an ECDSA key on secp384r1, not P-256/);
});

test.run();
