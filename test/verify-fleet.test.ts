// `verify --fleet` (src/verify/fleet.ts) against small boot servers in this process (on
// 127.0.0.1; test/real/verify-fleet.test.ts does it with a real nginx): a site whose state.json
// says the record's digest, with a good verdict, whose sample files match and which refuses what
// it must passes; drift, another site, a failed or missing verdict, a sample file edited, a
// listing, an unreachable site among reachable ones, a server that never answers (the site time
// limit) and the number of sites checked at once are each caught; records that are not records;
// verifyTree checks a tree without its inventory; the served state file is never a must-not probe.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../src/index.ts';
import {
  STATE_PATH,
  contentKind,
  planSite,
  readFleetRecord,
  serverFor,
  treelessProbes,
  verifyFleet,
  verifyTree,
  type FleetSite,
} from '../src/verify/index.ts';
import { exampleWithSecrets } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

/** What one site on a test server serves. */
interface SiteServe {
  /** state.json as an object (serialised), a status, or nothing (404). */
  state?: object | number;
  /** Files by path under the site: their bytes. */
  files?: Record<string, Buffer>;
  /** Paths (under the site, '' for its root) answered with an autoindex page. */
  listings?: string[];
  /** Never answer anything. */
  hang?: boolean;
  /** Delay each answer by this many ms. */
  delayMs?: number;
}

/** A boot server in this process for several sites, each under `/<site>`; it counts what it sees. */
async function serveSites(sites: Record<string, SiteServe>) {
  const seen: string[] = [];
  const inFlight = new Map<string, number>();
  let maxSites = 0;
  let requests = 0;
  let maxRequests = 0;
  let sockets = 0;
  let maxSockets = 0;
  const open = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push(path);
    const site = path.split('/')[1] ?? '';
    const s = sites[site];
    if (s?.hang) return;
    maxRequests = Math.max(maxRequests, ++requests);
    res.on('close', () => requests--);
    inFlight.set(site, (inFlight.get(site) ?? 0) + 1);
    maxSites = Math.max(maxSites, [...inFlight.values()].filter((n) => n > 0).length);
    const answer = () => {
      inFlight.set(site, inFlight.get(site)! - 1);
      const send = (status: number, body: Buffer | string, type = 'text/html') => {
        res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      };
      const rel = path.slice(site.length + 2);
      if (!s) return send(404, 'not found');
      if (rel === STATE_PATH && s.state !== undefined)
        return typeof s.state === 'number' ? send(s.state, 'no') : send(200, JSON.stringify(s.state), 'application/json');
      const file = s.files?.[rel];
      if (file) return send(200, file, contentKind(rel) === 'text' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
      if (s.listings?.includes(rel) || (rel === '' && s.listings?.includes('/')))
        return send(200, `<html><head><title>Index of /${rel}</title></head><body><h1>Index of /${rel}</h1></body></html>`);
      return send(404, 'not found');
    };
    if (s?.delayMs) setTimeout(answer, s.delayMs);
    else answer();
  });
  server.on('connection', (c) => {
    open.add(c);
    maxSockets = Math.max(maxSockets, ++sockets);
    c.on('close', () => {
      open.delete(c);
      sockets--;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    maxSites: () => maxSites,
    maxSockets: () => maxSockets,
    maxRequests: () => maxRequests,
    close: () =>
      new Promise<void>((r) => {
        for (const c of open) c.destroy();
        server.close(() => r());
      }),
  };
}

const FILES = {
  'boot.ipxe': Buffer.from('#!ipxe\nchain ipxe/${net0/mac:hexhyp}.ipxe || chain unknown.ipxe\n'),
  'ipxe/52-54-00-aa-bb-01.ipxe': Buffer.from('#!ipxe\nkernel http://x/vmlinuz\nboot\n'),
  'unknown.ipxe': Buffer.from('#!ipxe\necho unknown\n'),
};
const sample = () => Object.entries(FILES).map(([path, b]) => ({ path, sha256: sha(b), size: b.length }));
const goodState = (
  site: string,
  d = digest(1),
  verdict: object | null = { ok: true, checks: 120, failed: 0, at: '2026-11-24T10:00:03Z' },
) => ({
  format: 1,
  site,
  digest: d,
  previous: digest(9),
  serial: 1764000000,
  commit: 'a'.repeat(40),
  switched_at: '2026-11-24T10:00:00Z',
  ...(verdict ? { verdict } : {}),
});

/** A fleet record directory: `<site>.json` for each site at `<url>/<site>`. */
function record(label: string, sites: Record<string, { url: string; digest?: string; sample?: object[] }>): string {
  const dir = tempDir(`fleet-${label}`);
  for (const [site, r] of Object.entries(sites))
    writeFileSync(
      join(dir, `${site}.json`),
      JSON.stringify({
        boot_server: `${r.url}/${site}`,
        digest: r.digest ?? digest(1),
        repository: `registry.example.net/harvgen/${site}`,
        sample: r.sample ?? sample(),
        site,
        tag: site,
      }),
    );
  return dir;
}

const bySite = (sites: readonly FleetSite[], name: string) => sites.find((s) => s.site === name)!;
const codes = (s: FleetSite) => s.diagnostics.map((d) => `${d.code} ${d.severity}`);

test('identity, sample and probes all as they should be: ok, one state request, the sample, the probes', async () => {
  const srv = await serveSites({ site_a: { state: goodState('site_a'), files: FILES } });
  try {
    const r = await verifyFleet({ dir: record('ok', { site_a: { url: srv.url } }) });
    const s = bySite(r.sites, 'site_a');
    assert.equal(s.diagnostics, [], JSON.stringify(s.diagnostics));
    assert.ok(r.ok);
    assert.is(s.state, 'ok');
    assert.is(s.served, digest(1));
    assert.equal(s.verdict, { ok: true, checks: 120, failed: 0, at: '2026-11-24T10:00:03Z' });
    const probes = treelessProbes('site_a', serverFor(`${srv.url}/site_a`)).length;
    assert.is(s.checks, 1 + 3 + probes);
    assert.is(r.checks, s.checks);
    // identity first: the state file is the first request the site gets.
    assert.is(srv.seen[0], `/site_a/${STATE_PATH}`);
    for (const p of Object.keys(FILES)) assert.ok(srv.seen.includes(`/site_a/${p}`), p);
    assert.ok(srv.seen.includes('/site_a/.git/'));
    assert.ok(srv.seen.includes('/site_a/.harvgen/'));
    assert.equal(r.servers, [{ site: 'site_a', url: `${srv.url}/site_a`, checks: s.checks, failed: 0, refused: [], reachable: true }]);
  } finally {
    await srv.close();
  }
});

test("each site's registry: the source its state.json names (its mirror), none when it names none or one that is no reference", async () => {
  const srv = await serveSites({
    site_a: { state: { ...goodState('site_a'), source: 'mirror-a.example.net:5000/harvgen/site_a' }, files: FILES },
    site_b: { state: goodState('site_b'), files: FILES },
    site_c: { state: { ...goodState('site_c'), source: 'evil\u001b[2J text' }, files: FILES },
  });
  try {
    const r = await verifyFleet({
      dir: record('source', { site_a: { url: srv.url }, site_b: { url: srv.url }, site_c: { url: srv.url } }),
    });
    assert.is(bySite(r.sites, 'site_a').source, 'mirror-a.example.net:5000/harvgen/site_a');
    assert.is(bySite(r.sites, 'site_b').source, null);
    assert.is(bySite(r.sites, 'site_c').source, null);
  } finally {
    await srv.close();
  }
});

test('drift: VERIFY_FLEET_DRIFT "serves <digest>, git says <digest>" at the state URL; the sample is not fetched', async () => {
  const srv = await serveSites({ site_a: { state: goodState('site_a', digest(2)), files: FILES } });
  try {
    const r = await verifyFleet({ dir: record('drift', { site_a: { url: srv.url } }) });
    const s = bySite(r.sites, 'site_a');
    assert.not.ok(r.ok);
    assert.is(s.state, 'drift');
    assert.equal(codes(s), ['VERIFY_FLEET_DRIFT error']);
    assert.is(s.diagnostics[0]!.message, `site_a: serves ${digest(2)}, git says ${digest(1)}`);
    assert.is(s.diagnostics[0]!.file, `${srv.url}/site_a/${STATE_PATH}`);
    assert.is(s.served, digest(2));
    assert.not.ok(srv.seen.includes('/site_a/boot.ipxe'), 'the sample of another artifact is not fetched');
    assert.ok(srv.seen.includes('/site_a/manifest.json'), 'the probes still run');
  } finally {
    await srv.close();
  }
});

test('two boot servers (failover): the shared address and each server checked; a server serving another digest is VERIFY_FLEET_DRIFT for it alone', async () => {
  const shared = await serveSites({ site_a: { state: goodState('site_a'), files: FILES } });
  const one = await serveSites({ site_a: { state: goodState('site_a'), files: FILES } });
  const two = await serveSites({ site_a: { state: goodState('site_a', digest(2)), files: FILES } });
  try {
    const dir = record('pair', { site_a: { url: shared.url } });
    const file = join(dir, 'site_a.json');
    const rec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...rec, servers: [`${one.url}/site_a`, `${two.url}/site_a`] }));
    const r = await verifyFleet({ dir });
    assert.equal(
      r.sites.map((s) => [s.url, s.state, s.served]),
      [
        [`${shared.url}/site_a`, 'ok', digest(1)],
        [`${one.url}/site_a`, 'ok', digest(1)],
        [`${two.url}/site_a`, 'drift', digest(2)],
      ],
    );
    assert.not.ok(r.ok);
    assert.equal(
      r.diagnostics.map((d) => [d.code, d.file]),
      [['VERIFY_FLEET_DRIFT', `${two.url}/site_a/${STATE_PATH}`]],
    );
    assert.is(r.servers.length, 3);
    // A record whose servers are no URLs is refused as a record.
    writeFileSync(file, JSON.stringify({ ...rec, servers: ['ftp://x'] }));
    const bad = await verifyFleet({ dir });
    assert.equal(
      bad.diagnostics.map((d) => d.code),
      ['VERIFY_FLEET_RECORD'],
    );
    assert.match(bad.diagnostics[0]!.message, /servers\[0\]/);
  } finally {
    await shared.close();
    await one.close();
    await two.close();
  }
});

test('another site at the address: VERIFY_FLEET_STATE naming both; no state file: VERIFY_FLEET_STATE (404 explained)', async () => {
  const srv = await serveSites({ site_a: { state: goodState('site_b'), files: FILES }, site_c: { files: FILES } });
  try {
    const r = await verifyFleet({ dir: record('wrong', { site_a: { url: srv.url }, site_c: { url: srv.url } }) });
    const a = bySite(r.sites, 'site_a');
    assert.is(a.state, 'identity');
    assert.equal(codes(a), ['VERIFY_FLEET_STATE error']);
    assert.match(a.diagnostics[0]!.message, /serves the site site_b, not site_a/);
    assert.not.ok(srv.seen.includes('/site_a/boot.ipxe'));
    const c = bySite(r.sites, 'site_c');
    assert.is(c.state, 'identity');
    assert.match(c.diagnostics[0]!.message, /answered 404 .*no harvgen pull has switched this site yet/);
  } finally {
    await srv.close();
  }
});

test('a failed verdict is VERIFY_FLEET_VERDICT (error, with its counts); no verdict yet is a warning and the site passes', async () => {
  const srv = await serveSites({
    bad: { state: goodState('bad', digest(1), { ok: false, checks: 120, failed: 3, at: '2026-11-24T10:00:03Z' }), files: FILES },
    pending: { state: goodState('pending', digest(1), null), files: FILES },
  });
  try {
    const r = await verifyFleet({ dir: record('verdict', { bad: { url: srv.url }, pending: { url: srv.url } }) });
    const bad = bySite(r.sites, 'bad');
    assert.is(bad.state, 'verdict');
    assert.equal(codes(bad), ['VERIFY_FLEET_VERDICT error']);
    assert.match(bad.diagnostics[0]!.message, /last verify failed \(3 of 120 checks\) at 2026-11-24T10:00:03Z/);
    const pending = bySite(r.sites, 'pending');
    assert.is(pending.state, 'ok');
    assert.equal(codes(pending), ['VERIFY_FLEET_VERDICT warning']);
    assert.is(pending.verdict, null);
  } finally {
    await srv.close();
  }
});

test('a verdict of a pull run with --no-verify is reported as not verified (a warning), with the real pull unit in the hint', async () => {
  const skipped = { ok: false, checks: 0, failed: 0, at: '2026-11-24T10:00:03Z', skipped: 'not verified: --no-verify' };
  const srv = await serveSites({
    lab_site: { state: goodState('lab_site', digest(1), skipped), files: FILES },
    pending: { state: goodState('pending', digest(1), null), files: FILES },
  });
  try {
    const r = await verifyFleet({ dir: record('skipped', { lab_site: { url: srv.url }, pending: { url: srv.url } }) });
    const lab = bySite(r.sites, 'lab_site');
    assert.is(lab.state, 'ok');
    assert.equal(codes(lab), ['VERIFY_FLEET_VERDICT warning']);
    assert.match(lab.diagnostics[0]!.message, /did not verify what it serves \(not verified: --no-verify\)/);
    assert.not.match(lab.diagnostics[0]!.message, /has not finished/);
    assert.match(bySite(r.sites, 'pending').diagnostics[0]!.hint!, /journalctl -u harvgen-pending-pull\.service/);
    assert.not.match(JSON.stringify(r.sites), /harvgen-pull-/);
  } finally {
    await srv.close();
  }
});

test('a sample file edited on the server is VERIFY_DRIFT at its URL; a listing of the root and of .harvgen/ is VERIFY_EXPOSED', async () => {
  const edited = { ...FILES, 'unknown.ipxe': Buffer.from('#!ipxe\necho UNKNOWN\n') };
  const srv = await serveSites({
    edit: { state: goodState('edit'), files: edited },
    listing: { state: goodState('listing'), files: FILES, listings: ['/', '.harvgen/'] },
  });
  try {
    const r = await verifyFleet({ dir: record('sample', { edit: { url: srv.url }, listing: { url: srv.url } }) });
    const e = bySite(r.sites, 'edit');
    assert.is(e.state, 'differs');
    assert.equal(
      e.diagnostics.map((d) => `${d.code} ${d.file}`),
      [`VERIFY_DRIFT ${srv.url}/edit/unknown.ipxe`],
    );
    const l = bySite(r.sites, 'listing');
    assert.is(l.state, 'differs');
    assert.equal(
      l.diagnostics.map((d) => `${d.code} ${d.file}`).sort(),
      [`VERIFY_EXPOSED ${srv.url}/listing/`, `VERIFY_EXPOSED ${srv.url}/listing/.harvgen/`].sort(),
    );
    assert.ok(l.diagnostics.every((d) => /a directory listing/.test(d.message)));
  } finally {
    await srv.close();
  }
});

test('an unreachable site among reachable ones is VERIFY_UNREACHABLE for it alone; the others are checked', async () => {
  const srv = await serveSites({ a1: { state: goodState('a1'), files: FILES }, a3: { state: goodState('a3'), files: FILES } });
  const dead = http.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
  await new Promise<void>((r) => dead.close(() => r()));
  try {
    const r = await verifyFleet({ dir: record('unreach', { a1: { url: srv.url }, a2: { url: deadUrl }, a3: { url: srv.url } }) });
    assert.equal(
      r.sites.map((s) => [s.site, s.state, s.reachable]),
      [
        ['a1', 'ok', true],
        ['a2', 'unreachable', false],
        ['a3', 'ok', true],
      ],
    );
    const a2 = bySite(r.sites, 'a2');
    assert.equal(codes(a2), ['VERIFY_UNREACHABLE error']);
    assert.match(a2.diagnostics[0]!.message, /connection refused/);
    assert.is(a2.checks, 1, 'a dead site costs one request');
  } finally {
    await srv.close();
  }
});

test('a server that never answers: the site time limit ends it (timeout), long before the request timeout', async () => {
  const srv = await serveSites({ slow: { hang: true }, fine: { state: goodState('fine'), files: FILES } });
  try {
    const t0 = performance.now();
    const r = await verifyFleet({
      dir: record('timeout', { slow: { url: srv.url }, fine: { url: srv.url } }),
      siteTimeoutMs: 400,
      timeoutMs: 20_000,
    });
    const took = performance.now() - t0;
    assert.ok(took < 5000, `took ${took} ms`);
    const slow = bySite(r.sites, 'slow');
    assert.is(slow.state, 'timeout');
    assert.not.ok(slow.reachable);
    assert.equal(codes(slow), ['VERIFY_UNREACHABLE error']);
    assert.match(slow.diagnostics[0]!.message, /did not finish in 0\.4 s \(the site time limit, --site-timeout\)/);
    assert.ok(slow.durationMs < 3000, String(slow.durationMs));
    assert.is(bySite(r.sites, 'fine').state, 'ok');
  } finally {
    await srv.close();
  }
});

test('sites are checked at most --concurrency at once, a few requests each (counted at the server)', async () => {
  const names = Array.from({ length: 12 }, (_, i) => `s${String(i).padStart(2, '0')}`);
  const srv = await serveSites(Object.fromEntries(names.map((n) => [n, { state: goodState(n), files: FILES, delayMs: 15 }])));
  try {
    const dir = record('conc', Object.fromEntries(names.map((n) => [n, { url: srv.url }])));
    const r = await verifyFleet({ dir, concurrency: 3 });
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    assert.is(r.sites.length, 12);
    assert.ok(srv.maxSites() <= 3, `sites in flight at once: ${srv.maxSites()}`);
    assert.ok(srv.maxSites() >= 2, `sites in flight at once: ${srv.maxSites()} (no parallelism)`);
    // A few requests per site (4): never more than 3 sites' worth in flight.
    assert.ok(srv.maxRequests() <= 3 * 4, `requests at once: ${srv.maxRequests()}`);
    assert.ok(srv.maxRequests() > 3, `requests at once: ${srv.maxRequests()} (one at a time per site)`);
    // Connections: each site's own (closed when it is done; the server may see a finished site's close a little late).
    assert.ok(srv.maxSockets() <= 3 * 4 + 3, `connections at once: ${srv.maxSockets()}`);
  } finally {
    await srv.close();
  }
});

test('records: each problem names the file; the site is not checked (VERIFY_FLEET_RECORD); an empty or missing directory', async () => {
  const dir = tempDir('fleet-records');
  const good = { boot_server: 'http://127.0.0.1:9/x', digest: digest(1), repository: 'r/x', sample: [], site: 'x', tag: 'x' };
  const cases: [object | string, RegExp][] = [
    ['{', /is not JSON/],
    [[], /not a JSON object/],
    [{ ...good, site: 'y' }, /names the site y; the record of a site is <site>\.json \(y\.json\)/],
    [{ ...good, boot_server: 'ftp://x' }, /`boot_server` is not an http/],
    [{ ...good, digest: 'sha256:abc' }, /`digest` is not sha256:<64 hex digits>/],
    [{ ...good, sample: [{ path: '../etc/passwd', sha256: 'a'.repeat(64), size: 1 }] }, /`sample\[0\]\.path` is not a plain path/],
    [{ ...good, sample: Array.from({ length: 17 }, () => ({ path: 'boot.ipxe', sha256: 'a'.repeat(64), size: 1 })) }, /at most 16/],
    // Texts a page would show whole are bounded by their grammar.
    [{ ...good, repository: `r/${'x'.repeat(900_000)}` }, /`repository` is not a registry repository/],
    [{ ...good, repository: 'r/x"><script>' }, /`repository` is not a registry repository/],
    [{ ...good, tag: 'x'.repeat(129) }, /`tag` is not a tag/],
    [{ ...good, boot_server: `http://127.0.0.1:9/${'x'.repeat(2048)}` }, /`boot_server` is not a URL/],
  ];
  for (const [body, re] of cases) {
    const f = join(dir, 'x.json');
    writeFileSync(f, typeof body === 'string' ? body : JSON.stringify(body));
    const got = readFleetRecord(f);
    assert.ok('problem' in got && re.test(got.problem), `${JSON.stringify(body).slice(0, 60)}: ${JSON.stringify(got)}`);
    const r = await verifyFleet({ dir });
    assert.is(r.sites[0]!.state, 'record');
    assert.is(r.sites[0]!.diagnostics[0]!.code, 'VERIFY_FLEET_RECORD');
    assert.is(r.sites[0]!.diagnostics[0]!.file, f);
    assert.is(r.checks, 0);
  }
  writeFileSync(join(dir, 'x.json'), JSON.stringify(good));
  assert.ok('record' in readFleetRecord(join(dir, 'x.json')));
  const empty = tempDir('fleet-empty');
  mkdirSync(join(empty, 'sub.json'));
  writeFileSync(join(empty, 'notes.txt'), 'x');
  for (const [d, re] of [
    [empty, /holds no <site>\.json/],
    [join(empty, 'nope'), /does not exist/],
  ] as const) {
    const r = await verifyFleet({ dir: d });
    assert.not.ok(r.ok);
    assert.equal(r.sites, []);
    assert.match(r.diagnostics[0]!.message, re);
    assert.is(r.diagnostics[0]!.code, 'VERIFY_FLEET_RECORD');
  }
});

test('planSite and treelessProbes never probe the served state file; treelessProbes is part of planSite', () => {
  const m = {
    site: 's',
    secrets: 'filled' as const,
    boot: { server: 'http://10.0.0.1/s' },
    nodes: [],
    files: [
      { path: 'boot.ipxe', sha256: 'a'.repeat(64), size: 1, url: 'http://10.0.0.1/s/boot.ipxe' },
      { path: STATE_PATH, sha256: 'b'.repeat(64), size: 1 },
    ],
  };
  const server = serverFor(m.boot.server);
  const fixed = () => 'harvgen-probe-000000';
  const plan = planSite(m, server, [], fixed);
  assert.not.ok(
    plan.some((c) => c.rawPath === `/s/${STATE_PATH}`),
    'the state file is served on purpose',
  );
  assert.ok(plan.some((c) => c.rawPath === '/s/.harvgen/' && c.expect.kind === 'refused'));
  const treeless = treelessProbes('s', server, fixed).map((c) => c.rawPath);
  const planned = new Set(plan.map((c) => c.rawPath));
  assert.equal(
    treeless.filter((p) => !planned.has(p)),
    [],
  );
  assert.ok(treeless.includes('/s/.git/') && treeless.includes('/s/') && treeless.includes('/s/ipxe/'));
});

test('verifyTree: one tree, no inventory: passes against a server serving it, with extra served files; another site is refused', async () => {
  const deploy = join(tempDir('fleet-tree'), 'deploy');
  const built = await build({ sites: [exampleWithSecrets('location_x')], outDir: deploy, secrets: 'filled' });
  assert.ok(built.ok);
  const tree = join(deploy, 'location_x');
  const manifest = JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as {
    files: { path: string; url?: string }[];
  };
  const files: Record<string, Buffer> = {};
  for (const f of manifest.files.filter((x) => x.url !== undefined)) files[f.path] = readFileSync(join(tree, f.path));
  files['extra/info.txt'] = Buffer.from('extra\n');
  const srv = await serveSites({ location_x: { files } });
  try {
    const url = `${srv.url}/location_x`;
    const r = await verifyTree({
      tree,
      site: 'location_x',
      urls: [url],
      secretFiles: ['secrets/token'],
      extraServed: [{ path: 'extra/info.txt', sha256: sha(files['extra/info.txt']!), size: 6 }],
      source: '127.0.0.1',
    });
    // The nodes' configs are refused to 127.0.0.1 by their access rules; the test server serves them to anyone.
    const unexpected = r.diagnostics.filter((d) => !/which its access rules leave out/.test(d.message));
    assert.equal(unexpected, [], JSON.stringify(unexpected, null, 1));
    assert.ok(srv.seen.includes('/location_x/extra/info.txt'), 'the extra file is fetched');
    assert.ok(srv.seen.includes('/location_x/secrets/token'));
    assert.is(r.sites[0]!.site, 'location_x');
    assert.is(r.sites[0]!.out, tree);
    const other = await verifyTree({ tree, site: 'location_y', urls: [url] });
    assert.not.ok(other.ok);
    assert.is(other.checks, 0);
    assert.is(other.diagnostics[0]!.code, 'VERIFY_NO_DEPLOY_TREE');
    assert.match(other.diagnostics[0]!.message, /for the site location_x, not location_y/);
  } finally {
    await srv.close();
  }
});

test.run();
