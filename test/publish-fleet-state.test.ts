// The registry's fleet state (src/publish/fleet-state.ts): a machine that starts with no cache (a
// fresh clone, an empty cache directory) answers the sites whose inputs did not change without
// compiling them and without one request of their own: the namespace's state is read once. What
// changed (a node file, a layer made later, a secret file, an environment secret, the options)
// compiles, as does an entry the committed record does not name (edited in the registry) and a
// record that names none; a state that cannot be written is a warning, never a failed publish.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { publish } from '../src/publish/index.ts';
import { sha256 } from '../src/publish/artifact.ts';
import { compileModel } from '../src/pipeline.ts';
import { loggedRegistry, MemoryRegistry, publishedRepo } from './helpers/publish.ts';
import { tempDir } from './helpers/tmp.ts';

const REGISTRY = 'registry.example.net/harvgen';
const STATE_REPO = `${REGISTRY}/harvgen-fleet`;
/** Each run with a cache directory of its own that starts empty: no state of this machine is ever there. */
const freshCache = () => (process.env.XDG_CACHE_HOME = tempDir('fleet-state-cache'));
/** Files written in the last 100 ms have racy stamps (never trusted): the tests wait that out. */
const settle = () => new Promise((r) => setTimeout(r, 150));

const logged = loggedRegistry;

/** location_y and a copy of it, location_z, in one repository. */
function twoSites(label: string) {
  const repo = publishedRepo(REGISTRY, { label });
  const z = join(repo.root, 'sites/location_z');
  cpSync(repo.site, z, { recursive: true });
  const yaml = join(z, 'site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('site: location_y', 'site: location_z').replaceAll('10.20.0.5', '10.20.0.6'));
  repo.commit('location_z');
  return { ...repo, sites: [repo.site, z] };
}

async function run(reg: ReturnType<typeof logged>, root: string, sites: string[], extra: Record<string, unknown> = {}) {
  freshCache();
  reg.calls.length = 0;
  const r = await publish({ sites, sinkFor: reg.sinkFor, cwd: root, recordDir: 'published', remember: true, ...extra });
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`),
    [],
  );
  return { result: r, calls: [...reg.calls] };
}

const compiled = (r: Awaited<ReturnType<typeof run>>) => r.result.sites.map((s) => s.unchanged !== true);
const record = (root: string, site: string) => readFileSync(join(root, 'published', `${site}.json`), 'utf8');

/** A clone of the repository elsewhere (another machine's checkout), with the git-ignored secret files copied in. */
function cloneOf(root: string, sites: string[]): { root: string; sites: string[] } {
  const clone = join(tempDir('fleet-state-clone'), 'repo');
  execFileSync('git', ['clone', '-q', root, clone]);
  const names = sites.map((s) => s.slice(root.length + 1));
  for (const n of names) cpSync(join(root, n, 'secrets'), join(clone, n, 'secrets'), { recursive: true });
  return { root: clone, sites: names.map((n) => join(clone, n)) };
}

test('a fresh clone with no cache answers unchanged sites from one read of the fleet state, not a request per site', async () => {
  const repo = twoSites('fleet-state');
  const reg = logged(new MemoryRegistry());
  await settle();
  const first = await run(reg, repo.root, repo.sites);
  assert.equal(compiled(first), [true, true]);
  const rec = JSON.parse(record(repo.root, 'location_y')) as { state?: string; tag: string };
  assert.match(rec.state ?? '', /^sha256:[0-9a-f]{64}$/, 'the record names its entry');
  assert.equal(Object.keys(rec), ['boot_server', 'digest', 'repository', 'sample', 'site', 'state', 'tag']);
  assert.ok(
    first.calls.some((c) => c === `${STATE_REPO} putManifest`),
    'the state is written',
  );
  repo.commit('records');
  const clone = cloneOf(repo.root, repo.sites);
  await settle();
  const again = await run(reg, clone.root, clone.sites);
  assert.equal(compiled(again), [false, false], 'neither site compiled');
  // The state is all that is asked for: its tag, its manifest and each distinct layer once.
  assert.equal(
    again.calls.filter((c) => !c.startsWith(`${STATE_REPO} `)),
    [],
    `only the state is asked for: ${again.calls.join(', ')}`,
  );
  assert.equal(again.calls.slice(0, 2), [`${STATE_REPO} resolveTag`, `${STATE_REPO} getManifest`]);
  assert.ok(again.calls.length <= 2 + 16, `${again.calls.length} requests`);
  assert.equal(
    again.result.sites.map((s) => s.digest),
    first.result.sites.map((s) => s.digest),
  );
  assert.is(record(clone.root, 'location_y'), record(repo.root, 'location_y'), 'the record as git has it');

  // One node of one site edited and committed in the clone: that site alone compiles.
  const node = join(clone.sites[1]!, 'nodes/y-hv-02.yaml');
  writeFileSync(node, `${readFileSync(node, 'utf8')}kernel_args: [nomodeset]\n`);
  execFileSync('git', ['-C', clone.root, 'commit', '-qam', 'z: nomodeset'], { env: { ...process.env, ...GIT_ID } });
  await settle();
  const edited = await run(reg, clone.root, clone.sites);
  assert.equal(compiled(edited), [false, true], 'location_y answered, location_z compiled');
  assert.not.ok(
    edited.calls.some((c) => c.startsWith(`${REGISTRY}/location_y `)),
    'no request for the unchanged site',
  );
  assert.is.not(edited.result.sites[1]!.digest, first.result.sites[1]!.digest);
  // And its new entry answers the next run.
  await settle();
  assert.equal(compiled(await run(reg, clone.root, clone.sites)), [false, false]);
});

/** Rewrite the stored state as a registry could: each layer's entries through `edit`, the manifest put again. */
async function editState(mem: MemoryRegistry, edit: (entries: Record<string, string>) => void): Promise<void> {
  const sink = mem.sink(STATE_REPO);
  const digest = (await sink.resolveTag('state'))!;
  const manifest = JSON.parse((await sink.getManifest(digest, 1 << 20)).toString()) as { layers: { digest: string; size: number }[] };
  const layers = [];
  for (const l of manifest.layers) {
    const doc = JSON.parse(gunzipSync(await sink.getBlob(l.digest, 1 << 24)).toString()) as { entries: Record<string, string> };
    const before = JSON.stringify(doc.entries);
    if (Object.keys(doc.entries).length > 0) edit(doc.entries);
    if (JSON.stringify(doc.entries) === before) {
      layers.push(l);
      continue;
    }
    const layer = gzipSync(JSON.stringify({ entries: doc.entries, format: 1 }));
    await sink.putBlob(sha256(layer), layer);
    layers.push({ ...l, digest: sha256(layer), size: layer.length });
  }
  await sink.putManifest('state', 'application/vnd.oci.image.manifest.v1+json', Buffer.from(JSON.stringify({ ...manifest, layers })));
}

const GIT_ID = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.net', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.net' };

test('a secret file, an environment secret, a layer made later and other options each compile the site', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'fleet-state-changes' });
  const reg = logged(new MemoryRegistry());
  await settle();
  let last = (await run(reg, repo.root, [repo.site])).result.sites[0]!.digest;
  const expectCompiled = async (what: string, extra: Record<string, unknown> = {}, newDigest = true) => {
    await settle();
    const r = await run(reg, repo.root, [repo.site], extra);
    assert.equal(compiled(r), [true], `${what}: compiled`);
    if (newDigest) assert.is.not(r.result.sites[0]!.digest, last, `${what}: a new digest`);
    last = r.result.sites[0]!.digest!;
    await settle();
    assert.equal(compiled(await run(reg, repo.root, [repo.site], extra)), [false], `${what}: answered afterwards`);
  };
  assert.equal(compiled(await run(reg, repo.root, [repo.site])), [false], 'unchanged at first');
  // A git-ignored secret file: only its content says it changed.
  writeFileSync(join(repo.site, 'secrets/token'), 'tok-rotated-0123456789abcdef\n');
  await expectCompiled('a rotated token file');
  // A layer the site looked for and did not find, made later.
  writeFileSync(join(repo.root, 'sites/_defaults.yaml'), 'mtu: 9000\n');
  repo.commit('repo-wide defaults');
  await expectCompiled('a layer made later');
  // The token from the environment, then another value of it.
  const yaml = join(repo.site, 'site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/token: \{ file: [^}]*\}/, 'token: { env: FLEET_STATE_TOKEN }'));
  repo.commit('token from the environment');
  await expectCompiled('the token from the environment', { env: { ...process.env, FLEET_STATE_TOKEN: 'tok-env-one-0123456789' } });
  await expectCompiled('another value of it', { env: { ...process.env, FLEET_STATE_TOKEN: 'tok-env-two-0123456789' } });
  // Another --registry is another question (and another repository).
  await settle();
  const other = await run(reg, repo.root, [repo.site], {
    env: { ...process.env, FLEET_STATE_TOKEN: 'tok-env-two-0123456789' },
    registry: 'registry.example.net/other',
  });
  assert.equal(compiled(other), [true], 'another --registry: compiled');
});

test('an entry the committed record does not name, or a record that names none, is not believed', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'fleet-state-forged' });
  const mem = new MemoryRegistry();
  const reg = logged(mem);
  await settle();
  await run(reg, repo.root, [repo.site]);
  // Edit the stored entry as a registry could: a later HEAD and no inputs, which would hide any change.
  const node = join(repo.site, 'nodes/y-hv-02.yaml');
  writeFileSync(node, `${readFileSync(node, 'utf8')}kernel_args: [nomodeset]\n`);
  repo.commit('y-hv-02: nomodeset');
  const head = execFileSync('git', ['-C', repo.root, 'rev-parse', 'HEAD']).toString().trim();
  await editState(mem, (entries) => {
    entries.location_y = JSON.stringify({ ...JSON.parse(entries.location_y!), head, paths: [], watched: [] });
  });
  await settle();
  const r = await run(reg, repo.root, [repo.site]);
  assert.equal(compiled(r), [true], 'a forged entry: compiled');
  // A record edited to name no entry: compiled, and the record names the new entry again.
  const file = join(repo.root, 'published/location_y.json');
  const rec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  delete rec.state;
  writeFileSync(file, `${JSON.stringify(rec, null, 2)}\n`);
  await settle();
  assert.equal(compiled(await run(reg, repo.root, [repo.site])), [true], 'a record with no state: compiled');
  assert.match(readFileSync(file, 'utf8'), /"state": "sha256:/);
});

test('a fleet state that cannot be written is a warning: the site is published, the next run compiles it', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'fleet-state-refused' });
  const mem = new MemoryRegistry();
  const sinkFor = (repository: string) => {
    const s = mem.sink(repository);
    if (repository !== STATE_REPO) return s;
    return Object.assign(Object.create(s) as typeof s, {
      putManifest: async () => {
        throw new Error('denied: requested access to the resource is denied');
      },
    });
  };
  await settle();
  freshCache();
  const r = await publish({ sites: [repo.site], sinkFor, cwd: repo.root, recordDir: 'published', remember: true });
  assert.ok(r.ok, 'the publish passes');
  assert.equal(
    r.diagnostics.map((d) => `${d.severity} ${d.code}`),
    ['warning PUBLISH_STATE_NOT_SAVED'],
  );
  assert.match(r.diagnostics[0]!.message, /harvgen-fleet|registry\.example\.net\/harvgen/);
  assert.ok(mem.tags.get(`${REGISTRY}/location_y`)?.get('location_y'), 'the site is tagged');
  await settle();
  freshCache();
  const again = await publish({ sites: [repo.site], sinkFor, cwd: repo.root, recordDir: 'published', remember: true });
  assert.is(again.sites[0]!.unchanged, undefined, 'no state: compiled again');
});

test('inventory git does not see (an ignored node file, a file added where git ignores it) is bound by content', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'fleet-state-ignored' });
  // One node file git ignores: the compile reads it, git never reports it.
  writeFileSync(join(repo.root, '.gitignore'), 'sites/*/secrets/\nsites/*/nodes/y-hv-02.yaml\nsites/*/nodes/*.txt\n');
  execFileSync('git', ['-C', repo.root, 'rm', '-q', '--cached', 'sites/location_y/nodes/y-hv-02.yaml']);
  repo.commit('y-hv-02 kept out of git');
  const reg = logged(new MemoryRegistry());
  await settle();
  const first = await run(reg, repo.root, [repo.site]);
  const entry = await storedEntry(reg, 'location_y');
  assert.ok(
    entry.bound.some(([p]) => p === 'sites/location_y/nodes/y-hv-02.yaml'),
    'the ignored node file is bound by content',
  );
  assert.not.ok(
    entry.bound.some(([p]) => p === 'sites/location_y/nodes/y-hv-01.yaml'),
    'a tracked one is git-answered',
  );
  await settle();
  assert.equal(compiled(await run(reg, repo.root, [repo.site])), [false]);
  const node = join(repo.site, 'nodes/y-hv-02.yaml');
  writeFileSync(node, `${readFileSync(node, 'utf8')}kernel_args: [nomodeset]\n`);
  await settle();
  const edited = await run(reg, repo.root, [repo.site]);
  assert.equal(compiled(edited), [true], 'an edit of the ignored node file: compiled');
  assert.is.not(edited.result.sites[0]!.digest, first.result.sites[0]!.digest);
  // A file added where git ignores it changes the listing: compiled (the same digest).
  await settle();
  assert.equal(compiled(await run(reg, repo.root, [repo.site])), [false]);
  writeFileSync(join(repo.site, 'nodes/scratch.txt'), 'notes\n');
  await settle();
  assert.equal(compiled(await run(reg, repo.root, [repo.site])), [true], 'a file added: compiled');
});

test('an uncommitted new layer is PUBLISH_DIRTY, as a full compile says; a record edited by hand is compiled and written again', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'fleet-state-dirty' });
  const reg = logged(new MemoryRegistry());
  await settle();
  await run(reg, repo.root, [repo.site]);
  writeFileSync(join(repo.root, 'sites/_defaults.yaml'), 'mtu: 9000\n');
  await settle();
  freshCache();
  const dirty = await publish({ sites: [repo.site], sinkFor: reg.sinkFor, cwd: repo.root, recordDir: 'published', remember: true });
  assert.equal(
    dirty.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
    ['PUBLISH_DIRTY'],
  );
  rmSync(join(repo.root, 'sites/_defaults.yaml'));
  const file = join(repo.root, 'published/location_y.json');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, good.replace('"boot_server": "http://10.20.0.5:8080"', '"boot_server": "http://10.20.0.99:8080"'));
  await settle();
  const r = await run(reg, repo.root, [repo.site]);
  assert.equal(compiled(r), [true], 'a record edited by hand: compiled');
  assert.is(readFileSync(file, 'utf8'), good, 'and written as publish writes it');
});

test('a state too large to unpack, or an entry another writer added for the same directory, changes nothing but what it must', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'fleet-state-hostile' });
  const mem = new MemoryRegistry();
  const reg = logged(mem);
  await settle();
  await run(reg, repo.root, [repo.site]);
  // A decoy entry for the same directory under another name: not named by a record, never believed.
  await editState(mem, (entries) => {
    if (entries.location_y)
      entries['zz-decoy'] = JSON.stringify({ ...JSON.parse(entries.location_y), site: 'zz-decoy', head: '0'.repeat(40) });
  });
  await settle();
  assert.equal(compiled(await run(reg, repo.root, [repo.site])), [false], 'the decoy shadows nothing');
  // A layer that unpacks to 200 MB: refused as it unpacks, so the site is compiled (and the state written anew).
  const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024, 0x20), { level: 9 });
  const sink = mem.sink(STATE_REPO);
  const manifest = JSON.parse((await sink.getManifest((await sink.resolveTag('state'))!, 1 << 20)).toString()) as {
    layers: { digest: string; size: number }[];
  };
  await sink.putBlob(sha256(bomb), bomb);
  const layers = manifest.layers.map((l, i) => (i === 0 ? { ...l, digest: sha256(bomb), size: bomb.length } : l));
  await sink.putManifest('state', 'application/vnd.oci.image.manifest.v1+json', Buffer.from(JSON.stringify({ ...manifest, layers })));
  await settle();
  const r = await run(reg, repo.root, [repo.site]);
  assert.equal(compiled(r), [true], 'an unreadable state: compiled');
  await settle();
  assert.equal(compiled(await run(reg, repo.root, [repo.site])), [false], 'the state written anew answers');
});

test('--dry-run writes no state; --force compiles every site and writes it', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'fleet-state-flags' });
  const reg = logged(new MemoryRegistry());
  await settle();
  const dry = await run(reg, repo.root, [repo.site], { dryRun: true });
  assert.not.ok(
    dry.calls.some((c) => c.startsWith(`${STATE_REPO} put`)),
    'a dry run writes no state',
  );
  await run(reg, repo.root, [repo.site]);
  await settle();
  const forced = await run(reg, repo.root, [repo.site], { force: true });
  assert.equal(compiled(forced), [true], '--force: compiled');
  const firstState = forced.calls.findIndex((c) => c.startsWith(`${STATE_REPO} `));
  const firstSite = forced.calls.findIndex((c) => c.startsWith(`${REGISTRY}/location_y `));
  assert.ok(firstSite >= 0 && firstState > firstSite, '--force reads the state only to write it, after the site');
});

/** The stored entry of a site, parsed. */
async function storedEntry(reg: ReturnType<typeof logged>, site: string): Promise<{ bound: [string, string][] }> {
  const sink = reg.sinkFor(STATE_REPO);
  const manifest = JSON.parse((await sink.getManifest((await sink.resolveTag('state'))!, 1 << 20)).toString()) as {
    layers: { digest: string }[];
  };
  for (const l of manifest.layers) {
    const doc = JSON.parse(gunzipSync(await sink.getBlob(l.digest, 1 << 24)).toString()) as { entries: Record<string, string> };
    if (doc.entries[site]) return JSON.parse(doc.entries[site]) as { bound: [string, string][] };
  }
  throw new Error(`no entry of ${site}`);
}

test('a site may not be named harvgen-fleet when it publishes (PUBLISH_SITE_NAME)', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'fleet-state-name' });
  const yaml = join(repo.site, 'site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('site: location_y', 'site: harvgen-fleet'));
  const r = await compileModel(repo.site, { cwd: repo.root });
  const d = r.diagnostics.find((x) => x.code === 'PUBLISH_SITE_NAME');
  assert.ok(d, 'refused');
  assert.match(d!.message, /fleet state/);
  rmSync(repo.root, { recursive: true, force: true });
});

test.run();
