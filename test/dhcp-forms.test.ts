// The DHCP forms (`dhcp.server`): Kea and ISC dhcpd answer with the same split and reservations as
// dnsmasq (one decision, derive/dhcp-boot.ts), only the site's form is written, and an attacker
// who controls one field cannot change the structure of the Kea JSON or the dhcpd snippet. The
// real programs read them in test/real/dhcp-forms.test.ts.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { check, compileSite, type SiteModel } from '../src/index.ts';
import { NO_SOURCE } from '../src/load/index.ts';
import { renderSite } from '../src/render/index.ts';
import { escapers, UnsafeValueError } from '../src/formats/escape.ts';
import { bootClasses, leaseSeconds } from '../src/derive/dhcp-boot.ts';
import { deployHints } from '../src/cli/hints.ts';
import { DHCP_SERVERS, dhcpServerOf } from '../src/derive/dhcp-servers/index.ts';
import { explainNode } from '../src/explain/index.ts';
import { exampleSite } from './helpers/example.ts';
import { PAYLOADS } from './helpers/payloads.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');
type Doc = Record<string, unknown>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

/** location_x with `dhcp.server` and a change, written to a new site directory. */
function site(server: 'kea' | 'isc' | 'dnsmasq', change: (d: Doc) => void = () => undefined): string {
  const doc = exampleSite() as Doc;
  doc.dhcp = { server };
  change(doc);
  const dir = tempDir(`dhcp-${server}`);
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

async function files(dir: string): Promise<Map<string, string>> {
  const r = await compileSite(dir);
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  return new Map(r.artifacts!.map((a) => [a.path, a.contents as string]));
}

interface KeaClass {
  name: string;
  test: string;
  'only-if-required': boolean;
  'boot-file-name': string;
  'option-data'?: { name: string; data: string; 'always-send': boolean }[];
}
interface KeaConfig {
  Dhcp4: {
    'client-classes': KeaClass[];
    'ip-reservations-unique'?: boolean;
    subnet4: {
      id: number;
      subnet: string;
      pools: { pool: string }[];
      'next-server'?: string;
      'option-data': { name: string; data: string }[];
      'require-client-classes': string[];
      reservations: { 'hw-address': string; hostname?: string; 'ip-address'?: string }[];
    }[];
  };
}

test('dhcp.server kea writes kea/harvgen.json and no dnsmasq file; isc writes dhcpd/harvgen.conf; neither is served', async () => {
  for (const [server, path, others] of [
    ['kea', 'kea/harvgen.json', []],
    ['isc', 'dhcpd/harvgen.conf', []],
    // dnsmasq: the site's file, the global one and one reservation file per node.
    [
      'dnsmasq',
      'dnsmasq/harvgen.conf',
      ['dnsmasq/global.conf', 'dnsmasq/hosts/location_x.hv-1', 'dnsmasq/hosts/location_x.hv-2', 'dnsmasq/hosts/location_x.hv-3'],
    ],
  ] as const) {
    const m = await files(site(server));
    const dhcp = [...m.keys()].filter((p) => /^(kea|dhcpd|dnsmasq)\//.test(p));
    assert.equal(dhcp.sort(), [path, ...others].sort(), `${server}: ${dhcp.join(', ')}`);
    const manifest = JSON.parse(m.get('manifest.json')!) as { files: { path: string; url?: string }[] };
    const entry = manifest.files.find((f) => f.path === path);
    assert.ok(entry && entry.url === undefined, `${server}: ${path} is listed in manifest.json and not served`);
    assert.not.match(m.get('nginx/harvgen.conf')!, /kea|dhcpd|dnsmasq/);
  }
});

test('Kea: one class per kind of client, only in the site subnet, each excluding iPXE but the iPXE one, with the dnsmasq boot files', async () => {
  const m = await files(site('kea', (d) => (d.boot = { ...(d.boot as Doc), http_boot: true })));
  const kea = JSON.parse(m.get('kea/harvgen.json')!) as KeaConfig;
  const classes = kea.Dhcp4['client-classes'];
  const subnet = kea.Dhcp4.subnet4[0]!;
  assert.equal(
    classes.map((c) => c.name),
    ['ipxe', 'bios', 'efi64', 'efihttp'].map((id) => `harvgen-location_x-${id}`),
  );
  assert.equal(
    subnet['require-client-classes'],
    classes.map((c) => c.name),
    'every class is required by the subnet',
  );
  for (const c of classes) assert.ok(c['only-if-required'], `${c.name} is evaluated only in the site's subnet`);
  assert.is(classes[0]!.test, "(option[77].hex == 'iPXE' or option[175].exists)");
  for (const c of classes.slice(1)) assert.ok(c.test.startsWith(`not ${classes[0]!.test} and `), `${c.name} excludes iPXE: ${c.test}`);
  assert.match(classes[1]!.test, /option\[93\]\.hex == 0x0000\)$/);
  assert.match(classes[2]!.test, /\(option\[93\]\.hex == 0x0007 or option\[93\]\.hex == 0x0009\)$/);
  assert.equal(classes[3]!['option-data'], [{ name: 'vendor-class-identifier', data: 'HTTPClient', 'always-send': true }]);
  // The boot files are dnsmasq's, line for line.
  const dnsmasq = await files(site('dnsmasq', (d) => (d.boot = { ...(d.boot as Doc), http_boot: true })));
  const boots = [...dnsmasq.get('dnsmasq/harvgen.conf')!.matchAll(/^dhcp-boot=(?:tag:[^,]+,)+(.+)$/gm)].map((x) => x[1]);
  assert.equal(
    classes.map((c) => c['boot-file-name']),
    boots,
  );
  assert.equal(boots, ['http://192.168.122.1/boot.ipxe', 'undionly.kpxe', 'snponly.efi', 'http://192.168.122.1/snponly.efi']);
});

test('Kea: routers, DNS, pool, lease time, next-server, a stable subnet id, and a reservation for every boot MAC and the VIP', async () => {
  const m = await files(
    site('kea', (d) => {
      d.network = { ...(d.network as Doc), domain: 'lab.example.net', dns: ['192.168.122.53', '192.168.122.54'] };
      d.cluster = { ...(d.cluster as Doc), vip_mode: 'dhcp', vip_hw_addr: '02:00:00:00:00:0a' };
      d.dnsmasq = { lease_time: '30m' };
      const nodes = d.nodes as Doc[];
      nodes[1] = { ...nodes[1], macs: ['52:54:00:aa:bb:02', '52:54:00:aa:bb:22'], mac: undefined };
      delete nodes[1]!.mac;
      delete nodes[2]!.ip;
    }),
  );
  const kea = JSON.parse(m.get('kea/harvgen.json')!) as KeaConfig;
  const s = kea.Dhcp4.subnet4[0]!;
  assert.is(s.subnet, '192.168.122.0/24');
  assert.is(s.id, 192 * 2 ** 24 + 168 * 2 ** 16 + 122 * 2 ** 8, 'the network address as a number');
  assert.equal(s.pools, [{ pool: '192.168.122.150 - 192.168.122.250' }]);
  assert.is(s['next-server'], '192.168.122.1');
  assert.equal(s['option-data'], [
    { name: 'routers', data: '192.168.122.1' },
    { name: 'domain-name-servers', data: '192.168.122.53, 192.168.122.54' },
    { name: 'domain-name', data: 'lab.example.net' },
  ]);
  assert.is((s as unknown as { 'valid-lifetime': number })['valid-lifetime'], 1800);
  assert.equal(s.reservations, [
    { 'hw-address': '52:54:00:aa:bb:01', hostname: 'hv-1', 'ip-address': '192.168.122.11' },
    { 'hw-address': '52:54:00:aa:bb:02', hostname: 'hv-2', 'ip-address': '192.168.122.12' },
    { 'hw-address': '52:54:00:aa:bb:22', hostname: 'hv-2', 'ip-address': '192.168.122.12' },
    { 'hw-address': '52:54:00:aa:bb:03', hostname: 'hv-3' },
    { 'hw-address': '02:00:00:00:00:0a', 'ip-address': '192.168.122.120' },
  ]);
  assert.is(kea.Dhcp4['ip-reservations-unique'], false, 'one address for two MACs needs non-unique reservations');
  const plain = JSON.parse((await files(site('kea'))).get('kea/harvgen.json')!) as KeaConfig;
  assert.is(plain.Dhcp4['ip-reservations-unique'], undefined, 'left at its default when no address is shared');
});

test('ISC: the split as conditions in the subnet, in class order, and one host per boot MAC with its address and name', async () => {
  const conf = (await files(site('isc'))).get('dhcpd/harvgen.conf')!;
  assert.match(conf, /^subnet 192\.168\.122\.0 netmask 255\.255\.255\.0 \{$/m);
  assert.match(conf, /^ {2}range 192\.168\.122\.150 192\.168\.122\.250;$/m);
  assert.match(conf, /^ {2}default-lease-time 43200;$/m);
  assert.match(conf, /^ {2}option routers 192\.168\.122\.1;$/m);
  assert.match(conf, /^ {2}next-server 192\.168\.122\.1;$/m);
  const split = [...conf.matchAll(/^ {2}(?:if|\} elsif) (.+) \{\n {4}filename "([^"]+)";$/gm)].map((x) => [x[1], x[2]]);
  assert.equal(split, [
    ['exists user-class and option user-class = "iPXE"', 'http://192.168.122.1/boot.ipxe'],
    ['option pxe-system-type = 00:00', 'undionly.kpxe'],
    ['option pxe-system-type = 00:07 or option pxe-system-type = 00:09', 'snponly.efi'],
  ]);
  assert.match(
    conf,
    /^ {2}host harvgen-location_x-hv-1-0 \{\n {4}hardware ethernet 52:54:00:aa:bb:01;\n {4}fixed-address 192\.168\.122\.11;\n {4}option host-name "hv-1";\n {2}\}$/m,
  );
});

test('with nginx.file_key, Kea and ISC send iPXE on each boot MAC its keyed script from the host entry, and leave firmware PXE alone', async () => {
  const key = (d: Doc) => (d.nginx = { file_key: '0123456789abcdef'.repeat(4) });
  const kea = JSON.parse((await files(site('kea', key))).get('kea/harvgen.json')!) as KeaConfig;
  const classes = kea.Dhcp4['client-classes'];
  const s = kea.Dhcp4.subnet4[0]!;
  assert.equal(classes[0], { name: 'harvgen-location_x-keyed' } as unknown as KeaClass, 'the keyed class comes first (member() names it)');
  const own = classes.filter((c) => /-ipxe-[0-9a-f]{12}$/.test(c.name));
  assert.is(own.length, 3, 'one class per boot MAC');
  assert.is(own[0]!.test, "(option[77].hex == 'iPXE' or option[175].exists) and pkt4.mac == 0x525400aabb01");
  assert.match(own[0]!['boot-file-name'], /^http:\/\/192\.168\.122\.1\/ipxe\/52-54-00-aa-bb-01-x{32}\.ipxe$/);
  const site_ = classes.find((c) => c.name === 'harvgen-location_x-ipxe')!;
  assert.ok(site_.test.endsWith(" and not member('harvgen-location_x-keyed')"), site_.test);
  assert.equal(s['require-client-classes'].slice(0, 4), [...own.map((c) => c.name), 'harvgen-location_x-ipxe']);
  for (const r of s.reservations.slice(0, 3))
    assert.equal((r as { 'client-classes'?: string[] })['client-classes'], ['harvgen-location_x-keyed']);
  const isc = (await files(site('isc', key))).get('dhcpd/harvgen.conf')!;
  assert.match(
    isc,
    /^ {4}option host-name "hv-1";\n {4}if exists user-class and option user-class = "iPXE" \{\n {6}filename "http:\/\/192\.168\.122\.1\/ipxe\/52-54-00-aa-bb-01-x{32}\.ipxe";\n {4}\}\n {2}\}$/m,
  );
  const plain = (await files(site('isc'))).get('dhcpd/harvgen.conf')!;
  assert.not.match(plain, /^ {4}if /m, 'no host has its own boot file without a key');
});

test('the split has every class of the site and nothing else', async () => {
  const m = structuredClone((await compileSite(join(repo, 'sites/location_x'))).model!) as Mutable<SiteModel>;
  assert.equal(
    bootClasses(m as SiteModel).map((c) => c.id),
    ['ipxe', 'bios', 'efi64'],
  );
  m.boot.httpBoot = true;
  (m.nodes[0] as { arch: string }).arch = 'arm64';
  assert.equal(
    bootClasses(m as SiteModel).map((c) => c.id),
    ['ipxe', 'bios', 'efi64', 'efihttp', 'efiarm64', 'efihttparm64'],
  );
  assert.is(leaseSeconds('12h'), 43200);
  assert.is(leaseSeconds('3600'), 3600);
  assert.is(leaseSeconds('1w'), 604800);
  assert.is(leaseSeconds('infinite'), undefined);
});

test('Kea and ISC need a TFTP address: a name in boot.server without dhcp.next_server is NET_NEXT_SERVER_MISSING', async () => {
  const named = (d: Doc) => (d.boot = { ...(d.boot as Doc), server: 'http://boot.example.net' });
  for (const server of ['kea', 'isc'] as const) {
    const r = await check({ sites: [site(server, named)] });
    const d = r.diagnostics.find((x) => x.code === 'NET_NEXT_SERVER_MISSING');
    assert.ok(d && d.path === 'dhcp.server' && d.line !== undefined, JSON.stringify(r.diagnostics));
    const ok = await check({ sites: [site(server, (doc) => (named(doc), (doc.dhcp = { server, next_server: '192.168.122.5' })))] });
    assert.not.ok(ok.diagnostics.some((x) => x.code === 'NET_NEXT_SERVER_MISSING'));
  }
  const dnsmasq = await check({ sites: [site('dnsmasq', named)] });
  assert.not.ok(
    dnsmasq.diagnostics.some((x) => x.code === 'NET_NEXT_SERVER_MISSING'),
    'dnsmasq is its own TFTP server',
  );
});

test('explain names the DHCP form and its file, from dhcp.server or the built-in default', async () => {
  for (const [server, want] of [
    ['kea', 'kea: kea/harvgen.json'],
    ['isc', 'isc: dhcpd/harvgen.conf'],
  ] as const) {
    const compiled = await compileSite(site(server));
    const e = explainNode(compiled, compiled.model!.nodes[0]!);
    const v = e.values.find((x) => x.key === 'dhcp');
    assert.is(v?.value, want);
    assert.is(v?.source.kind, 'inventory');
  }
  const plain = await compileSite(join(repo, 'sites/location_x'));
  const d = explainNode(plain, plain.model!.nodes[0]!).values.find((x) => x.key === 'dhcp');
  assert.equal([d?.value, d?.source.kind], ['dnsmasq: dnsmasq/harvgen.conf', 'built-in']);
});

test('the deploy hints name each site DHCP form', () => {
  const lines = deployHints([
    { site: 'a', dir: 'out/a', files: ['kea/harvgen.json', 'nginx/harvgen.conf'] },
    { site: 'b', dir: 'out/b', files: ['dhcpd/harvgen.conf', 'nginx/harvgen.conf'] },
  ]);
  const dhcp = lines.find((l) => l.startsWith('  dhcp:'));
  assert.is(dhcp, '  dhcp:    merge into Kea kea/harvgen.json (a), include into dhcpd.conf dhcpd/harvgen.conf (b)');
});

// An attacker who controls one field.
function refused(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => e instanceof UnsafeValueError, message);
}

test('escapers: Kea strings are printable ASCII (JSON.stringify quotes them); dhcpd strings quote and round-trip; dhcpd names, addresses and MACs refuse every payload', () => {
  for (const v of PAYLOADS) {
    let kea: string | undefined;
    try {
      kea = escapers.kea(v);
    } catch (e) {
      assert.instance(e, UnsafeValueError);
    }
    if (kea !== undefined) assert.is(JSON.parse(JSON.stringify({ v: kea })).v, v, 'one JSON string, read back as written');
    let s: string | undefined;
    try {
      s = escapers.dhcpdString(v);
    } catch (e) {
      assert.instance(e, UnsafeValueError);
    }
    if (s !== undefined) {
      const inner = s.slice(1, -1);
      assert.ok(
        s.startsWith('"') && s.endsWith('"') && !/(^|[^\\])(\\\\)*"/.test(inner),
        `unbalanced quoting of ${JSON.stringify(v)}: ${s}`,
      );
      assert.is(inner.replace(/\\(.)/g, '$1'), v, 'quoting round-trips');
    }
    refused(() => escapers.dhcpdName(v), `dhcpdName let ${JSON.stringify(v)} through`);
    refused(() => escapers.dhcpdAddress(v), `dhcpdAddress let ${JSON.stringify(v)} through`);
    refused(() => escapers.dhcpdMac(v), `dhcpdMac let ${JSON.stringify(v)} through`);
  }
  refused(() => escapers.kea('a\nb'), 'newline');
  refused(() => escapers.kea('caf\u00e9'), 'non-ASCII');
  refused(() => escapers.dhcpdString('a\nb'), 'newline');
  assert.is(escapers.dhcpdString('a"b\\c'), '"a\\"b\\\\c"');
  assert.is(escapers.dhcpdName('harvgen-location_x-hv-1-0'), 'harvgen-location_x-hv-1-0');
  refused(() => escapers.dhcpdName('1abc'), 'a name starts with a letter');
  refused(() => escapers.dhcpdAddress('192.168.122.300'), 'not an address');
  refused(() => escapers.dhcpdMac('52:54:00:AA:BB:01'), 'MACs are normalized to lowercase before');
});

test('check refuses every payload in dhcp.next_server at that field, never as an internal error', async () => {
  for (const payload of PAYLOADS) {
    for (const server of ['kea', 'isc'] as const) {
      const r = await check({ sites: [site(server, (d) => (d.dhcp = { server, next_server: payload }))] });
      const where = `dhcp.next_server = ${JSON.stringify(payload)}`;
      assert.not.ok(r.ok, `check accepted ${where}`);
      assert.not.ok(
        r.diagnostics.some((d) => d.code === 'INTERNAL_ERROR' || d.code === 'RENDER_UNSAFE_VALUE'),
        where,
      );
      assert.ok(
        r.diagnostics.some((d) => d.path === 'dhcp.next_server' && d.severity === 'error' && d.line !== undefined),
        `${where}: ${r.diagnostics.map((d) => `${d.code} ${d.path}`).join(', ')}`,
      );
    }
  }
});

// Forged models: validation bypassed, so only the escapers stand between the value and the file.
async function forged(server: 'kea' | 'isc', forge: (m: Mutable<SiteModel>) => void): Promise<ReturnType<typeof renderSite>> {
  const r = await compileSite(site(server));
  const m = structuredClone(r.model!) as Mutable<SiteModel>;
  forge(m);
  return renderSite(m as SiteModel, NO_SOURCE);
}

test('Kea: a forged hostname with quotes and braces stays one JSON string; a newline or non-ASCII is RENDER_UNSAFE_VALUE', async () => {
  const evil = 'x", "ip-address": "192.168.122.99"}, {"hw-address": "00:00:00:00:00:01';
  const r = await forged('kea', (m) => void ((m.nodes[0] as { hostname: string }).hostname = evil));
  const kea = JSON.parse(r.artifacts.find((a) => a.path === 'kea/harvgen.json')!.contents as string) as KeaConfig;
  const res = kea.Dhcp4.subnet4[0]!.reservations;
  assert.is(res.length, 3, 'no reservation was added');
  assert.equal(res[0], { 'hw-address': '52:54:00:aa:bb:01', hostname: evil, 'ip-address': '192.168.122.11' });
  for (const bad of ['x\n}', 'caf\u00e9']) {
    const d = await forged('kea', (m) => void (m.network.domain = bad));
    assert.ok(
      d.diagnostics.some((x) => x.code === 'RENDER_UNSAFE_VALUE' && x.message.startsWith('kea/harvgen.json')),
      JSON.stringify(d.diagnostics),
    );
    assert.not.ok(
      d.artifacts.some((a) => a.path === 'kea/harvgen.json'),
      'nothing is written for it',
    );
  }
});

test('ISC: a forged domain with quotes stays one string; forged names, addresses, MACs and newlines are RENDER_UNSAFE_VALUE', async () => {
  const r = await forged('isc', (m) => void (m.network.domain = 'x"; filename "evil'));
  const conf = r.artifacts.find((a) => a.path === 'dhcpd/harvgen.conf')!.contents as string;
  assert.ok(conf.includes('  option domain-name "x\\"; filename \\"evil";\n'), conf);
  const forges: ((m: Mutable<SiteModel>) => void)[] = [
    (m) => void ((m.nodes[0] as { hostname: string }).hostname = 'a b { }'),
    (m) => void ((m.nodes[0] as { ip?: string }).ip = '192.168.122.11; filename "evil"'),
    (m) => void ((m.nodes[0] as { macs: string[] }).macs = ['52:54:00:aa:bb:01; }']),
    (m) => void (m.network.domain = 'x\n}'),
    (m) => void (m.dhcp.nextServer = '1.2.3.4;\n filename "x"'),
  ];
  for (const forge of forges) {
    const d = await forged('isc', forge);
    assert.ok(
      d.diagnostics.some((x) => x.code === 'RENDER_UNSAFE_VALUE' && x.message.startsWith('dhcpd/harvgen.conf')),
      JSON.stringify(d.diagnostics),
    );
  }
});

test("each DHCP server is a declaration: its files are the site's only DHCP files; a name with no declaration reaches no renderer", async () => {
  const every = new Set(
    Object.values(DHCP_SERVERS).flatMap((s) => s.files({ network: { ipv4: {}, ipv6: {} } } as unknown as SiteModel).map((f) => f.path)),
  );
  for (const server of Object.keys(DHCP_SERVERS) as (keyof typeof DHCP_SERVERS)[]) {
    const r = await compileSite(site(server));
    assert.ok(r.model, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
    const mine = DHCP_SERVERS[server].files(r.model!).map((f) => f.path);
    const written = r.artifacts!.map((a) => a.path).filter((p) => every.has(p));
    assert.equal(written, [...mine].sort(), `${server} writes its own files and no other server's`);
  }
  // The schema's enum is the declarations' names: another name is refused at its line.
  const bogus = await check({ sites: [site('dnsmasq', (d) => (d.dhcp = { server: 'udhcpd' }))] });
  assert.not.ok(bogus.ok);
  assert.ok(
    bogus.diagnostics.some((d) => d.path === 'dhcp.server' && d.line !== undefined),
    JSON.stringify(bogus.diagnostics),
  );
  // Past validation, a model naming no declaration is a bug: no server's config is written for it.
  assert.throws(() => dhcpServerOf({ dhcp: { server: 'udhcpd' as 'kea' } }), /has no declaration/);
  assert.throws(() => dhcpServerOf({ dhcp: { server: 'toString' as 'kea' } }), /has no declaration/);
});

test.run();
