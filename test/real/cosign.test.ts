// harvgen's cosign signatures judged by sigstore's own cosign (v2.6.5, built unpatched from the Go
// module proxy by scripts/install-cosign.sh): a site published with `publish.cosign_key` to the
// real Distribution registry (TLS, Basic auth) is accepted by `cosign verify --key` with the tree's
// own publish/cosign.pub, for an Ed25519 and an ECDSA P-256 key, by tag and by digest. Mutations,
// each refused by cosign: another key, the tag moved to an index that was never signed (a
// tampered index), a signature layer whose payload names another digest, and a signature
// replaced by one of another payload.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSite } from '../../src/pipeline.ts';
import { cosignPair, publishedRepo } from '../helpers/publish.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram } from './helpers/programs.ts';
import { airGap, cosignPresent, cosignVerify } from './helpers/cosign.ts';
import { describe } from './helpers/proc.ts';
import { publishToRegistry, REGISTRY_PROGRAMS, startRegistry, type TestRegistry } from './helpers/registry.ts';
import { registryTarget } from '../../src/publish/stores.ts';
import type { Sink, Source } from '../../src/publish/sink.ts';

/** The registry programs too, or the test is skipped loudly (a failure under HARVGEN_REQUIRE_REAL=1). */
function ready(): boolean {
  return requireProgram(...REGISTRY_PROGRAMS, 'openssl', 'git', 'ssh-keygen') && cosignPresent();
}

let reg: TestRegistry | undefined;
test.after(async () => {
  await reg?.stop();
});

async function registry(): Promise<TestRegistry> {
  reg ??= await startRegistry();
  return reg;
}

/** Publish location_y with a cosign key of `type` to the test registry; the tree's cosign.pub written to a file. */
async function publishSigned(r: TestRegistry, type: 'p256' | 'ed25519', label: string) {
  const repo = publishedRepo(`${r.host}/${label}`, { cosign: type === 'ed25519' ? 'ed25519' : true, label });
  const site = await publishToRegistry(r, repo);
  assert.match(site.signature ?? '', /^sha256-[0-9a-f]{64}\.sig$/);
  // The key other tools take: the committed tree's publish/cosign.pub.
  const committed = await compileSite(repo.site, { cwd: repo.root });
  const pub = path.join(tempDir('cosign-pub'), 'cosign.pub');
  writeFileSync(pub, String(committed.artifacts!.find((a) => a.path === 'publish/cosign.pub')!.contents));
  return { repo, site, pub, ref: `${r.host}/${label}/location_y` };
}

for (const type of ['ed25519', 'p256'] as const) {
  test(`cosign verify --key publish/cosign.pub accepts a site published with an ${type} cosign_key, by tag and by digest`, async () => {
    if (!ready()) return;
    const r = await registry();
    const { site, pub, ref } = await publishSigned(r, type, `ok-${type}`);
    for (const target of [`${ref}:location_y`, `${ref}@${site.digest}`]) {
      const v = await cosignVerify(r, pub, target);
      assert.is(v.code, 0, `cosign verify ${target}:\n${describe(v)}`);
      const payloads = JSON.parse(v.stdout.trim()) as { critical: { image: { 'docker-manifest-digest': string } } }[];
      assert.is(payloads[0]!.critical.image['docker-manifest-digest'], site.digest);
    }
  });
}

test('air-gapped: with --trusted-root of no keys, cosign verify --offline asks no host but the registry and verifies; --offline alone calls out first', async () => {
  if (!ready()) return;
  const r = await registry();
  const { site, pub, ref } = await publishSigned(r, 'ed25519', 'offline');
  const target = `${ref}@${site.digest}`;
  // docs/fleet.md's trusted root: the media type alone, no keys (a key verify needs none).
  const root = path.join(tempDir('cosign-root'), 'trusted_root.json');
  writeFileSync(root, '{ "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1" }\n');
  const gap = await airGap();
  try {
    const gapped = await cosignVerify(r, pub, target, { env: gap.env, args: ['--trusted-root', root] });
    assert.is(gapped.code, 0, `cosign verify --offline --trusted-root with every other host out of reach:\n${describe(gapped)}`);
    assert.is(gap.tries(), 0, `cosign verify --offline --trusted-root tried to reach another host:\n${describe(gapped)}`);
    // Still a verify: another key is refused the same way.
    const other = path.join(tempDir('cosign-other'), 'other.pub');
    writeFileSync(other, cosignPair(path.join(path.dirname(other), 'other.key')));
    const wrong = await cosignVerify(r, other, target, { env: gap.env, args: ['--trusted-root', root] });
    assert.is(wrong.code, 12, describe(wrong));
    assert.is(gap.tries(), 0);
    // The mutation: --offline alone asks Sigstore's TUF repository for its trusted root first (it
    // warns when it gets nothing, and goes on with the key).
    const online = await cosignVerify(r, pub, target, { env: gap.env });
    assert.is(online.code, 0, describe(online));
    assert.ok(gap.tries() > 0, `cosign verify --offline without --trusted-root called no other host:\n${describe(online)}`);
    assert.match(online.stderr, /Could not fetch trusted_root\.json from the TUF repository/);
  } finally {
    await gap.close();
  }
});

test('mutations cosign refuses: another key, a tag moved to an unsigned index, a payload of another digest, a swapped signature', async () => {
  if (!ready()) return;
  const r = await registry();
  const { site, pub, ref } = await publishSigned(r, 'p256', 'mutants');
  const other = path.join(tempDir('cosign-other'), 'other.pub');
  writeFileSync(other, cosignPair(path.join(path.dirname(other), 'other.key')));
  // 1. Another key.
  const wrongKey = await cosignVerify(r, other, `${ref}@${site.digest}`);
  assert.is(wrongKey.code, 12, describe(wrongKey));
  // The test plays a registry that rewrites what it holds (harvgen's client, the test's credentials).
  const target = registryTarget({ certDir: r.certDir, env: { ...process.env, REGISTRY_AUTH_FILE: r.authFile } });
  const store = target.sinkFor(ref) as Sink & Source;
  try {
    const manifest = async (tag: string) => {
      const d = (await store.resolveTag(tag))!;
      return JSON.parse((await store.getManifest(d, 1 << 20)).toString('utf8'));
    };
    // 2. The tag moved to another index: no signature names its digest.
    const forged = await manifest('location_y');
    forged.annotations = { ...forged.annotations, 'io.harvgen.forged': 'yes' };
    const forgedBytes = Buffer.from(JSON.stringify(forged));
    const forgedDigest = `sha256:${createHash('sha256').update(forgedBytes).digest('hex')}`;
    await store.putManifest('location_y', forged.mediaType, forgedBytes);
    const moved = await cosignVerify(r, pub, `${ref}:location_y`);
    assert.is(moved.code, 10, describe(moved));
    // 3. The signature of the real index copied to the forged one's tag: its payload names another digest.
    const sig = await manifest(site.signature!);
    await store.putManifest(`${forgedDigest.replace(':', '-')}.sig`, sig.mediaType, Buffer.from(JSON.stringify(sig)));
    const replayed = await cosignVerify(r, pub, `${ref}@${forgedDigest}`);
    assert.is(replayed.code, 12, describe(replayed));
    assert.match(replayed.stderr, /invalid or missing digest in claim/);
    // 4. The right payload with a signature that does not sign it.
    sig.layers[0].annotations['dev.cosignproject.cosign/signature'] = Buffer.alloc(64, 7).toString('base64');
    await store.putManifest(site.signature!, sig.mediaType, Buffer.from(JSON.stringify(sig)));
    const swapped = await cosignVerify(r, pub, `${ref}@${site.digest}`);
    assert.is(swapped.code, 12, describe(swapped));
  } finally {
    target.close();
  }
});

test.run();
