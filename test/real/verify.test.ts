// `harvgen verify` against a real nginx: the deploy tree of location_x served by its generated
// server block on its own address (192.168.122.1:80) in a network namespace, verify run in the
// same namespace as a user runs it (bin/harvgen.js, the default URL: boot.server). A freshly
// served tree passes; then each of a stale tree, a one-byte edit, a missing file, an exposed
// tree (the catch-all 404 removed), a listing turned on, a redirect and a wrong MIME type is
// caught with exit 1 and the right code at the right URL; and the access rules of a manifest
// written here (`files[].allow`) are checked: 403 to verify's address, 200 from the node's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { withNetns, type Netns } from './helpers/netns.ts';
import { prepareNginx, startNginx } from './helpers/nginx.ts';
import { run, describe } from './helpers/proc.ts';
import { getTrees, type SiteTree } from './helpers/tree.ts';
import { REPO_ROOT } from './helpers/initramfs.ts';
import { tempDir } from '../helpers/tmp.ts';
import { build } from '../../src/index.ts';

const BASE = 'http://192.168.122.1';
const NODE = '192.168.122.11';
/** An address of no node and no boot server: what a workstation outside nginx.verify_from sees. */
const ELSEWHERE = '192.168.122.77';

interface Doc {
  ok: boolean;
  checks: number;
  servers: { url: string; checks: number; failed: number; refused: string[]; source: string | null; reachable: boolean }[];
  diagnostics: { code: string; message: string; file?: string }[];
}

/** A copy of the deploy tree (its own out root) to serve or to compare with. */
async function copyOf(tree: SiteTree, label: string): Promise<{ root: string; dir: string }> {
  const root = path.join(tempDir(`verify-${label}`), 'deploy');
  const dir = path.join(root, tree.site);
  await cp(tree.dir, dir, { recursive: true });
  return { root, dir };
}

/**
 * Serve `served` with the generated nginx/harvgen.conf (changed by `edit`) on its own listen
 * address in a fresh namespace, then run `harvgen verify --json` there against the deploy tree
 * at `--out compareRoot`; return the exit code and the document.
 */
async function verifyServed(
  tree: SiteTree,
  o: { served: string; compareRoot: string; edit?: (conf: string) => string; args?: string[] },
): Promise<{ code: number | null; doc: Doc; report: string }> {
  let snippet = await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
  if (o.edit) {
    const edited = o.edit(snippet);
    assert.is.not(edited, snippet, 'the edit of the nginx config changed nothing');
    snippet = edited;
  }
  const prefix = tempDir(`verify-nginx-${tree.site}`);
  const setup = await prepareNginx({ prefix, snippet, rewrite: { treeDir: o.served, artifactsDir: path.join(prefix, 'artifacts') } });
  return withNetns('verify', async (ns: Netns) => {
    await ns.sh(['ip', 'addr', 'add', '192.168.122.1/24', 'dev', 'lo']);
    await ns.sh(['ip', 'addr', 'add', `${NODE}/32`, 'dev', 'lo']);
    await ns.sh(['ip', 'addr', 'add', `${ELSEWHERE}/32`, 'dev', 'lo']);
    const nginx = await startNginx(setup, { host: '192.168.122.1', port: 80 }, ns);
    try {
      const r = await run(
        ns.exec([
          process.execPath,
          path.join(REPO_ROOT, 'bin/harvgen.js'),
          'verify',
          tree.sourceDir,
          '--out',
          o.compareRoot,
          '--json',
          ...(o.args ?? []),
        ]),
        { timeoutMs: 60_000, env: { ...process.env, NO_COLOR: '1' } },
      );
      let doc: Doc;
      try {
        doc = JSON.parse(r.stdout) as Doc;
      } catch {
        throw new Error(`verify printed no JSON document:\n${describe(r)}`);
      }
      return { code: r.code, doc, report: `${describe(r)}\n--- nginx ---\n${nginx.output()}` };
    } finally {
      await nginx.stop();
    }
  });
}

/** Exactly the diagnostics `want` ([code, path under BASE]), in any order. */
function found(doc: Doc, want: [string, string][], report: string) {
  const got = doc.diagnostics.map((d) => `${d.code} ${d.file}`).sort();
  assert.equal(got, want.map(([c, p]) => `${c} ${BASE}${p}`).sort(), report);
}

async function setup(label: string) {
  if (!requireProgram('nginx', 'ip') || !requireRoot()) return undefined;
  const tree = (await getTrees()).location_x;
  return { tree, served: await copyOf(tree, label) };
}

const compare = (tree: SiteTree) => path.dirname(tree.dir);

/** The deploy tree built again with a rotated token, whose root verify compares with: the server still has the old one. */
async function staleDeploy(tree: SiteTree): Promise<string> {
  const site = path.join(tempDir('verify-stale-site'), 'location_x');
  await cp(tree.sourceDir, site, { recursive: true });
  await writeFile(path.join(site, 'secrets/token'), 'RotatedToken.456\n');
  const root = path.join(tempDir('verify-stale-out'), 'deploy');
  const b = await build({ sites: [site], outDir: root, secrets: 'filled' });
  assert.ok(b.ok, JSON.stringify(b.diagnostics));
  return root;
}

test('a freshly served deploy tree passes: every served file, every refusal (exit 0)', async () => {
  const s = await setup('fresh');
  if (!s) return;
  const { code, doc, report } = await verifyServed(s.tree, { served: s.served.dir, compareRoot: compare(s.tree) });
  assert.is(code, 0, report);
  assert.equal(doc.diagnostics, [], report);
  const served = s.tree.manifest.files.filter((f) => f.url).length;
  assert.ok(doc.checks > served + 30, report);
  assert.equal(
    doc.servers.map((x) => [x.url, x.failed, x.source, x.reachable]),
    [[BASE, 0, '192.168.122.1', true]],
  );
});

/**
 * One broken server: the served copy changed by `mutate`, the nginx config by `edit`, or the
 * deploy tree compared with from `compareRoot`; verify must exit 1, and `check` judges the rest.
 */
function caught(
  title: string,
  label: string,
  change: {
    mutate?: (served: string) => Promise<void>;
    edit?: (conf: string) => string;
    compareRoot?: (tree: SiteTree) => Promise<string>;
    args?: string[];
  },
  check: (doc: Doc, report: string) => void,
) {
  test(title, async () => {
    const s = await setup(label);
    if (!s) return;
    await change.mutate?.(s.served.dir);
    const { code, doc, report } = await verifyServed(s.tree, {
      served: s.served.dir,
      compareRoot: change.compareRoot ? await change.compareRoot(s.tree) : compare(s.tree),
      ...(change.edit ? { edit: change.edit } : {}),
      ...(change.args ? { args: change.args } : {}),
    });
    assert.is(code, 1, report);
    check(doc, report);
  });
}

caught(
  "a stale tree (the token rotated, the server not updated) is VERIFY_DRIFT at the config of the node verify runs as (the others are its nodes' only)",
  'stale',
  {
    // The configs are served to their nodes only: verify sees hv-1's from hv-1's address.
    args: ['--source', NODE],
    // The deploy tree built again with a new token; the server still has the old one.
    compareRoot: staleDeploy,
  },
  (doc, report) => {
    found(doc, [['VERIFY_DRIFT', '/harvester/hv-1.yaml']], report);
    assert.ok(
      doc.diagnostics.every((d) => /stale copy or an edit on the server/.test(d.message)),
      report,
    );
  },
);

caught(
  "a stale tree checked on the boot server itself is VERIFY_DRIFT at every node's config (the access rules let the boot server read them all)",
  'stale-all',
  {
    compareRoot: staleDeploy,
  },
  (doc, report) => {
    found(
      doc,
      ['hv-1', 'hv-2', 'hv-3'].map((h) => ['VERIFY_DRIFT', `/harvester/${h}.yaml`]),
      report,
    );
  },
);

test("mutation: an nginx config without the boot server's own allow lines (an old one) does not hide the stale configs: verify on the boot server says each is refused where it must be served (exit 1)", async () => {
  const s = await setup('stale-hidden');
  if (!s) return;
  const r = await verifyServed(s.tree, {
    served: s.served.dir,
    compareRoot: await staleDeploy(s.tree),
    edit: (c) => c.replace(/\n *allow (127\.0\.0\.0\/8|::1|192\.168\.122\.1);/g, ''),
  });
  assert.is(r.code, 1, r.report);
  found(
    r.doc,
    ['hv-1', 'hv-2', 'hv-3'].map((h) => ['VERIFY_DRIFT', `/harvester/${h}.yaml`]),
    r.report,
  );
  assert.ok(
    r.doc.diagnostics.every((d) => /answered 403; expected 200/.test(d.message)),
    r.report,
  );
});

caught(
  'a one-byte edit on the server is VERIFY_DRIFT at that file',
  'edit',
  {
    mutate: async (dir) => {
      const f = path.join(dir, 'ipxe/52-54-00-aa-bb-02.ipxe');
      const bytes = await readFile(f);
      bytes[20]! ^= 0x20;
      await writeFile(f, bytes);
    },
  },
  (doc, report) => found(doc, [['VERIFY_DRIFT', '/ipxe/52-54-00-aa-bb-02.ipxe']], report),
);

caught(
  'a missing file is VERIFY_DRIFT (404) at its URL',
  'missing',
  { mutate: (dir) => rm(path.join(dir, 'ipxe/52-54-00-aa-bb-03.ipxe')) },
  (doc, report) => {
    found(doc, [['VERIFY_DRIFT', '/ipxe/52-54-00-aa-bb-03.ipxe']], report);
    assert.match(doc.diagnostics[0]!.message, /answered 404; expected 200 \(the file is missing on the server\)/);
  },
);

const CATCH_ALL = /\n {4}location \/ \{\n {8}return 404;\n {4}\}\n/;

caught(
  'an exposed tree (the catch-all 404 removed: manifest.json, dnsmasq/, nginx/ answer) is VERIFY_EXPOSED at each',
  'exposed',
  { edit: (c) => c.replace(CATCH_ALL, '\n') },
  (doc, report) => {
    assert.ok(
      doc.diagnostics.every((d) => d.code === 'VERIFY_EXPOSED'),
      report,
    );
    const urls = doc.diagnostics.map((d) => d.file);
    for (const p of [
      '/manifest.json',
      '/dnsmasq/harvgen.conf',
      '/nginx/harvgen.conf',
      '/libvirt/define.sh',
      '/ipxe/../manifest.json',
      '/dnsmasq',
    ])
      assert.ok(urls.includes(`${BASE}${p}`), `${p} not reported:\n${report}`);
  },
);

caught(
  'a directory listing turned on is VERIFY_EXPOSED at the listed directories',
  'listing',
  { edit: (c) => c.replace(CATCH_ALL, '\n    location / {\n        autoindex on;\n    }\n') },
  (doc, report) => {
    const listing = doc.diagnostics.filter((d) => /directory listing/.test(d.message)).map((d) => d.file);
    for (const p of ['/', '/ipxe/', '/harvester/', '/dnsmasq/'])
      assert.ok(listing.includes(`${BASE}${p}`), `${p}: no listing reported\n${report}`);
    assert.ok(
      doc.diagnostics.every((d) => d.code === 'VERIFY_EXPOSED'),
      report,
    );
  },
);

caught(
  'a redirect in front of a served file is VERIFY_DRIFT at that URL',
  'redirect',
  { edit: (c) => c.replace(/(location = \/unknown\.ipxe \{\n)/, '$1        return 302 /boot.ipxe;\n') },
  (doc, report) => {
    found(doc, [['VERIFY_DRIFT', '/unknown.ipxe']], report);
    assert.match(doc.diagnostics[0]!.message, /redirects \(302\) to \/boot\.ipxe/);
  },
);

caught(
  'a wrong MIME type (the text/plain lines of a location removed) is VERIFY_DRIFT at that URL',
  'mime',
  { edit: (c) => c.replace(/(location = \/boot\.ipxe \{\n)\s+types \{ \}\n\s+default_type text\/plain;\n\s+charset utf-8;\n/, '$1') },
  (doc, report) => {
    found(doc, [['VERIFY_DRIFT', '/boot.ipxe']], report);
    assert.match(
      doc.diagnostics[0]!.message,
      /Content-Type application\/octet-stream; the generated nginx config sends text\/plain; charset=utf-8/,
    );
  },
);

test("access rules (files[].allow): on the boot server itself verify reads every config; from another host the generated rules refuse each, and verify names them; from a node's address that node's config is checked; without the rules each is VERIFY_EXPOSED", async () => {
  const s = await setup('allow');
  if (!s) return;
  const configs = ['hv-1', 'hv-2', 'hv-3'].map((h) => `${BASE}/harvester/${h}.yaml`);
  // On the boot server (its own address, boot.server's): every config checked, none refused.
  const onServer = await verifyServed(s.tree, { served: s.served.dir, compareRoot: compare(s.tree) });
  assert.is(onServer.code, 0, onServer.report);
  assert.equal(onServer.doc.servers[0]!.refused, [], onServer.report);
  const guarded = await verifyServed(s.tree, { served: s.served.dir, compareRoot: compare(s.tree), args: ['--source', ELSEWHERE] });
  assert.is(guarded.code, 0, guarded.report);
  assert.equal(guarded.doc.servers[0]!.refused, configs, guarded.report);
  const fromNode = await verifyServed(s.tree, { served: s.served.dir, compareRoot: compare(s.tree), args: ['--source', NODE] });
  assert.is(fromNode.code, 0, fromNode.report);
  assert.equal(fromNode.doc.servers[0]!.refused, configs.slice(1), fromNode.report);
  assert.is(fromNode.doc.servers[0]!.source, NODE);
  // The generated config with its allow/deny lines removed: every config is exposed.
  const open = await verifyServed(s.tree, {
    served: s.served.dir,
    compareRoot: compare(s.tree),
    edit: (c) => c.replace(/\n *allow [^;\n]+;/g, '').replace(/\n *deny all;/g, ''),
    args: ['--source', ELSEWHERE],
  });
  assert.is(open.code, 1, open.report);
  found(
    open.doc,
    configs.map((u) => ['VERIFY_EXPOSED', u.slice(BASE.length)]),
    open.report,
  );
});

test.run();
