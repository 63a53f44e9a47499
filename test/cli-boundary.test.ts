// The repository boundary through the CLI (test/boundary.test.ts has the rest): `harvgen check` on
// inventory files linked out of the repository prints none of their bytes, and `harvgen init` never
// writes through a link and never leaves a partial site.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check } from '../src/index.ts';
import { initSite } from '../src/cli/init.ts';
import { hasStackTrace, runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';
import { outsideFile, writeSite, everything } from './helpers/boundary.ts';

test('finding 3: a symlinked site.yaml, _defaults.yaml, _profiles/, nodes/ or node file outside the repository is not read or printed', async () => {
  const cases: [string, (repo: string, dir: string) => void][] = [
    ['site.yaml', (_, dir) => symlinkSync(outsideFile('site.yaml'), join(dir, 'site.yaml'))],
    ['sites/_defaults.yaml', (repo) => symlinkSync(outsideFile('_defaults.yaml'), join(repo, 'sites/_defaults.yaml'))],
    ['sites/_profiles', (repo) => symlinkSync(resolve(outsideFile('r650.yaml'), '..'), join(repo, 'sites/_profiles'))],
    ['nodes', (_, dir) => symlinkSync(resolve(outsideFile('n1.yaml'), '..'), join(dir, 'nodes'))],
    [
      'nodes/n1.yaml',
      (_, dir) => {
        mkdirSync(join(dir, 'nodes'));
        symlinkSync(outsideFile('n1.yaml'), join(dir, 'nodes/n1.yaml'));
      },
    ],
  ];
  for (const [what, plant] of cases) {
    const repo = tempDir('bnd-files');
    mkdirSync(join(repo, '.git'));
    const dir = join(repo, 'sites/x');
    writeSite(dir);
    if (what === 'site.yaml') spawnSync('rm', [join(dir, 'site.yaml')]);
    plant(repo, dir);
    const r = await check({ sites: [dir], cwd: repo });
    const d = r.diagnostics.find((x) => x.code === 'LOAD_OUTSIDE_REPOSITORY');
    assert.ok(d && d.file === `sites/x/${what}`.replace('sites/x/sites/', 'sites/'), `${what}: ${JSON.stringify(r.diagnostics)}`);
    assert.is(d.line, undefined, 'at the file itself: no code frame');
    assert.match(d.message, /is outside the repository .* \(it resolves to /);
    assert.not.ok(everything(r.sites, r.diagnostics).includes('TOP-SECRET'), `${what}: a line of the file outside is printed`);
    // The printed form too.
    const cli = runCli(['check', dir], repo);
    assert.is(cli.code, 1, cli.stderr);
    assert.match(cli.stderr, /LOAD_OUTSIDE_REPOSITORY/);
    assert.not.ok(cli.stderr.includes('TOP-SECRET') || cli.stdout.includes('TOP-SECRET'), cli.stderr);
  }
});

test('init never writes through a link: a symlinked secrets/ or nodes/, a dangling link; nothing is created', async () => {
  const plant: [string, (dir: string, outside: string) => void][] = [
    ['secrets', (dir, outside) => symlinkSync(outside, join(dir, 'secrets'))],
    ['nodes', (dir, outside) => symlinkSync(outside, join(dir, 'nodes'))],
    [
      'secrets/token',
      (dir, outside) => {
        mkdirSync(join(dir, 'secrets'));
        symlinkSync(join(outside, 'token-elsewhere'), join(dir, 'secrets/token'));
      },
    ],
  ];
  for (const [what, make] of plant) {
    const dir = join(tempDir('bnd-init'), 'site');
    mkdirSync(dir);
    const outside = tempDir('bnd-init-outside');
    make(dir, outside);
    const before = readdirSync(dir, { recursive: true }).sort();
    const r = await initSite(dir);
    assert.ok('error' in r && r.error.includes(`${what} is a symbolic link`) && !r.io, `${what}: ${JSON.stringify(r)}`);
    assert.equal(readdirSync(outside), [], `${what}: written through the link`);
    assert.equal(readdirSync(dir, { recursive: true }).sort(), before, `${what}: a partial site was left`);
  }
  // The CLI: exit 2, the rule named, no stack trace.
  const dir = join(tempDir('bnd-init-cli'), 'site');
  mkdirSync(dir);
  symlinkSync(tempDir('bnd-init-cli-outside'), join(dir, 'secrets'));
  const cli = runCli(['init', dir]);
  assert.is(cli.code, 2, cli.stderr);
  assert.match(cli.stderr, /secrets is a symbolic link; harvgen init never writes through a link/);
  assert.not.ok(hasStackTrace(cli.stderr));
});

test('init never writes through a link higher in the path: `sites/evil -> /tmp/victim` committed in a repository', async () => {
  for (const victimIsRepo of [false, true]) {
    const repo = tempDir('bnd-init-repo');
    mkdirSync(join(repo, '.git'));
    mkdirSync(join(repo, 'sites'));
    const victim = tempDir('bnd-init-victim');
    // A link to another checkout is no more a repository of its own than any other link.
    if (victimIsRepo) mkdirSync(join(victim, '.git'));
    const before = readdirSync(victim);
    symlinkSync(victim, join(repo, 'sites/evil'));
    const r = await initSite(join(repo, 'sites/evil/new'));
    assert.ok('error' in r && !r.io, JSON.stringify(r));
    assert.is(
      r.error,
      `${join(repo, 'sites/evil')} is a symbolic link inside the repository ${repo}; harvgen init never writes through a link (pick a path without one)`,
    );
    assert.equal(readdirSync(victim), before, 'written through the link');
    // The CLI, with the path as the review gave it: exit 2, nothing created.
    const cli = runCli(['init', 'sites/evil/new'], repo);
    assert.is(cli.code, 2, cli.stderr);
    assert.ok(cli.stderr.includes(`sites/evil is a symbolic link inside the repository ${repo}; harvgen init never writes`), cli.stderr);
    assert.not.ok(hasStackTrace(cli.stderr));
    assert.equal(readdirSync(victim), before, 'written through the link by the CLI');
  }
  // Outside a repository (a site unpacked from an archive): a link below the working directory.
  const unpacked = tempDir('bnd-init-unpacked');
  const victim = tempDir('bnd-init-victim');
  mkdirSync(join(victim, 'new'));
  mkdirSync(join(unpacked, 'sites'));
  symlinkSync(victim, join(unpacked, 'sites/evil'));
  const cli = runCli(['init', 'sites/evil/new/site'], unpacked);
  assert.is(cli.code, 2, cli.stderr);
  assert.match(cli.stderr, /sites\/evil is a symbolic link inside the working directory; harvgen init never writes through a link/);
  assert.equal(readdirSync(join(victim, 'new')), []);
});

test('init leaves nothing behind when a write fails after it started (a file size limit: EFBIG)', () => {
  const parent = tempDir('bnd-init-fail');
  const dir = join(parent, 'new/site');
  const bin = resolve(import.meta.dirname, '../bin/harvgen.js');
  // SIGXFSZ ignored (inherited through exec), files limited to 0 blocks: every write fails with EFBIG.
  const r = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 0; exec "${process.execPath}" "${bin}" init "${dir}"`], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /EMIT_WRITE_FAILED/);
  assert.match(r.stderr, /EFBIG; nothing was left behind/);
  assert.not.ok(hasStackTrace(r.stderr));
  assert.equal(readdirSync(parent), [], 'the directories init created are removed too');
});

test.run();
