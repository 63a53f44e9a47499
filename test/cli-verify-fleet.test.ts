// `harvgen verify --fleet <dir>` on the command line (in process, against boot servers on
// 127.0.0.1; test/verify-fleet.test.ts has the library's cases): one line per site and a
// summary, exit 0/1/2 as the rest of harvgen, the --json document against the published schema,
// and the arguments it refuses.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../src/cli.ts';
import { STATE_PATH } from '../src/verify/index.ts';
import { assertJson } from './helpers/cli-spawn.ts';
import { tempDir } from './helpers/tmp.ts';

const BOOT = Buffer.from('#!ipxe\nchain unknown.ipxe\n');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

/** One server for every site, each under `/<site>`, serving `digests[site]` in its state.json. */
async function serve(digests: Record<string, string>) {
  const server = http.createServer((req, res) => {
    const [, site = '', ...rest] = (req.url ?? '/').split('/');
    const rel = rest.join('/');
    const send = (status: number, body: string | Buffer, type: string) => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    const d = digests[site];
    if (d !== undefined && rel === STATE_PATH)
      return send(
        200,
        JSON.stringify({ format: 1, site, digest: d, verdict: { ok: true, checks: 9, failed: 0, at: 'x' } }),
        'application/json',
      );
    if (d !== undefined && rel === 'boot.ipxe') return send(200, BOOT, 'text/plain; charset=utf-8');
    send(404, 'no', 'text/html');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

/** A fleet record directory: each site at `<url>/<site>`, git saying D1. */
function record(label: string, sites: Record<string, string>): string {
  const dir = tempDir(`cli-fleet-${label}`);
  for (const [site, url] of Object.entries(sites))
    writeFileSync(
      join(dir, `${site}.json`),
      JSON.stringify({
        boot_server: `${url}/${site}`,
        digest: D1,
        repository: `reg/${site}`,
        sample: [{ path: 'boot.ipxe', sha256: sha(BOOT), size: BOOT.length }],
        site,
        tag: site,
      }),
    );
  return dir;
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: { write: (s: string) => (stdout += s) }, err: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

/** A port nothing listens on. */
async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

test('every site ok: one line per site (state, site, digest, checks, time), a summary, exit 0', async () => {
  const srv = await serve({ alpha: D1, beta_long: D1 });
  try {
    const r = await cli(['verify', '--fleet', record('ok', { alpha: srv.url, beta_long: srv.url })]);
    assert.is(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.is(lines.length, 2, r.stdout);
    assert.match(lines[0]!, /^ok {10}alpha {6}sha256:1{8} {2}\d+ checks {2}\d+ ms$/);
    assert.match(lines[1]!, /^ok {10}beta_long {2}sha256:1{8} {2}\d+ checks {2}\d+ ms$/);
    assert.match(r.stderr, /2 sites \(2 ok\), \d+ checks in [\d.]+ s: every site serves what git says/);
  } finally {
    await srv.close();
  }
});

test('a drifted site: its line says what it serves and what git says, exit 1; an unreachable one as well: exit 2', async () => {
  const srv = await serve({ alpha: D1, beta: D2 });
  const dead = await deadUrl();
  try {
    const dir = record('drift', { alpha: srv.url, beta: srv.url });
    const r = await cli(['verify', '--fleet', dir]);
    assert.is(r.code, 1, r.stdout + r.stderr);
    const beta = r.stdout.split('\n').find((l) => l.includes(' beta '))!;
    assert.match(beta, /^DRIFT {7}beta {3}sha256:2{8} {2}\d+ checks? {2}\d+ ms {2}serves sha256:2{64}, git says sha256:1{64}$/);
    assert.match(r.stderr, /VERIFY_FLEET_DRIFT/);
    assert.match(r.stderr, /2 sites \(1 ok, 1 DRIFT\)/);
    const two = record('drift-dead', { alpha: srv.url, beta: srv.url, gamma: dead });
    const d = await cli(['verify', '--fleet', two]);
    assert.is(d.code, 2, d.stdout + d.stderr);
    assert.match(d.stdout, /^UNREACHABLE +gamma +- +1 check +\d+ ms +.*connection refused/m);
    assert.match(d.stdout, /^ok +alpha /m);
  } finally {
    await srv.close();
  }
});

test('--json: one schema-valid verify document with a per-site fleet array', async () => {
  const srv = await serve({ alpha: D1, beta: D2 });
  try {
    const dir = record('json', { alpha: srv.url, beta: srv.url });
    const r = await cli(['verify', '--fleet', dir, '--json']);
    assert.is(r.code, 1, r.stderr);
    const doc = assertJson<{
      command: string;
      ok: boolean;
      checks: number;
      sites: { dir: string; site: string; ok: boolean }[];
      servers: { site: string; reachable: boolean }[];
      fleet: { site: string; state: string; expected: string; served: string; checks: number; record: string }[];
      diagnostics: { code: string; file: string }[];
    }>(r.stdout, 'verify --fleet --json');
    assert.is(doc.command, 'verify');
    assert.is(doc.ok, false);
    assert.equal(
      doc.fleet.map((s) => [s.site, s.state, s.expected, s.served]),
      [
        ['alpha', 'ok', D1, D1],
        ['beta', 'drift', D1, D2],
      ],
    );
    assert.equal(
      doc.sites.map((s) => [s.site, s.ok, s.dir]),
      [
        ['alpha', true, join(dir, 'alpha.json')],
        ['beta', false, join(dir, 'beta.json')],
      ],
    );
    assert.is(
      doc.checks,
      doc.fleet.reduce((n, s) => n + s.checks, 0),
    );
    assert.equal(
      doc.diagnostics.map((d) => [d.code, d.file]),
      [['VERIFY_FLEET_DRIFT', `${srv.url}/beta/${STATE_PATH}`]],
    );
    assert.is(r.stderr, '');
  } finally {
    await srv.close();
  }
});

test('the --json document is what report --verified reads: each server with its state, what it serves and the drift', async () => {
  const srv = await serve({ alpha: D1, beta: D2 });
  try {
    const dir = record('report', { alpha: srv.url, beta: srv.url });
    const r = await cli(['verify', '--fleet', dir, '--json']);
    assert.is(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { fleet: { site: string; problem: string | null }[] };
    assert.equal(
      doc.fleet.map((s) => [s.site, s.problem]),
      [
        ['alpha', null],
        ['beta', `serves ${D2}, git says ${D1}`],
      ],
    );
    const saved = join(tempDir('cli-fleet-verified'), 'verified.json');
    writeFileSync(saved, r.stdout);
    const out = join(tempDir('cli-fleet-report'), 'report');
    const rep = await cli(['report', '--out', out, '--fleet', dir, '--verified', saved, '--generated-at', '2026-11-23T12:00:00Z']);
    assert.is(rep.code, 0, rep.stderr);
    const page = readFileSync(join(out, 'fleet.html'), 'utf8').replace(/\s+/g, ' ');
    assert.match(page, `<tr data-state="ok">`);
    assert.match(page, `<td class="mono">${srv.url}/alpha</td> <td><span class="state s-ok">ok</span></td> <td class="mono">${D1}</td>`);
    assert.match(
      page,
      `<td class="mono">${srv.url}/beta</td> <td><span class="state s-drift">drift</span></td> <td class="mono">${D2}</td>`,
    );
    assert.match(page, `<span class="problem">serves ${D2}, git says ${D1}</span>`);
    assert.match(page, '2 published site(s); boot servers: 1 drift, 1 ok.');
  } finally {
    await srv.close();
  }
});

test('no record: exit 2 VERIFY_FLEET_RECORD; arguments it refuses: exit 2 CLI_USAGE', async () => {
  const none = await cli(['verify', '--fleet', join(tempDir('cli-fleet-none'), 'nope'), '--json']);
  assert.is(none.code, 2);
  const doc = assertJson<{ diagnostics: { code: string; message: string }[]; fleet: unknown[] }>(none.stdout, 'no record');
  assert.is(doc.diagnostics[0]!.code, 'VERIFY_FLEET_RECORD');
  assert.match(doc.diagnostics[0]!.message, /does not exist/);
  assert.equal(doc.fleet, []);
  const dir = tempDir('cli-fleet-usage');
  for (const [args, re] of [
    [['sites/location_x'], /site directories \(sites\/location_x\) cannot be given with it/],
    [['--url', 'http://x'], /--url cannot be used with --fleet/],
    [['--releases'], /--releases cannot be used with --fleet/],
    [['--concurrency', '0'], /--concurrency 0: with --fleet, the sites checked at once/],
    [['--concurrency', '2000'], /a whole number from 1 to 1024/],
    [['--site-timeout', 'soon'], /--site-timeout soon: seconds/],
    [['--source', 'me'], /--source me: an IP address/],
  ] as const) {
    const r = await cli(['verify', '--fleet', dir, ...args]);
    assert.is(r.code, 2, args.join(' '));
    assert.match(r.stderr, /CLI_USAGE/, args.join(' '));
    assert.match(r.stderr, re, `${args.join(' ')}: ${r.stderr}`);
  }
  const alone = await cli(['verify', 'sites/location_x', '--site-timeout', '5']);
  assert.is(alone.code, 2);
  assert.match(alone.stderr, /--site-timeout applies to --fleet only/);
  const bare = await cli(['verify', '--fleet']);
  assert.is(bare.code, 2, bare.stderr);
  assert.match(bare.stderr, /CLI_USAGE/);
});

test.run();
