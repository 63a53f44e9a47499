// harvgen installed the way docs/install.md tells users to, into a user's own inventory
// repository (a git repository holding sites/ and a package.json), with the real npm and git:
// from a release tarball (`npm pack` output) and from a git URL at a commit (npm clones it and
// runs `prepare`, which compiles dist/ there). Both are pinned in the user's package.json. The
// package comes from a snapshot of this checkout, never from the checkout itself (see
// test/helpers/package.ts). Dependencies come from npm's cache when they are there.
//
// The copy-ready CI files of examples/ci/ run here too, as a CI runner would, on a clone of the
// tarball user's repository: the check job's steps must pass, and fail once out/ is stale; every
// harvgen command and flag they name (the deploy job's too, which needs a boot server and is not
// run) must exist, and no step may go missing. One file, so that one `npm pack` and one install
// serve all of it.
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { must, packSnapshot, sh, shLine, snapshotRepo, userRepo } from './helpers/package.ts';
import { tempDir } from './helpers/tmp.ts';

let snapshot = { dir: '', commit: '' };
let tarball = '';
/** The repository of the tarball install: a site and its out/, committed (the CI files run on a clone). */
let tarballUser = '';
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
  assert.is(npx(user, ['init', 'sites/x']).code, 0);
  // What the owner does first: replace init's placeholders (NODE_PLACEHOLDER warnings, which fail
  // the CI job's `check --strict`) with the servers' MACs and install disk.
  const siteFile = join(user, 'sites/x/site.yaml');
  writeFileSync(siteFile, readFileSync(siteFile, 'utf8').replace('REPLACE-with-the-install-disk', 'nvme-SAMSUNG_MZ1L2960_S665NE0R100001'));
  for (const n of [1, 2, 3]) {
    const f = join(user, `sites/x/nodes/node-${n}.yaml`);
    writeFileSync(f, readFileSync(f, 'utf8').replace(/02:00:00:00:00:(..)/, '3c:ec:ef:20:0a:$1'));
  }
  for (const args of [
    ['check', 'sites/x', '--strict'],
    ['build', 'sites/x'],
    ['build', 'sites/x', '--check'],
  ]) {
    // npx as users type it for the first two; the bin npx runs for the rest (npx costs a second).
    const r = args[0] === 'build' ? bin(user, args) : npx(user, args);
    assert.is(r.code, 0, `harvgen ${args.join(' ')}:\n${r.out}`);
  }
  assert.ok(existsSync(join(user, 'out/x/manifest.json')), 'build wrote out/x/');
  // --check compares for real: a committed tree edited by hand is not current.
  appendFileSync(join(user, 'out/x/manifest.json'), ' ');
  const stale = bin(user, ['build', 'sites/x', '--check']);
  assert.is(stale.code, 1, `build --check on an edited out/:\n${stale.out}`);
  assert.is(bin(user, ['build', 'sites/x']).code, 0);
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
    'docs/install.md',
    'examples/ci/github-actions.yml',
    'examples/ci/gitlab-ci.yml',
  ])
    assert.ok(existsSync(join(pkg, f)), `${f} missing from the installed package`);
  for (const f of ['src', 'test', 'tsconfig.json']) assert.not.ok(existsSync(join(pkg, f)), `${f} is shipped`);
  // Of scripts/, only what docs/install-without-pxe.md tells users to run, and what it sources.
  assert.equal(readdirSync(join(pkg, 'scripts'), { recursive: true, encoding: 'utf8' }).sort(), [
    'fetch-media-loaders.sh',
    'lib',
    'lib/apt.sh',
  ]);
  assert.ok((statSync(join(pkg, 'scripts/fetch-media-loaders.sh')).mode & 0o111) !== 0, 'the script is executable');
}

test('a release tarball installs pinned by its content into a user repository, and its command builds a site', () => {
  const user = (tarballUser = userRepo('tarball-user'));
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
  must('git', ['add', '-A'], user);
  must('git', ['commit', '-q', '-m', 'inventory'], user);
});

const examples = join(import.meta.dirname, '../examples/ci');

type Steps = { readonly check: readonly string[]; readonly deploy: readonly string[] };

/** GitHub Actions: the `run:` of each step of the check and deploy jobs (`uses:` steps set up the runner). */
function githubSteps(): Steps {
  const doc = parse(readFileSync(join(examples, 'github-actions.yml'), 'utf8')) as {
    jobs: Record<string, { steps: { run?: string; uses?: string }[] }>;
  };
  const runs = (job: string) => (doc.jobs[job]?.steps ?? []).flatMap((s) => (s.run === undefined ? [] : [s.run]));
  return { check: runs('check'), deploy: runs('deploy') };
}

/** GitLab CI: the `script:` lines of the check and deploy jobs. */
function gitlabSteps(): Steps {
  const doc = parse(readFileSync(join(examples, 'gitlab-ci.yml'), 'utf8')) as Record<string, { script?: string[] }>;
  return { check: doc.check?.script ?? [], deploy: doc.deploy?.script ?? [] };
}

const files: readonly [string, () => Steps][] = [
  ['github-actions.yml', githubSteps],
  ['gitlab-ci.yml', gitlabSteps],
];

let ciRepo = '';
/** The tarball user's repository cloned as a CI runner clones it: no node_modules/, no secrets (once per run). */
function clonedInventory(): string {
  if (ciRepo) return ciRepo;
  assert.ok(tarballUser, 'the tarball install ran');
  ciRepo = join(tempDir('ci-clone'), 'repo');
  must('git', ['clone', '-q', tarballUser, ciRepo], tempDir('ci-cwd'));
  return ciRepo;
}

for (const [file, steps] of files) {
  test(`${file}: the check job installs the pinned harvgen, checks the sites and that out/ is current`, () => {
    const { check } = steps();
    for (const want of [/^npm ci\b/, /\bharvgen check\b/, /\bharvgen build --check\b/])
      assert.ok(
        check.some((s) => want.test(s)),
        `no check step matches ${want}: ${JSON.stringify(check)}`,
      );
  });

  test(`${file}: the deploy job builds the deploy tree, copies it with rsync, then verifies the boot server`, () => {
    const { deploy } = steps();
    const at = (want: RegExp) => deploy.findIndex((s) => want.test(s));
    const order = [/\bharvgen build --deploy\b/, /\brsync\b.* deploy\//, /\bharvgen verify\b/].map(at);
    assert.ok(
      order.every((i) => i >= 0),
      `a deploy step is missing: ${JSON.stringify(deploy)}`,
    );
    assert.equal(
      [...order].sort((a, b) => a - b),
      order,
      'build, rsync, verify in that order',
    );
    // The build's up-to-date records (deploy/.harvgen-cache/) stay on the machine that builds.
    assert.match(deploy[order[1]!]!, /--exclude=\.harvgen-cache\//, 'rsync leaves .harvgen-cache/ out');
  });

  test(`${file}: the check job's steps pass in a fresh clone of an inventory repository, and fail once out/ is stale`, () => {
    const clone = clonedInventory();
    const run = (which: readonly string[]) => which.map((step) => ({ step, ...shLine(step, clone, { CI: 'true' }) }));
    for (const r of timed(`${file} check job`, () => run(steps().check))) assert.is(r.code, 0, `step \`${r.step}\` failed:\n${r.out}`);
    appendFileSync(join(clone, 'out/x/manifest.json'), ' ');
    try {
      // Again without the install (it has nothing to do with out/ and is the slow step).
      const failed = run(steps().check.filter((s) => !/^npm ci\b/.test(s))).filter((r) => r.code !== 0);
      assert.equal(
        failed.map((r) => r.step),
        steps().check.filter((s) => /\bharvgen build --check\b/.test(s)),
        'only the out/ check fails on a stale out/',
      );
    } finally {
      must('git', ['checkout', '--', 'out'], clone);
    }
  });
}

test('every harvgen command and flag the CI files name exists', () => {
  const harvgen = join(tarballUser, 'node_modules/.bin/harvgen');
  const overview = sh(harvgen, ['--help'], tarballUser).out;
  const named = files
    .flatMap(([, steps]) => [...steps().check, ...steps().deploy])
    .flatMap((s) => [...s.matchAll(/\bharvgen ([a-z-]+)([^\n;&|]*)/g)]);
  assert.ok(named.length >= 8, `harvgen commands found: ${named.length}`);
  const helps = new Map<string, string>();
  for (const [, command = '', rest = ''] of named) {
    assert.match(overview, new RegExp(`^\\s+${command}\\b`, 'm'), `harvgen has no command ${command}`);
    const help = helps.get(command) ?? sh(harvgen, [command, '--help'], tarballUser).out;
    helps.set(command, help);
    for (const flag of rest.match(/--[a-z-]+/g) ?? [])
      assert.ok(help.includes(`${flag} `) || help.includes(`${flag}\n`), `harvgen ${command} has no flag ${flag}`);
  }
});

test('an upgrade to a newer tarball replaces the installed version', () => {
  const user = tarballUser;
  assert.ok(user, 'the tarball install ran');
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
