// One repository boundary for every reader (src/load/repo.ts): the nearest directory with a
// `.git` directory or file, else the site directory alone; nothing outside it is read, through
// a link or `../`: inventory files (site.yaml, nodes/, the shared layers), secret files,
// cloud-init user-data files, iPXE binaries (a system directory named by its absolute path
// excepted). `init` never writes through a link and never leaves a partial site.

import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, check } from '../src/index.ts';
import { initSite } from '../src/cli/init.ts';
import { repoBoundary } from '../src/load/repo.ts';
import { tempDir } from './helpers/tmp.ts';
import { harvester } from './helpers/kinds.ts';
import { SECRET_LINE, outsideFile, writeSite, everything, treeText } from './helpers/boundary.ts';

type Doc = Record<string, Record<string, unknown>>;

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
  // The deploy tree holds the binary (the committed tree lists it only).
  const deployOut = join(tempDir('bnd-bin-deploy'), 'deploy');
  const good = await build({ sites: [ok], outDir: deployOut, secrets: 'filled' });
  assert.ok(good.ok, JSON.stringify(good.diagnostics));
  assert.is(readFileSync(join(deployOut, 'y/snponly.efi'), 'utf8'), 'MZ shared loader');
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

test.run();
