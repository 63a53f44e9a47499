// A newcomer's first day, with the docs' own commands and nothing else: from a clean clone
// (README's quick start) and from the packed tarball installed into an empty repository (README's
// install), each reaches a built boot ISO: the boot programs from docs/install-without-pxe.md's one
// command (scripts/fetch-media-loaders.sh, shipped in the package: Debian 13's packages through apt,
// so this needs apt-get, dpkg-deb and Debian's archive), a site from `harvgen init`, made an ISO
// site as that page's inventory says, then `harvgen build --deploy`. Each command is read from the
// page that gives it, so a page whose command changes or stops working fails here. Dependencies
// come from npm's cache where they are there (test/helpers/package.ts).
import { existsSync, readFileSync, writeFileSync, copyFileSync, mkdirSync, readdirSync, openSync, readSync, closeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDocument } from 'yaml';
import { must, packSnapshot, shLine, snapshotRepo, userRepo, repo } from '../helpers/package.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram } from './helpers/programs.ts';

const ready = (): boolean => requireProgram('apt-get', 'dpkg-deb', 'git', 'npm');

/** The one line of `page` that starts with `start` (a command the page gives), its comment cut. */
function docLine(page: string, start: string): string {
  const lines = readFileSync(join(repo, page), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(start));
  assert.is(lines.length, 1, `${page}: one line starting "${start}": ${JSON.stringify(lines)}`);
  return lines[0]!.replace(/\s+#.*$/, '').trim();
}

/** Run a command line of the docs in `cwd`; its output when it fails. */
function run(line: string, cwd: string, env: Record<string, string> = {}): string {
  const r = shLine(line, cwd, env);
  assert.is(r.code, 0, `\`${line}\` (in ${cwd}) exited ${r.code}:\n${r.out}`);
  return r.out;
}

// One apt state for both runs: the second updates its lists instead of fetching them whole.
let aptState = '';
const aptEnv = (): Record<string, string> => ({ HARVGEN_APT_STATE: (aptState ||= join(tempDir('newcomer-apt'), 'apt')) });

/**
 * The site `harvgen init` wrote, made what docs/install-without-pxe.md's inventory says: every node
 * `medium: iso` and `method: static`, the boot programs' directory, a BMC address per node (init's
 * placeholders replaced as the owner does first).
 */
function makeIsoSite(site: string, loaders: string): void {
  const file = join(site, 'site.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['boot', 'media_loaders'], loaders);
  doc.setIn(['defaults', 'medium'], 'iso');
  doc.setIn(['defaults', 'method'], 'static');
  doc.setIn(['defaults', 'install', 'device'], '/dev/disk/by-id/nvme-SAMSUNG_MZ1L2960_S665NE0R100001');
  writeFileSync(file, doc.toString());
  const nodes = readdirSync(join(site, 'nodes')).filter((f) => f.endsWith('.yaml'));
  assert.ok(nodes.length > 0, 'init wrote node files');
  for (const [i, f] of nodes.entries()) {
    const path = join(site, 'nodes', f);
    const node = parseDocument(readFileSync(path, 'utf8').replace(/02:00:00:00:00:(..)/, '3c:ec:ef:20:0a:$1'));
    node.setIn(['bmc'], node.createNode({ address: `192.168.10.${201 + i}` }));
    writeFileSync(path, node.toString());
  }
}

/** The deploy tree's shared boot ISO: an ISO 9660 image, listed in its manifest with its size. */
function assertBootIso(deploy: string): void {
  const iso = join(deploy, 'media/shared.boot.iso');
  assert.ok(existsSync(iso), `no ${iso}`);
  const fd = openSync(iso, 'r');
  const magic = Buffer.alloc(5);
  readSync(fd, magic, 0, 5, 0x8001);
  closeSync(fd);
  assert.is(magic.toString('latin1'), 'CD001', 'an ISO 9660 image');
  const manifest = JSON.parse(readFileSync(join(deploy, 'manifest.json'), 'utf8')) as { files: { path: string; size: number }[] };
  const listed = manifest.files.find((f) => f.path === 'media/shared.boot.iso');
  assert.ok(listed && listed.size > 1_000_000, `manifest.json lists the image: ${JSON.stringify(listed)}`);
}

/** From the site init wrote to its boot ISO, with `harvgen` as `npx harvgen`, the fetch command given. */
function initToIso(cwd: string, fetch: string): void {
  run(fetch, cwd, aptEnv());
  for (const f of ['isolinux.bin', 'isohdpfx.bin', 'ldlinux.c32', 'ipxe.lkrn', 'ipxe.efi'])
    assert.ok(existsSync(join(cwd, 'sites/_media-loaders', f)), `${f} fetched`);
  // README: `npx harvgen init sites/my-site`.
  run(docLine('README.md', 'npx harvgen init sites/my-site'), cwd);
  makeIsoSite(join(cwd, 'sites/my-site'), '../_media-loaders');
  // README: `npx harvgen build --deploy sites/location_x`, for this site.
  run(docLine('README.md', 'npx harvgen build --deploy sites/location_x').replace('location_x', 'my-site'), cwd);
  assertBootIso(join(cwd, 'deploy/my-site'));
}

let snapshot = { dir: '', commit: '' };
const snap = () => (snapshot.dir ? snapshot : (snapshot = snapshotRepo()));

test("from a clean clone, README's commands and the boot programs page's build a site and a boot ISO", () => {
  if (!ready()) return;
  const clone = join(tempDir('newcomer-clone'), 'harvgen');
  must('git', ['clone', '-q', snap().dir, clone], tempDir('newcomer-cwd'));
  // README, "Quick start": `npm ci && npx harvgen build sites/location_x`.
  run(docLine('README.md', 'npm ci && npx harvgen build sites/location_x'), clone);
  assert.ok(existsSync(join(clone, 'out/location_x/manifest.json')), 'out/location_x/ built');
  initToIso(clone, docLine('docs/install-without-pxe.md', 'bash scripts/fetch-media-loaders.sh'));
});

test('from the packed tarball in an empty repository, the same: install, boot programs, init, boot ISO', () => {
  if (!ready()) return;
  const tarball = packSnapshot(snap().dir);
  const user = userRepo('newcomer-user');
  mkdirSync(join(user, 'vendor'));
  copyFileSync(tarball, join(user, 'vendor', basename(tarball)));
  const version = /^harvgen-(.+)\.tgz$/.exec(basename(tarball))![1]!;
  // README, "Install": `npm install --save-exact ./vendor/harvgen-<version>.tgz`.
  run(docLine('README.md', 'npm install --save-exact ./vendor/harvgen-').replace('<version>', version), user);
  initToIso(user, docLine('docs/install-without-pxe.md', 'bash node_modules/harvgen/scripts/fetch-media-loaders.sh'));
});

test.run();
