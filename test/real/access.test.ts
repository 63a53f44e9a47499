// Per-node access (nginx.access: nodes), proved with a real nginx in a network namespace: every
// file that holds a secret or one node's data is 200 with its exact bytes from the addresses
// manifest.json allows and 403 from any other address of the site's network (one that is no node,
// and another node's); scripts and every other served file stay 200 to both. For the access
// fixture (every kind of protected file) and the example sites, standalone; the fixture in a
// shared server block (locations.conf) under its path prefix, behind a proxy (nginx.real_ip);
// `nginx.access: open`; and two mutations (the rules removed) that the check must catch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { build, type Manifest } from '../../src/index.ts';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { withNetns, type Netns } from './helpers/netns.ts';
import { prepareNginx, startNginx, wrapVerbatim, nginxTest, nginxFailure, sharedServerBlock, type NginxSetup } from './helpers/nginx.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { accessProblems, addAddresses, fetchFrom, outsider, type AccessReport } from './helpers/access.ts';
import { buildFixtureTrees, copyTree, hostPort, SITE_SOURCES, type SiteTree } from './helpers/tree.ts';
import { tempDir } from '../helpers/tmp.ts';
import { withDhcpPair } from './helpers/dhcp.ts';

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/real/access');
const SOURCES = { access: FIXTURE, location_x: SITE_SOURCES.location_x, location_y: SITE_SOURCES.location_y };

/** Figures for the closing line: protected and open files per tree. */
const figures: string[] = [];

/** Addresses of the site's network the test must not use as "no node": boot server, gateway, VIP. */
function taken(tree: SiteTree): string[] {
  const cluster = (tree.input.cluster ?? {}) as { vip?: string };
  return [hostPort(tree.manifest.boot.server).host, tree.input.network.gateway, ...(cluster.vip ? [cluster.vip] : [])];
}

/** Serve `tree` with its own nginx/harvgen.conf (or `conf`) at its generated listen address inside `ns`. */
async function serveStandalone<T>(ns: Netns, tree: SiteTree, fn: () => Promise<T>, conf?: string): Promise<T> {
  const server = hostPort(tree.manifest.boot.server);
  await addAddresses(ns, [server.host]);
  const prefix = tempDir(`access-${tree.site}`);
  const snippet = conf ?? (await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8'));
  const setup = await prepareNginx({ prefix, snippet, rewrite: { treeDir: tree.dir, artifactsDir: path.join(prefix, 'artifacts') } });
  return serve(ns, setup, server, fn);
}

async function serve<T>(ns: Netns, setup: NginxSetup, server: { host: string; port: number }, fn: () => Promise<T>): Promise<T> {
  const t = await nginxTest(setup, ns);
  assert.ok(t.code === 0, `nginx -t rejected the config:\n${await nginxFailure(setup, t)}`);
  const d = await startNginx(setup, server, ns);
  try {
    return await fn();
  } finally {
    await d.stop();
  }
}

/** Check one standalone tree against the rules of `expected` (its own manifest unless given). */
async function checkStandalone(tree: SiteTree, opts: { expected?: Manifest; conf?: string } = {}): Promise<AccessReport> {
  const expected = opts.expected ?? tree.manifest;
  return withNetns('access', (ns) =>
    serveStandalone(
      ns,
      tree,
      () =>
        accessProblems({
          ns,
          server: hostPort(tree.manifest.boot.server),
          expected,
          other: outsider(tree.input.network.cidr, expected, taken(tree)),
        }),
      opts.conf,
    ),
  );
}

let built: Promise<Record<keyof typeof SOURCES, SiteTree>> | undefined;
const trees = () => (built ??= buildFixtureTrees('access', SOURCES));

for (const key of Object.keys(SOURCES) as (keyof typeof SOURCES)[]) {
  test(`${key}: each protected file is 200 with its bytes to its node(s) only and 403 to any other address; open files are 200 to all`, async () => {
    if (!requireProgram('nginx', 'ip') || !requireRoot()) return;
    const tree = (await trees())[key];
    const r = await checkStandalone(tree);
    assert.equal(r.problems, [], `${tree.label}:\n  ${r.problems.join('\n  ')}`);
    assert.ok(r.protectedFiles > 0 && r.openFiles > 0, `${tree.label}: ${r.protectedFiles} protected, ${r.openFiles} open files`);
    figures.push(`${tree.label}: ${r.protectedFiles} protected, ${r.openFiles} open, ${r.requests} requests`);
  });
}

test('the access fixture protects exactly its seven files: four configs, three cloud-init seeds and the join config', async () => {
  const tree = (await trees()).access;
  const guarded = tree.manifest.files.filter((f) => f.allow).map((f) => f.path);
  assert.equal(guarded, [
    'cloud-init/52-54-00-ac-00-05/meta-data',
    'cloud-init/52-54-00-ac-00-05/user-data',
    'cloud-init/52-54-00-ac-00-05/vendor-data',
    'harvester/ac-local.yaml',
    'harvester/ac-pool.yaml',
    'harvester/ac-reserved.yaml',
    'harvester/ac-static.yaml',
    'unknown/join.yaml',
  ]);
});

/** Build a variant of the access fixture alone (its own output root), `change` applied to its inventory. */
async function variant(label: string, change: (doc: Record<string, any>, out: string) => void): Promise<SiteTree> {
  const root = tempDir(`access-${label}`);
  const out = path.join(root, 'out');
  const doc = parse(readFileSync(path.join(FIXTURE, 'site.yaml'), 'utf8')) as Record<string, any>;
  change(doc, out);
  const dir = path.join(root, 'sites', doc.site as string);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'site.yaml'), stringify(doc));
  const r = await build({ sites: [dir], outDir: out, secrets: 'filled' });
  assert.ok(r.ok, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
  const manifest = JSON.parse(readFileSync(path.join(out, doc.site as string, 'manifest.json'), 'utf8')) as Manifest;
  return {
    label: `access fixture (${label})`,
    site: doc.site as string,
    dir: path.join(out, doc.site as string),
    manifest,
    input: doc as SiteTree['input'],
    sourceDir: dir,
  };
}

test('a shared server block (locations.conf) under the path prefix enforces the same rules, also behind a proxy with nginx.real_ip', async () => {
  if (!requireProgram('nginx', 'ip') || !requireRoot()) return;
  const proxy = '10.77.0.250';
  const tree = await variant('shared', (doc, out) => {
    // The tree is served where it was built; real_ip trusts the proxy's X-Forwarded-For.
    doc.nginx = {
      root: path.join(out, doc.site as string),
      artifacts_dir: path.join(out, 'artifacts'),
      real_ip: { from: [proxy], header: 'X-Forwarded-For' },
    };
  });
  const server = hostPort(tree.manifest.boot.server);
  const setup = await wrapVerbatim(
    tempDir('access-shared-nginx'),
    sharedServerBlock(`${server.host}:${server.port}`, [path.join(tree.dir, 'nginx/locations.conf')]),
  );
  await withNetns('access-shared', async (ns) => {
    await addAddresses(ns, [server.host]);
    await serve(ns, setup, server, async () => {
      const other = outsider(tree.input.network.cidr, tree.manifest, [...taken(tree), proxy]);
      const r = await accessProblems({ ns, server, expected: tree.manifest, other });
      assert.equal(r.problems, [], `shared block:\n  ${r.problems.join('\n  ')}`);
      figures.push(`${tree.label}: ${r.protectedFiles} protected, ${r.openFiles} open, ${r.requests} requests`);
      // Behind the proxy: the header counts only when the proxy sends it.
      const config = tree.manifest.files.find((f) => f.path === 'harvester/ac-reserved.yaml')!;
      const p = new URL(config.url!).pathname;
      const cases: [string, Record<string, string>, number, string][] = [
        [proxy, { 'X-Forwarded-For': '10.77.0.11' }, 200, 'the proxy forwarding the node'],
        [proxy, { 'X-Forwarded-For': other }, 403, 'the proxy forwarding another machine'],
        [proxy, {}, 403, 'the proxy without the header'],
        [other, { 'X-Forwarded-For': '10.77.0.11' }, 403, 'a machine that is no proxy claiming to be the node'],
      ];
      const got = await fetchFrom(
        ns,
        server,
        cases.map(([from, headers]) => ({ path: p, from, headers })),
      );
      cases.forEach(([from, , want, what], i) => {
        assert.is(got[i]!.status, want, `${what} (from ${from}): ${got[i]!.status}, expected ${want}`);
        if (want === 200) assert.is(got[i]!.sha256, config.sha256, `${what}: the node's bytes`);
      });
    });
  });
});

test('nginx.access: open serves every file to every address (no rules in nginx, no allow in manifest.json)', async () => {
  if (!requireProgram('nginx', 'ip') || !requireRoot()) return;
  const tree = await variant('open', (doc) => (doc.nginx = { access: 'open' }));
  assert.ok(
    tree.manifest.files.every((f) => f.allow === undefined),
    'no allow in manifest.json',
  );
  const r = await checkStandalone(tree);
  assert.equal(r.problems, [], `open:\n  ${r.problems.join('\n  ')}`);
  assert.is(r.protectedFiles, 0);
});

// --- the second layer: keyed names (nginx.file_key) ------------------------------------------------

const FILE_KEY = 'access-test-file-key-0123456789abcdef0123456789abcdef';
let keyedTree: Promise<SiteTree> | undefined;
const keyed = () => (keyedTree ??= variant('keyed', (doc) => (doc.nginx = { ...(doc.nginx ?? {}), file_key: FILE_KEY })));

test('nginx.file_key: the keyed files keep the rules; their plain names are 404 even from the node; the plain script names serve the stub', async () => {
  if (!requireProgram('nginx', 'ip') || !requireRoot()) return;
  const tree = await keyed();
  assert.is(tree.manifest.boot.file_names, 'keyed');
  const prefix = new URL(tree.manifest.boot.server).pathname.replace(/\/+$/, '');
  await withNetns('access-keyed', (ns) =>
    serveStandalone(ns, tree, async () => {
      const server = hostPort(tree.manifest.boot.server);
      const other = outsider(tree.input.network.cidr, tree.manifest, taken(tree));
      const r = await accessProblems({ ns, server, expected: tree.manifest, other });
      assert.equal(r.problems, [], `keyed:\n  ${r.problems.join('\n  ')}`);
      assert.ok(r.protectedFiles >= 8, `${r.protectedFiles} protected files`);
      figures.push(`${tree.label}: ${r.protectedFiles} protected (keyed names), ${r.openFiles} open, ${r.requests} requests`);
      // The plain names, asked from an address each node's files are served to.
      const plain: { path: string; from: string; want: number; body?: RegExp }[] = [];
      for (const n of tree.manifest.nodes) {
        const from = n.ip ?? tree.manifest.files.find((f) => f.allow && f.path === n.config?.path)?.allow?.[0]?.split('/')[0] ?? other;
        if (n.config) plain.push({ path: `${prefix}/harvester/${n.hostname}.yaml`, from, want: 404 });
        for (const c of n.cloud_init ?? [])
          plain.push({ path: `${prefix}/cloud-init/${c.mac.replaceAll(':', '-')}/user-data`, from, want: 404 });
        for (const mac of n.macs)
          plain.push({
            path: `${prefix}/ipxe/${mac.replaceAll(':', '-')}.ipxe`,
            from: other,
            want: 200,
            body: /handed out by harvgen's DHCP only/,
          });
      }
      await addAddresses(
        ns,
        [...new Set(plain.map((x) => x.from))].filter((a) => a !== other),
      );
      const got = await fetchFrom(
        ns,
        server,
        plain.map(({ path: p, from }) => ({ path: p, from })),
      );
      const wrong = plain.flatMap((x, i) =>
        got[i]!.status !== x.want ? [`GET ${x.path} from ${x.from}: ${got[i]!.status || got[i]!.error}, expected ${x.want}`] : [],
      );
      assert.equal(wrong, []);
      assert.ok(plain.filter((x) => x.want === 404).length >= 5);
    }),
  );
});

test('nginx.file_key: a real dnsmasq hands iPXE on each known MAC its keyed script, boot.ipxe to an unknown MAC; without the per-MAC lines it is caught', async () => {
  if (!requireProgram('dnsmasq', 'busybox', 'ip') || !requireRoot()) return;
  const tree = await keyed();
  const unknown = '52:54:00:ff:ee:dd';
  const ask = (t: SiteTree) =>
    withDhcpPair(t, async (pair) => {
      const problems: string[] = [];
      for (const n of t.manifest.nodes) {
        for (const s of n.ipxe) {
          const l = await pair.query(s.mac, { userClass: 'iPXE', arch: 0 });
          if (l?.boot_file !== s.url) problems.push(`${n.hostname} ${s.mac} as iPXE: boot file "${l?.boot_file}", expected ${s.url}`);
        }
      }
      const u = await pair.query(unknown, { userClass: 'iPXE', arch: 0 });
      if (u?.boot_file !== t.manifest.boot.entry_url)
        problems.push(`unknown MAC: boot file "${u?.boot_file}", expected ${t.manifest.boot.entry_url}`);
      // Firmware PXE still gets iPXE over TFTP.
      const first = t.manifest.nodes[0]!.macs[0]!;
      const fw = await pair.query(first, { arch: 0 });
      if (fw?.boot_file !== 'undionly.kpxe') problems.push(`${first} as BIOS PXE: boot file "${fw?.boot_file}", expected undionly.kpxe`);
      return problems;
    });
  assert.equal(await ask(tree), []);
  // Mutation: the per-MAC boot lines removed (a DHCP config from before the key).
  const mutant = await copyTree(tree, 'keyed-no-per-mac');
  const conf = path.join(mutant.dir, 'dnsmasq/harvgen.conf');
  const text = await readFile(conf, 'utf8');
  const cut = text.replace(/^dhcp-boot=[^\n]*tag:harvgen-[^,\n]*-[0-9a-f]{12},[^\n]*\n/gm, '');
  assert.ok(cut !== text);
  await writeFile(conf, cut);
  const problems = await ask(mutant);
  const macs = tree.manifest.nodes.flatMap((n) => n.macs);
  assert.is(problems.length, macs.length, `every known MAC must be caught:\n${problems.join('\n')}`);
});

// --- mutations: a tree without the rules must be caught -----------------------------------------

test('mutation: the open tree checked against the rules of the protected one is caught, every protected file from every stranger', async () => {
  if (!requireProgram('nginx', 'ip') || !requireRoot()) return;
  const rules = (await trees()).access.manifest;
  const open = await variant('open-mutant', (doc) => (doc.nginx = { access: 'open' }));
  const r = await checkStandalone(open, { expected: rules });
  const leaks = r.problems.filter((p) => /: 200, expected 403$/.test(p));
  const guarded = rules.files.filter((f) => f.allow);
  for (const f of guarded)
    assert.ok(
      leaks.some((p) => p.includes(`${new URL(f.url!).pathname} from `) && p.includes('(no node)')),
      `${f.path} served to a stranger was not caught:\n${r.problems.join('\n')}`,
    );
  assert.is(r.problems.length, leaks.length, `only leaks are reported:\n${r.problems.join('\n')}`);
});

test('mutation: the generated config with its allow/deny lines deleted is caught', async () => {
  if (!requireProgram('nginx', 'ip') || !requireRoot()) return;
  const tree = await copyTree((await trees()).access, 'no-rules');
  const conf = await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
  const stripped = conf.replace(/^\s*(allow|deny) [^;]*;\n/gm, '');
  assert.ok(stripped !== conf && !/\b(allow|deny) /.test(stripped.replace(/#.*$/gm, '')), 'the mutation removed every rule');
  await writeFile(path.join(tree.dir, 'nginx/harvgen.conf'), stripped);
  const r = await checkStandalone(tree, { conf: stripped });
  assert.is(r.problems.filter((p) => /: 200, expected 403$/.test(p)).length, r.problems.length, r.problems.join('\n'));
  // Every protected file leaks to the stranger and to another node (the pool's files: to the stranger and a node).
  assert.ok(
    r.problems.length >= 2 * r.protectedFiles,
    `${r.problems.length} problems for ${r.protectedFiles} protected files:\n${r.problems.join('\n')}`,
  );
});

// The figures are printed after the tests, by a hook: they assert nothing, so they are no test.
test.after(() => {
  if (figures.length) console.log(`\naccess: ${figures.join('; ')}`);
});

test.run();
