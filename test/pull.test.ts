// harvgen pull, from an in-memory registry, with nginx's test and reload stood in by `true` (the
// real nginx, registry and netns: test/real/fleet.test.ts): the served link lands on a whole,
// checked tree equal to `build --deploy`'s; a tampered blob, a wrong key, a replaced tag or an
// older artifact is refused and the served tree stays; rollback; pruning keeps N.
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { publish } from '../src/publish/index.ts';
import { pull } from '../src/pull/index.ts';
import { compileSite } from '../src/pipeline.ts';
import type { Source } from '../src/publish/sink.ts';
import { fakeReleases, MemoryRegistry, publishedRepo } from './helpers/publish.ts';
import { tempDir } from './helpers/tmp.ts';

const REGISTRY = 'registry.example.net/harvgen';
const REPO = `${REGISTRY}/location_y`;

async function setup(opts: { releases?: string } = {}) {
  const base = tempDir('pull');
  const repo = publishedRepo(REGISTRY, { bootServer: { base } });
  const reg = new MemoryRegistry();
  const config = await repo.pullConfig(base);
  const publishNow = async () => {
    const r = await publish({
      sites: [repo.site],
      sinkFor: (x) => reg.sink(x),
      cwd: repo.root,
      recordDir: null,
      ...(opts.releases !== undefined ? { releasesDir: opts.releases } : {}),
    });
    assert.equal(
      r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
      [],
    );
    return r.sites[0]!.digest!;
  };
  const pullNow = (extra: Partial<Parameters<typeof pull>[0]> = {}) =>
    pull({ config, source: (c) => reg.sink(c.repository), verify: false, ...extra });
  const served = () => realpathSync(join(base, 'srv/location_y'));
  return { base, repo, reg, config, publishNow, pullNow, served };
}

/** Edit a node file and commit (a later commit: a newer serial). */
function editNode(repo: ReturnType<typeof publishedRepo>, arg: string) {
  const file = join(repo.site, 'nodes/y-hv-02.yaml');
  writeFileSync(file, `${readFileSync(file, 'utf8').replace(/\nkernel_args:.*\n/, '\n')}kernel_args: [${arg}]\n`);
  repo.commit(`y-hv-02: ${arg}`);
}

test('a pull serves exactly the deploy tree, through a link onto a complete version; a second pull does nothing', async () => {
  const s = await setup();
  const digest = await s.publishNow();
  const r = await s.pullNow();
  assert.equal(r.diagnostics, []);
  assert.is(r.action, 'switched');
  assert.is(r.digest, digest);
  const dir = s.served();
  assert.is(dir, join(s.base, 'state/versions', digest.slice(7)));
  assert.ok(readlinkSync(join(s.base, 'srv/location_y')).endsWith(digest.slice(7)));
  const deploy = await compileSite(s.repo.site, { secrets: 'filled', cwd: s.repo.root });
  assert.ok(deploy.artifacts && deploy.artifacts.length > 20);
  for (const a of deploy.artifacts!) assert.ok(readFileSync(join(dir, a.path)).equals(Buffer.from(a.contents)), `${a.path} as built`);
  const state = JSON.parse(readFileSync(join(s.base, 'state/state.json'), 'utf8'));
  assert.is(state.digest, digest);
  assert.is(state.reloaded, true);
  assert.is((await s.pullNow()).action, 'up-to-date');
});

test('a tampered blob, a wrong public key, a tag moved to another site or to an older artifact: refused, the served tree stays', async () => {
  const s = await setup();
  const first = await s.publishNow();
  assert.ok((await s.pullNow()).ok);
  editNode(s.repo, 'nomodeset');
  const second = await s.publishNow();
  // 1. A tampered blob (the registry's copy of a node file changed).
  const blobs = s.reg.blobs.get(REPO)!;
  const index = JSON.parse(s.reg.manifests.get(REPO)!.get(second)!.toString('utf8'));
  const nodePart = index.manifests.find((m: { annotations: Record<string, string> }) =>
    m.annotations['io.harvgen.nodes']?.split(' ').includes('y-hv-02'),
  );
  const part = JSON.parse(s.reg.manifests.get(REPO)!.get(nodePart.digest)!.toString('utf8'));
  const victim = part.layers[0].digest as string;
  const good = blobs.get(victim)!;
  blobs.set(victim, Buffer.concat([good, Buffer.from('#')]));
  let r = await s.pullNow();
  assert.is(r.action, 'failed', JSON.stringify(r.diagnostics));
  assert.match(r.diagnostics[0]!.message, /digest mismatch/);
  assert.is(s.served(), join(s.base, 'state/versions', first.slice(7)), 'the old tree stays served');
  blobs.set(victim, good);
  // 2. A public key that is not the site's.
  const other = await s.repo.pullConfig(s.base, (c) => {
    c.public_key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFn8E/TrJ94TTdkw2H2PKFVgdJ3pCphVUD7E8QC1Xqjm other@x';
  });
  r = await pull({ config: other, source: (c) => s.reg.sink(c.repository), verify: false });
  assert.is(r.action, 'refused');
  assert.is(r.diagnostics[0]!.code, 'PULL_REFUSED');
  assert.match(r.diagnostics[0]!.message, /signature .* does not verify/);
  assert.is(s.served(), join(s.base, 'state/versions', first.slice(7)));
  await s.repo.pullConfig(s.base);
  // 3. The newer artifact is pulled; then the tag is moved back to the older one (a replay).
  assert.is((await s.pullNow()).digest, second);
  await s.reg.sink(REPO).putManifest('location_y', 'application/vnd.oci.image.index.v1+json', s.reg.manifests.get(REPO)!.get(first)!);
  r = await s.pullNow();
  assert.is(r.action, 'refused');
  assert.match(r.diagnostics[0]!.message, /older commit/);
  assert.is(s.served(), join(s.base, 'state/versions', second.slice(7)));
  // --allow-older takes it on purpose.
  assert.is((await s.pullNow({ allowOlder: true })).digest, first);
  // 4. A tag that names another site's artifact.
  const index2 = Buffer.from(
    s.reg.manifests.get(REPO)!.get(second)!.toString('utf8').replace('"io.harvgen.site":"location_y"', '"io.harvgen.site":"location_z"'),
  );
  const sink = s.reg.sink(REPO);
  const { createHash } = await import('node:crypto');
  await sink.putManifest(`sha256:${createHash('sha256').update(index2).digest('hex')}`, 'application/vnd.oci.image.index.v1+json', index2);
  await sink.putManifest('location_y', 'application/vnd.oci.image.index.v1+json', index2);
  r = await s.pullNow({ allowOlder: true });
  assert.is(r.action, 'refused');
  assert.match(r.diagnostics[0]!.message, /location_z, not location_y/);
});

test('rollback serves the previous version; pruning keeps the newest N and never the served or previous one', async () => {
  const s = await setup();
  const digests: string[] = [];
  for (const arg of ['a=1', 'a=2', 'a=3', 'a=4']) {
    editNode(s.repo, arg);
    digests.push(await s.publishNow());
    const r = await s.pullNow();
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
  }
  assert.is(s.served(), join(s.base, 'state/versions', digests[3]!.slice(7)));
  // keep: 3 (the inventory's publish.keep): the oldest of four is gone.
  assert.not.ok(existsSync(join(s.base, 'state/versions', digests[0]!.slice(7))));
  assert.ok(existsSync(join(s.base, 'state/versions', digests[1]!.slice(7))));
  const r = await s.pullNow({ rollback: true });
  assert.is(r.action, 'rolled-back');
  assert.is(s.served(), join(s.base, 'state/versions', digests[2]!.slice(7)));
  // The tag still names the newest: the timer's next pull leaves the rollback in place...
  assert.is((await s.pullNow()).action, 'up-to-date');
  assert.is(s.served(), join(s.base, 'state/versions', digests[2]!.slice(7)));
  const named = await s.pullNow({ rollback: true, rollbackTo: digests[1] });
  assert.is(named.action, 'rolled-back');
  assert.is(s.served(), join(s.base, 'state/versions', digests[1]!.slice(7)));
  // ...until a new publish moves the tag.
  editNode(s.repo, 'a=5');
  const fifth = await s.publishNow();
  const r5 = await s.pullNow();
  assert.is(r5.action, 'switched');
  assert.is(r5.digest, fifth);
});

/** A published site with release files (v1.6.0), pulled once; the kernel's path on the boot server. */
async function withReleases() {
  const s = await setup({ releases: fakeReleases(tempDir('pull-releases')) });
  const first = await s.publishNow();
  const r = await s.pullNow();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.is(r.releasesWritten, 5);
  const kernel = join(s.base, 'srv/artifacts/v1.6.0/harvester-v1.6.0-vmlinuz-amd64');
  const bytes = readFileSync(kernel);
  return { s, first, kernel, bytes };
}

test('a release file deleted under a served version is put back by the next pull of the same tag', async () => {
  const { s, kernel, bytes } = await withReleases();
  rmSync(kernel);
  const r = await s.pullNow();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.is(r.action, 'up-to-date');
  assert.is(r.releasesWritten, 1);
  assert.ok(readFileSync(kernel).equals(bytes));
  // One of another size too (a truncated copy).
  writeFileSync(kernel, 'short');
  assert.is((await s.pullNow()).releasesWritten, 1);
  assert.ok(readFileSync(kernel).equals(bytes));
  assert.equal((await s.pullNow()).releasesWritten, undefined, 'nothing to put back: a plain up-to-date');
});

test('a rollback, and a switch back to a version still kept, put back the release files missing since', async () => {
  const { s, first, kernel, bytes } = await withReleases();
  editNode(s.repo, 'a=1');
  const second = await s.publishNow();
  assert.ok((await s.pullNow()).ok);
  rmSync(kernel);
  const back = await s.pullNow({ rollback: true });
  assert.is(back.action, 'rolled-back');
  assert.is(back.digest, first);
  assert.is(back.releasesWritten, 1);
  assert.ok(readFileSync(kernel).equals(bytes));
  rmSync(kernel);
  const again = await s.pullNow({ digest: second, allowOlder: true });
  assert.is(again.action, 'switched');
  assert.is(again.files, undefined, 'the kept version is not fetched again');
  assert.is(again.releasesWritten, 1);
  assert.ok(readFileSync(kernel).equals(bytes));
  // Pruning drops the record of a version no longer kept.
  const records = () => readdirSync(join(s.base, 'state/releases')).sort();
  assert.equal(records(), [`${first.slice(7)}.json`, `${second.slice(7)}.json`].sort());
});

test('a rollback whose missing release file cannot be fetched: the verdict is not ok and names the file', async () => {
  const { s, kernel } = await withReleases();
  editNode(s.repo, 'a=1');
  await s.publishNow();
  assert.ok((await s.pullNow()).ok);
  rmSync(kernel);
  // The registry is gone; the local server answers 404 (the kernel's own answer without its file).
  const server = http.createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const gone: Source = {
      ...s.reg.sink(REPO),
      streamBlob: () => Promise.reject(new Error('registry unreachable')),
    };
    const r = await pull({ config: s.config, source: () => gone, rollback: true, verifyUrl: url, configWaitMs: 200 });
    assert.is(r.action, 'rolled-back');
    assert.is(r.ok, false);
    assert.ok(
      r.verdict?.problems?.some((p) => p.startsWith(`VERIFY_RELEASE_FILE: ${kernel}: missing`)),
      JSON.stringify(r.verdict),
    );
    assert.match(r.diagnostics[0]!.message, new RegExp(`release files not in place: ${kernel}: missing|nginx does not run its config`));
    const state = JSON.parse(readFileSync(join(s.base, 'state/state.json'), 'utf8'));
    assert.is(state.verdict.ok, false);
    assert.ok(state.verdict.problems.some((p: string) => p.includes(`${kernel}: missing`)));
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test("a version's record names its release files only through the signed provenance: an edited record is refused, nothing written", async () => {
  const { s, first, kernel } = await withReleases();
  const file = join(s.base, 'state/releases', `${first.slice(7)}.json`);
  const record = JSON.parse(readFileSync(file, 'utf8'));
  assert.is(record.format, 2);
  const provenance = JSON.parse(Buffer.from(record.provenance, 'base64').toString('utf8'));
  const elsewhere = join(s.base, 'elsewhere');
  provenance.releases[0].dir = elsewhere;
  record.provenance = Buffer.from(JSON.stringify(provenance)).toString('base64');
  writeFileSync(file, JSON.stringify(record));
  rmSync(kernel);
  const r = await s.pullNow();
  assert.is(r.action, 'refused', JSON.stringify(r.diagnostics));
  assert.match(r.diagnostics[0]!.message, /signature does not verify/);
  assert.not.ok(existsSync(elsewhere), 'nothing written where the edited record says');
});

test('a version pulled before the records: the next run reads its signed provenance, records it and puts back what is missing', async () => {
  const { s, kernel, bytes } = await withReleases();
  rmSync(join(s.base, 'state/releases'), { recursive: true });
  rmSync(kernel);
  const r = await s.pullNow();
  assert.is(r.action, 'up-to-date', JSON.stringify(r.diagnostics));
  assert.is(r.releasesWritten, 1);
  assert.ok(readFileSync(kernel).equals(bytes));
  assert.is(readdirSync(join(s.base, 'state/releases')).length, 1);
});

test('--no-verify does not hide release files that could not be put back: PULL_FAILED', async () => {
  const { s, kernel } = await withReleases();
  rmSync(kernel);
  const gone: Source = { ...s.reg.sink(REPO), streamBlob: () => Promise.reject(new Error('registry unreachable')) };
  const r = await pull({ config: s.config, source: () => gone, verify: false });
  assert.is(r.ok, false);
  assert.is(r.diagnostics[0]?.code, 'PULL_FAILED');
  assert.match(r.diagnostics[0]!.message, /release files it needs could not be put back: .*registry unreachable/);
});

test('a pull killed before it recorded its verdict (during the wait for nginx): the next run of the same tag verifies', async () => {
  const s = await setup();
  await s.publishNow();
  assert.ok((await s.pullNow()).ok);
  // What a kill after the switch, before the verdict, leaves: state.json without a verdict.
  const file = join(s.base, 'state/state.json');
  const state = JSON.parse(readFileSync(file, 'utf8'));
  delete state.verdict;
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
  const r = await s.pullNow();
  assert.is(r.action, 'up-to-date');
  assert.is(r.verdict?.skipped, 'not verified: --no-verify', 'a verdict recorded, here that of a run told not to verify');
  assert.ok(JSON.parse(readFileSync(file, 'utf8')).verdict, 'state.json holds it');
  assert.equal((await s.pullNow()).action, 'up-to-date');
});

test('a site mirror: pull.json names <mirror>/<site>, the pull reads it there and records it as the source; a blob the mirror altered is never served', async () => {
  const base = tempDir('pull-mirror');
  const repo = publishedRepo(REGISTRY, { bootServer: { base } });
  const yaml = join(repo.site, 'site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('  keep: 3\n', '  keep: 3\n  mirror: mirror.site-y.example.net/harvgen\n'));
  repo.commit('pull from the site mirror');
  const config = await repo.pullConfig(base);
  const MIRROR = 'mirror.site-y.example.net/harvgen/location_y';
  assert.is(JSON.parse(readFileSync(config, 'utf8')).repository, MIRROR);
  const reg = new MemoryRegistry();
  const r = await publish({ sites: [repo.site], sinkFor: (x) => reg.sink(x), cwd: repo.root, recordDir: null });
  assert.is(r.sites[0]!.repository, REPO, 'published to the central registry');
  const digest = r.sites[0]!.digest!;
  // The mirror holds what the central registry holds (skopeo sync does this: test/real/fleet.test.ts).
  const mirror = reg.sink(MIRROR);
  for (const [d, b] of reg.blobs.get(REPO)!) await mirror.putBlob(d, b);
  for (const [d, b] of reg.manifests.get(REPO)!) await mirror.putManifest(d, 'application/vnd.oci.image.manifest.v1+json', b);
  for (const [t, d] of reg.tags.get(REPO)!) await mirror.putManifest(t, 'x', reg.manifests.get(REPO)!.get(d)!);
  const asked: string[] = [];
  const pulled = await pull({ config, source: (c) => (asked.push(c.repository), reg.sink(c.repository)), verify: false });
  assert.is(pulled.action, 'switched', JSON.stringify(pulled.diagnostics));
  assert.is(pulled.digest, digest);
  assert.equal(asked, [MIRROR]);
  assert.is(JSON.parse(readFileSync(join(base, 'state/state.json'), 'utf8')).source, MIRROR);
  // A mirror that changes what it holds: a new version whose node file it altered is refused, the served tree stays.
  editNode(repo, 'a=1');
  const second = await publish({ sites: [repo.site], sinkFor: (x) => reg.sink(x), cwd: repo.root, recordDir: null });
  const next = second.sites[0]!.digest!;
  for (const [d, b] of reg.blobs.get(REPO)!) await mirror.putBlob(d, b);
  for (const [d, b] of reg.manifests.get(REPO)!) await mirror.putManifest(d, 'application/vnd.oci.image.manifest.v1+json', b);
  await mirror.putManifest('location_y', 'x', reg.manifests.get(REPO)!.get(next)!);
  const index = JSON.parse(reg.manifests.get(REPO)!.get(next)!.toString('utf8'));
  const part = JSON.parse(reg.manifests.get(REPO)!.get(index.manifests[1].digest)!.toString('utf8'));
  const victim = part.layers[0].digest as string;
  reg.blobs.get(MIRROR)!.set(victim, Buffer.concat([reg.blobs.get(REPO)!.get(victim)!, Buffer.from('#')]));
  const refused = await pull({ config, source: (c) => reg.sink(c.repository), verify: false });
  // The memory registry checks digests itself (a real one's client says 'refused': test/real/fleet.test.ts).
  assert.ok(refused.action === 'refused' || refused.action === 'failed', JSON.stringify(refused.diagnostics));
  assert.match(refused.diagnostics[0]!.message, /digest mismatch|does not hash/);
  assert.is(readlinkSync(join(base, 'srv/location_y')).split('/').pop(), digest.slice(7), 'the served tree stays');
});

test('binaries the committed tree only lists (iPXE binaries) travel as public layers, shared by digest, and land in the served tree', async () => {
  const s = await setup();
  // The site copies iPXE binaries from a directory of the repository.
  const bin = join(s.repo.site, 'ipxe-bin');
  mkdirSync(bin);
  const efi = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(70_000, 7)]);
  writeFileSync(join(bin, 'snponly.efi'), efi);
  const yaml = join(s.repo.site, 'site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/\nboot:\n/, '\nboot:\n  ipxe_binaries: ipxe-bin\n'));
  s.repo.commit('ipxe binaries');
  const published = await publish({ sites: [s.repo.site], sinkFor: (x) => s.reg.sink(x), cwd: s.repo.root, recordDir: null });
  assert.equal(
    published.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
    [],
  );
  // Public: the committed manifest lists the same bytes (a sealed copy would be another blob per site).
  const blobs = [...s.reg.blobs.values()].flatMap((repo) => [...repo.values()]);
  const plain = (b: Buffer) => {
    try {
      return gunzipSync(b);
    } catch {
      return b;
    }
  };
  assert.ok(
    blobs.some((b) => plain(b).equals(efi)),
    'snponly.efi is a plain layer of its own bytes (gzipped), not sealed',
  );
  const r = await s.pullNow();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.ok(readFileSync(join(s.served(), 'snponly.efi')).equals(efi), 'the served tree holds the binary');
});

test('a boot server path that is a directory (an rsynced tree) is never replaced', async () => {
  const s = await setup();
  await s.publishNow();
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(s.base, 'srv/location_y'), { recursive: true });
  writeFileSync(join(s.base, 'srv/location_y/boot.ipxe'), 'old');
  const r = await s.pullNow();
  assert.is(r.action, 'failed');
  assert.is(r.diagnostics[0]!.code, 'PULL_FAILED');
  assert.match(r.diagnostics[0]!.message, /keep it aside .*before-pull/);
  assert.is(readFileSync(join(s.base, 'srv/location_y/boot.ipxe'), 'utf8'), 'old');
});

test.run();
