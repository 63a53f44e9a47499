// publish answers a site whose inputs did not change since this machine published it without
// compiling it (src/publish/state.ts): one registry request confirms its tag. A changed input (a
// node file, a shared layer, a secret file, an environment secret), another harvgen or a tag moved
// by someone else compiles and republishes it, with the very digest and record a full publish gives.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { publish, siteArtifact } from '../src/publish/index.ts';
import { GitChanges } from '../src/publish/git-changes.ts';
import { changedSince, loadState, stateFileOf, stateKeyOf } from '../src/publish/state.ts';
import { loggedRegistry, MemoryRegistry, publishedRepo } from './helpers/publish.ts';
import { tempDir } from './helpers/tmp.ts';

const REGISTRY = 'registry.example.net/harvgen';
// The states (and the state key) of this file's runs, apart from the user's.
process.env.XDG_CACHE_HOME = tempDir('unchanged-cache');
/** Files written in the last 100 ms have racy stamps (never trusted): the tests wait that out. */
const settle = () => new Promise((r) => setTimeout(r, 150));

/** A registry that counts every call made to it (the method's name). */
const counted = loggedRegistry;

async function run(
  reg: ReturnType<typeof counted>,
  root: string,
  site: string,
  extra: { force?: boolean; env?: Record<string, string> } = {},
) {
  reg.calls.length = 0;
  // This machine's state alone (the registry's fleet state: publish-fleet-state.test.ts).
  const r = await publish({
    sites: [site],
    sinkFor: reg.sinkFor,
    cwd: root,
    recordDir: 'published',
    remember: true,
    fleetState: false,
    ...extra,
  });
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`),
    [],
  );
  return {
    site: r.sites[0]!,
    record: readFileSync(join(root, 'published/location_y.json'), 'utf8'),
    calls: reg.calls.map((c) => c.slice(c.indexOf(' ') + 1)),
  };
}

test('an unchanged site is not compiled: one registry request, the same digest, the record byte-identical', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'unchanged' });
  const reg = counted(new MemoryRegistry());
  await settle();
  const first = await run(reg, repo.root, repo.site);
  assert.is(first.site.unchanged, undefined, 'the first publish compiles');
  assert.ok(first.calls.length > 10, `the first publish pushes (${first.calls.length} calls)`);
  // A first publish (the tag names nothing) asks nothing before it sends: one tag lookup, then puts.
  assert.equal(
    first.calls.filter((c) => c !== 'putBlob' && c !== 'putManifest'),
    ['resolveTag'],
  );
  const again = await run(reg, repo.root, repo.site);
  assert.is(again.site.unchanged, true, 'the second one is answered from the state');
  assert.equal(again.calls, ['resolveTag'], 'one registry request: the tag still names the digest');
  assert.is(again.site.digest, first.site.digest);
  assert.is(again.site.previous, first.site.digest);
  assert.equal(again.site.tags, first.site.tags);
  assert.is(again.record, first.record);
  // A commit that touches no input (another file of the repository) changes nothing either.
  writeFileSync(join(repo.root, 'README.md'), 'other work\n');
  repo.commit('README');
  assert.is((await run(reg, repo.root, repo.site)).site.unchanged, true, 'an unrelated commit: still unchanged');
  // --force compiles it, and gives the same answer.
  const forced = await run(reg, repo.root, repo.site, { force: true });
  assert.is(forced.site.unchanged, undefined);
  assert.is(forced.site.digest, first.site.digest);
  assert.is(forced.record, first.record);
});

test('a one-node edit, a shared layer, a secret file and a tag moved by someone else each republish, as a full publish would', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'unchanged-edits' });
  const mem = new MemoryRegistry();
  const reg = counted(mem);
  await settle();
  let last = await run(reg, repo.root, repo.site);
  /** After a change: compiled, a new digest, and digest and record equal to a forced publish into a new registry. */
  const republished = async (what: string) => {
    await settle();
    const r = await run(reg, repo.root, repo.site);
    assert.is(r.site.unchanged, undefined, `${what}: compiled`);
    assert.is.not(r.site.digest, last.site.digest, `${what}: a new digest`);
    const full = await run(counted(new MemoryRegistry()), repo.root, repo.site, { force: true });
    assert.is(full.site.digest, r.site.digest, `${what}: the digest of a full publish`);
    assert.is(full.record, r.record, `${what}: the record of a full publish`);
    assert.is((await run(reg, repo.root, repo.site)).site.unchanged, true, `${what}: unchanged afterwards`);
    last = r;
  };
  const node = join(repo.site, 'nodes/y-hv-02.yaml');
  writeFileSync(node, `${readFileSync(node, 'utf8')}kernel_args: [nomodeset]\n`);
  repo.commit('y-hv-02: nomodeset');
  await republished('a node file');
  // A layer the site reads from outside its directory.
  writeFileSync(join(repo.root, 'sites/_defaults.yaml'), 'mtu: 9000\n');
  repo.commit('repo-wide defaults');
  await republished('a shared layer');
  // A secret file (git-ignored: only its stamp and content say it changed).
  writeFileSync(join(repo.site, 'secrets/token'), 'tok-rotated-0123456789abcdef\n');
  await republished('a rotated token file');
  // Someone else moved the tag: the next run puts it back.
  const tags = mem.tags.get(`${REGISTRY}/location_y`)!;
  tags.set('location_y', `sha256:${'0'.repeat(64)}`);
  await settle();
  const back = await run(reg, repo.root, repo.site);
  assert.is(back.site.unchanged, undefined, 'a moved tag: compiled');
  assert.is(back.site.digest, last.site.digest);
  assert.is(tags.get('location_y'), last.site.digest, 'the tag names the digest again');
});

test('a commit that names the inputs anew with the files as they were (an amended commit) is seen through git, not stamps', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'unchanged-git' });
  const reg = counted(new MemoryRegistry());
  const node = join(repo.site, 'nodes/y-hv-02.yaml');
  writeFileSync(node, `${readFileSync(node, 'utf8')}kernel_args: [nomodeset]\n`);
  repo.commit('edit');
  await settle();
  const first = await run(reg, repo.root, repo.site);
  assert.is((await run(reg, repo.root, repo.site)).site.unchanged, true);
  // The same tree under another commit: no file is touched, so every stamp holds.
  execFileSync('git', ['commit', '-q', '--amend', '-m', 'edit, said otherwise'], {
    cwd: repo.root,
    stdio: 'ignore',
    env: { ...process.env, GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.net', GIT_COMMITTER_DATE: '@1900000000 +0000' },
  });
  const r = await run(reg, repo.root, repo.site);
  assert.is(r.site.unchanged, undefined, 'compiled');
  assert.is.not(r.site.digest, first.site.digest, 'the provenance and the pinned tag name the new commit');
  const full = await run(counted(new MemoryRegistry()), repo.root, repo.site, { force: true });
  assert.is(full.site.digest, r.site.digest);
  assert.equal(full.site.tags, r.site.tags);
});

test('the state is judged by harvgen and by the environment: another harvgen or another secret value is a change', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'unchanged-state' });
  const reg = counted(new MemoryRegistry());
  await settle();
  await run(reg, repo.root, repo.site);
  const state = loadState(stateKeyOf(repo.site, { cwd: repo.root }));
  assert.ok(state, 'a state was kept');
  const git = new GitChanges();
  assert.is(changedSince(state!, process.env, git), undefined);
  assert.is(changedSince({ ...state!, code: 'another' }, process.env, git), 'another harvgen');
  assert.is(changedSince({ ...state!, env: [['HARVGEN_TEST_SECRET', 'x'.repeat(64)]] }, {}, git), 'a secret in the environment changed');
  assert.is(
    changedSince({ ...state!, git: { ...state!.git, head: '0'.repeat(40) } }, process.env, git),
    'git cannot tell what changed since',
  );
  // Nothing of the secrets is in the state file: paths, stamps and keyed digests.
  const text = readFileSync(stateFileOf(stateKeyOf(repo.site, { cwd: repo.root }))!, 'utf8');
  for (const secret of repo.secrets) assert.not.ok(text.includes(secret), `a secret is in the state: ${secret.slice(0, 6)}...`);
});

test("a state edited, swapped for another site's or replaced by a FIFO is not believed: the site is compiled, the record right", async () => {
  const repo = publishedRepo(REGISTRY, { label: 'unchanged-forged' });
  const reg = counted(new MemoryRegistry());
  await settle();
  const first = await run(reg, repo.root, repo.site);
  const file = stateFileOf(stateKeyOf(repo.site, { cwd: repo.root }))!;
  const kept = readFileSync(file, 'utf8');
  const nl = kept.indexOf('\n');
  // An edit that keeps the old MAC: a record naming another digest.
  writeFileSync(file, kept.slice(0, nl + 1) + kept.slice(nl + 1).replaceAll(first.site.digest!.slice(7), 'f'.repeat(64)));
  let r = await run(reg, repo.root, repo.site);
  assert.is(r.site.unchanged, undefined, 'an edited state is not believed');
  assert.is(r.site.digest, first.site.digest);
  assert.is(r.record, first.record);
  // A valid state of another key (another working directory) put in its place.
  const other = stateFileOf(stateKeyOf(repo.site, { cwd: join(repo.root, 'sites') }))!;
  await run(reg, repo.root, repo.site);
  const mine = readFileSync(file);
  await publish({ sites: [repo.site], sinkFor: reg.sinkFor, cwd: join(repo.root, 'sites'), recordDir: null, remember: true });
  assert.ok(existsSync(other), 'the other key has a state');
  writeFileSync(file, readFileSync(other));
  assert.not.ok(readFileSync(file).equals(mine));
  r = await run(reg, repo.root, repo.site);
  assert.is(r.site.unchanged, undefined, "another key's state is not believed");
  assert.is(r.record, first.record);
  // A FIFO where the state was: not opened (no hang), the site compiled.
  rmSync(file);
  execFileSync('mkfifo', [file]);
  r = await run(reg, repo.root, repo.site);
  assert.is(r.site.unchanged, undefined, 'a FIFO is no state');
  assert.is(r.record, first.record);
});

test('a first publish into a repository that holds part of it already (a push cut short) ends complete', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'unchanged-partial' });
  const whole = new MemoryRegistry();
  await settle();
  const ref = await run(counted(whole), repo.root, repo.site, { force: true });
  // Another registry that got half of the blobs and none of the manifests or tags.
  const mem = new MemoryRegistry();
  const blobs = [...whole.blobs.get(`${REGISTRY}/location_y`)!];
  mem.blobs.set(`${REGISTRY}/location_y`, new Map(blobs.slice(0, blobs.length >> 1)));
  const r = await run(counted(mem), repo.root, repo.site, { force: true });
  assert.is(r.site.digest, ref.site.digest);
  assert.is(mem.tags.get(`${REGISTRY}/location_y`)!.get('location_y'), ref.site.digest);
  assert.equal([...mem.blobs.get(`${REGISTRY}/location_y`)!.keys()].sort(), blobs.map(([d]) => d).sort(), 'every blob is there');
  assert.equal(
    [...mem.manifests.get(`${REGISTRY}/location_y`)!.keys()].sort(),
    [...whole.manifests.get(`${REGISTRY}/location_y`)!.keys()].sort(),
  );
});

test('HEAD moved back (a reset, another branch) past commits that touched the site is a change, as is an uncommitted edit of any file of it', async () => {
  const repo = publishedRepo(REGISTRY, { label: 'unchanged-back' });
  const reg = counted(new MemoryRegistry());
  const gitIn = (...a: string[]) => execFileSync('git', a, { cwd: repo.root, stdio: 'ignore' });
  // A tracked file of the site directory that no compile reads.
  writeFileSync(join(repo.site, 'NOTES.md'), 'rack 4\n');
  repo.commit('notes');
  // Two commits that change a node and change it back: the files end as they were.
  const node = join(repo.site, 'nodes/y-hv-02.yaml');
  const before = readFileSync(node, 'utf8');
  writeFileSync(node, `${before}kernel_args: [nomodeset]\n`);
  repo.commit('edit');
  writeFileSync(node, before);
  repo.commit('undo');
  await settle();
  const published = await run(reg, repo.root, repo.site);
  assert.is((await run(reg, repo.root, repo.site)).site.unchanged, true);
  // Back past both: git touches no file (they are as they were), so every stamp holds.
  gitIn('reset', '-q', '--hard', 'HEAD~2');
  const back = await run(reg, repo.root, repo.site);
  assert.is(back.site.unchanged, undefined, 'a reset past commits of the site: compiled');
  assert.is.not(back.site.digest, published.site.digest, 'the last commit of its inputs is another');
  const full = await run(counted(new MemoryRegistry()), repo.root, repo.site, { force: true });
  assert.is(full.site.digest, back.site.digest);
  assert.is((await run(reg, repo.root, repo.site)).site.unchanged, true);
  // An uncommitted edit, in place, of a tracked file the compile never reads: a full publish refuses it.
  writeFileSync(join(repo.site, 'NOTES.md'), 'rack 5\n');
  const dirty = await publish({
    sites: [repo.site],
    sinkFor: reg.sinkFor,
    cwd: repo.root,
    recordDir: 'published',
    remember: true,
    fleetState: false,
  });
  assert.equal(
    dirty.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
    ['PUBLISH_DIRTY'],
    'uncommitted changes: compiled and refused, as a full publish does',
  );
});

test("one `git status` answers a run's sites, only for inputs settled before it ran: an edit, a new file or a removed node after it is still seen", async () => {
  const repo = publishedRepo(REGISTRY, { label: 'unchanged-status' });
  const node = join(repo.site, 'nodes/y-hv-02.yaml');
  const settled = () => new Promise((r) => setTimeout(r, 150));
  /** The site's git answer (its dirty problem, or clean), and whether this run's status answered it. */
  const ask = async (git: GitChanges) => {
    const answers: (string[] | undefined)[] = [];
    const spy = Object.assign(Object.create(git), {
      changesFor: (...a: Parameters<GitChanges['changesFor']>) => {
        const r = git.changesFor(...a);
        answers.push(r);
        return r;
      },
    }) as GitChanges;
    const built = await siteArtifact(repo.site, { cwd: repo.root }, new Map(), new Map(), spy);
    const dirty = built.diagnostics.filter((d) => d.code === 'PUBLISH_DIRTY').map((d) => d.message);
    assert.is(answers.length, 1, 'asked once');
    return { dirty, fromRun: answers[0] !== undefined };
  };
  // Settled inputs, the status taken after them: answered from it, clean; then with an uncommitted edit, dirty, as git itself says.
  await settled();
  let git = new GitChanges(0);
  let r = await ask(git);
  assert.equal(r, { dirty: [], fromRun: true });
  writeFileSync(node, `${readFileSync(node, 'utf8')}kernel_args: [quiet]\n`);
  await settled();
  r = await ask(new GitChanges(0));
  assert.ok(r.fromRun, 'answered from the run');
  assert.is(r.dirty.length, 1);
  assert.match(r.dirty[0]!, /nodes\/y-hv-02\.yaml/);
  const ownStatus = r.dirty[0];
  assert.equal((await ask(new GitChanges(Number.MAX_SAFE_INTEGER))).dirty, [ownStatus], 'the same problem as git asked for the site alone');
  execFileSync('git', ['checkout', '-q', '--', node], { cwd: repo.root });
  await settled();
  // The run's status taken while the tree was clean; then an edit, a new untracked file, a removed node: each seen.
  for (const change of [
    () => writeFileSync(node, `${readFileSync(node, 'utf8')}kernel_args: [quiet]\n`),
    () => writeFileSync(join(repo.site, 'NOTES.md'), 'rack 4\n'),
    () => unlinkSync(join(repo.site, 'nodes/y-hv-03.yaml')),
  ]) {
    git = new GitChanges(0);
    assert.equal((await ask(git)).dirty, [], 'clean when the status ran');
    change();
    await settled(); // past a racy stamp: only the time of the run's status tells
    r = await ask(git);
    assert.not.ok(r.fromRun, 'an input changed after the status: git asked again');
    assert.is(r.dirty.length, 1, 'refused as dirty');
    execFileSync('git', ['checkout', '-q', '--', '.'], { cwd: repo.site });
    execFileSync('git', ['clean', '-q', '-f', '--', '.'], { cwd: repo.site });
    await settled();
  }
});

test.run();
