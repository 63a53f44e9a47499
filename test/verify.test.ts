// `harvgen verify` against a boot server in this process (test/real/verify.test.ts does it with a
// real nginx): a server that serves the deploy tree as the generated nginx config does passes;
// each kind of difference is one diagnostic at its URL with its code (VERIFY_DRIFT,
// VERIFY_EXPOSED, VERIFY_UNREACHABLE, VERIFY_NO_DEPLOY_TREE) and exit code; the access rules
// (`files[].allow`) expect 403 from an address they leave out; --releases checks the release
// files against the published SHA-512 list; the arguments; the --json document against the schema.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../src/cli.ts';
import { build } from '../src/index.ts';
import { allowed, contentKind, planSite, serverFor } from '../src/verify/index.ts';
import { exampleWithSecrets } from './helpers/example.ts';
import { mediaSite } from './helpers/media.ts';
import { assertJson } from './helpers/cli-spawn.ts';
import { tempDir } from './helpers/tmp.ts';

interface Manifest {
  site: string;
  secrets: string;
  boot: { server: string; verifiers?: string[] };
  artifacts?: Record<string, string>;
  harvester_version?: string;
  files: { path: string; sha256: string; size: number; url?: string; allow?: string[] }[];
}

const site = exampleWithSecrets('location_x');
const deploy = join(tempDir('verify-unit'), 'deploy');
const tree = join(deploy, 'location_x');
let manifestText = '';
let manifest: Manifest;
let served: Manifest['files'] = [];

test.before(async () => {
  const built = await build({ sites: [site], outDir: deploy, secrets: 'filled' });
  assert.ok(built.ok, JSON.stringify(built.diagnostics));
  manifestText = readFileSync(join(tree, 'manifest.json'), 'utf8');
  manifest = JSON.parse(manifestText) as Manifest;
  served = manifest.files.filter((f) => f.url !== undefined);
});

/** How the fake server misbehaves. */
interface Faults {
  /** Path -> replacement bytes (an edit on the server). */
  body?: Record<string, Buffer>;
  missing?: string[];
  redirect?: string[];
  contentType?: Record<string, string>;
  /** Serve every file of the tree (no `location / { return 404; }`), with listings. */
  exposeAll?: boolean;
  /** Path -> addresses allowed (nginx allow/deny), in place of the manifest's `allow` lists. */
  allow?: Record<string, string[]>;
  /** No access rules at all (`nginx.access: open`, or the generated rules not deployed). */
  open?: boolean;
  /** Never answer. */
  hang?: boolean;
  /** Release files: path -> bytes. */
  releases?: Record<string, Buffer>;
}

/** A boot server in this process that does what the generated nginx config does, plus the faults. */
async function serve(faults: Faults = {}, root = tree, files = served, prefix = ''): Promise<{ url: string; close: () => Promise<void> }> {
  const byPath = new Map(files.map((f) => [`${prefix}/${f.path}`, f]));
  const server = http.createServer((req, res) => {
    if (faults.hang) return;
    const path = req.url ?? '/';
    const send = (status: number, body: Buffer | string, type = 'text/html') => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    const rel = path.slice(prefix.length + 1);
    const release = faults.releases?.[path];
    if (release) return send(200, release, 'application/octet-stream');
    if (faults.redirect?.includes(rel)) {
      res.writeHead(302, { Location: `${path}.moved` });
      return res.end();
    }
    const f = byPath.get(path);
    if (f) {
      // As the generated nginx does: a protected file only to the addresses its manifest entry allows.
      const allow = faults.open
        ? undefined
        : faults.allow
          ? faults.allow[rel]
          : f.allow && [...(manifest.boot.verifiers ?? []), ...f.allow];
      if (allow && !allowed(req.socket.remoteAddress?.replace(/^::ffff:/, ''), allow)) return send(403, '<h1>403 Forbidden</h1>');
      if (faults.missing?.includes(rel)) return send(404, '<h1>404 Not Found</h1>');
      const type = faults.contentType?.[rel] ?? (contentKind(f.path) === 'text' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
      return send(200, faults.body?.[rel] ?? readFileSync(join(root, f.path)), type);
    }
    if (faults.exposeAll && !path.includes('..') && !/%2e|%2f/i.test(path)) {
      if (path.endsWith('/'))
        return send(200, `<html><head><title>Index of ${path}</title></head><body><h1>Index of ${path}</h1></body></html>`);
      try {
        return send(200, readFileSync(join(root, rel)), 'application/octet-stream');
      } catch {
        /* not there: 404 below */
      }
    }
    return send(path.includes('/../') ? 400 : 404, '<h1>404 Not Found</h1>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Run the CLI in this process; stdout, stderr and the exit code. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: { write: (s: string) => (stdout += s) }, err: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

interface Doc {
  ok: boolean;
  checks: number;
  servers: { site: string; url: string; checks: number; failed: number; refused: string[]; source: string | null; reachable: boolean }[];
  diagnostics: { code: string; message: string; file?: string }[];
  sites: { site: string | null; out: string | null; files: number | null; nodes: number | null }[];
}

/** `harvgen verify <site> --url <url> --json ...`: exit code, schema-valid document. */
async function run(url: string, code: number, extra: string[] = [], out = deploy, dir = site): Promise<Doc> {
  const r = await cli(['verify', dir, '--url', url, '--out', out, '--json', ...extra]);
  const doc = assertJson<Doc>(r.stdout, 'verify --json');
  assert.is(r.code, code, `exit ${r.code}: ${r.stdout}${r.stderr}`);
  assert.is(doc.ok, code === 0);
  return doc;
}

/** The one diagnostic with `code` at `url`. */
function only(doc: Doc, code: string, url: string, message?: RegExp) {
  const found = doc.diagnostics.filter((d) => d.code === code);
  assert.is(found.length, 1, JSON.stringify(doc.diagnostics, null, 1));
  assert.is(found[0]!.file, url);
  if (message) assert.match(found[0]!.message, message);
  assert.is(doc.diagnostics.length, 1, JSON.stringify(doc.diagnostics, null, 1));
}

test('a server serving the deploy tree as nginx does passes: every served file, every probe, exit 0', async () => {
  const s = await serve();
  try {
    const doc = await run(s.url, 0);
    assert.equal(doc.diagnostics, []);
    const probes = planSite(manifest as never, serverFor(manifest.boot.server, s.url)).length;
    assert.is(doc.checks, probes);
    assert.ok(doc.checks > served.length + 30, `${doc.checks} checks`);
    assert.equal(doc.servers, [
      {
        site: 'location_x',
        url: s.url,
        checks: probes,
        failed: 0,
        // None: the generated rules serve the node configs to their nodes and to the boot server itself (loopback).
        refused: served
          .filter((f) => f.allow !== undefined && !allowed('127.0.0.1', [...(manifest.boot.verifiers ?? []), ...f.allow]))
          .map((f) => `${s.url}/${f.path}`)
          .sort(),
        source: '127.0.0.1',
        reachable: true,
      },
    ]);
    assert.is(doc.sites[0]!.files, served.length);
    assert.is(doc.sites[0]!.out, tree);
    const human = await cli(['verify', site, '--url', s.url, '--out', deploy]);
    assert.is(human.code, 0);
    assert.match(human.stdout, new RegExp(`^ok +location_x at ${s.url}: ${probes} check\\(s\\), 0 difference\\(s\\)`));
    assert.match(human.stderr, /every server serves the deploy tree/);
  } finally {
    await s.close();
  }
});

test('a one-byte edit is VERIFY_DRIFT at its URL (exit 1)', async () => {
  const f = 'ipxe/52-54-00-aa-bb-02.ipxe';
  const bytes = Buffer.from(readFileSync(join(tree, f)));
  bytes[bytes.length - 2]! ^= 1;
  const s = await serve({ body: { [f]: bytes } });
  try {
    only(
      await run(s.url, 1),
      'VERIFY_DRIFT',
      `${s.url}/${f}`,
      /differs from the deploy tree's ipxe\/52-54-00-aa-bb-02\.ipxe .*stale copy or an edit/,
    );
  } finally {
    await s.close();
  }
});

test("a node's boot ISO (medium: iso, medium_image: own) is checked like any file: a one-byte edit is VERIFY_DRIFT at its URL", async () => {
  // The media fixture, its BMC at verify's own address (nginx serves an ISO to the BMC only).
  const dir = mediaSite((doc) => ((doc.nodes[0].bmc = { address: '127.0.0.1' }), (doc.nodes[0].medium_image = 'own')));
  const out = join(tempDir('verify-media'), 'deploy');
  const built = await build({ sites: [dir], outDir: out, secrets: 'filled' });
  assert.ok(built.ok, JSON.stringify(built.diagnostics.filter((d) => d.severity === 'error')));
  const root = join(out, 'real_media');
  const files = (JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as Manifest).files.filter((f) => f.url !== undefined);
  const iso = 'media/hv-m1.iso';
  assert.equal(files.find((f) => f.path === iso)?.allow, ['127.0.0.1']);
  const clean = await serve({}, root, files, '/real_media');
  try {
    assert.equal((await run(clean.url, 0, [], out, dir)).diagnostics, []);
  } finally {
    await clean.close();
  }
  const bytes = Buffer.from(readFileSync(join(root, iso)));
  bytes[40_000]! ^= 1;
  const s = await serve({ body: { [iso]: bytes } }, root, files, '/real_media');
  try {
    only(
      await run(s.url, 1, [], out, dir),
      'VERIFY_DRIFT',
      `${s.url}/real_media/${iso}`,
      /differs from the deploy tree's media\/hv-m1\.iso/,
    );
  } finally {
    await s.close();
  }
});

test('a missing file, a redirect and a wrong Content-Type are each VERIFY_DRIFT at their URL', async () => {
  // A script: open to every address, so a missing one is a 404 to verify too.
  const script = served.find((f) => f.path.startsWith('ipxe/'))!.path;
  const s = await serve({
    missing: [script],
    redirect: ['boot.ipxe'],
    contentType: { 'unknown.ipxe': 'application/octet-stream' },
  });
  try {
    const doc = await run(s.url, 1);
    const at = (p: string) => doc.diagnostics.find((d) => d.file === `${s.url}/${p}`);
    assert.is(doc.diagnostics.length, 3, JSON.stringify(doc.diagnostics));
    assert.match(at(script)!.message, /answered 404; expected 200 \(the file is missing on the server\)/);
    assert.match(at('boot.ipxe')!.message, /redirects \(302\) to \/boot\.ipxe\.moved; iPXE/);
    assert.match(
      at('unknown.ipxe')!.message,
      /Content-Type application\/octet-stream; the generated nginx config sends text\/plain; charset=utf-8/,
    );
    assert.ok(doc.diagnostics.every((d) => d.code === 'VERIFY_DRIFT'));
  } finally {
    await s.close();
  }
});

test('a server that serves the whole tree (manifest.json, dnsmasq/, listings) is VERIFY_EXPOSED at each such URL', async () => {
  const s = await serve({ exposeAll: true });
  try {
    const doc = await run(s.url, 1);
    const exposed = new Map(doc.diagnostics.filter((d) => d.code === 'VERIFY_EXPOSED').map((d) => [d.file, d.message]));
    assert.ok(doc.diagnostics.every((d) => d.code === 'VERIFY_EXPOSED'));
    assert.match(exposed.get(`${s.url}/manifest.json`)!, /^manifest\.json .* is answered with status 200; it must be 403 or 404/);
    assert.match(exposed.get(`${s.url}/dnsmasq/harvgen.conf`)!, /not served\) is answered with status 200/);
    assert.match(exposed.get(`${s.url}/ipxe/`)!, /a listing of ipxe\/ is answered with a directory listing/);
    assert.match(exposed.get(`${s.url}/`)!, /directory listing/);
    // Files the site never had (random names, an unknown MAC) still get 404: not reported.
    assert.not.ok([...exposed.keys()].some((u) => /\/ipxe\/02-/.test(u!)));
  } finally {
    await s.close();
  }
});

test('access rules (files[].allow): 403 to an address they leave out is right; 200 there is VERIFY_EXPOSED; an allowed address gets the bytes', async () => {
  const out = join(tempDir('verify-allow'), 'deploy');
  const copy = join(out, 'location_x');
  await import('node:fs/promises').then((fs) => fs.cp(tree, copy, { recursive: true }));
  const m = JSON.parse(manifestText) as Manifest;
  // Only the two entries this test is about keep access rules, and no address besides theirs (a
  // tree whose rules leave verify's loopback out: a host not in nginx.verify_from).
  for (const f of m.files) delete f.allow;
  delete m.boot.verifiers;
  const hv1 = m.files.find((f) => f.path === 'harvester/hv-1.yaml')!;
  hv1.allow = ['192.168.122.11'];
  m.files.find((f) => f.path === 'harvester/hv-2.yaml')!.allow = ['127.0.0.0/8'];
  writeFileSync(join(copy, 'manifest.json'), JSON.stringify(m, null, 2));
  const rules = { 'harvester/hv-1.yaml': ['192.168.122.11'] };
  const guarded = await serve({ allow: rules }, copy);
  try {
    const doc = await run(guarded.url, 0, [], out);
    assert.equal(doc.servers[0]!.refused, [`${guarded.url}/harvester/hv-1.yaml`]);
    const human = await cli(['verify', site, '--url', guarded.url, '--out', out]);
    assert.match(human.stderr, /1 file\(s\) only their nodes may fetch were refused to 127\.0\.0\.1/);
    assert.match(human.stderr, /--source <node-address>/);
  } finally {
    await guarded.close();
  }
  const open = await serve({ open: true }, copy);
  try {
    only(
      await run(open.url, 1, [], out),
      'VERIFY_EXPOSED',
      `${open.url}/harvester/hv-1.yaml`,
      /is served to 127\.0\.0\.1, which its access rules leave out/,
    );
  } finally {
    await open.close();
  }
  assert.ok(allowed('10.1.2.3', ['10.0.0.0/8']));
  assert.ok(allowed('10.1.2.3', ['10.1.2.3']));
  assert.not.ok(allowed('10.1.2.3', ['10.1.2.4', '10.1.3.0/24']));
  assert.ok(allowed('192.0.2.1', ['all']));
  assert.not.ok(allowed(undefined, ['10.0.0.0/8']));
});

test('a server that does not answer is VERIFY_UNREACHABLE, once, exit 2; a hanging one times out', async () => {
  const s = await serve();
  const url = s.url;
  await s.close();
  const doc = await run(url, 2);
  only(doc, 'VERIFY_UNREACHABLE', `${url}/boot.ipxe`, /connection refused.*its other checks were not made/);
  assert.is(doc.servers[0]!.reachable, false);
  assert.is(doc.checks, 1);
  const hang = await serve({ hang: true });
  try {
    const t0 = Date.now();
    only(await run(hang.url, 2, ['--timeout', '0.3']), 'VERIFY_UNREACHABLE', `${hang.url}/boot.ipxe`, /timeout/);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    await hang.close();
  }
});

test('no deploy tree, or the committed tree, is VERIFY_NO_DEPLOY_TREE (exit 2) and says which', async () => {
  const none = await run('http://127.0.0.1:9', 2, [], join(tempDir('verify-none'), 'deploy'));
  assert.is(none.diagnostics[0]!.code, 'VERIFY_NO_DEPLOY_TREE');
  assert.match(none.diagnostics[0]!.message, /there is no .*deploy\/location_x\/manifest\.json/);
  const committed = join(tempDir('verify-committed'), 'out');
  assert.ok((await build({ sites: [site], outDir: committed })).ok);
  const c = await run('http://127.0.0.1:9', 2, [], committed);
  assert.is(c.diagnostics[0]!.code, 'VERIFY_NO_DEPLOY_TREE');
  assert.match(c.diagnostics[0]!.message, /is the committed tree \(secrets: markers\).*a boot server serves the deploy tree/);
  assert.is(c.checks, 0);
  const nowhere = await cli(['verify', join(tempDir('verify-nosite'), 'nope'), '--out', deploy, '--json']);
  assert.is(nowhere.code, 2, nowhere.stdout);
  assert.match(assertJson<Doc>(nowhere.stdout, 'no site').diagnostics[0]!.message, /cannot tell which deploy tree belongs to .*nope/);
});

test('a manifest entry that is not a plain path of the tree is ignored with EMIT_UNTRUSTED_PATH (a warning)', async () => {
  const out = join(tempDir('verify-forged'), 'deploy');
  await import('node:fs/promises').then((fs) => fs.cp(tree, join(out, 'location_x'), { recursive: true }));
  const m = JSON.parse(manifestText) as Manifest;
  m.files.push({ path: '../../etc/passwd', sha256: '0'.repeat(64), size: 1, url: `${m.boot.server}/../../etc/passwd` });
  writeFileSync(join(out, 'location_x', 'manifest.json'), JSON.stringify(m));
  const s = await serve();
  try {
    const doc = await run(s.url, 0, [], out);
    assert.equal(
      doc.diagnostics.map((d) => d.code),
      ['EMIT_UNTRUSTED_PATH'],
    );
    assert.match(doc.diagnostics[0]!.message, /names "\.\.\/\.\.\/etc\/passwd", which is not a plain path/);
    assert.is((await cli(['verify', site, '--url', s.url, '--out', out, '--strict'])).code, 1);
  } finally {
    await s.close();
  }
});

test('arguments: bad --url, --concurrency, --timeout, --source are usage errors (exit 2); --url repeats', async () => {
  for (const args of [
    ['--url', 'ftp://x'],
    ['--url', 'nope'],
    ['--url', 'http://x/?a=1'],
    ['--concurrency', '0'],
    ['--concurrency', 'many'],
    ['--timeout', '-1'],
    ['--source', 'node-1'],
  ]) {
    const r = await cli(['verify', site, ...args, '--json']);
    assert.is(r.code, 2, args.join(' '));
    const doc = assertJson<Doc>(r.stdout, args.join(' '));
    assert.is(doc.diagnostics[0]!.code, 'CLI_USAGE');
  }
  const a = await serve();
  const b = await serve({ missing: ['boot.ipxe'] });
  try {
    const doc = await run(a.url, 1, ['--url', b.url, '--concurrency', '2']);
    assert.equal(
      doc.servers.map((s) => [s.url, s.failed]),
      [
        [a.url, 0],
        [b.url, 1],
      ],
    );
    only(doc, 'VERIFY_DRIFT', `${b.url}/boot.ipxe`);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a base URL with a path stands for boot.server; a bare origin keeps the site prefix', () => {
  assert.is(serverFor('http://10.0.0.1/location_x', 'http://mirror:8080').prefix, '/location_x');
  assert.is(serverFor('http://10.0.0.1/location_x', 'http://mirror:8080/x/').prefix, '/x');
  assert.is(serverFor('http://10.0.0.1', undefined).prefix, '');
  assert.is(serverFor('http://10.0.0.1/a', undefined).origin.origin, 'http://10.0.0.1');
});

test('--releases: each release file against the published SHA-512 list, and the list the server holds against it', async () => {
  const m = manifest;
  const names = ['kernel', 'initrd', 'rootfs', 'iso'].map((k) => new URL(m.artifacts![k]!).pathname);
  const body = (p: string) => Buffer.from(`release file ${p}\n`);
  const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');
  const sumsName = `harvester-${m.harvester_version}-amd64.sha512`;
  const sums = names.map((p) => `${sha512(body(p))}  ${p.slice(p.lastIndexOf('/') + 1)}`).join('\n') + '\n';
  const dir = names[0]!.slice(0, names[0]!.lastIndexOf('/') + 1);
  const published = await serve({ releases: { [`/${m.harvester_version}/${sumsName}`]: Buffer.from(sums) } });
  const files = Object.fromEntries(names.map((p) => [p, body(p)]));
  const good = await serve({ releases: { ...files, [`${dir}${sumsName}`]: Buffer.from(sums) } });
  const bad = await serve({
    releases: { ...files, [names[3]!]: Buffer.from('a truncated iso'), [`${dir}${sumsName}`]: Buffer.from(sums + '\n') },
  });
  try {
    const ok = await run(good.url, 0, ['--releases', '--release-base', published.url]);
    assert.is(ok.checks, planSite(manifest as never, serverFor(manifest.boot.server, good.url)).length + 5);
    const doc = await run(bad.url, 1, ['--releases', '--release-base', published.url]);
    assert.equal(
      doc.diagnostics.map((d) => [d.code, d.file]),
      [['VERIFY_DRIFT', `${bad.url}${names[3]}`]],
    );
    assert.match(doc.diagnostics[0]!.message, /SHA-512 differs from the release's published list/);
    const gone = await run(good.url, 2, ['--releases', '--release-base', `${published.url}/nothing`]);
    assert.is(gone.diagnostics[0]!.code, 'VERIFY_UNREACHABLE');
    assert.match(gone.diagnostics[0]!.message, /published SHA-512 list of Harvester v1\.4\.1 could not be fetched: answered 404/);
  } finally {
    await Promise.all([published.close(), good.close(), bad.close()]);
  }
});

test('--releases with a planned upgrade: the target ISO on the server must be the one harvester.upgrade pins', async () => {
  // location_x planning v1.4.1 -> v1.4.2, its target ISO pinned.
  const dir = exampleWithSecrets('location_x', tempDir('verify-upgrade'));
  const isoBody = Buffer.from('the v1.4.2 iso\n');
  const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');
  const yaml = readFileSync(join(dir, 'site.yaml'), 'utf8');
  const edited = yaml.replace(/^( {2}artifacts: .*\n)/m, `$1  upgrade:\n    to: v1.4.2\n    iso_checksum: ${sha512(isoBody)}\n`);
  assert.is.not(edited, yaml, 'the edit did not apply');
  writeFileSync(join(dir, 'site.yaml'), edited);
  const out = join(tempDir('verify-upgrade-out'), 'deploy');
  const built = await build({ sites: [dir], outDir: out, secrets: 'filled' });
  assert.ok(built.ok, JSON.stringify(built.diagnostics.filter((d) => d.severity === 'error')));
  const root = join(out, 'location_x');
  const m = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as Manifest & { upgrade?: { iso: string; iso_sha512: string } };
  assert.equal(m.upgrade, {
    version: 'v1.4.2',
    iso: 'http://192.168.122.1/artifacts/v1.4.2/harvester-v1.4.2-amd64.iso',
    iso_sha512: sha512(isoBody),
  });
  const files = m.files.filter((f) => f.url !== undefined);
  const body = (p: string) => Buffer.from(`release file ${p}\n`);
  const names = ['kernel', 'initrd', 'rootfs', 'iso'].map((k) => new URL(m.artifacts![k]!).pathname);
  const sums = names.map((p) => `${sha512(body(p))}  ${p.slice(p.lastIndexOf('/') + 1)}`).join('\n') + '\n';
  const current = Object.fromEntries([
    ...names.map((p) => [p, body(p)] as const),
    ['/artifacts/v1.4.1/harvester-v1.4.1-amd64.sha512', Buffer.from(sums)],
  ]);
  const target = '/artifacts/v1.4.2/harvester-v1.4.2-amd64.iso';
  const other = Buffer.from('another iso\n');
  // The target's published list names both ISOs' digests as its ISO (the pin decides between them).
  const list = (iso: Buffer) => `${sha512(iso)}  harvester-v1.4.2-amd64.iso\n`;
  const published = await serve({
    releases: {
      '/v1.4.1/harvester-v1.4.1-amd64.sha512': Buffer.from(sums),
      '/v1.4.2/harvester-v1.4.2-amd64.sha512': Buffer.from(list(isoBody)),
    },
  });
  const publishedOther = await serve({
    releases: {
      '/v1.4.1/harvester-v1.4.1-amd64.sha512': Buffer.from(sums),
      '/v1.4.2/harvester-v1.4.2-amd64.sha512': Buffer.from(list(other)),
    },
  });
  const good = await serve({ releases: { ...current, [target]: isoBody } }, root, files);
  const bad = await serve({ releases: { ...current, [target]: other } }, root, files);
  try {
    await run(good.url, 0, ['--releases', '--release-base', published.url], out, dir);
    // Another ISO, even one the release's list names: not the pinned one.
    const doc = await run(bad.url, 1, ['--releases', '--release-base', publishedOther.url], out, dir);
    only(doc, 'VERIFY_DRIFT', `${bad.url}${target}`, /SHA-512 is not the one the upgrade pins/);
    // A manifest's upgrade entry in any other shape is dropped, never followed.
    const { readDeployManifest } = await import('../src/verify/index.ts');
    const text = readFileSync(join(root, 'manifest.json'), 'utf8');
    for (const upgrade of [
      { ...m.upgrade, iso: 'file:///etc/passwd' },
      { ...m.upgrade, iso_sha512: 'AB'.repeat(64) },
      { ...m.upgrade, version: '1.4.2; rm' },
      'v1.4.2',
    ]) {
      const r = readDeployManifest(root, JSON.stringify({ ...JSON.parse(text), upgrade }));
      assert.ok('manifest' in r && r.manifest.upgrade === undefined, JSON.stringify(upgrade));
    }
  } finally {
    await Promise.all([published.close(), publishedOther.close(), good.close(), bad.close()]);
  }
});

test.run();
