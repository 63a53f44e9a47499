// Whose requests a node's verdict uses: only those from addresses that node can be using; the boot
// server's own fetches (loopback, boot.server's address) and other addresses' are counted apart.
// Also: a script then a refused config is `booting`, not `local`; a reported value is cut.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as lib from '../src/index.ts';
import { discover } from '../src/status/discover.ts';
import { status } from '../src/status/index.ts';
import { MAX_REPORTED_CHARS } from '../src/status/log.ts';
import { leftOutNote } from '../src/status/text.ts';
import { byHost, line, site } from './helpers/status.ts';

async function run(lines: string[]) {
  const dir = site();
  const log = join(dir, '..', 'access.log');
  writeFileSync(log, `${lines.join('\n')}\n`);
  const r = await status({ sites: [dir], logs: [log] });
  assert.equal(r.diagnostics, []);
  return r;
}

const noAgent = (l: string) => l.replace(/"iPXE\/[^"]*"$/, '"-"');

test("a fetch of a node's script from the boot server itself (loopback, boot.server's address) is no boot of that node", async () => {
  const r = await run([
    line('127.0.0.1', 1, '/ipxe/52-54-00-00-00-01.ipxe', 200),
    line('10.0.0.1', 2, '/ipxe/52-54-00-00-00-01.ipxe', 200),
    line('::1', 3, '/harvester/never.yaml', 403),
  ]);
  const n = byHost(r.nodes);
  assert.is(n.never!.verdict, 'never-booted');
  assert.equal(n.never!.problems, []);
  assert.is(r.serverRequests, 3);
  assert.is(r.foreignRequests, 0);
  assert.is(r.counts![0]!.requests, 0);
});

test("another address's fetch of a node's script does not hide the node's own boot", async () => {
  const r = await run([
    line('10.0.0.13', 6, '/ipxe/52-54-00-00-00-03.ipxe', 200),
    // An operator's curl from a workstation, later.
    line('10.0.0.200', 20, '/ipxe/52-54-00-00-00-03.ipxe', 200),
    line('10.0.0.200', 21, '/ipxe/52-54-00-00-00-02.ipxe', 200),
  ]);
  const n = byHost(r.nodes);
  assert.is(n.disk!.verdict, 'local');
  assert.equal(n.disk!.last_boot, { time: '2026-11-23T10:06:00.000Z', ip: '10.0.0.13', mac: '52:54:00:00:00:03', status: 200 });
  assert.is(n.disk!.fetches.script!.count, 1);
  assert.is(n.boot!.verdict, 'never-booted');
  assert.is(r.foreignRequests, 2);
  assert.is(r.counts![0]!.requests, 1);
});

test("verify's path probes from the boot server (a 400, no User-Agent) are no traffic of the site: its last request stays the nodes'", async () => {
  const r = await run([
    line('10.0.0.13', 6, '/ipxe/52-54-00-00-00-03.ipxe', 200),
    noAgent(line('127.0.0.1', 90, '/ipxe/%2e%2e/site.yaml', 400)),
    noAgent(line('10.0.0.1', 91, '/harvester/..%2fsecrets', 400)),
    // From an address of no node, outside the DHCP pool: not the site's machines either.
    noAgent(line('192.0.2.7', 92, '/wp-login.php', 404)),
  ]);
  assert.is(r.serverRequests, 2);
  assert.is(r.foreignRequests, 1);
  assert.is(r.counts![0]!.lastRequest, Date.UTC(2026, 10, 23, 10, 6, 0));
  // What the summary line says of them.
  assert.is(
    leftOutNote(r.verifyRequests, r.serverRequests, r.foreignRequests),
    "0 of them harvgen verify's (left out), 2 from the boot server itself (left out), 1 from addresses no node of theirs uses (left out)",
  );
});

test("a node's config refused to another address is still listed as its problem, not as its boot", async () => {
  const r = await run([line('10.0.0.150', 7, '/harvester/boot.yaml', 403)]);
  const n = byHost(r.nodes);
  assert.is(n.boot!.verdict, 'never-booted');
  assert.ok(n.boot!.problems.some((p) => /config refused \(403\) .* from 10\.0\.0\.150/.test(p)));
});

test('a script, then a refused config: booting (it tried to install), not local, whatever its state', async () => {
  const r = await run([
    line('10.0.0.13', 6, '/ipxe/52-54-00-00-00-03.ipxe', 200),
    line('10.0.0.13', 7, '/harvester/disk.yaml', 403),
    line('10.0.0.12', 6, '/ipxe/52-54-00-00-00-02.ipxe', 200),
    line('10.0.0.12', 7, '/harvester/boot.yaml', 403),
  ]);
  const n = byHost(r.nodes);
  assert.is(n.disk!.state, 'local');
  assert.is(n.disk!.verdict, 'booting');
  assert.is(n.boot!.verdict, 'booting');
});

test('a reported value is cut to its bound, with a marker, in what status keeps and prints', async () => {
  const long = 'x'.repeat(40_000);
  const r = await run([
    line('10.0.0.160', 8, '/ipxe/52-54-00-ff-00-01.ipxe', 404),
    line('10.0.0.160', 8, `/harvgen-discover?mac=52-54-00-ff-00-01&serial=${long}&product=R650`, 200),
  ]);
  const serial = r.unknown[0]!.report!.serial!;
  assert.ok(serial.length < MAX_REPORTED_CHARS + 40, `serial of ${serial.length} characters`);
  assert.ok(serial.startsWith('x'.repeat(MAX_REPORTED_CHARS)));
  assert.ok(serial.endsWith('...[cut: 40000 characters]'), serial.slice(-40));
  assert.is(r.unknown[0]!.report!.product, 'R650');
});

test('status and discover are part of the library API', () => {
  assert.is(lib.status, status);
  assert.is(lib.discover, discover);
});

test.run();
