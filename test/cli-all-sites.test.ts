// Every site of a repository at once: `harvgen check`/`build` with no directory find every
// site under sites/ (skipping `_` layers); a site with errors is reported with the others and
// not written, the others are (unless --all-or-nothing), and the exit code says a site failed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, discoverSites } from '../src/index.ts';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

/** A repository with sites/location_x (made to fail when `broken`), sites/location_y, a layer dir and a non-site dir. */
function repoWith(broken: boolean): string {
  const root = tempDir('all-sites');
  for (const s of ['location_x', 'location_y']) cpSync(join(repo, 'sites', s), join(root, 'sites', s), { recursive: true });
  mkdirSync(join(root, 'sites/_archive'));
  writeFileSync(join(root, 'sites/_archive/site.yaml'), 'not: a site\n');
  mkdirSync(join(root, 'sites/notes'));
  if (broken) {
    const f = join(root, 'sites/location_x/site.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('  vip: 192.168.122.120', '  vip: 192.168.122.200'));
  }
  return root;
}

test('with no directory, check finds every site under sites/ and skips _ layers and non-sites', async () => {
  const root = repoWith(false);
  assert.equal(await discoverSites(root), ['sites/location_x', 'sites/location_y']);
  const r = runCli(['check'], root);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok  sites\/location_x: site location_x, 3 nodes\nok  sites\/location_y: site location_y, 4 nodes/);
});

test('a site with errors is reported with the others and not written; the others are written; exit 1', () => {
  const root = repoWith(true);
  const r = runCli(['build', '--out', 'out'], root);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /CLUSTER_VIP_IN_DHCP_RANGE/);
  assert.match(r.stderr, /not written: sites\/location_x \(the other sites were written/);
  assert.match(r.stdout, /^location_y: 25 files for 4 nodes/m);
  assert.ok(existsSync(join(root, 'out/location_y/manifest.json')));
  assert.not.ok(existsSync(join(root, 'out/location_x')));
  const j = JSON.parse(runCli(['build', '--out', 'out2', '--json'], root).stdout) as {
    ok: boolean;
    sites: { site: string; ok: boolean; written: string[] | null }[];
  };
  assert.is(j.ok, false);
  assert.equal(
    j.sites.map((s) => [s.site, s.ok, s.written === null]),
    [
      ['location_x', false, true],
      ['location_y', true, false],
    ],
  );
});

test('--all-or-nothing writes no site when one has errors', async () => {
  const root = repoWith(true);
  const r = runCli(['build', '--out', 'out', '--all-or-nothing'], root);
  assert.is(r.code, 1);
  assert.match(r.stderr, /nothing was written/);
  assert.not.ok(existsSync(join(root, 'out')));
  const lib = await build({
    sites: ['sites/location_x', 'sites/location_y'],
    outDir: join(root, 'lib-out'),
    cwd: root,
    allOrNothing: true,
  });
  assert.equal(lib.sites, []);
});

test('`build sites/*`: the shared layers the shell expands too (sites/_defaults.yaml, sites/_profiles) are left out, not built as sites', () => {
  const root = repoWith(false);
  // In a git repository, where the shared layers are read.
  assert.is(spawnSync('git', ['init', '-q'], { cwd: root }).status, 0);
  writeFileSync(join(root, 'sites/_defaults.yaml'), '# shared by every site\n{}\n');
  mkdirSync(join(root, 'sites/_profiles'));
  // What the shell makes of `sites/*` (less sites/notes, a directory that is not a site).
  const words = readdirSync(join(root, 'sites'))
    .filter((n) => n !== 'notes')
    .sort()
    .map((n) => `sites/${n}`);
  assert.equal(words, ['sites/_archive', 'sites/_defaults.yaml', 'sites/_profiles', 'sites/location_x', 'sites/location_y']);
  const r = runCli(['build', ...words, '--out', 'out'], root);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^location_x: 27 files for 3 nodes/m);
  assert.match(r.stdout, /^location_y: 25 files for 4 nodes/m);
  assert.not.match(r.stderr, /LOAD_SITE/);
  // Said, not silent: what was left out.
  assert.match(
    r.stderr,
    /left out sites\/_archive, sites\/_defaults\.yaml, sites\/_profiles: a name starting with _ is a shared layer, not a site/,
  );
  // Only layers: a usage error that says why, for check, build and watch alike.
  for (const cmd of ['check', 'build', 'watch']) {
    const u = runCli([cmd, 'sites/_defaults.yaml', 'sites/_profiles/'], root);
    assert.is(u.code, 2, `${cmd}: ${u.stderr}`);
    assert.match(u.stderr, /sites\/_defaults\.yaml sites\/_profiles\/: a name starting with _ is a shared layer, not a site/);
  }
});

test('with no directory and no sites/, it is a usage error', () => {
  const r = runCli(['build'], tempDir('empty'));
  assert.is(r.code, 2);
  assert.match(r.stderr, /no site directory given, and no sites\/ directory in /);
});

test.run();
