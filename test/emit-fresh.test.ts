// A site's first build (src/emit/fresh.ts): its directory made whole beside it and renamed into
// place. The tree is the one a build into an existing (empty) directory writes, file for file and
// mode for mode; kill -9 while it is staged leaves no site directory (never a torn one) and a
// staging directory the next build removes; a staging directory a live process writes is left;
// a site directory that appears meanwhile is written the usual way.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, type Artifact } from '../src/index.ts';
import { emitSite } from '../src/emit/index.ts';
import { emitFresh, STAGING_MARK } from '../src/emit/fresh.ts';
import { makeStaging, releaseStaging } from '../src/durable/staging.ts';
import { modeOf, readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

const bin = fileURLToPath(new URL('../bin/harvgen.js', import.meta.url));
const SITE = fileURLToPath(new URL('../sites/location_x', import.meta.url));

/** Every file and directory under `dir` with its mode, sorted. */
function modes(dir: string): [string, number][] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => !p.startsWith('.harvgen-cache'))
    .sort()
    .map((p) => [p, modeOf(join(dir, p))]);
}

let artifacts: readonly Artifact[] = [];

test('a first build writes the tree a build into an existing empty directory writes, and says the same', async () => {
  const fresh = join(tempDir('emit-fresh'), 'out');
  const a = await build({ sites: [SITE], outDir: fresh, keepArtifacts: true });
  assert.ok(a.ok, JSON.stringify(a.diagnostics));
  artifacts = a.compiled[0]!.artifacts!;
  const usual = join(tempDir('emit-usual'), 'out');
  mkdirSync(join(usual, 'location_x'), { recursive: true });
  const b = await build({ sites: [SITE], outDir: usual });
  assert.ok(b.ok, JSON.stringify(b.diagnostics));
  assert.equal(readTree(join(fresh, 'location_x')), readTree(join(usual, 'location_x')));
  assert.equal(modes(join(fresh, 'location_x')), modes(join(usual, 'location_x')));
  assert.is(modeOf(join(fresh, 'location_x')), modeOf(join(usual, 'location_x')));
  assert.equal([a.sites[0]!.written.length, a.sites[0]!.unchanged.length, a.sites[0]!.removed.length], [b.sites[0]!.written.length, 0, 0]);
  assert.equal(
    readdirSync(fresh).filter((n) => n.includes(STAGING_MARK)),
    [],
    'no staging directory is left',
  );
});

/** `harvgen build` of the example site as a child process, with a test crash point. */
function killedBuild(out: string, point: string): Promise<string | null> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [bin, 'build', SITE, '--out', out, '--quiet'], {
      env: { ...process.env, HARVGEN_TEST_CRASH: point },
      stdio: 'ignore',
    });
    child.on('exit', (_code, signal) => res(signal));
  });
}

test('kill -9 while staged: no site directory at all, and the next build removes the staging directory and writes the whole tree', async () => {
  for (const point of ['staged:1', 'staged:10', 'before-staging-rename:1']) {
    const out = join(tempDir('emit-fresh-kill'), 'out');
    assert.is(await killedBuild(out, point), 'SIGKILL', `${point}: the crash point was reached`);
    assert.not.ok(existsSync(join(out, 'location_x')), `${point}: no torn site directory`);
    const left = readdirSync(out).filter((n) => n.startsWith(`.location_x${STAGING_MARK}`));
    assert.is(left.length, 1, `${point}: the staging directory is there: ${readdirSync(out).join(' ')}`);
    const r = await build({ sites: [SITE], outDir: out });
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    assert.equal(
      readdirSync(out).filter((n) => n.includes(STAGING_MARK)),
      [],
      `${point}: the dead run's staging directory is removed`,
    );
    assert.is(readTree(join(out, 'location_x')).size, artifacts.length);
  }
});

test("a live process's staging directory is left alone; one of a dead process is removed", () => {
  const out = tempDir('emit-fresh-live');
  const live = join(out, `.location_x${STAGING_MARK}1`); // pid 1 is always alive
  const dead = join(out, `.location_x${STAGING_MARK}${2 ** 22 + 1}`); // above Linux's pid_max
  const other = join(out, `.location_y${STAGING_MARK}${2 ** 22 + 1}`); // another site's
  for (const d of [live, dead, other]) {
    mkdirSync(d);
    writeFileSync(join(d, 'boot.ipxe'), 'x');
  }
  const r = emitFresh(join(out, 'location_x'), artifacts);
  assert.ok(r && r.written.length === artifacts.length);
  assert.ok(existsSync(live) && existsSync(other));
  assert.not.ok(existsSync(dead));
});

test("one named with this process's pid that it does not hold (an earlier process's of the same pid) is removed; one it holds is never touched", async () => {
  const out = tempDir('emit-fresh-pid');
  const mine = join(out, `.location_x${STAGING_MARK}${process.pid}`);
  mkdirSync(mine);
  writeFileSync(join(mine, 'stale.txt'), 'left by a process that had this pid');
  const r = emitFresh(join(out, 'location_x'), artifacts);
  assert.ok(r && r.written.length === artifacts.length);
  assert.not.ok(existsSync(mine));
  assert.not.ok(existsSync(join(out, 'location_x/stale.txt')));
  // Held by this process (a render staging the site): emitFresh leaves it and says to write the usual way.
  const again = tempDir('emit-fresh-held');
  const held = makeStaging(again, 'location_x')!;
  writeFileSync(join(held.dir, 'boot.ipxe'), 'being written');
  assert.is(emitFresh(join(again, 'location_x'), artifacts), undefined);
  assert.is(readFileSync(join(held.dir, 'boot.ipxe'), 'utf8'), 'being written');
  releaseStaging(held.dir);
});

test('a site directory that appears meanwhile: the staged files are dropped and the build writes it the usual way', async () => {
  const out = tempDir('emit-fresh-race');
  const root = join(out, 'location_x');
  mkdirSync(root);
  writeFileSync(join(root, 'keep.txt'), 'another build made this directory');
  // emitFresh sees the directory only at its rename (as when another build wins the race).
  assert.is(emitFresh(root, artifacts), undefined);
  assert.equal(readdirSync(out), ['location_x']);
  const r = await emitSite(root, artifacts);
  assert.is(r.written.length, artifacts.length);
  assert.ok(statSync(join(root, 'keep.txt')).isFile(), 'a file harvgen never wrote is left');
});

test.run();
