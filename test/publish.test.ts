// harvgen publish, against an in-memory registry (the real registry and skopeo: test/real/publish.test.ts):
// the same inventory gives the same digests; nothing is uploaded twice; no secret, and no keyed
// name, leaves in clear; a one-node edit uploads only that node's part, the site part and the index.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { publish, SealKey } from '../src/publish/index.ts';
import { exportSites, publishSites, type PublishSitesResult } from '../src/index.ts';
import { tempDir } from './helpers/tmp.ts';
import { MEDIA } from '../src/publish/media.ts';
import { nodeOwner, nodeParts, NODES_PER_PART } from '../src/publish/artifact.ts';
import { MemoryRegistry, publishedRepo } from './helpers/publish.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { main } from '../src/cli.ts';

const REGISTRY = 'registry.example.net/harvgen';
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'ignore' });

async function publishTo(reg: MemoryRegistry, site: string, root: string) {
  const r = await publish({ sites: [site], sinkFor: (x) => reg.sink(x), cwd: root, recordDir: 'published' });
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`),
    [],
  );
  return r.sites[0]!;
}

/** Every blob and manifest the registry holds, gzip ones also unpacked. */
function everything(reg: MemoryRegistry): Buffer[] {
  const out: Buffer[] = [];
  for (const m of [...reg.blobs.values(), ...reg.manifests.values()])
    for (const b of m.values()) {
      out.push(b);
      if (b[0] === 0x1f && b[1] === 0x8b) out.push(gunzipSync(b));
    }
  return out;
}

test('publish is deterministic, records the digest, and a second publish uploads nothing', async () => {
  const repo = publishedRepo(REGISTRY);
  const reg = new MemoryRegistry();
  const first = await publishTo(reg, repo.site, repo.root);
  assert.match(first.digest!, /^sha256:[0-9a-f]{64}$/);
  assert.equal(first.tags!.length, 2);
  const record = JSON.parse(readFileSync(join(repo.root, 'published/location_y.json'), 'utf8'));
  assert.is(record.digest, first.digest);
  assert.is(record.repository, `${REGISTRY}/location_y`);
  assert.ok(record.sample.length > 0, 'a sample of public files');
  const uploads = reg.uploads;
  assert.ok(uploads > 10);
  const again = await publishTo(reg, repo.site, repo.root);
  assert.is(again.digest, first.digest, 'same inventory, same digest');
  assert.is(again.previous, first.digest);
  assert.is(reg.uploads, uploads, 'nothing uploaded twice');
  // A commit that does not touch the site (another site, the README) leaves its artifact as it is.
  writeFileSync(join(repo.root, 'README.md'), 'other work\n');
  repo.commit('README');
  const unrelated = await publishTo(reg, repo.site, repo.root);
  assert.is(unrelated.digest, first.digest, 'an unrelated commit changes no digest');
  assert.is(reg.uploads, uploads, 'and uploads nothing');
  // A second registry from scratch gets the very same bytes.
  const other = new MemoryRegistry();
  assert.is((await publishTo(other, repo.site, repo.root)).digest, first.digest);
});

for (const fileKey of [false, true])
  test(`no secret${fileKey ? ' and no keyed name' : ''} is in any blob or manifest of the registry${fileKey ? ' (nginx.file_key)' : ''}`, async () => {
    const repo = publishedRepo(REGISTRY, { fileKey });
    const reg = new MemoryRegistry();
    await publishTo(reg, repo.site, repo.root);
    const all = everything(reg);
    assert.ok(all.length > 6, `blobs and manifests: ${all.length}`);
    for (const secret of repo.secrets)
      for (const b of all) assert.not.ok(b.includes(secret), `a secret is in the registry: ${secret.slice(0, 6)}...`);
    if (fileKey) {
      // The deploy tree's keyed names (their 32-hex tags) appear nowhere: paths of sealed files travel sealed.
      const tags = new Set<string>();
      const key = new SealKey(repo.publishKey, 'location_y');
      for (const m of reg.manifests.values())
        for (const b of m.values()) {
          const j = JSON.parse(b.toString('utf8')) as { layers?: { mediaType: string; digest: string }[] };
          for (const l of j.layers ?? []) {
            const blob = () => reg.blobs.get(`${REGISTRY}/location_y`)!.get(l.digest)!;
            const files = l.mediaType === MEDIA.sealed ? [key.unseal(blob())] : l.mediaType === MEDIA.pack ? key.unsealPack(blob()) : [];
            for (const f of files) {
              const t = /-([0-9a-f]{32})(?=[./])/.exec(f.path);
              if (t) tags.add(t[1]!);
            }
          }
        }
      assert.ok(tags.size >= 4, `keyed names found in sealed files (${tags.size})`);
      for (const t of tags) for (const b of all) assert.not.ok(b.includes(t), `a keyed tag is readable in the registry: ${t}`);
    }
  });

test("a sealed file opens only with its own site's key, and a changed byte fails it", () => {
  const k = new SealKey('11'.repeat(32), 'a');
  const blob = k.seal('harvester/hv-1.yaml', 0o644, Buffer.from('token: secret-123\n'));
  assert.is(
    k.seal('harvester/hv-1.yaml', 0o644, Buffer.from('token: secret-123\n')).toString('hex'),
    blob.toString('hex'),
    'deterministic',
  );
  assert.is(k.unseal(blob).contents.toString(), 'token: secret-123\n');
  assert.is(k.unseal(blob).path, 'harvester/hv-1.yaml');
  assert.throws(() => new SealKey('22'.repeat(32), 'a').unseal(blob), /does not open/);
  assert.throws(() => new SealKey('11'.repeat(32), 'b').unseal(blob), /does not open/, 'bound to the site');
  const bad = Buffer.from(blob);
  bad[bad.length - 20]! ^= 1;
  assert.throws(() => k.unseal(bad), /does not open/);
  assert.not.ok(blob.includes('secret-123'));
});

test('sites compile while earlier ones are sent: results stay in the order given, a failing site stops none of the others', async () => {
  const repo = publishedRepo(REGISTRY, {});
  const reg = new MemoryRegistry();
  const missing = (n: number) => join(repo.root, `sites/missing-${n}`);
  const r = await publish({
    sites: [missing(1), repo.site, missing(2), missing(3)],
    sinkFor: (x) => reg.sink(x),
    cwd: repo.root,
    recordDir: 'published',
  });
  assert.equal(
    r.sites.map((s) => s.dir),
    [missing(1), repo.site, missing(2), missing(3)],
  );
  assert.ok(r.sites[0]!.diagnostics.some((d) => d.severity === 'error'));
  assert.equal(
    r.sites[1]!.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  assert.is(r.sites[1]!.digest, (await publishTo(new MemoryRegistry(), repo.site, repo.root)).digest, 'the same artifact as alone');
  assert.ok(existsSync(join(repo.root, 'published/location_y.json')), 'its record is written');
});

test("a sealed pack opens only as a pack, with its own site's key, whole and within its bound", () => {
  const k = new SealKey('11'.repeat(32), 'a');
  const files = [
    { path: 'harvester/hv-1.yaml', mode: 0o644, contents: Buffer.from('token: secret-123\n') },
    { path: 'bmc/hv-1.sh', mode: 0o755, contents: Buffer.from('#!/bin/sh\n') },
    { path: 'empty', mode: 0o644, contents: Buffer.alloc(0) },
  ];
  const pack = k.sealPack(files);
  assert.is(k.sealPack(files).toString('hex'), pack.toString('hex'), 'deterministic');
  assert.equal(
    k.unsealPack(pack).map((f) => [f.path, f.mode, f.contents.toString()]),
    files.map((f) => [f.path, f.mode, f.contents.toString()]),
  );
  assert.not.ok(pack.includes('secret-123'));
  assert.throws(() => new SealKey('22'.repeat(32), 'a').unsealPack(pack), /does not open/);
  assert.throws(() => new SealKey('11'.repeat(32), 'b').unsealPack(pack), /does not open/, 'bound to the site');
  // A file's blob is never a pack, nor a pack a file's blob, even with the magic swapped.
  const one = k.seal('harvester/hv-1.yaml', 0o644, files[0]!.contents);
  assert.throws(() => k.unsealPack(one), /is not a sealed harvgen pack/);
  assert.throws(() => k.unseal(pack), /is not a sealed harvgen file/);
  const relabelled = Buffer.concat([Buffer.from('HGP1'), one.subarray(4)]);
  assert.throws(() => k.unsealPack(relabelled), /does not open/);
  assert.throws(() => k.unsealPack(pack, 20), /opens to more than 20 bytes/, 'unpacked no further than the bound');
  // One key given to two sites by mistake: the same files never share a nonce (GCM's one rule).
  const nonceOf = (b: Buffer) => b.subarray(4, 16).toString('hex');
  assert.is.not(nonceOf(new SealKey('11'.repeat(32), 'b').sealPack(files)), nonceOf(pack));
  assert.is.not(
    nonceOf(new SealKey('11'.repeat(32), 'b').seal('f', 0o644, Buffer.from('x'))),
    nonceOf(k.seal('f', 0o644, Buffer.from('x'))),
  );
  const bad = Buffer.from(pack);
  bad[bad.length - 20]! ^= 1;
  assert.throws(() => k.unsealPack(bad), /does not open/);
});

test("each node's files go into its part; the rest into the site part", () => {
  const owner = nodeOwner('s', [
    { hostname: 'hv-1', macs: ['52:54:00:aa:bb:01'] },
    { hostname: 'hv-10', macs: ['52:54:00:aa:bb:10'] },
  ]);
  assert.is(owner('harvester/hv-1.yaml'), 'hv-1');
  assert.is(owner('harvester/hv-10.yaml'), 'hv-10');
  assert.is(owner(`harvester/hv-1-${'a'.repeat(32)}.yaml`), 'hv-1');
  assert.is(owner('ipxe/52-54-00-aa-bb-10.ipxe'), 'hv-10');
  assert.is(owner(`cloud-init/52-54-00-aa-bb-01-${'x'.repeat(32)}/user-data`), 'hv-1');
  assert.is(owner('dnsmasq/hosts/s.hv-1'), 'hv-1');
  assert.is(owner('libvirt/hv-10.xml'), 'hv-10');
  assert.is(owner('bmc/hv-1.sh'), 'hv-1');
  assert.is(owner('media/hv-10.iso'), 'hv-10');
  assert.is(owner(`media/hv-1-${'a'.repeat(32)}.iso`), 'hv-1');
  assert.is(owner('boot.ipxe'), '');
  assert.is(owner('nginx/harvgen.conf'), '');
  assert.is(owner('dnsmasq/hosts/s.hv-2'), '');
});

test('nodes share parts of about NODES_PER_PART; adding or removing a node moves no other node unless the number of parts changes', () => {
  const hosts = (n: number) => Array.from({ length: n }, (_, i) => `hv-${String(i).padStart(4, '0')}`);
  const partsOf = (list: readonly string[]) => {
    const parts = nodeParts(list);
    const of = new Map<string, string>();
    for (const [key, members] of parts) {
      assert.equal(members, [...members].sort(), 'hostnames sorted in a part');
      for (const h of members) of.set(h, key);
    }
    assert.is(of.size, list.length, 'every node in exactly one part');
    return { parts, of };
  };
  assert.is(partsOf(hosts(1)).parts.size, 1);
  assert.is(partsOf(hosts(NODES_PER_PART)).parts.size, 1, 'up to NODES_PER_PART nodes: one part');
  assert.equal([...partsOf(hosts(3)).parts.keys()], ['nodes-0']);
  const big = partsOf(hosts(1000));
  assert.ok(big.parts.size > 64 && big.parts.size <= 128, `parts for 1,000 nodes: ${big.parts.size}`);
  assert.ok(Math.max(...[...big.parts.values()].map((m) => m.length)) <= 4 * NODES_PER_PART, 'no part holds far more than its share');
  // One node added, or one removed (1,000 -> 1,001 / 999 nodes: the same number of parts): every other node stays put.
  const added = partsOf([...hosts(1000), 'hv-new']);
  const removed = partsOf(hosts(1000).filter((h) => h !== 'hv-0500'));
  for (const [h, key] of big.of) {
    assert.is(added.of.get(h), key, `${h} stays in its part when a node is added`);
    if (h !== 'hv-0500') assert.is(removed.of.get(h), key, `${h} stays in its part when a node is removed`);
  }
  // The order of the list given does not matter.
  assert.equal([...nodeParts([...hosts(40)].reverse())], [...nodeParts(hosts(40))]);
});

test('a one-node edit uploads only that node part, the site part and the index (under 64 KB)', async () => {
  const repo = publishedRepo(REGISTRY);
  const reg = new MemoryRegistry();
  const first = await publishTo(reg, repo.site, repo.root);
  const before = { n: reg.uploads, bytes: reg.uploadedBytes };
  const file = join(repo.site, 'nodes/y-hv-02.yaml');
  writeFileSync(file, `${readFileSync(file, 'utf8')}kernel_args: [nomodeset]\n`);
  repo.commit('y-hv-02: nomodeset');
  const second = await publishTo(reg, repo.site, repo.root);
  assert.is.not(second.digest, first.digest);
  const uploaded = reg.uploads - before.n;
  const bytes = reg.uploadedBytes - before.bytes;
  // The node's changed files (its two scripts and its config, sealed), its part; the site part's
  // changed files (manifest.json, its signature, the provenance and its signature), the site part, the index.
  assert.ok(uploaded <= 14, `uploads: ${uploaded}`);
  assert.ok(bytes < 64 * 1024, `bytes: ${bytes}`);
  const index = JSON.parse(reg.manifests.get(`${REGISTRY}/location_y`)!.get(second.digest!)!.toString('utf8'));
  const old = JSON.parse(reg.manifests.get(`${REGISTRY}/location_y`)!.get(first.digest!)!.toString('utf8'));
  const changed = index.manifests.filter((m: { digest: string }, i: number) => m.digest !== old.manifests[i].digest);
  assert.equal(
    changed.map((m: { annotations: Record<string, string> }) => m.annotations['io.harvgen.part']),
    ['site', 'node'],
  );
  assert.ok(changed[1].annotations['io.harvgen.nodes'].split(' ').includes('y-hv-02'), 'the part that holds y-hv-02');
});

test('publish refuses a site without publish:, naming what to add', async () => {
  const repo = publishedRepo(REGISTRY);
  writeFileSync(join(repo.site, 'site.yaml'), readFileSync(join(repo.site, 'site.yaml'), 'utf8').replace(/\npublish:[\s\S]*$/, '\n'));
  const r = await publish({ sites: [repo.site], sinkFor: (x) => new MemoryRegistry().sink(x), cwd: repo.root, recordDir: null });
  assert.not.ok(r.ok);
  assert.ok(r.diagnostics.some((d) => d.code === 'PUBLISH_FAILED' && /no `publish:` section/.test(d.message)));
});

test('a site with uncommitted changes is refused (PUBLISH_DIRTY), its shared layers too; --allow-dirty tags it <site>-<commit>-dirty-<digest>', async () => {
  const repo = publishedRepo(REGISTRY);
  const reg = new MemoryRegistry();
  const clean = await publishTo(reg, repo.site, repo.root);
  const commit = clean.tags![1]!;
  assert.match(commit, /^location_y-[0-9a-f]{12}$/);
  const tagged = () => [...(reg.tags.get(`${REGISTRY}/location_y`) ?? new Map()).entries()].sort();
  const before = tagged();
  const file = join(repo.site, 'nodes/y-hv-02.yaml');
  const original = readFileSync(file, 'utf8');
  const dirty = async (what: string, extra: Partial<Parameters<typeof publish>[0]> = {}) => {
    const r = await publish({ sites: [repo.site], sinkFor: (x) => reg.sink(x), cwd: repo.root, recordDir: 'published', ...extra });
    return { r, what };
  };
  // An unstaged edit, a staged one, an untracked file in the site directory, a new shared layer.
  const cases: [string, () => void, () => void][] = [
    ['unstaged', () => writeFileSync(file, `${original}kernel_args: [dirty]\n`), () => writeFileSync(file, original)],
    [
      'staged',
      () => (writeFileSync(file, `${original}kernel_args: [dirty]\n`), git(repo.root, 'add', file)),
      () => (git(repo.root, 'reset', '-q', file), writeFileSync(file, original)),
    ],
    ['untracked', () => writeFileSync(join(repo.site, 'NOTES.md'), 'to do\n'), () => rmSync(join(repo.site, 'NOTES.md'))],
    [
      'a shared layer',
      () => writeFileSync(join(repo.root, 'sites/_defaults.yaml'), 'mtu: 1500\n'),
      () => rmSync(join(repo.root, 'sites/_defaults.yaml')),
    ],
  ];
  for (const [what, make, undo] of cases) {
    make();
    try {
      const { r } = await dirty(what);
      assert.not.ok(r.ok, what);
      const d = r.diagnostics.find((x) => x.code === 'PUBLISH_DIRTY');
      assert.ok(d, `${what}: ${JSON.stringify(r.diagnostics)}`);
      assert.is(d!.severity, 'error');
      assert.match(d!.message, /has uncommitted changes \(.+\): published now, the tag location_y-[0-9a-f]{12} would name inputs/);
      assert.match(d!.hint!, /Commit the changes first.*--allow-dirty/);
      assert.equal(tagged(), before, `${what}: no tag moved`);
    } finally {
      undo();
    }
  }
  // --allow-dirty: published, under a tag that is not the commit's, and said.
  writeFileSync(file, `${original}kernel_args: [dirty]\n`);
  const { r } = await dirty('allowed', { allowDirty: true });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const s = r.sites[0]!;
  assert.equal(s.tags, ['location_y', `${commit}-dirty-${s.digest!.slice(7, 19)}`]);
  assert.equal(s.dirty, ['sites/location_y/nodes/y-hv-02.yaml']);
  const warn = r.diagnostics.find((x) => x.code === 'PUBLISH_DIRTY');
  assert.is(warn?.severity, 'warning');
  assert.match(
    warn!.message,
    /published with uncommitted changes \(sites\/location_y\/nodes\/y-hv-02\.yaml\), tagged location_y and location_y-[0-9a-f]{12}-dirty-/,
  );
  // The commit's tag still names the committed artifact.
  assert.is(new Map(tagged()).get(commit), clean.digest);
  writeFileSync(file, original);
  // The CLI: refused without the flag (exit 1), the flag passed through.
  writeFileSync(file, `${original}kernel_args: [cli]\n`);
  const refused = await cliPublish(repo.root, repo.site, ['--registry', REGISTRY, '--dry-run']);
  assert.is(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /PUBLISH_DIRTY/);
  writeFileSync(file, original);
});

test('the library: publishSites and exportSites check their options, and list what they published', async () => {
  const repo = publishedRepo(REGISTRY);
  const bad = await publishSites({ sites: [repo.site], concurrency: 0 });
  assert.equal(bad, { problem: '--concurrency 0: a whole number from 1 to 64' });
  const problem = (r: object) => ('problem' in r ? String(r.problem) : '');
  assert.match(problem(await publishSites({ sites: [repo.site], registry: 'not a registry' })), /^--registry not a registry: /);
  assert.match(problem(await exportSites({ sites: [repo.site], to: 'nowhere' })), /^--to nowhere: /);
  const dir = tempDir('publish-export');
  const r = await exportSites({ sites: [repo.site], to: `oci:${dir}`, cwd: repo.root });
  assert.ok(!('problem' in r) && r.ok, JSON.stringify(r));
  const done = (r as PublishSitesResult).published;
  assert.is(done.length, 1);
  assert.is(done[0]!.site, 'location_y');
  assert.match(done[0]!.digest, /^sha256:[0-9a-f]{64}$/);
  assert.ok((r as PublishSitesResult).transfer.blobsUploaded > 5);
  // The digest is the one a registry gets.
  assert.is((await publishTo(new MemoryRegistry(), repo.site, repo.root)).digest, done[0]!.digest);
});

/** `harvgen publish <site>` in this process: exit code, stdout, stderr, the --json document. */
async function cliPublish(root: string, site: string, extra: string[] = []) {
  let stdout = '';
  let stderr = '';
  const io = { out: { write: (t: string) => (stdout += t) }, err: { write: (t: string) => (stderr += t) } };
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const code = await main(['publish', site, ...extra], io);
    return { code, stdout, stderr };
  } finally {
    process.chdir(cwd);
  }
}

test('a failed publish says the site was not published (never "published <digest>"), in text and --json', async () => {
  // A registry on loopback that nobody answers: the push fails.
  const repo = publishedRepo('127.0.0.1:9/harvgen');
  const text = await cliPublish(repo.root, repo.site);
  assert.is(text.code, 2, text.stderr);
  assert.match(text.stderr, /PUBLISH_FAILED/);
  assert.not.match(text.stdout, /^published/m, text.stdout);
  assert.match(text.stdout, /^not published +location_y \(see the error above/m);
  const json = await cliPublish(repo.root, repo.site, ['--json']);
  assert.equal((JSON.parse(json.stdout) as { published: unknown[] }).published, []);
});

test('a plain-HTTP registry asked over HTTPS: the hint names --insecure', async () => {
  const server = createServer((_req, res) => res.end('plain'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const repo = publishedRepo(`127.0.0.1:${(server.address() as AddressInfo).port}/harvgen`);
    const r = await cliPublish(repo.root, repo.site, ['--json']);
    const failed = (JSON.parse(r.stdout) as { diagnostics: { code: string; hint?: string }[] }).diagnostics.find(
      (d) => d.code === 'PUBLISH_FAILED',
    );
    assert.match(failed?.hint ?? '', /--insecure/, JSON.stringify(failed));
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test.run();
