// What git status does not show (src/publish/git-trust.ts): publish compares content instead. An
// edit to a file whose index entry is marked skip-worktree or assume-unchanged, or that a stale
// fsmonitor hook leaves out, is neither answered "unchanged" from the registry's fleet state nor
// published as the commit's; nor is an edit to a node file linked from outside the site, or to
// one in a submodule that .gitmodules tells git to ignore. A fleet state that cannot be read when
// it is saved is not written over (the other sites' entries stay), and the warning says so.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { publish } from '../src/publish/index.ts';
import { blobId } from '../src/publish/git-trust.ts';
import { RegistryError } from '../src/oci/errors.ts';
import type { Sink, Source } from '../src/publish/sink.ts';
import { MemoryRegistry, publishedRepo } from './helpers/publish.ts';
import { tempDir } from './helpers/tmp.ts';

const REGISTRY = 'registry.example.net/harvgen';
const STATE_REPO = `${REGISTRY}/harvgen-fleet`;
const GIT_ID = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.net', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.net' };
const git = (root: string, ...args: string[]) =>
  execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...GIT_ID } });
/** Files written in the last 100 ms have racy stamps (never trusted): the tests wait that out. */
const settle = () => new Promise((r) => setTimeout(r, 150));

/** One publish with a cache directory of its own that starts empty: only the registry's fleet state can answer a site. */
async function publishFresh(root: string, sites: string[], sinkFor: (r: string) => Sink & Source, extra: Record<string, unknown> = {}) {
  process.env.XDG_CACHE_HOME = tempDir('git-trust-cache');
  await settle();
  return publish({ sites, sinkFor, cwd: root, recordDir: 'published', remember: true, ...extra });
}

const errors = (r: Awaited<ReturnType<typeof publish>>) => r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);

const appendTo = (file: string, text: string) => writeFileSync(file, `${readFileSync(file, 'utf8')}${text}`);

test("git's blob id is computed as git hash-object computes it", () => {
  const dir = tempDir('git-trust-blob');
  const bytes = Buffer.from('a: 1\n\0binary\n');
  writeFileSync(join(dir, 'f'), bytes);
  assert.is(blobId(bytes, 40), execFileSync('git', ['hash-object', join(dir, 'f')], { encoding: 'utf8' }).trim());
  assert.is(blobId(Buffer.alloc(0), 40), 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
});

/** Ways to make git status leave an edit out, each with the test's title (docs/dev/claims.md names them). */
const HIDDEN: readonly { title: string; label: string; marked: boolean; hide: (root: string, rel: string) => void }[] = [
  {
    title:
      'a node file edited behind skip-worktree is neither answered unchanged from the fleet state nor published as the commit holds it',
    label: 'skip-worktree',
    marked: true,
    hide: (root, rel) => git(root, 'update-index', '--skip-worktree', rel),
  },
  {
    title:
      'a node file edited behind assume-unchanged is neither answered unchanged from the fleet state nor published as the commit holds it',
    label: 'assume-unchanged',
    marked: true,
    hide: (root, rel) => git(root, 'update-index', '--assume-unchanged', rel),
  },
  {
    title:
      'a node file edited behind a stale fsmonitor hook is neither answered unchanged from the fleet state nor published as the commit holds it',
    label: 'fsmonitor',
    marked: false,
    hide: (root) => {
      // A hook (protocol 2) that answers "nothing changed since" whatever changed.
      const hook = join(root, '.git/stale-fsmonitor');
      writeFileSync(hook, "#!/bin/sh\nprintf 'token\\0'\n");
      chmodSync(hook, 0o755);
      git(root, 'config', 'core.fsmonitor', hook);
      git(root, 'config', 'core.fsmonitorHookVersion', '2');
      git(root, 'status', '--porcelain');
    },
  },
];

for (const { title, label, marked, hide } of HIDDEN) {
  test(title, async () => {
    const repo = publishedRepo(REGISTRY, { label: `git-trust-${label}` });
    const mem = new MemoryRegistry();
    const sinkFor = (r: string) => mem.sink(r);
    const first = await publishFresh(repo.root, [repo.site], sinkFor);
    assert.equal(errors(first), []);
    const rel = 'sites/location_y/nodes/y-hv-02.yaml';
    hide(repo.root, rel);
    appendTo(join(repo.root, rel), 'kernel_args: [nomodeset]\n');
    assert.is(git(repo.root, 'status', '--porcelain', '--', rel), '', `${label}: git status does not show the edit`);
    const r = await publishFresh(repo.root, [repo.site], sinkFor);
    assert.is(r.sites[0]!.unchanged, undefined, 'not answered from the fleet state');
    assert.equal(errors(r), ['PUBLISH_DIRTY']);
    const dirty = r.diagnostics.find((d) => d.code === 'PUBLISH_DIRTY')!;
    assert.match(dirty.message, /y-hv-02\.yaml/);
    if (marked) assert.match(dirty.message, /skip-worktree or assume-unchanged/);
    assert.is(
      mem.tags.get(`${REGISTRY}/location_y`)?.get('location_y'),
      first.sites[0]!.digest,
      'the tag still names what the commit holds',
    );
    // Put back as committed (still marked): answered unchanged again.
    writeFileSync(join(repo.root, rel), git(repo.root, 'show', `HEAD:${rel}`));
    const back = await publishFresh(repo.root, [repo.site], sinkFor);
    assert.equal(errors(back), []);
    assert.is(back.sites[0]!.unchanged, true, 'the content the index holds: answered from the fleet state');
  });
}

test('a node file linked from outside the site: its edit is PUBLISH_DIRTY, its commit is the one the tag names', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'git-trust-link' });
  mkdirSync(join(repo.root, 'shared'));
  renameSync(join(repo.site, 'nodes/y-hv-02.yaml'), join(repo.root, 'shared/y-hv-02.yaml'));
  symlinkSync('../../../shared/y-hv-02.yaml', join(repo.site, 'nodes/y-hv-02.yaml'));
  repo.commit('y-hv-02 shared');
  const mem = new MemoryRegistry();
  const sinkFor = (r: string) => mem.sink(r);
  assert.equal(errors(await publishFresh(repo.root, [repo.site], sinkFor)), []);
  appendTo(join(repo.root, 'shared/y-hv-02.yaml'), 'kernel_args: [nomodeset]\n');
  const dirty = await publishFresh(repo.root, [repo.site], sinkFor);
  assert.equal(errors(dirty), ['PUBLISH_DIRTY']);
  assert.match(dirty.diagnostics.find((d) => d.code === 'PUBLISH_DIRTY')!.message, /shared\/y-hv-02\.yaml/);
  // Committed: the site's commit is the one that changed the link's target.
  repo.commit('y-hv-02: nomodeset');
  const head = git(repo.root, 'rev-parse', 'HEAD').trim();
  const r = await publishFresh(repo.root, [repo.site], sinkFor);
  assert.equal(errors(r), []);
  assert.ok(r.sites[0]!.tags?.includes(`location_y-${head.slice(0, 12)}`), `tagged with the commit of the target: ${r.sites[0]!.tags}`);
});

test('a node file in a submodule that .gitmodules ignores (ignore = all): its edit is PUBLISH_DIRTY, and so is one behind skip-worktree there', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'git-trust-submodule' });
  // The shared node definitions, a repository of their own, added as a submodule.
  const upstream = tempDir('git-trust-upstream');
  git(upstream, 'init', '-q');
  cpSync(join(repo.site, 'nodes/y-hv-02.yaml'), join(upstream, 'y-hv-02.yaml'));
  git(upstream, 'add', '-A');
  git(upstream, 'commit', '-qm', 'nodes');
  git(repo.root, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', upstream, 'shared');
  git(repo.root, 'config', '-f', '.gitmodules', 'submodule.shared.ignore', 'all');
  execFileSync('rm', [join(repo.site, 'nodes/y-hv-02.yaml')]);
  symlinkSync('../../../shared/y-hv-02.yaml', join(repo.site, 'nodes/y-hv-02.yaml'));
  repo.commit('y-hv-02 from the submodule');
  const mem = new MemoryRegistry();
  const sinkFor = (r: string) => mem.sink(r);
  const first = await publishFresh(repo.root, [repo.site], sinkFor);
  assert.equal(errors(first), []);
  appendTo(join(repo.root, 'shared/y-hv-02.yaml'), 'kernel_args: [nomodeset]\n');
  assert.is(git(repo.root, 'status', '--porcelain', '--', 'shared'), '', 'git status in the superproject does not show it');
  const dirty = await publishFresh(repo.root, [repo.site], sinkFor);
  assert.is(dirty.sites[0]!.unchanged, undefined, 'not answered from the fleet state');
  assert.equal(errors(dirty), ['PUBLISH_DIRTY']);
  // Put back, then edited behind skip-worktree in the submodule: still seen.
  git(join(repo.root, 'shared'), 'checkout', '-q', '--', 'y-hv-02.yaml');
  assert.equal(errors(await publishFresh(repo.root, [repo.site], sinkFor)), []);
  git(join(repo.root, 'shared'), 'update-index', '--skip-worktree', 'y-hv-02.yaml');
  appendTo(join(repo.root, 'shared/y-hv-02.yaml'), 'kernel_args: [nomodeset]\n');
  assert.is(git(repo.root, 'status', '--porcelain', '--ignore-submodules=none', '--', 'shared'), '', 'nor with --ignore-submodules=none');
  assert.equal(errors(await publishFresh(repo.root, [repo.site], sinkFor)), ['PUBLISH_DIRTY']);
});

/** A registry whose fleet state stops answering when `failing()` says so: each request waits, then times out. */
function drippingState(mem: MemoryRegistry, failing: () => boolean) {
  return (repository: string): Sink & Source => {
    const s = mem.sink(repository);
    if (repository !== STATE_REPO) return s;
    const drip =
      <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
      async (...a: A): Promise<R> => {
        if (!failing()) return f(...a);
        await new Promise((r) => setTimeout(r, 20));
        throw new RegistryError(`GET https://${STATE_REPO}: no answer within 60 s (timeout)`, 'timeout', `https://${STATE_REPO}`);
      };
    return { ...s, resolveTag: drip(s.resolveTag), getManifest: drip(s.getManifest), getBlob: drip(s.getBlob) };
  };
}

/** location_y and location_z (a copy) in one repository. */
function twoSites(label: string) {
  const repo = publishedRepo(REGISTRY, { label });
  const z = join(repo.root, 'sites/location_z');
  cpSync(repo.site, z, { recursive: true });
  const yaml = join(z, 'site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('site: location_y', 'site: location_z').replaceAll('10.20.0.5', '10.20.0.6'));
  repo.commit('location_z');
  return { ...repo, z };
}

const entriesOf = async (mem: MemoryRegistry): Promise<string[]> => {
  const { readState } = await import('../src/publish/fleet-store.ts');
  const read = await readState(mem.sink(STATE_REPO));
  return read.kind === 'read' ? [...read.entries.keys()].sort() : [];
};

test('a fleet state that cannot be read when it is saved is not written over: the other sites keep their entries, the warning says it was not written', async () => {
  const repo = twoSites('git-trust-drip');
  const mem = new MemoryRegistry();
  let dripping = false;
  const sinkFor = drippingState(mem, () => dripping);
  assert.equal(errors(await publishFresh(repo.root, [repo.site, repo.z], sinkFor)), []);
  assert.equal(await entriesOf(mem), ['location_y', 'location_z']);
  const before = mem.tags.get(STATE_REPO)?.get('state');
  // location_z changes and is published while the registry's fleet state does not answer.
  appendTo(join(repo.z, 'nodes/y-hv-02.yaml'), 'kernel_args: [nomodeset]\n');
  repo.commit('z: nomodeset');
  dripping = true;
  const r = await publishFresh(repo.root, [repo.z], sinkFor);
  dripping = false;
  assert.ok(r.ok, 'the publish passes');
  assert.equal(
    r.diagnostics.map((d) => `${d.severity} ${d.code}`),
    ['warning PUBLISH_STATE_NOT_SAVED'],
  );
  assert.match(r.diagnostics[0]!.message, /was not written: what it holds could not be read \(.*timeout.*\)/);
  assert.is(mem.tags.get(STATE_REPO)?.get('state'), before, 'the state is not written');
  assert.equal(await entriesOf(mem), ['location_y', 'location_z'], "location_y's entry is kept");
  assert.is(
    (await publishFresh(repo.root, [repo.site], sinkFor)).sites[0]!.unchanged,
    true,
    'location_y is still answered from the fleet state',
  );
});

test('a fleet state written and then not read back: the warning says it was written', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'git-trust-readback' });
  const mem = new MemoryRegistry();
  let written = false;
  const sinkFor = (repository: string): Sink & Source => {
    const s = drippingState(mem, () => written)(repository);
    return repository !== STATE_REPO
      ? s
      : {
          ...s,
          putManifest: async (...a: Parameters<Sink['putManifest']>) => {
            await s.putManifest(...a);
            written = true;
          },
        };
  };
  const r = await publishFresh(repo.root, [repo.site], sinkFor);
  assert.equal(
    r.diagnostics.map((d) => `${d.severity} ${d.code}`),
    ['warning PUBLISH_STATE_NOT_SAVED'],
  );
  assert.match(r.diagnostics[0]!.message, /was written, but could not be read back/);
  assert.equal(await entriesOf(mem), ['location_y']);
});

test.run();
