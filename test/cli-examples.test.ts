// The copy-ready CI files of examples/ci/, run as a CI runner would: the check job's steps, in a
// fresh clone of a user's inventory repository (harvgen pinned from a release tarball, a site and
// its committed out/, no secrets), must pass, and fail once out/ is stale. Every harvgen command
// and flag the files name (the deploy job's too, which needs a boot server and is not run) must
// exist, and no check step may go missing.
import { appendFileSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { must, packSnapshot, sh, shLine, snapshotRepo, userRepo } from './helpers/package.ts';
import { tempDir } from './helpers/tmp.ts';

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
let harvgen = '';
/** A user's inventory repository, committed and cloned as a CI runner clones it (once per run). */
function clonedInventory(): string {
  if (ciRepo) return ciRepo;
  const tarball = packSnapshot(snapshotRepo().dir);
  const user = userRepo('ci-user');
  mkdirSync(join(user, 'vendor'));
  copyFileSync(tarball, join(user, 'vendor', basename(tarball)));
  must('npm', ['install', '--save-exact', `./vendor/${basename(tarball)}`], user);
  harvgen = join(user, 'node_modules/.bin/harvgen');
  must(harvgen, ['init', 'sites/x'], user);
  must(harvgen, ['build'], user);
  must('git', ['add', '-A'], user);
  must('git', ['commit', '-q', '-m', 'inventory'], user);
  ciRepo = join(tempDir('ci-clone'), 'repo');
  must('git', ['clone', '-q', user, ciRepo], tempDir('ci-cwd'));
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
  });

  test(`${file}: the check job's steps pass in a fresh clone of an inventory repository, and fail once out/ is stale`, () => {
    const clone = clonedInventory();
    const run = (which: readonly string[]) => which.map((step) => ({ step, ...shLine(step, clone, { CI: 'true' }) }));
    for (const r of run(steps().check)) assert.is(r.code, 0, `step \`${r.step}\` failed:\n${r.out}`);
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
  clonedInventory();
  const overview = sh(harvgen, ['--help'], ciRepo).out;
  const named = files
    .flatMap(([, steps]) => [...steps().check, ...steps().deploy])
    .flatMap((s) => [...s.matchAll(/\bharvgen ([a-z-]+)([^\n;&|]*)/g)]);
  assert.ok(named.length >= 8, `harvgen commands found: ${named.length}`);
  const helps = new Map<string, string>();
  for (const [, command = '', rest = ''] of named) {
    assert.match(overview, new RegExp(`^\\s+${command}\\b`, 'm'), `harvgen has no command ${command}`);
    const help = helps.get(command) ?? sh(harvgen, [command, '--help'], ciRepo).out;
    helps.set(command, help);
    for (const flag of rest.match(/--[a-z-]+/g) ?? [])
      assert.ok(help.includes(`${flag} `) || help.includes(`${flag}\n`), `harvgen ${command} has no flag ${flag}`);
  }
});

test.run();
