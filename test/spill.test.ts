// A large site's texts set aside on disk while it renders (src/render/spill.ts): the tree written
// is byte for byte the one kept in memory gives, an edit over a spilled tree writes only what
// changed, nothing is left in the output, and a spill that cannot be made keeps the texts in memory.
// A site's first build stages every text in its staging directory as it renders: the same tree,
// each text written once, and nothing left when the site is not written.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../src/index.ts';
import { artifactsToWire, isSpilled, SpilledText, type Artifact } from '../src/render/artifact.ts';
import { recordStagedForTests, setSpillAfterForTests, setStageBatchForTests, Spill, StagingScope } from '../src/render/spill.ts';
import { compileModel, renderModelled } from '../src/pipeline.ts';
import { emitSite } from '../src/emit/index.ts';
import { STAGING_MARK } from '../src/durable/staging.ts';
import { exampleWithSecrets } from './helpers/example.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

/** A copy of an example site of its own (a process keeps what it rendered of a site directory, and reuses it). */
function siteCopy(name: string): string {
  const site = join(tempDir(`spill-${name}`), name);
  cpSync(join(repo, 'sites', name), site, { recursive: true });
  return site;
}

/** Build `site` into `out`, every text set aside (threshold 0) or none (the default: the example sites are far below it). */
async function buildWith(spill: boolean, site: string, out: string, keepArtifacts = false, force = false) {
  setSpillAfterForTests(spill ? 0 : undefined);
  try {
    const r = await build({ sites: [site], outDir: out, ...(keepArtifacts ? { keepArtifacts } : {}), ...(force ? { force } : {}) });
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    return r;
  } finally {
    setSpillAfterForTests(undefined);
  }
}

test('every text set aside on disk: the very tree kept in memory gives, its files readable, nothing left in the output', async () => {
  const memory = tempDir('spill-memory');
  const spilled = tempDir('spill-disk');
  await buildWith(false, siteCopy('location_y'), memory);
  // Its directory there already (empty): the output root's spill, not a first build's staging.
  mkdirSync(join(spilled, 'location_y'));
  const r = await buildWith(true, siteCopy('location_y'), spilled, true);
  assert.equal(readTree(join(spilled, 'location_y')), readTree(join(memory, 'location_y')));
  assert.equal(
    readdirSync(spilled).filter((f) => f.startsWith('.harvgen-spill')),
    [],
    'the spill file is unlinked as soon as it is made',
  );
  const artifacts = (r.compiled?.[0] as { artifacts?: readonly Artifact[] } | undefined)?.artifacts ?? [];
  const set = artifacts.filter(isSpilled);
  assert.ok(set.length > 10, `files set aside: ${set.length}`);
  assert.ok(
    set.some((a) => a.path === 'manifest.json'),
    'manifest.json too, part by part',
  );
  for (const a of set) assert.is(a.contents, readFileSync(join(spilled, 'location_y', a.path), 'utf8'), `${a.path} reads back`);
  // Across threads a spilled file travels as its text (its spill is the thread's own).
  const wire = artifactsToWire([set[0]!])[0]!;
  assert.not.ok(wire instanceof SpilledText);
  assert.is(wire.contents, set[0]!.contents);
});

test('an edit over a spilled tree writes only what changed, and gives the tree a build in memory gives', async () => {
  const site = siteCopy('location_y');
  const spilled = tempDir('spill-edit-disk');
  await buildWith(true, site, spilled);
  const node = join(site, 'nodes/y-hv-02.yaml');
  writeFileSync(node, `${readFileSync(node, 'utf8')}kernel_args: [nomodeset]\n`);
  const r = await buildWith(true, site, spilled);
  const written = r.sites[0]!.written;
  assert.ok(written.length > 0 && written.length < 10, `written: ${written.join(', ')}`);
  assert.ok(r.sites[0]!.unchanged.length > 10, 'the spilled files that did not change were found unchanged');
  const memory = tempDir('spill-edit-memory');
  const fresh = siteCopy('location_y');
  cpSync(node, join(fresh, 'nodes/y-hv-02.yaml'));
  await buildWith(false, fresh, memory);
  assert.equal(readTree(join(spilled, 'location_y')), readTree(join(memory, 'location_y')));
});

test('--force sets texts aside too; --check compares in memory and finds the spilled tree up to date', async () => {
  const site = siteCopy('location_x');
  const out = tempDir('spill-force');
  const r = await buildWith(true, site, out, true, true);
  const artifacts = (r.compiled?.[0] as { artifacts?: readonly Artifact[] } | undefined)?.artifacts ?? [];
  assert.ok(artifacts.filter(isSpilled).length > 10, 'a forced build spills');
  setSpillAfterForTests(0);
  try {
    const checked = await build({ sites: [site], outDir: out, check: true, keepArtifacts: true });
    assert.ok(checked.ok, JSON.stringify(checked.diagnostics));
    assert.equal(checked.sites[0]!.written, [], 'nothing stale');
    const compared = (checked.compiled?.[0] as { artifacts?: readonly Artifact[] } | undefined)?.artifacts ?? [];
    assert.equal(compared.filter(isSpilled), [], '--check writes nothing, not even a spill');
  } finally {
    setSpillAfterForTests(undefined);
  }
});

test('a spill that cannot be made keeps the texts in memory', () => {
  setSpillAfterForTests(0);
  try {
    const spill = new Spill('/dev/null/harvgen'); // not a directory: mkdir fails
    assert.ok(spill.wants(5));
    assert.is(spill.putText('hello', 'a', 0o644), undefined);
    assert.not.ok(spill.engaged, 'no further text is set aside');
    assert.is(spill.putParts(['a', 'b']), undefined);
  } finally {
    setSpillAfterForTests(undefined);
  }
});

test("a spill left by a killed build (its process gone) is removed by the next one; another process's is not", async () => {
  const out = tempDir('spill-stale');
  const dead = join(out, '.harvgen-spill-999999999-0123456789ab');
  const live = join(out, `.harvgen-spill-${process.pid}-0123456789ab`);
  writeFileSync(dead, 'old');
  writeFileSync(live, 'mine');
  mkdirSync(join(out, 'location_x'));
  await buildWith(true, siteCopy('location_x'), out);
  assert.not.ok(existsSync(dead), "the dead build's spill is gone");
  assert.ok(existsSync(live), 'a running process keeps its own');
});

test('a build lets go of its spill once the site is written: no descriptor stays open', async () => {
  // What each open descriptor names: the process's other descriptors come and go with its other
  // work (an earlier test's build that keeps its artifacts keeps its spill), so this build's spill
  // (in its output directory) is what is judged.
  const out = tempDir('spill-fd');
  const spills = () =>
    readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        return target.startsWith(`${out}/.harvgen-spill-`) ? [target] : [];
      } catch {
        return [];
      }
    });
  await buildWith(true, siteCopy('location_y'), out);
  assert.equal(spills(), [], 'no spill descriptor stays open');
});

test('a deploy build spills into a new directory, never into one it then refuses (a committed tree)', async () => {
  const committed = tempDir('spill-committed');
  const site = exampleWithSecrets('location_x');
  await buildWith(false, site, committed);
  // A spill file of a dead process: a spill made in this directory would remove it (removeStale).
  const stale = join(committed, '.harvgen-spill-999999999-0123456789ab');
  writeFileSync(stale, '');
  setSpillAfterForTests(0);
  try {
    const refused = await build({ sites: [site], outDir: committed, secrets: 'filled' });
    assert.not.ok(refused.ok);
    assert.ok(refused.diagnostics.some((d) => d.code === 'EMIT_OUT_DIR_UNSAFE'));
    assert.ok(existsSync(stale), 'no spill was made there');
    const fresh = join(tempDir('spill-deploy'), 'deploy');
    const r = await build({ sites: [site], outDir: fresh, secrets: 'filled', keepArtifacts: true });
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    const artifacts = (r.compiled?.[0] as { artifacts?: readonly Artifact[] } | undefined)?.artifacts ?? [];
    assert.ok(artifacts.filter(isSpilled).length > 10, 'a new directory: spilled');
  } finally {
    setSpillAfterForTests(undefined);
  }
});

test('a site below the threshold sets nothing aside (its directory there already)', async () => {
  const out = tempDir('spill-none');
  mkdirSync(join(out, 'location_x'));
  const r = await buildWith(false, siteCopy('location_x'), out, true);
  const artifacts = (r.compiled?.[0] as { artifacts?: readonly Artifact[] } | undefined)?.artifacts ?? [];
  assert.ok(artifacts.length > 10);
  assert.equal(artifacts.filter(isSpilled), []);
});

/** Compile and render `site` as build() does for a site it is about to write into `out` for the first time. */
async function stagedRender(site: string, out: string) {
  const staging = new StagingScope();
  staging.writing = true;
  const compiled = renderModelled(await compileModel(site, { spillTo: out, staging }));
  return { staging, artifacts: compiled.artifacts ?? [] };
}

test("a first build: every text written once, into the site's staging directory as it renders; the tree of a build in memory; nothing else left", async () => {
  const memory = tempDir('stage-memory');
  mkdirSync(join(memory, 'location_y'));
  await buildWith(false, siteCopy('location_y'), memory);
  const out = tempDir('stage-first');
  const { staging, artifacts } = await stagedRender(siteCopy('location_y'), out);
  const set = artifacts.filter(isSpilled);
  // Every text but manifest.json (kept in memory, written last) went straight to its file.
  assert.equal(
    artifacts.filter((a) => !isSpilled(a)).map((a) => a.path),
    ['manifest.json'],
  );
  // Held back to be written together: nothing on disk until the batch is full, or emit asks.
  assert.not.ok(existsSync(out) && readdirSync(out).length > 0, 'a small site: its batch is not written yet');
  set[0]!.spill.flush();
  assert.ok(set.length > 10 && set.every((a) => a.stagedIn === join(out, `.location_y${STAGING_MARK}${process.pid}`)));
  const r = await emitSite(join(out, 'location_y'), artifacts);
  assert.is(r.written.length, artifacts.length);
  staging.discard();
  assert.equal(readTree(join(out, 'location_y')), readTree(join(memory, 'location_y')));
  for (const a of set) {
    assert.is(a.contents, readFileSync(join(out, 'location_y', a.path), 'utf8'), `${a.path} reads back from its place`);
    assert.is(statSync(join(out, 'location_y', a.path)).mode & 0o777, a.mode & ~process.umask(), `${a.path}: its mode`);
  }
  assert.equal(readdirSync(out), ['location_y'], 'no staging directory or spill is left');
  // manifest.json is the newest file: the next build's check relies on it.
  const manifest = statSync(join(out, 'location_y/manifest.json')).mtimeMs;
  for (const a of set) assert.ok(statSync(join(out, 'location_y', a.path)).mtimeMs <= manifest, a.path);
});

test('staged in small batches (written when full; a text larger than a batch at once): the same tree', async () => {
  const memory = tempDir('stage-batch-memory');
  mkdirSync(join(memory, 'location_y'));
  await buildWith(false, siteCopy('location_y'), memory);
  const out = tempDir('stage-batch');
  setStageBatchForTests(4096);
  try {
    const { staging, artifacts } = await stagedRender(siteCopy('location_y'), out);
    const set = artifacts.filter(isSpilled);
    assert.ok(set.some((a) => a.size * 3 > 4096) && set.some((a) => a.size < 1000), 'texts of both kinds');
    assert.ok(readdirSync(out).length === 1, 'full batches were written while it rendered');
    await emitSite(join(out, 'location_y'), artifacts);
    staging.discard();
    assert.equal(readTree(join(out, 'location_y')), readTree(join(memory, 'location_y')));
  } finally {
    setStageBatchForTests(undefined);
  }
});

test('a staged first build that is not written leaves no staging directory, nor the output root it made', async () => {
  const out = join(tempDir('stage-failed'), 'out');
  const { staging, artifacts } = await stagedRender(siteCopy('location_y'), out);
  assert.ok(artifacts.filter(isSpilled).length > 10);
  artifacts.find(isSpilled)!.spill.flush();
  assert.equal(readdirSync(out), [`.location_y${STAGING_MARK}${process.pid}`]);
  staging.discard();
  assert.not.ok(existsSync(out), 'the output root it made is gone');
  assert.throws(() => artifacts.find(isSpilled)!.contents, /removed/);
});

test('build() stages a site it writes for the first time, and not one whose directory is there', async () => {
  const staged: string[] = [];
  recordStagedForTests(staged);
  try {
    const out = tempDir('stage-build');
    const site = siteCopy('location_y');
    assert.ok((await build({ sites: [site], outDir: out })).ok);
    assert.equal(staged, ['location_y']);
    assert.ok((await build({ sites: [site], outDir: out, force: true })).ok);
    assert.equal(staged, ['location_y'], 'its directory is there: not staged');
    assert.equal(readdirSync(out).sort(), ['.harvgen-cache', 'location_y']);
  } finally {
    recordStagedForTests(undefined);
  }
});

test('build() stages only the sites it is about to write: not under --all-or-nothing before it knows, nor for a caller keeping the files', async () => {
  const good = siteCopy('location_y');
  const bad = siteCopy('location_x');
  writeFileSync(join(bad, 'site.yaml'), `${readFileSync(join(bad, 'site.yaml'), 'utf8')}no_such_key: 1\n`);
  const out = join(tempDir('stage-aon'), 'out');
  const staged: string[] = [];
  recordStagedForTests(staged);
  try {
    const r = await build({ sites: [good, bad], outDir: out, allOrNothing: true });
    assert.not.ok(r.ok);
    assert.equal(staged, [], 'rendered to report only: nothing staged');
    assert.not.ok(existsSync(out), 'no output root');
    const kept = await build({ sites: [good], outDir: out, keepArtifacts: true });
    assert.ok(kept.ok);
    assert.equal(staged, [], 'the files kept for the caller: not staged');
  } finally {
    recordStagedForTests(undefined);
  }
  // A deploy build into a new directory with --all-or-nothing: written (never refused for a staging directory of its own).
  const deploy = join(tempDir('stage-deploy'), 'deploy');
  const d = await build({ sites: [exampleWithSecrets('location_x')], outDir: deploy, secrets: 'filled', allOrNothing: true });
  assert.ok(d.ok, JSON.stringify(d.diagnostics));
  assert.ok(readdirSync(deploy).every((n) => !n.includes(STAGING_MARK)));
});

test.run();
