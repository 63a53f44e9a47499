// One repository boundary for every reader (src/load/repo.ts): the nearest directory with a
// `.git` directory or file, else the site directory alone; nothing outside it is read, through
// a link or `../`: inventory files (site.yaml, nodes/, the shared layers), secret files,
// cloud-init user-data files, iPXE binaries (a system directory named by its absolute path
// excepted). `init` never writes through a link and never leaves a partial site.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { build, check, type CompiledSite } from '../src/index.ts';
import { initSite } from '../src/cli/init.ts';
import { repoBoundary } from '../src/load/repo.ts';
import { exampleSite } from './helpers/example.ts';
import { hasStackTrace, runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';
import { harvester } from './helpers/kinds.ts';

type Doc = Record<string, Record<string, unknown>>;

/** A line that must never be printed or published: it stands for a kubeconfig key, /etc/passwd, a vault token. */
const SECRET_LINE = 'client-key-data: TOP-SECRET-OUTSIDE-THE-REPOSITORY';

/** A file outside every repository of the test, holding SECRET_LINE. */
function outsideFile(name = 'secret.txt', text = `${SECRET_LINE}\n`): string {
  const dir = tempDir('outside');
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

/** Write the example site (secrets from the environment) into `dir`, changed by `edit`. */
function writeSite(dir: string, edit: (d: Doc) => void = () => {}): string {
  mkdirSync(dir, { recursive: true });
  const doc = exampleSite();
  edit(doc);
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

/** Everything a check returns (diagnostics, code-frame sources) as one string. */
const everything = (sites: readonly CompiledSite[], diagnostics: unknown) =>
  JSON.stringify({ sites: sites.map((s) => s.sources), diagnostics });

/** Every byte of every file below `dir`. */
function treeText(dir: string): string {
  if (!existsSync(dir)) return '';
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'latin1'))
    .join('\n');
}

test('the boundary: the nearest .git directory or file; else the site directory alone, never its parent, / or a home directory', () => {
  const plain = tempDir('bnd-plain');
  const site = join(plain, 'sites/x');
  mkdirSync(site, { recursive: true });
  // No .git: the site directory alone (it was the parent of sites/).
  assert.equal([repoBoundary(site).root, repoBoundary(site).kind], [site, 'site']);
  // A .git directory above it.
  mkdirSync(join(plain, '.git'));
  assert.equal([repoBoundary(site).root, repoBoundary(site).kind], [plain, 'git']);
  // A .git file (a submodule or a worktree) nearer: that one.
  writeFileSync(join(site, '.git'), 'gitdir: ../../.git/modules/x\n');
  assert.equal([repoBoundary(site).root, repoBoundary(site).kind], [site, 'git']);
  // The nearest .git in a home directory (a dotfiles repository): not a boundary.
  const home = tempDir('bnd-home');
  mkdirSync(join(home, '.git'));
  const inHome = join(home, 'work/sites/x');
  mkdirSync(inHome, { recursive: true });
  const saved = process.env.HOME;
  process.env.HOME = home;
  try {
    const b = repoBoundary(inHome);
    assert.equal([b.root, b.kind], [inHome, 'site']);
    assert.match(b.reason!, /home directory/);
  } finally {
    process.env.HOME = saved;
  }
});

test('finding 1: a link beside a submodule site named like an iPXE binary is not published', async () => {
  const repo = tempDir('bnd-sub');
  mkdirSync(join(repo, '.git'));
  const dir = writeSite(join(repo, 'sites/x'), (d) => (d.boot!.ipxe_binaries = '..'));
  writeFileSync(join(dir, '.git'), 'gitdir: ../../.git/modules/x\n'); // the site is a submodule
  writeFileSync(join(repo, 'sites/snponly.efi'), 'MZ loader');
  symlinkSync(outsideFile(), join(repo, 'sites/undionly.kpxe'));
  const out = tempDir('bnd-sub-out');
  const r = await build({ sites: [dir], outDir: out });
  assert.not.ok(r.ok);
  const d = r.diagnostics.find((x) => x.code === 'LOAD_OUTSIDE_REPOSITORY');
  assert.ok(d && d.path === 'boot.ipxe_binaries' && d.file !== undefined && d.line !== undefined, JSON.stringify(r.diagnostics));
  assert.match(d.message, /is outside the repository/);
  assert.not.ok(treeText(out).includes('TOP-SECRET'), 'the file outside was published');
});

test('finding 1: without a .git, a site outside sites/ cannot publish a link beside it either', async () => {
  const base = tempDir('bnd-nogit');
  const dir = writeSite(join(base, 'inventory/x'), (d) => (d.boot!.ipxe_binaries = '..'));
  writeFileSync(join(base, 'inventory/snponly.efi'), 'MZ loader');
  symlinkSync(outsideFile(), join(base, 'inventory/undionly.kpxe'));
  const out = tempDir('bnd-nogit-out');
  const r = await build({ sites: [dir], outDir: out });
  assert.ok(
    r.diagnostics.some((x) => x.code === 'LOAD_OUTSIDE_REPOSITORY' && /site directory/.test(x.message)),
    JSON.stringify(r.diagnostics),
  );
  assert.not.ok(treeText(out).includes('TOP-SECRET'));
});

test('finding 1: a link in the repository to a directory outside it is refused; a link that stays inside is followed', async () => {
  const repo = tempDir('bnd-bin');
  mkdirSync(join(repo, '.git'));
  const elsewhere = resolve(outsideFile('undionly.kpxe'), '..');
  writeFileSync(join(elsewhere, 'snponly.efi'), 'MZ loader');
  const dir = writeSite(join(repo, 'sites/x'), (d) => (d.boot!.ipxe_binaries = 'bin'));
  symlinkSync(elsewhere, join(dir, 'bin'));
  const out = tempDir('bnd-bin-out');
  const r = await build({ sites: [dir], outDir: out });
  const d = r.diagnostics.find((x) => x.code === 'LOAD_OUTSIDE_REPOSITORY');
  assert.ok(d && d.path === 'boot.ipxe_binaries' && /through the link/.test(d.message), JSON.stringify(r.diagnostics));
  assert.not.ok(treeText(out).includes('TOP-SECRET'));
  // Inside the repository, links that stay inside are fine (the directory and a binary).
  const shared = join(repo, 'ipxe-shared');
  mkdirSync(shared);
  writeFileSync(join(shared, 'real-snponly.efi'), 'MZ shared loader');
  symlinkSync('real-snponly.efi', join(shared, 'snponly.efi'));
  const ok = writeSite(join(repo, 'sites/y'), (d) => {
    (d as Record<string, unknown>).site = 'y';
    d.boot!.ipxe_binaries = 'bin';
  });
  symlinkSync(shared, join(ok, 'bin'));
  const good = await build({ sites: [ok], outDir: out });
  assert.ok(good.ok, JSON.stringify(good.diagnostics));
  assert.is(readFileSync(join(out, 'y/snponly.efi'), 'utf8'), 'MZ shared loader');
});

test('finding 2: without a .git, secret and user-data files beside the site are outside (not ~/.vault-token through ../..)', async () => {
  const home = tempDir('bnd-home2');
  writeFileSync(join(home, '.vault-token'), 'hvs.TOP-SECRET-VAULT-TOKEN\n');
  const dir = writeSite(join(home, 'sites/x'), (d) => (d.cluster!.token = { file: '../../.vault-token' }));
  for (const secrets of ['filled', 'markers'] as const) {
    const r = await check({ sites: [dir], secrets });
    const d = r.diagnostics.find((x) => x.code === 'SECRET_FILE_MISSING' && x.path === 'cluster.token');
    assert.ok(d && /is outside the site directory/.test(d.message) && d.line !== undefined, `${secrets}: ${JSON.stringify(r.diagnostics)}`);
    assert.not.ok(everything(r.sites, r.diagnostics).includes('TOP-SECRET'));
  }
  // With a repository above, the same file is inside and read.
  mkdirSync(join(home, '.git'));
  const inRepo = await check({ sites: [dir], secrets: 'filled' });
  assert.not.ok(
    inRepo.diagnostics.some((x) => x.code === 'SECRET_FILE_MISSING'),
    JSON.stringify(inRepo.diagnostics),
  );
  // A dangling link (no --deploy: the file is not read) that points out of the repository is refused too.
  const linked = writeSite(join(home, 'sites/y'), (d) => {
    (d as Record<string, unknown>).site = 'y';
    d.cluster!.token = { file: 'secrets/token' };
  });
  mkdirSync(join(linked, 'secrets'));
  symlinkSync(join(tempDir('gone'), 'no-such-token'), join(linked, 'secrets/token'));
  const dangling = await check({ sites: [linked] });
  assert.ok(
    dangling.diagnostics.some((x) => x.code === 'SECRET_FILE_MISSING' && /is outside/.test(x.message)),
    JSON.stringify(dangling.diagnostics),
  );
});

test('finding 2: user-data files obey the same boundary', async () => {
  const base = tempDir('bnd-ud');
  writeFileSync(join(base, 'ud.cfg'), `#cloud-config\n${SECRET_LINE}\n`);
  const dir = writeSite(join(base, 'sites/x'), (d) => {
    d.os_profiles = { rocky: { kernel: 'http://192.168.122.1/os/k', initrds: ['http://192.168.122.1/os/i'] } };
    (d.nodes as unknown as Doc[]).push({
      hostname: 'gen-1',
      mac: '52:54:00:aa:cc:01',
      ip: '192.168.122.31',
      os: 'rocky',
      cloud_init: { user_data_file: '../../ud.cfg' },
    } as unknown as Doc);
  });
  const r = await check({ sites: [dir] });
  const d = r.diagnostics.find((x) => x.code === 'CLOUD_INIT_INVALID');
  assert.ok(d && /is outside the site directory/.test(d.message), JSON.stringify(r.diagnostics));
});

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

test('finding 3: nodes -> a large directory outside is refused before it is listed', async () => {
  const repo = tempDir('bnd-usr');
  mkdirSync(join(repo, '.git'));
  const dir = writeSite(join(repo, 'sites/x'));
  const big = tempDir('bnd-big');
  for (let i = 0; i < 300; i++) {
    mkdirSync(join(big, `d${i}`));
    writeFileSync(join(big, `d${i}`, 'n.yaml'), `${SECRET_LINE}\n`);
  }
  symlinkSync(big, join(dir, 'nodes'));
  const r = await check({ sites: [dir], cwd: repo });
  assert.equal(Object.keys(r.sites[0]!.sources), ['sites/x/site.yaml'], 'nothing below nodes/ was read');
  assert.ok(r.diagnostics.some((x) => x.code === 'LOAD_OUTSIDE_REPOSITORY' && x.file === 'sites/x/nodes'));
  if (existsSync('/usr')) {
    const usr = writeSite(join(repo, 'sites/usr'));
    symlinkSync('/usr', join(usr, 'nodes'));
    const t0 = performance.now();
    const u = await check({ sites: [usr], cwd: repo });
    const ms = performance.now() - t0;
    assert.ok(u.diagnostics.some((x) => x.code === 'LOAD_OUTSIDE_REPOSITORY' && x.file === 'sites/usr/nodes'));
    assert.ok(ms < 2000, `nodes -> /usr took ${ms} ms`);
  }
});

test('without a repository, shared layers beside the site are refused (at the file, telling to git init); links that stay inside are read', async () => {
  const base = tempDir('bnd-layers');
  const dir = writeSite(join(base, 'sites/x'));
  writeFileSync(join(base, 'sites/_defaults.yaml'), 'mtu: 9000\n');
  const r = await check({ sites: [dir], cwd: base });
  const d = r.diagnostics.find((x) => x.code === 'LOAD_OUTSIDE_REPOSITORY');
  assert.ok(d && d.file === 'sites/_defaults.yaml' && /git init/.test(d.hint ?? ''), JSON.stringify(r.diagnostics));
  // In a repository: read, also through links that stay inside it (a node file, the profiles directory).
  mkdirSync(join(base, '.git'));
  mkdirSync(join(base, 'shared/profiles'), { recursive: true });
  writeFileSync(join(base, 'shared/profiles/big.yaml'), 'lab:\n  vcpus: 12\n');
  symlinkSync(join(base, 'shared/profiles'), join(base, 'sites/_profiles'));
  writeFileSync(join(base, 'shared/hv-9.yaml'), 'mac: 52:54:00:aa:bb:09\nip: 192.168.122.19\nprofile: big\n');
  mkdirSync(join(dir, 'nodes'));
  symlinkSync('../../../shared/hv-9.yaml', join(dir, 'nodes/hv-9.yaml'));
  const ok = await check({ sites: [dir], cwd: base });
  assert.equal(
    ok.diagnostics.filter((x) => x.severity === 'error'),
    [],
  );
  const node = harvester(ok.sites[0]!.model!.nodes.find((n) => n.hostname === 'hv-9'));
  assert.ok(node && node.mtu === 9000 && node.lab.vcpus === 12, JSON.stringify(node));
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

test('init allows links above the repository (a linked /home) and writes through none below it', async () => {
  const base = tempDir('bnd-init-above');
  const real = join(base, 'real');
  mkdirSync(join(real, 'repo/.git'), { recursive: true });
  mkdirSync(join(real, 'repo/sites'));
  symlinkSync(real, join(base, 'home'));
  const r = await initSite(join(base, 'home/repo/sites/new'));
  assert.ok('files' in r, JSON.stringify(r));
  assert.ok(existsSync(join(real, 'repo/sites/new/secrets/token')));
  // Outside any repository, the directory init writes into may sit below a link too.
  const plain = tempDir('bnd-init-plain');
  mkdirSync(join(plain, 'data'));
  symlinkSync(join(plain, 'data'), join(plain, 'linked'));
  mkdirSync(join(plain, 'data/sites'));
  const p = await initSite(join(plain, 'linked/sites/new'));
  assert.ok('files' in p, JSON.stringify(p));
  // ... but not the link itself, when init would create what is below it.
  const q = await initSite(join(plain, 'linked/new'));
  assert.ok('error' in q && q.error.startsWith(`${join(plain, 'linked')} is a symbolic link;`), JSON.stringify(q));
  assert.not.ok(existsSync(join(plain, 'data/new')));
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
