// harvgen pull against a registry that holds no key (it can rewrite the unsigned index and parts,
// never the signed provenance nor sealed blobs): nothing the signed manifest.json does not list is
// fetched, every blob is bounded by the size it gives, and every refusal is a clear diagnostic.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { publish } from '../src/publish/index.ts';
import { pull } from '../src/pull/index.ts';
import { MEDIA } from '../src/publish/media.ts';
import { SealKey } from '../src/publish/seal.ts';
import type { Source } from '../src/publish/sink.ts';
import { TreeWriter } from '../src/pull/tree-writer.ts';
import { PullRefused } from '../src/pull/refused.ts';
import { MemoryRegistry, publishedRepo } from './helpers/publish.ts';
import { tempDir } from './helpers/tmp.ts';
import { startHostileRegistry } from './helpers/hostile-registry.ts';

const REGISTRY = 'registry.example.net/harvgen';
const REPO = `${REGISTRY}/location_y`;
const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A Source that enforces maxBytes as a registry client does, and records every blob asked for. */
function bounded(inner: Source, asked: { digest: string; max: number }[]): Source {
  return {
    ...inner,
    async getBlob(d, max) {
      asked.push({ digest: d, max });
      const b = await inner.getBlob(d, max);
      if (b.length > max) throw new Error(`blob ${d} is larger than the limit (${b.length} > ${max} bytes)`);
      return b;
    },
  };
}

async function setup(opts: { fileKey?: boolean } = {}) {
  const base = tempDir('pull-hostile');
  const repo = publishedRepo(REGISTRY, { bootServer: { base }, ...opts });
  const reg = new MemoryRegistry();
  const config = await repo.pullConfig(base);
  const r = await publish({ sites: [repo.site], sinkFor: (x) => reg.sink(x), cwd: repo.root, recordDir: null });
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
    [],
  );
  const asked: { digest: string; max: number }[] = [];
  const pullNow = (extra: Partial<Parameters<typeof pull>[0]> = {}) =>
    pull({ config, source: (c) => bounded(reg.sink(c.repository), asked), verify: false, ...extra });
  return { base, repo, reg, config, digest: r.sites[0]!.digest!, asked, pullNow };
}

type Layer = { mediaType: string; digest: string; size: number; annotations?: Record<string, string> };

/** Rewrite the first node part (or the site part) of the tagged index (what a registry without the keys can do), and tag the result. */
async function forgeNodePart(
  s: Awaited<ReturnType<typeof setup>>,
  edit: (layers: Layer[]) => Layer[],
  which: 'node' | 'site' = 'node',
): Promise<void> {
  const manifests = s.reg.manifests.get(REPO)!;
  const index = JSON.parse(manifests.get(s.digest)!.toString('utf8'));
  const entry = index.manifests.find((m: { annotations?: Record<string, string> }) =>
    which === 'node' ? m.annotations?.['io.harvgen.nodes'] !== undefined : m.annotations?.['io.harvgen.part'] === 'site',
  );
  const part = JSON.parse(manifests.get(entry.digest)!.toString('utf8'));
  part.layers = edit(part.layers);
  const partBytes = Buffer.from(JSON.stringify(part));
  const sink = s.reg.sink(REPO);
  await sink.putManifest(digestOf(partBytes), MEDIA.manifest, partBytes);
  entry.digest = digestOf(partBytes);
  entry.size = partBytes.length;
  const indexBytes = Buffer.from(JSON.stringify(index));
  await sink.putManifest(digestOf(indexBytes), MEDIA.index, indexBytes);
  await sink.putManifest('location_y', MEDIA.index, indexBytes);
}

function putBlob(s: Awaited<ReturnType<typeof setup>>, bytes: Buffer): string {
  const d = digestOf(bytes);
  s.reg.blobs.get(REPO)!.set(d, bytes);
  return d;
}

test('extra layers the signed manifest.json does not list are refused before any of them is fetched', async () => {
  const s = await setup();
  const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024), { level: 9 });
  const d = putBlob(s, bomb);
  const sha = createHash('sha256')
    .update(Buffer.alloc(4 * 1024 * 1024))
    .digest('hex');
  await forgeNodePart(s, (layers) => [
    ...layers,
    ...Array.from({ length: 12 }, (_, i) => ({
      mediaType: MEDIA.fileGzip,
      digest: d,
      size: bomb.length,
      annotations: { 'io.harvgen.sha256': sha, 'org.opencontainers.image.title': `bomb-${i}.bin` },
    })),
  ]);
  const r = await s.pullNow();
  assert.is(r.action, 'refused', JSON.stringify(r.diagnostics));
  assert.is(r.diagnostics[0]!.code, 'PULL_REFUSED');
  assert.match(r.diagnostics[0]!.message, /file layers, manifest\.json lists|is not listed in manifest\.json/);
  assert.equal(
    s.asked.filter((a) => a.digest === d),
    [],
    'the unlisted blob was fetched',
  );
  assert.not.ok(existsSync(join(s.base, 'srv/location_y')), 'nothing served');
});

test('a listed file replaced by a gzip bomb is read no further than the size manifest.json gives', async () => {
  const s = await setup();
  // Small enough to pass the bound on the compressed bytes (a few hundred), 64 KiB unpacked.
  const bomb = gzipSync(Buffer.alloc(64 * 1024), { level: 9 });
  const d = putBlob(s, bomb);
  // The site part's small files travel in its pack: take the pack out and put one of its files back as a bomb.
  const title = 'boot.ipxe';
  let size = -1;
  await forgeNodePart(
    s,
    (layers) =>
      layers.flatMap((l) => {
        if (l.mediaType !== MEDIA.pack) return [l];
        const files = new SealKey(s.repo.publishKey, 'location_y').unsealPack(s.reg.blobs.get(REPO)!.get(l.digest)!);
        size = files.find((f) => f.path === title)?.contents.length ?? -1;
        return [
          {
            mediaType: MEDIA.fileGzip,
            digest: d,
            size: bomb.length,
            annotations: { 'io.harvgen.sha256': 'f'.repeat(64), 'org.opencontainers.image.title': title },
          },
        ];
      }),
    'site',
  );
  assert.ok(size > 0, 'the site pack holds boot.ipxe');
  const r = await s.pullNow();
  assert.is(r.action, 'refused', JSON.stringify(r.diagnostics));
  assert.match(r.diagnostics[0]!.message, new RegExp(`${title.replace(/[.]/g, '\\.')} \\(${d}\\) unpacks to more than ${size} bytes`));
  assert.not.match(r.diagnostics[0]!.message, /not gzip data/);
  for (const a of s.asked) assert.ok(a.max < 5 * 1024 * 1024, `a blob asked for with a bound of ${a.max} bytes`);
});

test('a node part travels as one sealed pack; a pack repeated, or relabelled from a sealed file, is refused', async () => {
  const s = await setup();
  const manifests = s.reg.manifests.get(REPO)!;
  const index = JSON.parse(manifests.get(s.digest)!.toString('utf8'));
  const nodeEntries = index.manifests.filter((m: { annotations?: Record<string, string> }) => m.annotations?.['io.harvgen.nodes']);
  assert.ok(nodeEntries.length >= 1);
  const packs = nodeEntries.map((e: { digest: string }) =>
    (JSON.parse(manifests.get(e.digest)!.toString('utf8')).layers as Layer[]).filter((l) => l.mediaType === MEDIA.pack),
  );
  for (const p of packs) assert.is(p.length, 1, 'one pack per node part');
  // The same pack twice: refused before anything is written.
  await forgeNodePart(s, (layers) => [...layers, ...layers.filter((l) => l.mediaType === MEDIA.pack)]);
  let r = await s.pullNow();
  assert.is(r.action, 'refused', JSON.stringify(r.diagnostics));
  assert.match(r.diagnostics[0]!.message, /holds sha256:[0-9a-f]{64} twice|more than one pack/);
  // A sealed file's blob of this site (an old one the registry kept) relabelled as a pack does not open as one.
  const s2 = await setup();
  const old = new SealKey(s2.repo.publishKey, 'location_y').seal('harvester/hv-1.yaml', 0o644, Buffer.from('old\n'));
  const sealed = { mediaType: MEDIA.pack, digest: putBlob(s2, old), size: old.length };
  await forgeNodePart(s2, (layers) => layers.map((l) => (l.mediaType === MEDIA.pack ? sealed : l)));
  r = await s2.pullNow();
  assert.is(r.action, 'refused', JSON.stringify(r.diagnostics));
  assert.match(r.diagnostics[0]!.message, /the sealed pack sha256:[0-9a-f]{64} is not a sealed harvgen pack/, r.diagnostics[0]!.message);
  // Every pack was asked for with a bound from manifest.json, not the registry's word.
  for (const a of [...s.asked, ...s2.asked]) assert.ok(a.max < 5 * 1024 * 1024, `a blob asked for with a bound of ${a.max} bytes`);
  assert.not.ok(existsSync(join(s2.base, 'srv/location_y')), 'nothing served');
});

test('an old pack of the site titled manifest.json, or a second pack in a part: refused, nothing it holds is written', async () => {
  // A registry replays an old pack of this site (a removed node's files) in the site part, titled as the signed list.
  const s = await setup();
  const old = new SealKey(s.repo.publishKey, 'location_y').sealPack([
    { path: 'harvester/removed.yaml', mode: 0o644, contents: Buffer.from('token: old\n') },
  ]);
  const replayed = {
    mediaType: MEDIA.pack,
    digest: putBlob(s, old),
    size: old.length,
    annotations: { 'org.opencontainers.image.title': 'manifest.json' },
  };
  await forgeNodePart(s, (layers) => [replayed, ...layers.filter((l) => l.mediaType !== MEDIA.pack)], 'site');
  let r = await s.pullNow();
  assert.is(r.action, 'refused', JSON.stringify(r.diagnostics));
  // Not read before the list is known (then a listed file would be missing instead): refused as unlisted.
  assert.match(r.diagnostics[0]!.message, /harvester\/removed\.yaml is not listed in manifest\.json/, r.diagnostics[0]!.message);
  assert.not.ok(existsSync(join(s.base, 'srv/location_y')), 'nothing served');
  // A second pack in a node part: refused before any pack is fetched.
  const s2 = await setup();
  const old2 = new SealKey(s2.repo.publishKey, 'location_y').sealPack([
    { path: 'harvester/removed.yaml', mode: 0o644, contents: Buffer.from('x') },
  ]);
  const second = { mediaType: MEDIA.pack, digest: putBlob(s2, old2), size: old2.length };
  await forgeNodePart(s2, (layers) => [...layers, second]);
  r = await s2.pullNow();
  assert.is(r.action, 'refused', JSON.stringify(r.diagnostics));
  assert.match(r.diagnostics[0]!.message, /more than one pack/);
  assert.equal(
    s2.asked.filter((a) => a.digest === second.digest),
    [],
    'the second pack was fetched',
  );
});

test('a file and a directory of one name in a tree: a refusal naming both, not a raw EEXIST', () => {
  for (const order of [
    ['a', 'a/b'],
    ['a/b', 'a'],
  ]) {
    const dir = tempDir('pull-clash');
    mkdirSync(dir, { recursive: true });
    const t = new TreeWriter(dir, 'sha256:' + '0'.repeat(64));
    t.write(order[0]!, 0o644, Buffer.from('x'));
    assert.throws(
      () => t.write(order[1]!, 0o644, Buffer.from('y')),
      (e: unknown) =>
        e instanceof PullRefused && /holds a(\/b)? and a(\/b)?: a file and a directory of one name/.test((e as Error).message),
    );
  }
});

test('--no-verify records an explicit verdict; a failed pull names the version that stays served', async () => {
  const s = await setup();
  const r = await s.pullNow();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const state = JSON.parse(readFileSync(join(s.base, 'state/state.json'), 'utf8'));
  assert.equal(state.verdict && { ok: state.verdict.ok, checks: state.verdict.checks, skipped: state.verdict.skipped }, {
    ok: false,
    checks: 0,
    skipped: 'not verified: --no-verify',
  });
  // state.json spoilt by hand: the pull fails, and says what stays served (the link).
  writeFileSync(join(s.base, 'state/state.json'), '{');
  const failed = await s.pullNow();
  assert.is(failed.action, 'failed');
  assert.is(failed.digest, s.digest);
  assert.match(failed.diagnostics[0]!.hint!, new RegExp(`${s.digest} stays served`));
});

test('state.json never holds a keyed name: verify problems name keyed files without their key', async () => {
  const s = await setup({ fileKey: true });
  // A boot server that answers 404 to everything: every file fails verify, the keyed ones too.
  const server = http.createServer((_q, res) => res.writeHead(404).end('no'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const r = await s.pullNow({ verify: true, verifyUrl: `http://127.0.0.1:${port}/harvgen/location_y` });
    assert.is(r.action, 'switched');
    assert.not.ok(r.ok);
  } finally {
    server.close();
  }
  const text = readFileSync(join(s.base, 'state/state.json'), 'utf8');
  const manifest = JSON.parse(readFileSync(join(s.base, 'srv/location_y/manifest.json'), 'utf8'));
  const keyed = (manifest.files as { path: string }[]).map((f) => f.path).filter((p) => /-[0-9a-f]{32}/.test(p));
  assert.ok(keyed.length > 0, 'the tree has keyed names');
  assert.ok(JSON.parse(text).verdict.problems.length > 0, 'problems recorded');
  for (const p of keyed) assert.not.ok(text.includes(p.match(/-([0-9a-f]{32})/)![1]!), `state.json holds the key of ${p}`);
  assert.not.match(text, /-[0-9a-f]{32}/);
});

test('a registry that answers a listed blob larger than its part gives: refused (exit 1, PULL_REFUSED), not a failure', async () => {
  const s = await setup();
  const reg = await startHostileRegistry();
  try {
    for (const b of s.reg.blobs.get(REPO)!.values()) reg.blob('harvgen/location_y', b);
    for (const [ref, b] of s.reg.manifests.get(REPO)!) reg.manifest('harvgen/location_y', ref, JSON.parse(b.toString('utf8')).mediaType, b);
    for (const [tag, d] of s.reg.tags.get(REPO)!) reg.manifest('harvgen/location_y', tag, MEDIA.index, s.reg.manifests.get(REPO)!.get(d)!);
    const index = JSON.parse(s.reg.manifests.get(REPO)!.get(s.digest)!.toString('utf8'));
    const entry = index.manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.['io.harvgen.nodes'] !== undefined);
    const part = JSON.parse(s.reg.manifests.get(REPO)!.get(entry.digest)!.toString('utf8'));
    const victim = part.layers[0] as Layer;
    reg.on(`/v2/harvgen/location_y/blobs/${victim.digest}`, { kind: 'bytes', body: Buffer.alloc(8 << 20, 1) });
    const config = await s.repo.pullConfig(s.base, (c) => {
      c.repository = `${reg.host}/harvgen/location_y`;
      c.insecure = true;
    });
    const r = await pull({ config, verify: false });
    assert.is(r.action, 'refused', JSON.stringify(r.diagnostics));
    assert.is(r.diagnostics[0]!.code, 'PULL_REFUSED');
    assert.match(r.diagnostics[0]!.message, new RegExp(`${victim.digest}.* is larger than`), r.diagnostics[0]!.message);
    assert.not.ok(existsSync(join(s.base, 'srv/location_y')), 'nothing served');
  } finally {
    await reg.close();
  }
});

test('a registry that drips its answer is given up at --timeout, the lock released; pull.json `insecure` reaches the client', async () => {
  const s = await setup();
  const reg = await startHostileRegistry();
  try {
    const config = await s.repo.pullConfig(s.base, (c) => {
      c.repository = `${reg.host}/harvgen/location_y`;
      c.insecure = true;
    });
    reg.on(/\/manifests\//, { kind: 'drip', body: 'x'.repeat(1000), everyMs: 1000, step: 1 });
    const t0 = Date.now();
    const r = await Promise.race([
      pull({ config, verify: false, timeoutMs: 4500 }),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('pull still running after 40 s')), 40_000).unref()),
    ]);
    assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
    assert.is(r.action, 'failed', JSON.stringify(r.diagnostics));
    assert.match(r.diagnostics[0]!.message, /stopped after 4500ms \(--timeout\)/);
    assert.ok(
      reg.requests.some((q) => q.url.includes('/manifests/')),
      'plain HTTP reached the registry (pull.json insecure)',
    );
    assert.not.ok(existsSync(join(s.base, 'state/lock')), 'lock released');
  } finally {
    await reg.close();
  }
});

test.run();
