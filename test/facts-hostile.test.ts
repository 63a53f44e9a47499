// Measured facts against hostile or odd input: hostnames that are Object.prototype's keys, a facts
// file named `__proto__`, values a facts file cannot hold, a dump cut short, a machine measured
// without the fact a declared one would stand in for, disks a BMC does not report, a node with no
// install device, and the same machine measured under another dump name.
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check } from '../src/index.ts';
import { factsText } from '../src/facts/file.ts';
import { measureFacts } from '../src/measure/index.ts';
import { DumpError, parseDump } from '../src/measure/dump.ts';
import { readRedfish } from '../src/measure/redfish.ts';
import { startMockup } from './helpers/redfish-mockup.ts';
import { tempDir } from './helpers/tmp.ts';

const ENV = { T: 'token.123', P: 'password.123' };
const MAC = '52:54:00:00:00:01';
const DUMP = (extra: string[] = [], nic = [`nic eno1 mac ${MAC}`, 'nic eno1 speed 25000', 'nic eno1 operstate up']) =>
  [
    'harvgen-facts 1',
    'nproc 32',
    'dmi19 128 GB',
    'firmware uefi',
    'virt none',
    'kvm yes',
    ...nic,
    'disk sda sectors 1875385008',
    'byid sda ata-X_1',
    ...extra,
    'end',
    '',
  ].join('\n');

/** A site whose nodes are `nodes` (flow mappings), at v1.8.1. */
function site(nodes: string[], extra = ''): string {
  const dir = tempDir('facts-hostile');
  writeFileSync(
    join(dir, 'site.yaml'),
    [
      'site: hostile',
      'harvester: { version: v1.8.1, artifacts: http://10.0.0.1/artifacts }',
      'boot: { server: http://10.0.0.1 }',
      'network: { cidr: 10.0.0.0/24, gateway: 10.0.0.1, dns: [10.0.0.1], dhcp_range: 10.0.0.100-10.0.0.199 }',
      'cluster: { vip: 10.0.0.10, token: { env: T }, password: { env: P } }',
      extra,
      'nodes:',
      ...nodes.map((n) => `  - ${n}`),
      '',
    ].join('\n'),
  );
  mkdirSync(join(dir, 'facts'));
  return dir;
}

const facts = (host: string, dump: string) =>
  factsText(host, { measured: { source: 'dump', from: 'x', at: '2026-11-27T00:00:00Z' }, ...parseDump(dump) });

test('a node named constructor (or toString) with a facts file elsewhere: no internal error; facts/__proto__.yaml is a file like any other', async () => {
  const dir = site([
    `{ hostname: constructor, mac: "${MAC}", ip: 10.0.0.11, install: { device: /dev/disk/by-id/ata-X_1 } }`,
    '{ hostname: tostring, mac: "52:54:00:00:00:02", ip: 10.0.0.12, install: { device: /dev/disk/by-id/ata-X_1 } }',
  ]);
  writeFileSync(join(dir, 'facts', 'tostring.yaml'), facts('tostring', DUMP()));
  const r = await check({ sites: [dir], env: ENV });
  const codes = r.diagnostics.map((d) => `${d.code} ${d.file?.replace(/^.*\//, '')}`);
  assert.not.ok(
    codes.some((c) => c.startsWith('INTERNAL_ERROR')),
    codes.join('\n'),
  );
  assert.ok(r.ok, codes.join('\n'));
  writeFileSync(join(dir, 'facts', '__proto__.yaml'), 'measured: 42\n');
  const proto = (await check({ sites: [dir], env: ENV })).diagnostics.map((d) => `${d.code} ${d.file?.replace(/^.*\//, '')}`);
  assert.ok(
    proto.some((c) => /^SCHEMA_\w+ __proto__\.yaml$/.test(c)),
    `the __proto__ file is validated: ${proto.join('\n')}`,
  );
});

test('a measured NIC the installer reads no speed from (virtio) or a dump without dmidecode ranges: the declared fact does not stand in', async () => {
  const virtio = DUMP([], [`nic eth0 mac ${MAC}`, 'nic eth0 speed -1', 'nic eth0 operstate up']);
  const noRanges = DUMP().replace('dmi19 128 GB\n', 'memtotal_kb 62914560\n');
  for (const [dump, declared] of [
    [virtio, 'hardware: { nic_speed_mbps: 1000 }'],
    [noRanges, 'hardware: { memory_gib: 16 }'],
  ] as const) {
    const dir = site([`{ hostname: n1, mac: "${MAC}", ip: 10.0.0.11, install: { device: /dev/disk/by-id/ata-X_1 }, ${declared} }`]);
    writeFileSync(join(dir, 'facts', 'n1.yaml'), facts('n1', dump));
    const r = await check({ sites: [dir], env: ENV });
    assert.equal(
      r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
      [],
      `${declared}: the installer judges the machine (60 GiB MemTotal passes its 90% fallback)`,
    );
  }
});

test("a node with no install device is NODE_DEVICE_MISSING alone, not also the machine's", async () => {
  const dir = site([`{ hostname: n1, mac: "${MAC}", ip: 10.0.0.11 }`]);
  writeFileSync(join(dir, 'facts', 'n1.yaml'), facts('n1', DUMP()));
  const r = await check({ sites: [dir], env: ENV });
  assert.not.ok(r.diagnostics.some((d) => d.code === 'INSTALLER_DEVICE_MISSING'));
});

test('a dump cut short (no last line) is refused; a dump without systemd-detect-virt says nothing of a VM', () => {
  assert.throws(
    () => parseDump(DUMP().replace('end\n', '')),
    (e: unknown) => e instanceof DumpError && /cut short/.test((e as Error).message),
  );
  assert.is(parseDump(DUMP().replace('virt none\n', '')).virtualized, undefined);
  assert.is(parseDump(DUMP().replace('virt none\n', 'virt \n')).virtualized, undefined);
});

test('a dump of more lines than the bound is refused as such, not as cut short; one at the bound ending in "end" is read', () => {
  const filler = (n: number) => Array.from({ length: n }, (_, i) => `note ${i}`);
  // DUMP() has 12 lines and its final newline; 100,001 lines in all is the most (the magic line and 100,000 more).
  const at = DUMP(filler(100_001 - 12));
  assert.is(at.split('\n').length - 1, 100_001);
  assert.is(parseDump(at).cpus, 32);
  assert.throws(
    () => parseDump(DUMP(filler(100_002 - 12))),
    (e: unknown) =>
      e instanceof DumpError && /more than 100001 lines/.test((e as Error).message) && !/cut short/.test((e as Error).message),
  );
});

test('a value the machine reports with bidirectional or zero-width marks is kept without them', () => {
  const f = parseDump(DUMP(['system product_serial SN\u202eLIVE-1\u200b', 'system sys_vendor Ex\u2066ample']));
  assert.is(f.identity.serial, 'SN LIVE-1');
  assert.is(f.identity.manufacturer, 'Ex ample');
  assert.not.match(JSON.stringify(f), /[\u202e\u200b\u2066]/);
});

test('values a facts file cannot hold fail the machine and write nothing; the same machine under another dump name is unchanged', async () => {
  const dir = site([`{ hostname: n1, mac: "${MAC}", ip: 10.0.0.11, install: { device: /dev/disk/by-id/ata-X_1 } }`]);
  rmSync(join(dir, 'facts'), { recursive: true });
  const bad = join(dir, 'bad.facts');
  writeFileSync(bad, DUMP().replace('nproc 32', 'nproc 0'));
  const r = await measureFacts({ site: dir, nodes: ['n1'], dump: bad });
  assert.is(r.machines[0]!.status, 'failed');
  assert.is(r.machines[0]!.diagnostics[0]!.code, 'FACTS_READ_FAILED');
  assert.match(r.machines[0]!.diagnostics[0]!.message, /\/cpus must be >= 1/);
  assert.not.ok(statSync(join(dir, 'facts'), { throwIfNoEntry: false }), 'nothing written');
  const one = join(dir, 'one.facts');
  const two = join(dir, 'two.facts');
  writeFileSync(one, DUMP());
  writeFileSync(two, DUMP());
  assert.is((await measureFacts({ site: dir, nodes: ['n1'], dump: one })).machines[0]!.status, 'written');
  const text = readFileSync(join(dir, 'facts', 'n1.yaml'), 'utf8');
  assert.is((await measureFacts({ site: dir, nodes: ['n1'], dump: two })).machines[0]!.status, 'unchanged');
  assert.is(readFileSync(join(dir, 'facts', 'n1.yaml'), 'utf8'), text);
});

test('a BMC whose drives have no size reports no disks (not "no disk"), in a fixed order otherwise; a walk reads at most 8 MiB', async () => {
  const dir = join(tempDir('rf-unsized'), 'm');
  cpSync(join(import.meta.dirname, 'fixtures', 'redfish', 'public-localstorage'), dir, { recursive: true });
  const server = await startMockup(dir);
  try {
    const sized = await readRedfish({ origin: server.url }, { user: 'admin', password: 'secret', insecure: false });
    assert.equal(
      sized.disks!.map((d) => d.serial),
      [...sized.disks!.map((d) => d.serial)].sort(),
      'disks sorted',
    );
  } finally {
    await server.close();
  }
  const drive = join(dir, 'redfish', 'v1', 'Chassis', '1U', 'Drives', '3D58ECBC375FD9F2', 'index.json');
  const d = JSON.parse(readFileSync(drive, 'utf8')) as Record<string, unknown>;
  delete d.CapacityBytes;
  writeFileSync(drive, JSON.stringify(d));
  const again = await startMockup(dir);
  try {
    const r = await readRedfish({ origin: again.url }, { user: 'admin', password: 'secret', insecure: false });
    assert.is(r.disks, undefined);
  } finally {
    await again.close();
  }
  const huge = await startMockup(join(import.meta.dirname, 'fixtures', 'redfish', 'public-rackmount1'), {
    hostile: { '/redfish/v1/Systems/437XR1138R2/Memory/DIMM1': 'huge' },
  });
  try {
    const e = await readRedfish(
      { origin: huge.url },
      { user: 'admin', password: 'secret', insecure: false, maxBytes: 64 * 1024 * 1024 },
    ).catch((x: unknown) => x);
    assert.match(String((e as Error).message), /more than harvgen reads of one machine/);
  } finally {
    await huge.close();
  }
});

test.run();
