// harvgen installed the way docs/install.md tells users to, into a user's own inventory
// repository (a git repository holding sites/ and a package.json), with the real npm and git:
// from a release tarball (`npm pack` output) and from a git URL at a commit (npm clones it and
// runs `prepare`, which compiles dist/ there). Both are pinned in the user's package.json. The
// package comes from a snapshot of this checkout, never from the checkout itself (see
// test/helpers/package.ts). Dependencies come from npm's cache when they are there.
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { must, packSnapshot, sh, snapshotRepo, userRepo } from './helpers/package.ts';

let snapshot = { dir: '', commit: '' };
let tarball = '';
const timings: string[] = [];
const timed = <T>(what: string, f: () => T): T => {
  const t0 = Date.now();
  try {
    return f();
  } finally {
    timings.push(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
};

test.before(() => {
  snapshot = timed('snapshot', () => snapshotRepo());
  tarball = timed('npm pack', () => packSnapshot(snapshot.dir));
});
test.after(() => console.log(`cli-install timings: ${timings.join(', ')}`));

// `--no`: never fetch a package named harvgen from the registry; `--`: npm keeps no flag (it takes `--version` for itself).
const npx = (user: string, args: string[]) => sh('npx', ['--no', '--', 'harvgen', ...args], user);
const bin = (user: string, args: string[]) => sh(join(user, 'node_modules/.bin/harvgen'), args, user);
const dependency = (user: string) =>
  (JSON.parse(readFileSync(join(user, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies?.harvgen;
const lockEntry = (user: string) =>
  (
    JSON.parse(readFileSync(join(user, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string; integrity?: string; version?: string }>;
    }
  ).packages['node_modules/harvgen'];

/** What a user does first with a fresh install: a new site that checks, builds and stays current. */
function useSite(user: string): void {
  for (const args of [
    ['init', 'sites/x'],
    ['check', 'sites/x'],
    ['build', 'sites/x'],
    ['build', 'sites/x', '--check'],
  ]) {
    const r = npx(user, args);
    assert.is(r.code, 0, `harvgen ${args.join(' ')}:\n${r.out}`);
  }
  assert.ok(existsSync(join(user, 'out/x/manifest.json')), 'build wrote out/x/');
  // --check compares for real: a committed tree edited by hand is not current.
  appendFileSync(join(user, 'out/x/manifest.json'), ' ');
  const stale = bin(user, ['build', 'sites/x', '--check']);
  assert.is(stale.code, 1, `build --check on an edited out/:\n${stale.out}`);
}

/** The installed package: compiled code and the documented files, no sources. */
function assertInstalled(user: string): void {
  const pkg = join(user, 'node_modules/harvgen');
  for (const f of [
    'bin/harvgen.js',
    'dist/cli.js',
    'dist/index.js',
    'dist/index.d.ts',
    'schema/site.schema.json',
    'CHANGELOG.md',
    'LICENSE',
  ])
    assert.ok(existsSync(join(pkg, f)), `${f} missing from the installed package`);
  for (const f of ['src', 'test', 'scripts', 'tsconfig.json']) assert.not.ok(existsSync(join(pkg, f)), `${f} is shipped`);
}

test('a release tarball installs pinned by its content into a user repository, and its command builds a site', () => {
  const user = userRepo('tarball-user');
  mkdirSync(join(user, 'vendor'));
  const vendored = join('vendor', basename(tarball));
  copyFileSync(tarball, join(user, vendored));
  const r = timed('install from tarball', () => sh('npm', ['install', '--save-exact', `./${vendored}`], user));
  assert.is(r.code, 0, r.out);
  assert.is(dependency(user), `file:${vendored}`);
  assert.match(lockEntry(user)?.integrity ?? '', /^sha512-/, 'the lock file records the tarball by its hash');
  assertInstalled(user);
  timed('use from tarball', () => useSite(user));
  // A copy installed without its build (a git dependency whose `prepare` npm skipped) says so.
  const dist = join(user, 'node_modules/harvgen/dist');
  renameSync(dist, `${dist}.away`);
  const r2 = npx(user, ['check', 'sites/x']);
  renameSync(`${dist}.away`, dist);
  assert.is(r2.code, 2, r2.out);
  assert.match(r2.out, /dist\/ is missing: this copy of harvgen was installed without running its build/);
});

test('an upgrade to a newer tarball replaces the installed version', () => {
  const user = userRepo('upgrade-user');
  mkdirSync(join(user, 'vendor'));
  copyFileSync(tarball, join(user, 'vendor', basename(tarball)));
  assert.is(sh('npm', ['install', '--save-exact', `./vendor/${basename(tarball)}`], user).code, 0);
  // The next release: the same snapshot with a higher version.
  const manifest = join(snapshot.dir, 'package.json');
  const original = readFileSync(manifest, 'utf8');
  const version = (JSON.parse(original) as { version: string }).version;
  const next = `${version}-next.1`;
  let newer: string;
  try {
    writeFileSync(manifest, original.replace(`"version": "${version}"`, `"version": "${next}"`));
    newer = packSnapshot(snapshot.dir);
  } finally {
    writeFileSync(manifest, original);
  }
  copyFileSync(newer, join(user, 'vendor', basename(newer)));
  const r = timed('upgrade from tarball', () => sh('npm', ['install', '--save-exact', `./vendor/${basename(newer)}`], user));
  assert.is(r.code, 0, r.out);
  assert.is(dependency(user), `file:vendor/${basename(newer)}`);
  assert.is(lockEntry(user)?.version, next);
  const v = npx(user, ['--version']);
  assert.is(v.code, 0, v.out);
  assert.match(v.out, new RegExp(`^${next.replace(/[.]/g, '\\.')}$`, 'm'));
});

test('a git URL at a commit installs pinned to that commit; prepare compiles dist/ in the clone', () => {
  // dist/ is not committed: what the user gets was compiled by npm's run of `prepare`.
  assert.is(must('git', ['ls-tree', '--name-only', 'HEAD', 'dist'], snapshot.dir).trim(), '');
  const user = userRepo('git-user');
  const spec = `git+file://${snapshot.dir}#${snapshot.commit}`;
  const r = timed('install from git URL', () => sh('npm', ['install', '--save-exact', spec], user));
  assert.is(r.code, 0, r.out);
  assert.is(dependency(user), spec, 'package.json pins the commit');
  assert.ok(lockEntry(user)?.resolved?.endsWith(`#${snapshot.commit}`), `lock file: ${JSON.stringify(lockEntry(user))}`);
  assertInstalled(user);
  timed('use from git URL', () => useSite(user));
});

test.run();
