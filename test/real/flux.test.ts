// The cluster side judged by Flux's own code: a site with a planned upgrade, published with a cosign
// key to the real Distribution registry (TLS, Basic auth), is pulled from `<site>-cluster` by
// Flux's OCI library (github.com/fluxcd/pkg/oci v0.70.0, what source-controller's OCIRepository
// and `flux pull artifact` use; test/oracle/flux-pull), which unpacks exactly the tree's Version and
// Upgrade, byte for byte; `cosign verify --key` accepts its signature. Mutations: a layer changed
// in the registry's storage is refused by Flux's library (its digest), and the artifact signed with
// another key is refused by cosign. The docs' Flux objects are taken by Flux's own packages as
// Flux would (test/oracle/flux-docs: flux2 v2.9.5's API types, OCI client and kustomize build,
// kustomize-controller's dependsOn and dry-run-before-apply), and the site's own tag is shown to
// be no Flux artifact.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSite } from '../../src/pipeline.ts';
import { exportSites } from '../../src/publish/run.ts';
import { importLayout } from '../../src/publish/stores.ts';
import { cosignPair, planUpgrade, publishedRepo } from '../helpers/publish.ts';
import { tempDir } from '../helpers/tmp.ts';
import { cosignPresent, cosignVerify } from './helpers/cosign.ts';
import { buildOracle } from './helpers/go.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { describe, run } from './helpers/proc.ts';
import { requireProgram } from './helpers/programs.ts';
import { publishToRegistry, REGISTRY_PROGRAMS, registryBlobFile, startRegistry, type TestRegistry } from './helpers/registry.ts';

function ready(): boolean {
  return requireProgram(...REGISTRY_PROGRAMS, 'go', 'openssl', 'git', 'ssh-keygen') && cosignPresent();
}

let reg: TestRegistry | undefined;
test.after(async () => {
  await reg?.stop();
});

let fluxPull: Promise<string> | undefined;
/** Flux's OCI library as a program (built once). */
function flux(): Promise<string> {
  fluxPull ??= buildOracle('flux-pull', path.join(tempDir('flux-pull'), 'flux-pull'));
  return fluxPull;
}

/** Pull `ref` with Flux's library into a new directory: its JSON answer, or the failure. */
async function pullWithFlux(r: TestRegistry, ref: string) {
  const out = path.join(tempDir('flux-out'), 'artifact');
  const res = await run([await flux(), ref, out, r.caFile, r.username, r.password], { timeoutMs: 120_000 });
  return { res, out, json: res.code === 0 ? (JSON.parse(res.stdout) as { digest: string; revision: string; files: string[] }) : undefined };
}

/** location_y with an upgrade planned (v1.6.0 -> v1.6.1, apply), a cosign key, published to the test registry. */
async function publishUpgrade(r: TestRegistry) {
  const repo = publishedRepo(`${r.host}/flux`, { cosign: 'ed25519', label: 'flux' });
  planUpgrade(repo);
  const site = await publishToRegistry(r, repo);
  assert.ok(site.cluster, 'a cluster side');
  const committed = await compileSite(repo.site, { cwd: repo.root });
  const file = (p: string) => Buffer.from(committed.artifacts!.find((a) => a.path === p)!.contents);
  const pub = path.join(tempDir('flux-pub'), 'cosign.pub');
  writeFileSync(pub, file('publish/cosign.pub'));
  return { repo, site, cluster: site.cluster!, file, pub, ref: `${r.host}/flux/location_y` };
}

test("Flux's OCI library pulls <site>-cluster and unpacks exactly the tree's Version and Upgrade; cosign verifies its signature", async () => {
  if (!ready()) return;
  reg ??= await startRegistry();
  const { cluster, file, pub, ref } = await publishUpgrade(reg);
  const pulled = await pullWithFlux(reg, `${ref}:${cluster.tag}`);
  assert.is(pulled.res.code, 0, describe(pulled.res));
  assert.equal(pulled.json!.files, ['upgrade/upgrade.yaml', 'version/version.yaml']);
  for (const f of pulled.json!.files) {
    const tree = f.replace(/^version\//, 'upgrade/');
    assert.ok(readFileSync(path.join(pulled.out, f)).equals(file(tree)), `${f} as the tree holds ${tree}`);
  }
  assert.is(pulled.json!.digest, `${ref}@${cluster.digest}`);
  assert.match(pulled.json!.revision, /^[0-9a-f]{40}$/);
  const v = await cosignVerify(reg, pub, `${ref}:${cluster.tag}`);
  assert.is(v.code, 0, describe(v));
  // Another key: refused.
  const other = path.join(tempDir('flux-other'), 'other.pub');
  writeFileSync(other, cosignPair(path.join(path.dirname(other), 'other.key'), 'ed25519'));
  const wrong = await cosignVerify(reg, other, `${ref}:${cluster.tag}`);
  assert.is(wrong.code, 12, describe(wrong));
});

test("mutation: a layer changed in the registry's storage is refused by Flux's library", async () => {
  if (!ready()) return;
  reg ??= await startRegistry();
  const { cluster, ref } = await publishUpgrade(reg);
  // The manifest's one layer, found through Flux's own pull first (so the digest is the one it asks for).
  const ok = await pullWithFlux(reg, `${ref}@${cluster.digest}`);
  assert.is(ok.res.code, 0, describe(ok.res));
  const manifest = await run(
    ['skopeo', 'inspect', '--raw', '--cert-dir', reg.certDir, '--authfile', reg.authFile, `docker://${ref}@${cluster.digest}`],
    {
      timeoutMs: 60_000,
    },
  );
  assert.is(manifest.code, 0, describe(manifest));
  const layer = (JSON.parse(manifest.stdout) as { layers: { digest: string }[] }).layers[0]!.digest;
  const data = registryBlobFile(reg.storageDir, layer);
  const bytes = readFileSync(data);
  const changed = Buffer.from(bytes);
  changed[changed.length - 10] = changed[changed.length - 10]! ^ 0xff;
  writeFileSync(data, changed);
  try {
    const bad = await pullWithFlux(reg, `${ref}@${cluster.digest}`);
    assert.is.not(bad.res.code, 0, `Flux's library took a changed layer:\n${describe(bad.res)}`);
    assert.match(bad.res.stderr, /digest|gzip|checksum|invalid/i);
  } finally {
    // The registry keeps one copy of a blob for every repository: the next test's layer is this one.
    writeFileSync(data, bytes);
  }
});

test('air gap: export to an OCI layout and import elsewhere carries the cluster side and both signatures into the site repository', async () => {
  if (!ready()) return;
  reg ??= await startRegistry();
  const { repo, cluster, pub } = await publishUpgrade(reg);
  const layout = path.join(tempDir('flux-layout'), 'layout');
  const exported = await exportSites({ sites: [repo.site], to: `oci:${layout}`, cwd: repo.root });
  if ('problem' in exported) throw new Error(String(exported.problem));
  assert.is(exported.published[0]!.cluster?.digest, cluster.digest, 'export gives the digest publish gives');
  const imported = await importLayout(`oci:${layout}`, `${reg.host}/airgap`, { certDir: reg.certDir });
  assert.equal(imported.diagnostics, []);
  const ref = `${reg.host}/airgap/location_y`;
  for (const tag of ['location_y', cluster.tag]) {
    const v = await cosignVerify(reg, pub, `${ref}:${tag}`);
    assert.is(v.code, 0, `${tag}: ${describe(v)}`);
  }
  const pulled = await pullWithFlux(reg, `${ref}:${cluster.tag}`);
  assert.is(pulled.res.code, 0, describe(pulled.res));
  assert.equal(pulled.json!.files, ['upgrade/upgrade.yaml', 'version/version.yaml']);
});

let fluxDocsBuild: Promise<string> | undefined;
/** Flux's packages taking a stream of Flux objects (test/oracle/flux-docs, built once). */
function fluxDocs(): Promise<string> {
  fluxDocsBuild ??= buildOracle('flux-docs', path.join(tempDir('flux-docs'), 'flux-docs'));
  return fluxDocsBuild;
}

interface Judged {
  kind: string;
  name: string;
  ready: boolean;
  round?: number;
  failures: number;
  applied?: string[];
  files?: string[];
  error?: string;
}

/** The docs' objects (`docs`, the docs' site renamed to the published one) as Flux takes them from `r`. */
async function judgeWithFlux(r: TestRegistry, docs: string, resume: boolean): Promise<Map<string, Judged>> {
  const request = {
    docs: docs.replaceAll('location_x', 'location_y'),
    rewrites: [{ from: 'registry.example.net/harvgen', to: `${r.host}/flux` }],
    ca: r.caFile,
    user: r.username,
    password: r.password,
    existing: [],
    resume,
  };
  const res = await run([await fluxDocs()], { input: JSON.stringify(request), timeoutMs: 180_000 });
  assert.is(res.code, 0, describe(res));
  const objects = (JSON.parse(res.stdout) as { objects: Judged[] }).objects;
  return new Map(objects.map((o) => [`${o.kind}/${o.name}`, o]));
}

/** Every YAML block of the docs that holds a Flux object, as one stream. */
function fluxBlocksOfDocs(): string {
  const docsDir = path.join(REPO_ROOT, 'docs');
  const blocks = readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .flatMap((f) => [...readFileSync(path.join(docsDir, f), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!))
    .filter((b) => /toolkit\.fluxcd\.io/.test(b));
  assert.ok(blocks.length > 0, 'the docs hold Flux objects');
  return blocks.join('---\n');
}

test("the docs' Flux objects, taken by Flux's packages: the source fetched, the Version applied, the Upgrade after it once resumed, no failed attempt", async () => {
  if (!ready()) return;
  reg ??= await startRegistry();
  await publishUpgrade(reg);
  const docs = fluxBlocksOfDocs();
  const judged = await judgeWithFlux(reg, docs, true);
  const kinds = [...judged.values()].map((o) => o.kind);
  assert.ok(
    kinds.every((k) => k === 'OCIRepository' || k === 'Kustomization'),
    `only Flux objects this test judges: ${kinds.join(', ')}`,
  );
  for (const o of judged.values()) {
    assert.ok(o.ready, `${o.kind}/${o.name} gets ready: ${o.error ?? ''}`);
    assert.is(o.failures, 0, `${o.kind}/${o.name} never fails on the way: ${o.error ?? ''}`);
  }
  const source = judged.get('OCIRepository/location-x-cluster')!;
  assert.equal(source.files, ['upgrade/upgrade.yaml', 'version/version.yaml']);
  const version = judged.get('Kustomization/location-x-version')!;
  const upgrade = judged.get('Kustomization/location-x-upgrade')!;
  assert.equal(version.applied, ['Version/harvester-system/v1.6.1']);
  assert.equal(
    upgrade.applied?.map((a) => a.split('/')[0]),
    ['Upgrade'],
  );
  assert.ok(upgrade.round! > version.round!, `the Upgrade after the Version: rounds ${version.round} and ${upgrade.round}`);
  // Not resumed: the Version is applied, the Upgrade waits.
  const waiting = await judgeWithFlux(reg, docs, false);
  assert.ok(waiting.get('Kustomization/location-x-version')!.ready);
  assert.not.ok(waiting.get('Kustomization/location-x-upgrade')!.ready, 'suspended: not applied');
});

test('mutation: one Kustomization over the Version and the Upgrade never gets ready (the dry-run of the Upgrade meets no Version)', async () => {
  if (!ready()) return;
  reg ??= await startRegistry();
  await publishUpgrade(reg);
  const docs = fluxBlocksOfDocs();
  const one = docs
    .split(/^---\n/m)
    .filter((d) => !/name: location-x-version\n/.test(d))
    .join('---\n')
    .replace(/  dependsOn:\n    - name: location-x-version.*\n/, '')
    .replace('path: ./upgrade', 'path: ./');
  assert.ok(one !== docs && !one.includes('dependsOn'), 'the mutation took');
  const judged = await judgeWithFlux(reg, one, true);
  const k = judged.get('Kustomization/location-x-upgrade')!;
  assert.not.ok(k.ready);
  assert.match(k.error ?? '', /Upgrade\/harvester-system\/.* dry-run failed: .*version v1\.6\.1 is not found/);
  // Without dependsOn the two race: the Upgrade's first attempt fails.
  const race = docs.replace(/  dependsOn:\n    - name: location-x-version.*\n/, '').replace(/  suspend: true.*\n/, '');
  const raced = await judgeWithFlux(reg, race, true);
  assert.ok(raced.get('Kustomization/location-x-upgrade')!.failures > 0, 'without dependsOn an attempt fails');
});

test("the site's own tag is no Flux artifact: Flux refuses it (the docs send Flux to <site>-cluster)", async () => {
  if (!ready()) return;
  reg ??= await startRegistry();
  await publishUpgrade(reg);
  const docs = fluxBlocksOfDocs();
  assert.not.match(docs, /tag: location_x\n/, 'no Flux object of the docs reads a site tag');
  const site = docs
    .split(/^---\n/m)
    .find((d) => /kind: OCIRepository/.test(d))!
    .replace('tag: location_x-cluster', 'tag: location_x');
  const judged = await judgeWithFlux(reg, site, false);
  const source = judged.get('OCIRepository/location-x-cluster')!;
  assert.not.ok(source.ready, 'Flux takes no site tag');
  assert.match(source.error ?? '', /gzip: invalid header/);
});

test.run();
