// `status` and `discover` leave `harvgen verify`'s requests out, and only those: verify runs
// against a boot server in this process whose access log (combined format, with the User-Agent)
// then holds nothing but verify's requests, from the boot server's own address, as a cron job
// there would leave it. A node cannot hide behind verify's User-Agent: its own files fetched from
// its own address still count, and so do a MAC outside verify's probe space and a probe MAC
// without verify's User-Agent.
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '../src/index.ts';
import { status } from '../src/status/index.ts';
import { discover } from '../src/status/discover.ts';
import { verify } from '../src/verify/index.ts';
import { PROBE_MAC_PREFIX, verifyUserAgent } from '../src/verify/identity.ts';
import { parseLine } from '../src/status/log.ts';
import { ART, byHost, line, site } from './helpers/status.ts';

process.env.HARVGEN_TOKEN = 'status-verify-token.1';
process.env.HARVGEN_PASSWORD = 'status-verify-password.1';

/** A log line as `line()` writes it, with another User-Agent. */
const as = (agent: string, l: string) => l.replace(/"iPXE\/[^"]*"$/, `"${agent}"`);

/** Run verify against a server that answers 404 to everything and logs each request as nginx would, from `ip`. */
async function verifyLog(dir: string, ip: string): Promise<string[]> {
  const deploy = join(dir, '..', 'deploy');
  const built = await build({ sites: [dir], outDir: deploy, secrets: 'filled' });
  assert.ok(built.ok, JSON.stringify(built.diagnostics));
  const lines: string[] = [];
  const server = http.createServer((req, res) => {
    const t = '23/Nov/2026:12:00:00 +0000';
    lines.push(`${ip} - - [${t}] "${req.method} ${req.url} HTTP/1.1" 404 0 "-" "${req.headers['user-agent'] ?? '-'}"`);
    res.writeHead(404, { 'Content-Length': '0' }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    await verify({ sites: [dir], outDir: deploy, urls: [`http://127.0.0.1:${port}`], timeoutMs: 5000 });
  } finally {
    server.close();
  }
  return lines;
}

test('verify names itself: its User-Agent carries the version, its made-up MACs are in the probe space', async () => {
  const dir = site();
  const lines = await verifyLog(dir, '10.0.0.1');
  assert.ok(lines.length > 20, `${lines.length} requests`);
  const reqs = lines.map((l, i) => parseLine(l, `t:${i}`)!);
  assert.ok(
    reqs.every((r) => r.agent === verifyUserAgent()),
    reqs.map((r) => r.agent).join(','),
  );
  assert.match(verifyUserAgent(), /^harvgen-verify\/\d+\.\d+\.\d+/);
  // The script of a MAC nobody has is asked for in the probe space.
  assert.ok(reqs.some((r) => r.path.startsWith(`/ipxe/${PROBE_MAC_PREFIX.replaceAll(':', '-')}-`)));
});

test('a verify run in the log changes nothing: no node booted, no unknown machine, no stub; the count says how many were left out', async () => {
  const dir = site();
  const lines = await verifyLog(dir, '10.0.0.1');
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, `${lines.join('\n')}\n`);
  const r = await status({ sites: [dir], logs: [log] });
  assert.equal(r.diagnostics, []);
  assert.equal(
    r.nodes.filter((n) => n.verdict !== 'never-booted' || n.problems.length > 0).map((n) => n.hostname),
    [],
  );
  assert.equal(r.unknown, []);
  assert.is(r.verifyRequests, lines.length);
  const d = await discover({ sites: [dir], logs: [log], write: true, cwd: dir });
  assert.equal(d.unknown, []);
  assert.is(d.verifyRequests, lines.length);
  assert.not.ok(existsSync(join(dir, 'discovered')));
});

test("verify's User-Agent alone hides nothing: a node's own files from its own address, a real unknown MAC, a probe MAC without it", async () => {
  const dir = site();
  const ua = verifyUserAgent();
  const unknownProbe = `${PROBE_MAC_PREFIX}:00:00:01`.replaceAll(':', '-');
  const log = join(dir, '..', 'access.log');
  writeFileSync(
    log,
    [
      // `boot` (10.0.0.12) claims to be verify: its own script and kernel, from its own address.
      as(ua, line('10.0.0.12', 5, '/ipxe/52-54-00-00-00-02.ipxe', 200)),
      as(ua, line('10.0.0.12', 6, `${ART}-vmlinuz-amd64`, 200)),
      // An unknown machine in the pool claims to be verify: its MAC is not in the probe space.
      as(ua, line('10.0.0.160', 8, '/ipxe/52-54-00-ff-00-01.ipxe', 404)),
      // A machine whose MAC is in the probe space, without verify's User-Agent.
      line('10.0.0.161', 9, `/ipxe/${unknownProbe}.ipxe`, 404),
      // verify itself, from the boot server: a node's script and the probe MAC's.
      as(ua, line('10.0.0.1', 10, '/ipxe/52-54-00-00-00-03.ipxe', 200)),
      as(ua, line('10.0.0.1', 10, `/ipxe/${PROBE_MAC_PREFIX.replaceAll(':', '-')}-ab-cd-ef.ipxe`, 404)),
    ].join('\n') + '\n',
  );
  const r = await status({ sites: [dir], logs: [log] });
  const n = byHost(r.nodes);
  assert.is(n.boot!.verdict, 'booting');
  assert.is(n.boot!.fetches.kernel?.count, 1);
  assert.ok(
    n.boot!.problems.some((p) => /harvgen verify's User-Agent from the node's own address/.test(p)),
    JSON.stringify(n.boot!.problems),
  );
  assert.is(n.disk!.verdict, 'never-booted', "verify's fetch of disk's script from the boot server is not disk's boot");
  assert.equal(
    r.unknown.map((u) => u.mac),
    ['52:54:00:ff:00:01', `${PROBE_MAC_PREFIX}:00:00:01`],
  );
  assert.is(r.verifyRequests, 2);
});

test.run();
