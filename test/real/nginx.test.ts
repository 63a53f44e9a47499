// Real nginx against the generated server block (nginx/harvgen.conf) of every test site:
// `nginx -t` on the generated listen address, then a real nginx serving the built tree.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { withNetns } from './helpers/netns.ts';
import { prepareNginx, nginxTest, startNginx, nginxFailure } from './helpers/nginx.ts';
import { httpGet, freePort } from './helpers/http.ts';
import { getTrees, copyTree, listFiles, listDirs, type SiteKey, type SiteTree } from './helpers/tree.ts';
import { tempDir } from '../helpers/tmp.ts';

const SITES: SiteKey[] = ['location_x', 'location_y', 'bios', 'uefi'];

/** Content types a served file may have, by extension. A new extension needs an entry here. */
const CONTENT_TYPES: Record<string, RegExp> = {
  ipxe: /^text\/plain(;|$)/,
  yaml: /^(text\/plain|text\/yaml|application\/yaml|application\/x-yaml)(;|$)/,
  json: /^application\/json(;|$)/,
};

/** A MAC no test site uses. */
const UNKNOWN_MAC = '52:54:00:ff:ee:dd';

function listenAddresses(snippet: string): { host: string; v6: boolean }[] {
  const out: { host: string; v6: boolean }[] = [];
  for (const m of snippet.matchAll(/^\s*listen\s+([^;\s]+)/gm)) {
    const v = m[1]!;
    const v6 = /^\[(.+)\]/.exec(v);
    if (v6) out.push({ host: v6[1]!, v6: true });
    else if (v.includes(':') && !v.startsWith('*')) out.push({ host: v.split(':')[0]!, v6: false });
  }
  return out;
}

for (const key of SITES) {
  test(`nginx -t accepts the generated server block of ${key} (on its own listen address, in a netns)`, async () => {
    if (!requireProgram('nginx', 'ip') || !requireRoot()) return;
    const tree = (await getTrees())[key];
    const snippet = await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
    const prefix = tempDir(`nginx-t-${tree.site}`);
    const setup = await prepareNginx({ prefix, snippet, rewrite: { treeDir: tree.dir, artifactsDir: path.join(prefix, 'artifacts') } });
    const addrs = listenAddresses(snippet);
    assert.ok(addrs.length > 0, `no listen address in ${tree.dir}/nginx/harvgen.conf`);
    // nginx -t binds the listen sockets: give the namespace's lo the generated address(es).
    const r = await withNetns('ngxt', async (ns) => {
      for (const a of addrs)
        await ns.sh(
          a.v6 ? ['ip', '-6', 'addr', 'add', `${a.host}/128`, 'dev', 'lo', 'nodad'] : ['ip', 'addr', 'add', `${a.host}/32`, 'dev', 'lo'],
        );
      return nginxTest(setup, ns);
    });
    assert.ok(r.code === 0 && /test is successful/.test(r.stderr), `nginx -t rejected ${tree.label}:\n${await nginxFailure(setup, r)}`);
  });
}

/**
 * Serve a tree with a real nginx on 127.0.0.1:<free port> and list everything wrong with what
 * it answers. Returns the problems (empty = fine) and the nginx error log for reports.
 */
async function serveAndCheck(tree: SiteTree, snippet: string): Promise<{ problems: string[]; report: string }> {
  const port = await freePort();
  const prefix = tempDir(`nginx-${tree.site}`);
  const setup = await prepareNginx({
    prefix,
    snippet,
    rewrite: { treeDir: tree.dir, artifactsDir: path.join(prefix, 'artifacts'), listen: `127.0.0.1:${port}` },
  });
  const daemon = await startNginx(setup, { host: '127.0.0.1', port });
  const problems: string[] = [];
  const server = new URL(tree.manifest.boot.server);
  const get = (p: string) => httpGet({ host: '127.0.0.1', port, path: p, hostHeader: server.host });
  try {
    const files = await listFiles(tree.dir);
    const listed = new Map(tree.manifest.files.map((f) => [f.path, f]));
    for (const f of files) if (f !== 'manifest.json' && !listed.has(f)) problems.push(`${f}: in the tree but not in manifest.json files`);

    const servedUrls = new Set(tree.manifest.files.flatMap((f) => (f.url ? [f.url] : [])));
    const m = tree.manifest;
    for (const u of [m.boot.entry_url, m.boot.unknown_url, ...m.nodes.flatMap((n) => [...n.ipxe.map((s) => s.url), n.config!.url])]) {
      if (!servedUrls.has(u)) problems.push(`${u}: named in manifest.json but no served file has this url`);
    }

    for (const f of tree.manifest.files) {
      const bytes = await readFile(path.join(tree.dir, f.path)).catch(() => undefined);
      if (!bytes) {
        problems.push(`${f.path}: listed in manifest.json but missing from the tree`);
        continue;
      }
      if (bytes.length !== f.size || sha256(bytes) !== f.sha256)
        problems.push(`${f.path}: size/sha256 in manifest.json do not match the file`);
      if (!f.url) {
        // Not meant to be served (dnsmasq/nginx/libvirt/systemd files, fetch.sh): must not leak.
        const r = await get('/' + f.path);
        if (r.status < 400) problems.push(`GET /${f.path} (not a served file) answered ${r.status}; expected 404`);
        continue;
      }
      const u = new URL(f.url);
      if (u.origin !== server.origin) problems.push(`${f.path}: url ${f.url} is not on boot.server ${server.origin}`);
      const r = await get(u.pathname);
      const where = `GET ${u.pathname}`;
      // A protected file is served to its node(s) (test/real/access.test.ts fetches it from them and
      // is refused from elsewhere) and to the boot server itself, loopback included (manifest boot.verifiers).
      if (f.allow && !(tree.manifest.boot as { verifiers?: string[] }).verifiers?.includes('127.0.0.0/8'))
        problems.push(`${where}: manifest.json boot.verifiers leaves out loopback`);
      if (r.status !== 200) {
        problems.push(`${where}: status ${r.status}, expected 200${r.headers.location ? ` (Location: ${r.headers.location})` : ''}`);
        continue;
      }
      if (r.headers.location) problems.push(`${where}: has a Location header (${r.headers.location})`);
      const ext = path.extname(f.path).slice(1);
      const want = CONTENT_TYPES[ext];
      const type = r.headers['content-type'] ?? '(none)';
      if (!want) problems.push(`${where}: no content-type expectation for .${ext} files (add one to CONTENT_TYPES); got ${type}`);
      else if (!want.test(type)) problems.push(`${where}: Content-Type ${type}, expected ${want}`);
      if (!r.body.equals(bytes)) problems.push(`${where}: body (${r.body.length} bytes) differs from ${f.path} (${bytes.length} bytes)`);
      if (Number(r.headers['content-length']) !== f.size)
        problems.push(`${where}: Content-Length ${r.headers['content-length']}, manifest size ${f.size}`);
    }

    // Directories: no listing, no redirect (iPXE does not follow redirects), with and without slash.
    for (const d of await listDirs(tree.dir)) {
      for (const p of d ? [`/${d}/`, `/${d}`] : ['/']) {
        const r = await get(p);
        if (r.status >= 300 && r.status < 400) problems.push(`GET ${p}: redirect ${r.status} to ${r.headers.location}`);
        else if (r.status === 200 || /Index of/i.test(r.body.toString('latin1')))
          problems.push(`GET ${p}: directory listing (status ${r.status})`);
      }
    }
    for (const p of [
      '/ipxe/../nginx/harvgen.conf',
      '/harvester/../dnsmasq/harvgen.conf',
      '/manifest.json',
      '/ipxe/.',
      '/harvester/%2e%2e/nginx/harvgen.conf',
    ]) {
      const r = await get(p);
      if (r.status < 400) problems.push(`GET ${p}: status ${r.status}; expected 4xx`);
    }

    // An unknown MAC must get a 404 for its per-MAC script (boot.ipxe then falls back to unknown.ipxe).
    const unknownPath = `/ipxe/${UNKNOWN_MAC.replace(/:/g, '-')}.ipxe`;
    const ru = await get(unknownPath);
    if (ru.status !== 404) problems.push(`GET ${unknownPath} (a MAC no node has): status ${ru.status}, expected 404`);
    for (const n of tree.manifest.nodes) {
      for (const s of n.ipxe) {
        // Upper-case and colon forms are not what iPXE's ${mac:hexhyp} sends; they must not alias a node.
        for (const alias of [s.path.toUpperCase().replace('IPXE/', 'ipxe/').replace('.IPXE', '.ipxe'), `ipxe/${s.mac}.ipxe`]) {
          const r = await get('/' + alias);
          if (r.status === 200) problems.push(`GET /${alias}: 200; only the lower-case hyphen form may exist`);
        }
      }
    }
    const unknown = await get(new URL(tree.manifest.boot.unknown_url).pathname);
    const unknownBytes = await readFile(path.join(tree.dir, 'unknown.ipxe'));
    if (unknown.status !== 200 || !unknown.body.equals(unknownBytes))
      problems.push(
        `GET ${tree.manifest.boot.unknown_url}: status ${unknown.status}, body ${unknown.body.equals(unknownBytes) ? 'is' : 'is not'} unknown.ipxe`,
      );
  } catch (err) {
    problems.push(`request failed: ${String(err)}`);
  } finally {
    await daemon.stop();
  }
  const errorLog = await readFile(setup.errorLog, 'utf8').catch(() => '');
  return {
    problems,
    report: `nginx: ${daemon.cmd}\n--- nginx output ---\n${daemon.output()}\n--- error.log (tail) ---\n${errorLog.split('\n').slice(-30).join('\n')}`,
  };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

for (const key of SITES) {
  test(`nginx serves ${key}: every open manifest URL is 200 with its exact bytes and type, a node's files are 403 to others; no listings, redirects or unlisted files; unknown MACs get 404`, async () => {
    if (!requireProgram('nginx')) return;
    const tree = (await getTrees())[key];
    const snippet = await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
    const { problems, report } = await serveAndCheck(tree, snippet);
    assert.equal(problems, [], `${tree.label} served wrongly:\n  ${problems.join('\n  ')}\n${report}`);
  });
}

test("boot.ipxe chains the node's own script by ${mac:hexhyp} and falls back to unknown.ipxe", async () => {
  for (const key of SITES) {
    const tree = (await getTrees())[key];
    const boot = await readFile(path.join(tree.dir, 'boot.ipxe'), 'utf8');
    assert.ok(boot.startsWith('#!ipxe\n'), `${tree.label}: boot.ipxe must start with "#!ipxe\\n" (no BOM)`);
    const server = tree.manifest.boot.server.replace(/\/$/, '');
    assert.ok(
      boot.includes(`${server}/ipxe/\${mac:hexhyp}.ipxe`),
      `${tree.label}: boot.ipxe does not fetch ${server}/ipxe/\${mac:hexhyp}.ipxe:\n${boot}`,
    );
    assert.ok(
      boot.includes(tree.manifest.boot.unknown_url),
      `${tree.label}: boot.ipxe has no fallback to ${tree.manifest.boot.unknown_url}`,
    );
    const unknown = await readFile(path.join(tree.dir, 'unknown.ipxe'), 'utf8');
    assert.ok(unknown.startsWith('#!ipxe\n'), `${tree.label}: unknown.ipxe must start with "#!ipxe\\n"`);
    assert.not.match(unknown, /^\s*(kernel|chain|boot|imgexec|initrd|sanboot)\b/m, `${tree.label}: unknown.ipxe must not boot anything`);
  }
});

test("every per-MAC script is named by its MAC and boots its own node's config, never another node's", async () => {
  for (const key of SITES) {
    const tree = (await getTrees())[key];
    for (const node of tree.manifest.nodes) {
      assert.equal(node.ipxe.map((s) => s.mac).sort(), [...node.macs].sort(), `${tree.label} ${node.hostname}: one script per MAC`);
      for (const s of node.ipxe) {
        assert.is(s.path, `ipxe/${s.mac.replace(/:/g, '-')}.ipxe`, `${tree.label} ${node.hostname}: script path`);
        const text = await readFile(path.join(tree.dir, s.path), 'utf8');
        assert.ok(text.startsWith('#!ipxe\n'), `${tree.label} ${s.path}: must start with "#!ipxe\\n" (a BOM hangs BIOS iPXE)`);
        if (node.state === 'local') continue;
        const own = text.split(/\s+/).includes(`harvester.install.config_url=${node.config!.url}`);
        assert.ok(own, `${tree.label} ${s.path}: does not boot ${node.config!.url}`);
        for (const other of tree.manifest.nodes.filter((n) => n !== node)) {
          assert.not.ok(
            text.includes(other.config!.url),
            `${tree.label} ${s.path}: mentions ${other.hostname}'s config ${other.config!.url}`,
          );
        }
      }
    }
  }
});

// --- mutations: the checks above must notice a broken config -------------------------------

test('mutation: a catch-all location with `autoindex on` is caught as a directory listing', async () => {
  if (!requireProgram('nginx')) return;
  const tree = await copyTree((await getTrees()).location_x, 'autoindex');
  const snippet = await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
  // The generated block answers every unlisted path with `location / { return 404; }`, so a bare
  // server-level `autoindex on;` has nothing to list. The realistic breakage is turning the
  // catch-all into a browsable tree.
  const broken = snippet.replace(/autoindex off;/, 'autoindex on;').replace(/location \/ \{[^}]*\}/, 'location / { autoindex on; }');
  assert.ok(
    broken !== snippet && broken.includes('location / { autoindex on; }'),
    'mutation did not apply: the catch-all `location / { ... }` is gone?',
  );
  const { problems } = await serveAndCheck(tree, broken);
  assert.ok(
    problems.some((p) => /directory listing/.test(p)),
    `autoindex on was not caught; problems:\n${problems.join('\n')}`,
  );
});

test('mutation: a location that redirects (directory without slash) is caught', async () => {
  if (!requireProgram('nginx')) return;
  const tree = await copyTree((await getTrees()).location_x, 'redirect');
  const snippet = await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
  const broken = snippet.replace(/location \/ \{[^}]*\}/, 'location / { }');
  const { problems } = await serveAndCheck(tree, broken);
  assert.ok(
    problems.some((p) => /redirect 30\d/.test(p)),
    `redirect not caught; problems:\n${problems.join('\n')}`,
  );
});

test('mutation: a catch-all that serves the whole tree is caught (config files leak)', async () => {
  if (!requireProgram('nginx')) return;
  const tree = await copyTree((await getTrees()).location_x, 'leak');
  const snippet = await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
  const broken = snippet.replace(/location \/ \{[^}]*\}/, 'location / { try_files $uri =404; }');
  const { problems } = await serveAndCheck(tree, broken);
  assert.ok(
    problems.some((p) => /not a served file\) answered 200/.test(p)),
    `leak not caught; problems:\n${problems.join('\n')}`,
  );
});

test.run();
