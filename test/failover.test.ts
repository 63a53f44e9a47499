// Two boot servers (`failover:`): the halves of the pool, each server's URL in the fleet record,
// the refusals beyond the check fixtures (IPv6, VLANs, an nginx.listen address, a shared address
// that is a name), the rendered keepalived.conf's values, hostile values refused by its escaper,
// and keepalived's checks from each server counted as the boot server's requests by status.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileModel } from '../src/pipeline.ts';
import { check } from '../src/index.ts';
import { failoverUrls, poolOf } from '../src/derive/failover.ts';
import { renderCheckScript, renderKeepalived } from '../src/render/failover.ts';
import { UnsafeValueError } from '../src/formats/escape.ts';
import { serverAddresses } from '../src/status/origin.ts';
import { status } from '../src/status/index.ts';
import type { SiteModel } from '../src/model/index.ts';
import { line } from './helpers/status.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');
const FIXTURE = join(repo, 'test/fixtures/build/failover-dnsmasq/site');

/** The dnsmasq fixture with `edit` applied to its site.yaml: the compiled model and the codes of its errors. */
async function compiled(edit: (yaml: string) => string = (y) => y) {
  const dir = join(tempDir('failover'), 'site');
  cpSync(FIXTURE, dir, { recursive: true });
  const file = join(dir, 'site.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
  const r = await compileModel(dir, {});
  return { dir, model: r.renderable?.model ?? r.model, errors: r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code) };
}

test('each server gets half of the pool (the primary the lower half and an odd extra address), none past its end', async () => {
  const { model } = await compiled();
  const [a, b] = model!.failover!.servers;
  assert.equal(poolOf(model!, a!), { start: '10.32.0.100', end: '10.32.0.150' });
  assert.equal(poolOf(model!, b!), { start: '10.32.0.151', end: '10.32.0.200' });
  const one = (await compiled((y) => y.replace('dhcp_range: 10.32.0.100-10.32.0.200', 'dhcp_range: 10.32.0.100-10.32.0.100'))).model!;
  assert.equal(poolOf(one, one.failover!.servers[0]!), { start: '10.32.0.100', end: '10.32.0.100' });
  assert.is(poolOf(one, one.failover!.servers[1]!), undefined, 'nothing left for the standby: reservations only');
});

test("the fleet record's servers: boot.server with each server's address, port and path prefix kept", async () => {
  const { model } = await compiled((y) => y.replace('server: http://10.32.0.5', 'server: http://10.32.0.5:8080/fo'));
  assert.equal(failoverUrls(model!), ['http://10.32.0.2:8080/fo', 'http://10.32.0.3:8080/fo']);
});

test('refused with failover: IPv6, VLANs, an nginx.listen address, a shared address that is a name', async () => {
  const cases: [string, (y: string) => string, string][] = [
    [
      'IPv6',
      (y) => y.replace('network:\n', 'network:\n  ipv6:\n    prefix: fd00:32::/64\n    dhcp_range: fd00:32::100-fd00:32::1ff\n'),
      'FAILOVER_UNSUPPORTED',
    ],
    [
      'VLANs',
      (y) =>
        y.replace(
          'network:\n',
          'network:\n  vlans:\n    - { id: 100, cidr: 10.100.0.0/24, gateway: 10.100.0.1, server: 10.100.0.5, interface: enp1s0.100 }\n',
        ),
      'FAILOVER_UNSUPPORTED',
    ],
    ['an nginx.listen address', (y) => `${y}nginx:\n  listen: 10.32.0.5:80\n`, 'FAILOVER_UNSUPPORTED'],
    [
      'a shared address that is a name',
      (y) => y.replace('server: http://10.32.0.5', 'server: http://boot.example.net'),
      'FAILOVER_SHARED_ADDRESS',
    ],
    ['a server with the shared address', (y) => y.replace('address: 10.32.0.3', 'address: 10.32.0.5'), 'FAILOVER_SERVER_ADDRESS'],
    ['two servers with one name', (y) => y.replace('name: pxe2', 'name: pxe1'), 'FAILOVER_SERVER_ADDRESS'],
    [
      'a shared address that is the broadcast address',
      (y) => y.replace('server: http://10.32.0.5', 'server: http://10.32.0.255'),
      'FAILOVER_SHARED_ADDRESS',
    ],
    [
      'a shared address that is the gateway',
      (y) => y.replace('server: http://10.32.0.5', 'server: http://10.32.0.1'),
      'FAILOVER_SHARED_ADDRESS',
    ],
    ["a server with the cluster's VIP", (y) => y.replace('address: 10.32.0.3', 'address: 10.32.0.10'), 'FAILOVER_SERVER_ADDRESS'],
    ['a server with a DNS server', (y) => y.replace('address: 10.32.0.3', 'address: 10.32.0.53'), 'FAILOVER_SERVER_ADDRESS'],
    ["TFTP from one server's own address", (y) => `${y}dhcp:\n  next_server: 10.32.0.2\n`, 'FAILOVER_SHARED_ADDRESS'],
    ["nginx on another port than boot.server's", (y) => `${y}nginx:\n  listen: '*:9090'\n`, 'FAILOVER_UNSUPPORTED'],
  ];
  for (const [what, edit, code] of cases) {
    const r = await compiled(edit);
    assert.ok(r.errors.includes(code), `${what}: ${r.errors.join(', ')}`);
  }
  assert.equal((await compiled()).errors, [], 'the fixture itself is clean');
});

test('another site at the shared address of a site with two boot servers is refused (their files are whole files)', async () => {
  const a = await compiled((y) => y.replace('server: http://10.32.0.5', 'server: http://10.32.0.5/a'));
  const b = join(tempDir('failover-b'), 'other');
  cpSync(join(repo, 'test/fixtures/build/no-pool/site'), b, { recursive: true });
  const yaml = join(b, 'site.yaml');
  writeFileSync(
    yaml,
    readFileSync(yaml, 'utf8')
      .replace(/server: http:\/\/[^\s]+/, 'server: http://10.32.0.5/b')
      .replace(/^site: .*$/m, 'site: other'),
  );
  const r = await check({ sites: [a.dir, b] });
  const found = r.diagnostics.filter((d) => d.code === 'FAILOVER_UNSUPPORTED');
  assert.is(found.length, 1, JSON.stringify(r.diagnostics.map((d) => d.code)));
  assert.match(found[0]!.message, /share http:\/\/10\.32\.0\.5:80/);
});

test("keepalived.conf: the shared address on the servers' network, the primary's higher priority, the other as the unicast peer, nginx on every address", async () => {
  const { model } = await compiled();
  const m = model!;
  const [a, b] = m.failover!.servers;
  const ka = renderKeepalived(m, a!);
  assert.match(ka, /\n {8}10\.32\.0\.5\/24 dev enp1s0\n/);
  assert.match(ka, /\n {4}priority 150\n/);
  assert.match(ka, /\n {4}unicast_src_ip 10\.32\.0\.2\n[\s\S]*?\n {4}unicast_peer \{\n {8}10\.32\.0\.3\n/);
  assert.match(ka, /script "\/etc\/keepalived\/harvgen-check\.sh"/);
  assert.match(ka, /\n {4}notify \/etc\/keepalived\/harvgen-notify\.sh\n/);
  assert.match(renderCheckScript(m, a!), /\ncurl -fsS -o \/dev\/null --max-time 2 http:\/\/10\.32\.0\.2:80\/boot\.ipxe \|\| exit 1\n/);
  assert.match(renderKeepalived(m, b!), /\n {4}priority 100\n/);
  assert.match(ka, /\n {4}check_unicast_src\n/);
  // boot.server's port and path prefix are where the check asks, at the server's own address.
  const prefixed = (await compiled((y) => y.replace('server: http://10.32.0.5', 'server: http://10.32.0.5:8080/fo'))).model!;
  assert.match(renderCheckScript(prefixed, prefixed.failover!.servers[1]!), /http:\/\/10\.32\.0\.3:8080\/fo\/boot\.ipxe \|\| exit 1\n/);
  assert.is(prefixed.nginx.listen, '8080');
  assert.is(m.nginx.listen, '80');
  // A value that slipped past validation (a forged model) cannot open a block or end a line.
  const forged = { ...m, failover: { ...m.failover!, interface: 'enp1s0 }\n    notify /tmp/x' } } as SiteModel;
  assert.throws(
    () => renderKeepalived(forged, a!),
    (e: unknown) => e instanceof UnsafeValueError,
  );
});

test("status: keepalived's checks from each server are the boot server's requests, not a machine's", async () => {
  const { dir, model } = await compiled();
  assert.ok(serverAddresses(model!).includes('10.32.0.2') && serverAddresses(model!).includes('10.32.0.3'));
  const log = join(dir, '..', 'access.log');
  writeFileSync(
    log,
    `${[
      line('10.32.0.2', 1, '/boot.ipxe', 200),
      line('10.32.0.3', 1, '/boot.ipxe', 200),
      line('10.32.0.11', 2, '/ipxe/52-54-00-32-00-01.ipxe', 200),
    ].join('\n')}\n`,
  );
  const r = await status({ sites: [dir], logs: [log] });
  assert.equal(r.diagnostics, []);
  assert.is(r.serverRequests, 2);
  assert.is(r.foreignRequests, 0);
  assert.is(r.unknown.length, 0);
});

test.run();
