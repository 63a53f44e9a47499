// The OCI client against the real CNCF Distribution registry (Debian docker-registry) over TLS
// with htpasswd auth, and skopeo (Debian skopeo) as the independent client: an artifact shaped
// like docs/dev/fleet-format.md (an index of a site part and a node part, custom media types) is
// pushed and read back; a second push uploads nothing; a wrong password is a clear 401; a blob
// tampered with in the registry's storage is refused; a tag resolves; blobs mount across
// repositories; skopeo reads what we push and copies it (digests preserved) to an OCI layout
// and another repository; skopeo reads our layout export and archive and copies them into the
// registry; we read the layout skopeo writes.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  copyArtifact,
  layoutStore,
  manifestDescriptor,
  OciLayout,
  readArchive,
  Registry,
  RegistryError,
  registryStore,
  resolveRoot,
  sha256Digest,
  walk,
  writeArchive,
  type Descriptor,
} from '../../src/oci/index.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram } from './helpers/programs.ts';
import { describe, run } from './helpers/proc.ts';
import { registryBlobFile, registryBlobFiles, startRegistry, type TestRegistry } from './helpers/registry.ts';

const have = requireProgram('docker-registry', 'htpasswd', 'openssl', 'skopeo');
let reg: TestRegistry | undefined;
const clients: Registry[] = [];

test.before(async () => {
  if (!have) return;
  reg = await startRegistry();
});

test.after(async () => {
  for (const c of clients) c.close();
  await reg?.stop();
  assert.ok(!reg || reg.daemon.exited(), 'the registry process is gone');
});

function client(over: Partial<ConstructorParameters<typeof Registry>[0]> = {}): Registry {
  const c = new Registry({
    registry: reg!.host,
    certDir: reg!.certDir,
    credentials: { username: reg!.username, password: reg!.password, source: 'the test' },
    timeoutMs: 15_000,
    ...over,
  });
  clients.push(c);
  return c;
}

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Artifact {
  index: Buffer;
  root: Descriptor;
  parts: Buffer[];
  blobs: Map<string, Buffer>;
}

/** An artifact shaped like docs/dev/fleet-format.md: a site part and a node part. */
function fleetArtifact(tag: string, nodeText = '#!ipxe\nchain boot.ipxe\n', descriptorArtifactType = false): Artifact {
  const blobs = new Map<string, Buffer>();
  const blob = (b: Buffer): { digest: string; size: number } => {
    const d = sha256Digest(b);
    blobs.set(d, b);
    return { digest: d, size: b.length };
  };
  const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
  const part = (config: Buffer, configType: string, files: [string, string][], annotations: Record<string, string>) => {
    const m = json({
      schemaVersion: 2,
      mediaType: MANIFEST,
      artifactType: 'application/vnd.harvgen.part.v1',
      config: { mediaType: configType, ...blob(config) },
      layers: files.map(([p, text]) => ({
        mediaType: 'application/vnd.harvgen.file.v1',
        ...blob(Buffer.from(text)),
        annotations: { 'org.opencontainers.image.title': p },
      })),
      annotations,
    });
    return m;
  };
  const site = part(
    json({ format: 1, site: tag }),
    'application/vnd.harvgen.provenance.v1+json',
    [
      ['boot.ipxe', '#!ipxe\necho site\n'],
      ['nginx/site.conf', 'server {}\n'],
    ],
    { 'io.harvgen.part': 'site' },
  );
  const node = part(json({ part: 'node', site: tag }), 'application/vnd.harvgen.part.v1+json', [['nodes/node1.ipxe', nodeText]], {
    'io.harvgen.nodes': 'node1',
    'io.harvgen.part': 'node',
  });
  // The fleet format puts no artifactType on the index's descriptors (skopeo 1.9.3 rewrites such an index).
  const at = descriptorArtifactType ? { artifactType: 'application/vnd.harvgen.part.v1' } : {};
  const index = json({
    schemaVersion: 2,
    mediaType: INDEX,
    artifactType: 'application/vnd.harvgen.site.v1',
    manifests: [
      { mediaType: MANIFEST, digest: sha256Digest(site), size: site.length, ...at, annotations: { 'io.harvgen.part': 'site' } },
      {
        mediaType: MANIFEST,
        digest: sha256Digest(node),
        size: node.length,
        ...at,
        annotations: { 'io.harvgen.nodes': 'node1', 'io.harvgen.part': 'node' },
      },
    ],
    annotations: { 'io.harvgen.site': tag },
  });
  return { index, root: manifestDescriptor(index), parts: [site, node], blobs };
}

/** Push an artifact with the client's primitives (blobs, parts, index by digest, then the tag). */
async function push(c: Registry, repo: string, a: Artifact, tag: string): Promise<string> {
  for (const [d, b] of a.blobs) await c.pushBlob(repo, d, b);
  for (const p of a.parts) await c.putManifest(repo, sha256Digest(p), MANIFEST, p);
  return c.putManifest(repo, tag, INDEX, a.index);
}

const skopeoTls = () => ['--cert-dir', reg!.certDir];
const creds = () => `${reg!.username}:${reg!.password}`;

test('push and pull the fleet artifact with auth and TLS; a second push uploads nothing', async () => {
  if (!have) return;
  const c = client();
  const a = fleetArtifact('location_x');
  await c.ping();
  const digest = await push(c, 'harvgen/location_x', a, 'location_x');
  assert.is(digest, a.root.digest);
  assert.is(c.counters.blobsUploaded, a.blobs.size, 'every blob uploaded once');
  const uploaded = c.counters.bytesUploaded;
  const expected = [...a.blobs.values(), ...a.parts, a.index].reduce((n, b) => n + b.length, 0);
  assert.is(uploaded, expected, 'bytes uploaded are the blobs and manifests, once');

  // Read it all back by digest, with our walker.
  const store = registryStore(c, 'harvgen/location_x');
  const root = await resolveRoot(store, 'location_x');
  assert.equal([root.digest, root.mediaType, root.size], [a.root.digest, INDEX, a.index.length]);
  const nodes = await walk(store, root);
  assert.is(nodes.length, 1 + 2 + a.blobs.size);
  for (const [d, b] of a.blobs) assert.ok((await c.getBlob('harvgen/location_x', d)).equals(b));

  // Again: nothing uploaded, each blob skipped.
  const c2 = client();
  const again = await push(c2, 'harvgen/location_x', a, 'location_x');
  assert.is(again, digest);
  assert.is(c2.counters.blobsUploaded, 0);
  assert.is(c2.counters.blobsSkipped, a.blobs.size);
  const manifestBytes = [...a.parts, a.index].reduce((n, b) => n + b.length, 0);
  assert.is(c2.counters.bytesUploaded, manifestBytes, 'the second push sends the manifests only');

  // copyArtifact into the same repository: nothing copied, nothing written.
  const c3 = client();
  const r = await copyArtifact(store, registryStore(c3, 'harvgen/location_x'), root);
  assert.equal(
    [r.manifestsPresent, r.blobsCopied, r.manifestsWritten, c3.counters.requests],
    [1, 0, 0, 2],
    'one HEAD (after its 401) for a present artifact',
  );
  const full = await copyArtifact(store, store, root, { full: true });
  assert.equal([full.blobsCopied, full.blobsSkipped, full.manifestsWritten], [0, a.blobs.size, 0]);

  assert.equal(await c.tags('harvgen/location_x'), ['location_x']);
});

test('a wrong password is a clear 401 naming the credential source, without the password', async () => {
  if (!have) return;
  const wrong = 'not-the-password-9f3';
  const c = client({ credentials: { username: reg!.username, password: wrong, source: `${reg!.authFile} (auths["${reg!.host}"])` } });
  const err = await c.ping().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(err, RegistryError);
  const e = err as RegistryError;
  assert.is(e.status, 401);
  assert.is(e.kind, 'auth');
  assert.match(e.message, reg!.authFile);
  assert.match(e.message, `user "${reg!.username}"`);
  assert.not.match(e.message, wrong);
  assert.not.match(e.message, reg!.password);
  assert.not.match(JSON.stringify({ ...e, stack: e.stack }), wrong);

  // Found through REGISTRY_AUTH_FILE: works.
  const viaFile = client({ credentials: undefined, env: { REGISTRY_AUTH_FILE: reg!.authFile } });
  await viaFile.ping();
  // No credentials anywhere: says what it tried and how to log in.
  const none = client({ credentials: undefined, env: { HOME: tempDir('oci-nohome') } });
  const e2 = (await none.ping().catch((x: unknown) => x)) as RegistryError;
  assert.is(e2.status, 401);
  assert.match(e2.message, 'none were found');
  assert.match(e2.message, `podman login ${reg!.host}`);
});

test('TLS without the CA: the error says where to put the CA', async () => {
  if (!have) return;
  const roots = tempDir('oci-nocerts');
  const c = client({ certDir: undefined, certsRoots: [roots] });
  const e = (await c.ping().catch((x: unknown) => x)) as RegistryError;
  assert.instance(e, RegistryError);
  assert.is(e.kind, 'tls');
  assert.match(e.message, path.join(roots, reg!.host), e.message);
  assert.match(e.message, '.crt');
});

test('a blob tampered with in the registry storage is refused by getBlob (and by a copy)', async () => {
  if (!have) return;
  const c = client();
  const a = fleetArtifact('tampered', '#!ipxe\necho original text\n');
  await push(c, 'harvgen/tampered', a, 'tampered');
  const victim = [...a.blobs.keys()].find((d) => a.blobs.get(d)!.toString().includes('original text'))!;
  const file = registryBlobFile(reg!.storageDir, victim);
  const bytes = readFileSync(file);
  writeFileSync(file, Buffer.from(bytes.toString().replace('original', 'tampered')));
  assert.is(readFileSync(file).length, bytes.length, 'same length: only the digest check can tell');
  const e = (await c.getBlob('harvgen/tampered', victim).catch((x: unknown) => x)) as RegistryError;
  assert.instance(e, RegistryError);
  assert.is(e.kind, 'digest');
  assert.match(e.message, 'refused');
  const out = tempDir('oci-tamper-layout');
  const layout = await OciLayout.create(out);
  const e2 = await copyArtifact(registryStore(c, 'harvgen/tampered'), layoutStore(layout), a.root).catch((x: unknown) => x);
  assert.instance(e2, Error);
  assert.not.ok(await layout.hasBlob(victim), 'the tampered blob never lands in the layout');
});

test('mount across two repositories: nothing uploaded, the same digest', async () => {
  if (!have) return;
  const c = client();
  const a = fleetArtifact('mount-src');
  await push(c, 'harvgen/mount-src', a, 'v1');
  const c2 = client();
  const r = await copyArtifact(registryStore(c2, 'harvgen/mount-src'), registryStore(c2, 'harvgen/mount-dst'), a.root, { tags: ['v1'] });
  assert.is(r.blobsMounted, a.blobs.size);
  assert.is(c2.counters.blobsMounted, a.blobs.size);
  assert.is(c2.counters.blobsUploaded, 0);
  assert.is((await c2.resolve('harvgen/mount-dst', 'v1')).digest, a.root.digest);
  // mountBlob by hand: a blob the source does not have is not mounted (202), and is uploaded when given.
  const extra = Buffer.from('only here\n');
  const d = sha256Digest(extra);
  assert.is(await c2.mountBlob('harvgen/mount-dst', d, 'harvgen/mount-src'), 'not-mounted');
  assert.is(await c2.mountBlob('harvgen/mount-dst', d, 'harvgen/mount-src', extra), 'uploaded');
  assert.is(await c2.mountBlob('harvgen/mount-dst', d, 'harvgen/mount-src', extra), 'skipped');
});

test('skopeo reads what we push and copies it, digests preserved, to a layout and another repository', async () => {
  if (!have) return;
  const c = client();
  const a = fleetArtifact('skopeo');
  await push(c, 'harvgen/skopeo', a, 'skopeo');
  const raw = await run(['skopeo', 'inspect', '--raw', ...skopeoTls(), '--creds', creds(), `docker://${reg!.host}/harvgen/skopeo:skopeo`]);
  assert.is(raw.code, 0, describe(raw));
  assert.ok(Buffer.from(raw.stdout).equals(a.index), 'skopeo prints our index bytes');

  const dir = path.join(tempDir('oci-skopeo-dir'), 'layout');
  const cp = await run(
    [
      'skopeo',
      'copy',
      '--all',
      '--src-cert-dir',
      reg!.certDir,
      '--src-creds',
      creds(),
      `docker://${reg!.host}/harvgen/skopeo:skopeo`,
      `oci:${dir}:site`,
    ],
    { timeoutMs: 60_000 },
  );
  assert.is(cp.code, 0, describe(cp));
  // We read the layout skopeo wrote.
  const layout = await OciLayout.open(dir);
  const root = await layout.resolve('site');
  assert.is(root.digest, a.root.digest);
  const nodes = await walk(layoutStore(layout), root);
  assert.is(nodes.length, 1 + 2 + a.blobs.size);

  const cp2 = await run(
    [
      'skopeo',
      'copy',
      '--all',
      '--src-cert-dir',
      reg!.certDir,
      '--dest-cert-dir',
      reg!.certDir,
      '--authfile',
      reg!.authFile,
      `docker://${reg!.host}/harvgen/skopeo:skopeo`,
      `docker://${reg!.host}/harvgen/skopeo-copy:x`,
    ],
    { timeoutMs: 60_000 },
  );
  assert.is(cp2.code, 0, describe(cp2));
  assert.is((await c.resolve('harvgen/skopeo-copy', 'x')).digest, a.root.digest);
});

test('our layout export and archive: skopeo inspects them and copies them into the registry, digests preserved', async () => {
  if (!have) return;
  const c = client();
  const a = fleetArtifact('export');
  await push(c, 'harvgen/export', a, 'export');
  const base = tempDir('oci-export');
  const dir = path.join(base, 'layout');
  const layout = await OciLayout.create(dir);
  const r = await copyArtifact(registryStore(c, 'harvgen/export'), layoutStore(layout), a.root, { tags: ['export'] });
  assert.is(r.blobsCopied, a.blobs.size);
  const raw = await run(['skopeo', 'inspect', '--raw', `oci:${dir}:export`]);
  assert.is(raw.code, 0, describe(raw));
  assert.ok(Buffer.from(raw.stdout).equals(a.index));

  const archive = path.join(base, 'export.tar');
  await writeArchive(dir, archive);
  const rawTar = await run(['skopeo', 'inspect', '--raw', `oci-archive:${archive}:export`]);
  assert.is(rawTar.code, 0, describe(rawTar));
  assert.ok(Buffer.from(rawTar.stdout).equals(a.index));

  for (const [src, repo] of [
    [`oci:${dir}:export`, 'harvgen/from-layout'],
    [`oci-archive:${archive}:export`, 'harvgen/from-archive'],
  ] as const) {
    const cp = await run(
      ['skopeo', 'copy', '--all', '--dest-cert-dir', reg!.certDir, '--dest-creds', creds(), src, `docker://${reg!.host}/${repo}:x`],
      { timeoutMs: 60_000 },
    );
    assert.is(cp.code, 0, describe(cp));
    assert.is((await c.resolve(repo, 'x')).digest, a.root.digest, `${src} keeps its digest`);
  }

  // Our archive back into a layout, then pushed by us into a fresh repository.
  const back = await readArchive(archive, path.join(base, 'back'));
  const c2 = client();
  const pushed = await copyArtifact(layoutStore(back), registryStore(c2, 'harvgen/from-our-archive'), await back.resolve('export'), {
    tags: ['x'],
  });
  assert.is(pushed.blobsCopied, a.blobs.size);
  assert.is((await c2.resolve('harvgen/from-our-archive', 'x')).digest, a.root.digest);

  // skopeo's own archive of it, read by us.
  const theirs = path.join(base, 'skopeo.tar');
  const cpa = await run(['skopeo', 'copy', '--all', `oci:${dir}:export`, `oci-archive:${theirs}:export`], { timeoutMs: 60_000 });
  assert.is(cpa.code, 0, describe(cpa));
  const fromTheirs = await readArchive(theirs, path.join(base, 'theirs'));
  assert.is((await fromTheirs.resolve('export')).digest, a.root.digest);
});

test('skopeo 1.9.3 rewrites an index whose descriptors carry artifactType (why the format has none there)', async () => {
  if (!have) return;
  const c = client();
  const a = fleetArtifact('descriptor-at', '#!ipxe\n', true);
  await push(c, 'harvgen/descriptor-at', a, 'x');
  const src = `docker://${reg!.host}/harvgen/descriptor-at:x`;
  const plain = await run(
    [
      'skopeo',
      'copy',
      '--all',
      '--src-cert-dir',
      reg!.certDir,
      '--dest-cert-dir',
      reg!.certDir,
      '--authfile',
      reg!.authFile,
      src,
      `docker://${reg!.host}/harvgen/descriptor-at-copy:x`,
    ],
    { timeoutMs: 60_000 },
  );
  assert.is(plain.code, 0, describe(plain));
  const copied = await c.resolve('harvgen/descriptor-at-copy', 'x');
  assert.is.not(copied.digest, a.root.digest, 'skopeo re-serialized the index');
  const preserve = await run(
    [
      'skopeo',
      'copy',
      '--all',
      '--preserve-digests',
      '--src-cert-dir',
      reg!.certDir,
      '--dest-cert-dir',
      reg!.certDir,
      '--authfile',
      reg!.authFile,
      src,
      `docker://${reg!.host}/harvgen/descriptor-at-keep:x`,
    ],
    { timeoutMs: 60_000 },
  );
  assert.is.not(preserve.code, 0, describe(preserve));
  assert.match(preserve.stderr, 'preserve digests');
});

test('every blob file in the storage hashes to its name (except the one tampered with)', async () => {
  if (!have) return;
  const files = registryBlobFiles(reg!.storageDir);
  assert.ok(files.length > 10, `${files.length} blob files`);
  const bad = files.filter((f) => sha256Digest(readFileSync(f)) !== `sha256:${path.basename(path.dirname(f))}`);
  assert.is(bad.length, 1, bad.join(', '));
});

test.run();
