// Every URL that manifest.json names, anywhere in it (files, entry and unknown scripts, node
// scripts and configs, the join config, the HTTP boot loader, cloud-init seeds, the release
// files), is answered 200 by the generated nginx, for every fixture site the real-program suite
// builds. Release files are not in the tree (artifacts/fetch.sh downloads them): the test puts a
// stand-in under the artifacts directory nginx serves them from. A URL on another server (a
// release mirror, an OS profile elsewhere) is not this nginx's to serve and is only counted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram } from './helpers/programs.ts';
import { prepareNginx, startNginx } from './helpers/nginx.ts';
import { httpGet, freePort } from './helpers/http.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { buildFixtureTrees, copyTree, SITE_SOURCES, type SiteTree } from './helpers/tree.ts';
import { tempDir } from '../helpers/tmp.ts';

/** Every fixture site of test/real (the examples, boot, lifecycle and generic fixtures). */
const SOURCES = {
  ...SITE_SOURCES,
  lifecycle_bios: path.join(REPO_ROOT, 'test/fixtures/real/lifecycle_bios'),
  lifecycle_uefi: path.join(REPO_ROOT, 'test/fixtures/real/lifecycle_uefi'),
  lifecycle_uefi_default: path.join(REPO_ROOT, 'test/fixtures/real/lifecycle_uefi_default'),
  generic_bios: path.join(REPO_ROOT, 'test/fixtures/real/generic_bios'),
  generic_uefi: path.join(REPO_ROOT, 'test/fixtures/real/generic_uefi'),
};

/** What a cloud-init NoCloud seed directory URL must serve (cloud-init appends these names). */
const SEED_FILES = ['user-data', 'meta-data', 'vendor-data'];

/** Every string in manifest.json that is a URL, with where it sits (`nodes[0].ipxe[1].url`). */
export function manifestUrls(manifest: unknown, at = ''): { at: string; url: string }[] {
  if (typeof manifest === 'string') return /^[a-z]+:\/\//.test(manifest) ? [{ at, url: manifest }] : [];
  if (Array.isArray(manifest)) return manifest.flatMap((v, i) => manifestUrls(v, `${at}[${i}]`));
  if (manifest && typeof manifest === 'object') return Object.entries(manifest).flatMap(([k, v]) => manifestUrls(v, at ? `${at}.${k}` : k));
  return [];
}

async function check(built: SiteTree): Promise<{ problems: string[]; served: number; elsewhere: number }> {
  // The UEFI HTTP boot loader is the site's to supply when the build does not copy it
  // (`boot.ipxe_binaries`, docs/boot-modes.md "UEFI HTTP boot"): put Debian's in a copy of the tree, as a user would.
  let tree = built;
  const loader = built.manifest.boot.http_boot_url;
  if (loader) {
    const name = path.posix.basename(new URL(loader).pathname);
    if (!(await readFile(path.join(built.dir, name)).catch(() => undefined))) {
      tree = { ...(await copyTree(built, 'loader')), manifest: built.manifest };
      await writeFile(path.join(tree.dir, name), await readFile(path.join('/usr/lib/ipxe', name)));
    }
  }
  const port = await freePort();
  const prefix = tempDir(`urls-${tree.site}`);
  const artifactsDir = path.join(prefix, 'artifacts');
  await mkdir(artifactsDir, { recursive: true });
  const snippet = await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
  // The client is 127.0.0.1, no node: admit it to the node files too (access.test.ts proves who else may fetch them).
  const setup = await prepareNginx({
    prefix,
    snippet,
    rewrite: { treeDir: tree.dir, artifactsDir, listen: `127.0.0.1:${port}`, alsoAllow: ['127.0.0.1'] },
  });
  const server = new URL(tree.manifest.boot.server);
  const base = server.pathname.replace(/\/+$/, '');
  const problems: string[] = [];
  let served = 0;
  let elsewhere = 0;
  // Expected bytes of each path: the tree's file, or a stand-in release file.
  const urls = manifestUrls(tree.manifest).filter((u) => u.at !== 'boot.server');
  const expected = new Map<string, Buffer>();
  for (const { at, url } of urls) {
    const u = new URL(url);
    if (u.origin !== server.origin) {
      elsewhere++;
      continue;
    }
    const paths = u.pathname.endsWith('/') && at.includes('cloud_init') ? SEED_FILES.map((f) => u.pathname + f) : [u.pathname];
    for (const p of paths) {
      if (expected.has(p)) continue;
      const rel = decodeURIComponent(p.slice(base.length + 1));
      const inTree = await readFile(path.join(tree.dir, rel)).catch(() => undefined);
      if (inTree) expected.set(p, inTree);
      else if (at.startsWith('artifacts.') || path.posix.basename(p).startsWith('harvester-')) {
        const standIn = Buffer.from(`stand-in for ${path.posix.basename(p)}\n`);
        await writeFile(path.join(artifactsDir, path.posix.basename(p)), standIn);
        expected.set(p, standIn);
      } else problems.push(`${at}: ${url} names nothing in the tree (${rel})`);
    }
  }
  const daemon = await startNginx(setup, { host: '127.0.0.1', port });
  try {
    for (const [p, bytes] of expected) {
      const r = await httpGet({ host: '127.0.0.1', port, path: p, hostHeader: server.host });
      if (r.status !== 200) problems.push(`GET ${p}: ${r.status}, expected 200`);
      else if (!r.body.equals(bytes)) problems.push(`GET ${p}: the body differs from the file it names`);
      else served++;
    }
  } finally {
    await daemon.stop();
  }
  return { problems, served, elsewhere };
}

let trees: Promise<Record<keyof typeof SOURCES, SiteTree>> | undefined;

for (const key of Object.keys(SOURCES) as (keyof typeof SOURCES)[]) {
  test(`every URL in manifest.json of ${key} is served 200 with its bytes by the generated nginx`, async () => {
    if (!requireProgram('nginx', '/usr/lib/ipxe/snponly.efi')) return;
    trees ??= buildFixtureTrees('manifest-urls', SOURCES);
    const tree = (await trees)[key];
    const { problems, served, elsewhere } = await check(tree);
    assert.equal(problems, [], `${tree.label}:\n  ${problems.join('\n  ')}`);
    // The walk found the URLs: at least the entry script, unknown.ipxe and one script per MAC.
    const macs = tree.manifest.nodes.reduce((n, x) => n + x.ipxe.length, 0);
    assert.ok(served >= 2 + macs, `${tree.label}: only ${served} URLs served (${elsewhere} elsewhere)`);
  });
}

test('mutation: a manifest URL nginx does not serve is caught', async () => {
  if (!requireProgram('nginx', '/usr/lib/ipxe/snponly.efi')) return;
  trees ??= buildFixtureTrees('manifest-urls', SOURCES);
  const tree = (await trees).location_x;
  const broken = structuredClone(tree.manifest) as typeof tree.manifest;
  broken.boot.entry_url = `${tree.manifest.boot.server}/nginx/harvgen.conf`;
  const { problems } = await check({ ...tree, manifest: broken });
  assert.ok(
    problems.some((p) => p.startsWith('GET /nginx/harvgen.conf: 404')),
    `a URL of an unserved file went unnoticed: ${problems.join('; ')}`,
  );
});

test.run();
