// `harvgen facts` against the DMTF's public Redfish mockups (test/fixtures/redfish/, served as a
// BMC serves them by test/helpers/redfish-mockup.ts, behind TLS as a BMC is): each imports to the
// same YAML twice, the facts are what the mockup holds, the variants get the installer's verdict
// of each release, and every answer the client reads is bounded.
import { cpSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check } from '../src/index.ts';
import { measureFacts } from '../src/measure/index.ts';
import { readRedfish } from '../src/measure/redfish.ts';
import { RedfishError } from '../src/measure/http.ts';
import { startMockup, type MockupOptions, type MockupServer } from './helpers/redfish-mockup.ts';
import { tempDir } from './helpers/tmp.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'redfish');
const CREDS = { BMC_USER: 'admin', BMC_PASSWORD: 'secret', T: 'token.123', P: 'password.123' };

/** The mockup served over TLS (a name under test/fixtures/redfish/, or a directory) (the client speaks https to a BMC), closed after fn. */
async function withBmc<T>(mockup: string, fn: (address: string, server: MockupServer) => Promise<T>, opts: MockupOptions = {}): Promise<T> {
  const server = await startMockup(resolve(FIXTURES, mockup), { ...opts, tls: true });
  try {
    return await fn(new URL(server.url).host, server);
  } finally {
    await server.close();
  }
}

/** A site of one node `n1` whose BMC is `address`, at release `version`. */
function site(address: string, version = 'v1.8.1', node = 'mac: "12:44:6a:3b:04:11", ip: 10.0.0.11'): string {
  const dir = tempDir('facts-site');
  writeFileSync(
    join(dir, 'site.yaml'),
    [
      'site: facts',
      `harvester: { version: ${version}, artifacts: http://10.0.0.1/artifacts }`,
      'boot: { server: http://10.0.0.1 }',
      'network: { cidr: 10.0.0.0/24, gateway: 10.0.0.1, dns: [10.0.0.1], dhcp_range: 10.0.0.100-10.0.0.199 }',
      'cluster: { vip: 10.0.0.10, token: { env: T }, password: { env: P } }',
      'defaults: { install: { device: /dev/disk/by-id/scsi-fixture }, bmc: { insecure: true } }',
      'nodes:',
      `  - { hostname: n1, ${node}, bmc: { address: "${address}" } }`,
      '',
    ].join('\n'),
  );
  return dir;
}

const AT = (s: string) => () => new Date(s);

for (const mockup of ['public-rackmount1', 'public-tower', 'public-localstorage']) {
  test(`${mockup}: its facts import to the same YAML twice, and a second measurement leaves the file alone`, async () => {
    await withBmc(mockup, async (address) => {
      const dir = site(address);
      const first = await measureFacts({ site: dir, env: CREDS, now: AT('2026-11-27T01:00:00Z') });
      assert.equal(first.diagnostics, []);
      assert.equal(
        first.machines.map((m) => [m.hostname, m.status, m.diagnostics]),
        [['n1', 'written', []]],
      );
      const file = join(dir, 'facts', 'n1.yaml');
      const text = readFileSync(file, 'utf8');
      const mtime = statSync(file).mtimeMs;
      const again = await measureFacts({ site: dir, env: CREDS, now: AT('2026-11-27T09:00:00Z') });
      assert.is(again.machines[0]!.status, 'unchanged');
      assert.is(readFileSync(file, 'utf8'), text, 'byte-identical, the first measurement time kept');
      assert.is(statSync(file).mtimeMs, mtime, 'not rewritten');
      assert.match(text, /at: 2026-11-27T01:00:00Z/);
      // A fresh import of the same machine into another site gives the same bytes.
      const other = site(address);
      await measureFacts({ site: other, env: CREDS, now: AT('2026-11-27T01:00:00Z') });
      assert.is(readFileSync(join(other, 'facts', 'n1.yaml'), 'utf8').replace(/:\d+\/redfish/, ''), text.replace(/:\d+\/redfish/, ''));
      // What check reads back is the file's own schema's: no shape error, whatever the machine.
      const r = await check({ sites: [dir], env: CREDS });
      assert.equal(
        r.diagnostics.filter((d) => /^(SCHEMA|LOAD|YAML)_/.test(d.code)),
        [],
      );
    });
  });
}

test('public-rackmount1: the facts are what the mockup holds (identity, threads, DIMMs, drives, NICs, Secure Boot)', async () => {
  await withBmc('public-rackmount1', async (address) => {
    const r = await readRedfish({ origin: `https://${address}` }, { user: 'admin', password: 'secret', insecure: true });
    assert.equal(r.identity, {
      manufacturer: 'Contoso',
      model: '3500',
      serial: '437XR1138R2',
      uuid: '38947555-7742-3448-3784-823347823834',
    });
    // Two CPUs of 8 threads each; the FPGA is no CPU.
    assert.is(r.cpus, 16);
    // Four DIMMs (Memory/DIMM1..4, CapacityMiB), summed.
    assert.is(r.memoryGib, 96);
    assert.is(r.firmware, 'uefi');
    assert.is(r.secureBoot, false);
    assert.equal(
      r.nics.map((n) => [n.mac, n.speedMbps]),
      [
        ['12:44:6a:3b:04:11', 1000],
        ['12:44:6a:3b:88:90', 1000],
        ['aa:bb:cc:dd:ee:fe', 100],
      ],
    );
    // The mockup's second NIC is set to another MAC than its permanent one: both kept.
    assert.equal(
      r.nics.map((n) => n.configuredMac),
      [undefined, 'aa:bb:cc:dd:ee:00', undefined],
    );
    assert.equal(
      r.disks!.map((d) => [d.model, d.sizeGib]),
      [
        ['3000GT7', 3725],
        ['3000GT8', 7450],
      ],
    );
  });
});

/** The errors of check on a site measured from `mockup` at `version` (one node, NIC `mac`). */
async function verdict(mockup: string, version: string, skipchecks = false): Promise<string[]> {
  return withBmc(mockup, async (address) => {
    const dir = site(address, version);
    if (skipchecks)
      writeFileSync(
        join(dir, 'site.yaml'),
        readFileSync(join(dir, 'site.yaml'), 'utf8').replace(
          'boot: { server: http://10.0.0.1 }',
          'boot: { server: http://10.0.0.1, skipchecks: true }',
        ),
      );
    const m = await measureFacts({ site: dir, env: CREDS, now: AT('2026-11-27T01:00:00Z') });
    assert.is(m.machines[0]?.status, 'written');
    const r = await check({ sites: [dir], env: CREDS });
    return r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`);
  });
}

// The variants' verdicts, from the installer's preflight source (as in facts-verdicts.test.ts):
// MemoryCheck sums dmidecode -t 19 from v1.3.1 (checks.go MemoryCheck.Run:106 @v1.3.1), which the
// DIMMs' sum stands for (32 GiB, although TotalSystemMemoryGiB says 31); NetworkSpeedCheck < 10 Gbps
// stops (checks.go:246-252 @v1.3.1); VirtCheck stops a VM and a NIC with no speed is skipped
// (checks.go:237 @v1.3.1); no disk fails checkDevice's Lstat (validator.go:110 @v1.2.2); BIOS
// stops v1.7 (BIOSCheck) and v1.8 first thing (install_panels.go addInstallPanel:2560 @v1.8.1).
const NIC_1G = /^INSTALLER_PREFLIGHT_FAILS: a NIC of the management interface links at 1000 Mbps/;
/** Mockup, release, what stops the install without skipchecks (as check lists it: by the facts file's lines), and with it. */
const VARIANTS: [string, string, RegExp[], RegExp[]][] = [
  ['mem-31-of-32', 'v1.8.1', [/^INSTALLER_PREFLIGHT_FAILS: 32 GiB of memory, 32 GiB short of the 64 GiB/], []],
  ['nic-2500', 'v1.8.1', [/^INSTALLER_PREFLIGHT_FAILS: a NIC of the management interface links at 2500 Mbps/], []],
  ['virtio', 'v1.8.1', [/^INSTALLER_PREFLIGHT_FAILS: node n1 is a virtual machine/], []],
  // The variants made from the rackmount mockup keep its 1 Gbps NICs: that stops the install too.
  [
    'no-disk',
    'v1.8.1',
    [/^INSTALLER_DEVICE_MISSING: the machine of node n1 has no disk at .*\(its measured disks: none\)/, NIC_1G],
    [/^INSTALLER_DEVICE_MISSING/],
  ],
  ['bios-only', 'v1.6.1', [NIC_1G], []],
  ['bios-only', 'v1.7.1', [/^INSTALLER_PREFLIGHT_FAILS: Harvester v1\.7\.1 deprecates legacy BIOS/, NIC_1G], []],
  [
    'bios-only',
    'v1.9.0',
    [/^INSTALLER_PREFLIGHT_FAILS: node n1's machine boots legacy BIOS/, NIC_1G],
    [/Legacy BIOS systems are no longer supported/],
  ],
];

for (const [mockup, version, stops, stopsAnyway] of VARIANTS) {
  test(`${mockup} at ${version}: the installer's verdict, and with skipchecks`, async () => {
    const got = await verdict(mockup, version);
    assert.is(got.length, stops.length, got.join('\n'));
    stops.forEach((p, i) => assert.match(got[i]!, p));
    const skipped = await verdict(mockup, version, true);
    assert.is(skipped.length, stopsAnyway.length, skipped.join('\n'));
    stopsAnyway.forEach((p, i) => assert.match(skipped[i]!, p));
  });
}

test('a service that reports no storage, or links Memory and has none (404, as sushy-tools), leaves those facts unknown, not "no disk"', async () => {
  const dir = join(tempDir('rf-nostorage'), 'm');
  cpSync(join(FIXTURES, 'public-localstorage'), dir, { recursive: true });
  const sysFile = join(dir, 'redfish', 'v1', 'Systems', '437XR1138R2', 'index.json');
  const sys = JSON.parse(readFileSync(sysFile, 'utf8')) as Record<string, unknown>;
  delete sys.Storage;
  delete sys.SimpleStorage;
  writeFileSync(sysFile, JSON.stringify(sys));
  rmSync(join(dir, 'redfish', 'v1', 'Systems', '437XR1138R2', 'Memory'), { recursive: true });
  const server = await startMockup(dir);
  try {
    const r = await readRedfish({ origin: server.url }, { user: 'admin', password: 'secret', insecure: false });
    assert.is(r.disks, undefined);
    assert.is(r.memoryGib, 96, 'the summary stands in for the memory modules it could not read');
    assert.is(r.cpus, 16);
  } finally {
    await server.close();
  }
});

test('each answer is bounded: a huge, endless, hanging, redirecting or non-JSON resource is a clear error, read no further', async () => {
  const sys = '/redfish/v1/Systems/437XR1138R2/Memory';
  const cases: [MockupOptions['hostile'], RegExp][] = [
    [{ [sys]: 'huge' }, /announces \d+ bytes, more than the 1048576 allowed/],
    [{ [sys]: 'endless' }, /larger than the 1048576 bytes allowed/],
    [{ [sys]: 'redirect' }, /HTTP 302: a redirect to http:\/\/127\.0\.0\.1:1\/, not followed/],
    [{ [sys]: 'not-json' }, /not JSON/],
    [{ [sys]: 'html' }, /not JSON/],
    [{ [sys]: 'hang' }, /no whole answer within 0\.5 s/],
  ];
  for (const [hostile, message] of cases) {
    await withBmc(
      'public-rackmount1',
      async (address) => {
        const started = Date.now();
        const e = await readRedfish(
          { origin: `https://${address}` },
          { user: 'admin', password: 'secret', insecure: true, timeoutMs: 500 },
        ).catch((x: unknown) => x);
        assert.instance(e, RedfishError, String(e));
        assert.match((e as RedfishError).message, message);
        assert.ok(Date.now() - started < 10_000, 'gave up quickly');
      },
      { hostile },
    );
  }
});

test('a machine whose time runs out (--timeout) says so in words, not as a DOMException', async () => {
  const sys = '/redfish/v1/Systems/437XR1138R2/Memory';
  await withBmc(
    'public-rackmount1',
    async (address) => {
      const e = await readRedfish(
        { origin: `https://${address}` },
        { user: 'admin', password: 'secret', insecure: true, timeoutMs: 60_000, signal: AbortSignal.timeout(300) },
      ).catch((x: unknown) => x);
      assert.instance(e, RedfishError, String(e));
      assert.match((e as RedfishError).message, "the machine's time ran out (--timeout)");
      assert.not.match((e as RedfishError).message, 'TimeoutError');
    },
    { hostile: { [sys]: 'hang' } },
  );
});

test('the credentials go nowhere else: a link outside the service is not followed; a wrong password says so', async () => {
  const dir = tempDir('rf-link');
  // A copy of the service root whose Systems link points at another host.
  const root = join(dir, 'redfish', 'v1');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'index.json'), JSON.stringify({ Systems: { '@odata.id': '//evil.example/redfish/v1/Systems' } }));
  const server = await startMockup(dir);
  try {
    const e = await readRedfish({ origin: server.url }, { user: 'admin', password: 'secret', insecure: false }).catch((x: unknown) => x);
    assert.match(String((e as Error).message), /outside .*not followed/);
    assert.equal(server.requests, ['/redfish/v1/']);
  } finally {
    await server.close();
  }
  // The same host, a path that only starts like the service's: not followed either.
  const sibling = tempDir('rf-link-sibling');
  const root2 = join(sibling, 'redfish', 'v1');
  mkdirSync(root2, { recursive: true });
  writeFileSync(join(root2, 'index.json'), JSON.stringify({ Systems: { '@odata.id': '/redfish/v1evil/Systems' } }));
  const server2 = await startMockup(sibling);
  try {
    const e = await readRedfish({ origin: server2.url }, { user: 'admin', password: 'secret', insecure: false }).catch((x: unknown) => x);
    assert.match(String((e as Error).message), /\/redfish\/v1evil\/Systems, outside .*not followed/);
    assert.equal(server2.requests, ['/redfish/v1/']);
  } finally {
    await server2.close();
  }
  await withBmc('public-rackmount1', async (address) => {
    const r = await measureFacts({ site: site(address), env: { ...CREDS, BMC_PASSWORD: 'wrong' } });
    const d = r.machines[0]!.diagnostics[0]!;
    assert.is(d.code, 'FACTS_READ_FAILED');
    assert.match(d.message, /HTTP 401: the BMC refused the credentials/);
    assert.match(d.hint ?? '', /BMC_USER and BMC_PASSWORD/);
    assert.not.match(JSON.stringify(r), /wrong/);
  });
});

test('a machine without a node yet: --bmc/--as writes its facts, check says no node has them, discover-ready', async () => {
  await withBmc('public-rackmount1', async (address) => {
    const dir = site('127.0.0.1:9');
    const r = await measureFacts({ site: dir, env: CREDS, bmc: { address, as: 'hv-new', insecure: true } });
    assert.equal(
      r.machines.map((m) => [m.hostname, m.status]),
      [['hv-new', 'written']],
    );
    const c = await check({ sites: [dir], env: CREDS });
    assert.ok(c.diagnostics.some((d) => d.code === 'MEASURED_NODE_UNKNOWN' && d.file?.endsWith('facts/hv-new.yaml')));
    const bad = await measureFacts({ site: dir, env: CREDS, bmc: { address, as: '../x', insecure: true } });
    assert.is(bad.diagnostics[0]?.code, 'CLI_USAGE');
  });
});

/** A copy of mockup `base` with `edit` applied to its JSON resources (paths under redfish/v1/). */
function edited(base: string, edit: (json: (path: string, f: (j: Record<string, unknown>) => void) => void, root: string) => void): string {
  const dir = join(tempDir('rf-edited'), base);
  cpSync(join(FIXTURES, base), dir, { recursive: true });
  const root = join(dir, 'redfish', 'v1');
  edit((path, f) => {
    const file = join(root, path, 'index.json');
    const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    f(j);
    writeFileSync(file, JSON.stringify(j));
  }, root);
  return dir;
}

const NIC1 = 'Systems/437XR1138R2/EthernetInterfaces/12446A3B0411';
const NIC2 = 'Systems/437XR1138R2/EthernetInterfaces/12446A3B8890';

/** check's findings (code: message) on a site of one node `node` measured from `mockup` at v1.8.1. */
async function findings(mockup: string, node: string): Promise<string[]> {
  return withBmc(mockup, async (address) => {
    const dir = site(address, 'v1.8.1', node);
    const m = await measureFacts({ site: dir, env: CREDS, now: AT('2026-11-27T01:00:00Z') });
    assert.is(m.machines[0]?.status, 'written', JSON.stringify(m));
    const r = await check({ sites: [dir], env: CREDS });
    return r.diagnostics.filter((d) => /^(INSTALLER|MEASURED)_/.test(d.code)).map((d) => `${d.code}: ${d.message}`);
  });
}

test('a NIC set to a virtual MAC: the facts keep both, and a node that boots from the virtual one is that NIC', async () => {
  // Redfish's MACAddress is the NIC's current address (what DHCP and the installer see),
  // PermanentMACAddress its burnt-in one: a FlexAddress or NPAR NIC has them differ.
  const mockup = edited('public-rackmount1', (json) => {
    json(NIC1, (j) => (j.MACAddress = '02:00:0A:00:00:11'));
    // An empty permanent MAC: the current one names the NIC, which is not dropped.
    json(NIC2, (j) => (j.PermanentMACAddress = ''));
  });
  const r = await withBmc(mockup, (address) =>
    readRedfish({ origin: `https://${address}` }, { user: 'admin', password: 'secret', insecure: true }),
  );
  assert.equal(
    r.nics.map((n) => [n.mac, n.configuredMac]),
    [
      ['12:44:6a:3b:04:11', '02:00:0a:00:00:11'],
      ['aa:bb:cc:dd:ee:00', undefined],
      ['aa:bb:cc:dd:ee:fe', undefined],
    ],
  );
  const got = await findings(mockup, 'mac: "02:00:0a:00:00:11", ip: 10.0.0.11');
  assert.not.ok(
    got.some((f) => f.startsWith('MEASURED_MAC_MISSING')),
    got.join('\n'),
  );
  // The NIC is tied by its virtual MAC: its speed is judged.
  assert.ok(
    got.some((f) => /^INSTALLER_PREFLIGHT_FAILS: a NIC of the management interface links at 1000 Mbps/.test(f)),
    got.join('\n'),
  );
  // A MAC neither address of any NIC is still missing.
  const wrong = await findings(mockup, 'mac: "02:00:0a:00:00:99", ip: 10.0.0.11');
  assert.ok(
    wrong.some((f) => /^MEASURED_MAC_MISSING: node n1 names MAC 02:00:0a:00:00:99/.test(f)),
    wrong.join('\n'),
  );
});

test('interfaces named by kernel name only, facts without names: every NIC that is up below 10 Gbps fails; mixed, a warning; no speed, the declared one stands', async () => {
  const named = 'mac: "12:44:6a:3b:04:11", ip: 10.0.0.11, interfaces: [{ name: eno1 }], hardware: { nic_speed_mbps: 25000 }';
  // The mockup's NICs: 1000, 1000 and 100 Mbps. Whichever eno1 is, the installer's check fails;
  // the declared 25 Gbps does not stand against the measurement.
  const slow = await findings('public-rackmount1', named);
  assert.ok(
    slow.some((f) =>
      /^INSTALLER_PREFLIGHT_FAILS: none of the machine's NICs that are up reaches 10 Gbps \(the fastest links at 1000 Mbps\)/.test(f),
    ),
    slow.join('\n'),
  );
  // One NIC at 25 Gbps, the others at 1: harvgen cannot tell which eno1 is, and says so.
  const mixed = await findings(
    edited('public-rackmount1', (json) => json(NIC2, (j) => (j.SpeedMbps = 25000))),
    named,
  );
  assert.not.ok(
    mixed.some((f) => f.startsWith('INSTALLER_PREFLIGHT_FAILS')),
    mixed.join('\n'),
  );
  const untied = mixed.filter((f) => f.startsWith('MEASURED_NIC_UNTIED'));
  assert.is(untied.length, 1, mixed.join('\n'));
  assert.match(untied[0]!, /names NIC eno1 by kernel name only/);
  assert.match(untied[0]!, /12:44:6a:3b:88:90 25000 Mbps/);
  // No NIC reports a speed (a BMC without SpeedMbps, the host off): nothing is settled, and the
  // declared speed stands (here 1 Gbps, which the installer would refuse).
  const none = await findings(
    edited('public-rackmount1', (json) => {
      for (const nic of [NIC1, NIC2, 'Systems/437XR1138R2/EthernetInterfaces/ToManager']) json(nic, (j) => delete j.SpeedMbps);
    }),
    named.replace('25000', '1000'),
  );
  assert.ok(
    none.some((f) => /^INSTALLER_PREFLIGHT_FAILS: a NIC of the management interface links at 1000 Mbps/.test(f)),
    none.join('\n'),
  );
  assert.not.ok(
    none.some((f) => f.startsWith('MEASURED_NIC_UNTIED')),
    none.join('\n'),
  );
  // Every NIC that is up at 25 Gbps: whichever eno1 is, the check passes, and no warning.
  const fast = await findings(
    edited('public-rackmount1', (json) => {
      for (const nic of [NIC1, NIC2, 'Systems/437XR1138R2/EthernetInterfaces/ToManager']) json(nic, (j) => (j.SpeedMbps = 25000));
    }),
    named.replace('25000', '1000'),
  );
  assert.not.ok(
    fast.some((f) => /^(INSTALLER_PREFLIGHT_FAILS: .*Mbps|MEASURED_NIC_UNTIED)/.test(f)),
    fast.join('\n'),
  );
  // Mutation: with the interface named by MAC, the one NIC is judged, not the fastest.
  const byMac = await findings(
    edited('public-rackmount1', (json) => json(NIC2, (j) => (j.SpeedMbps = 25000))),
    'mac: "12:44:6a:3b:04:11", ip: 10.0.0.11, interfaces: [{ mac: "12:44:6a:3b:04:11" }]',
  );
  assert.ok(
    byMac.some((f) => /^INSTALLER_PREFLIGHT_FAILS: a NIC of the management interface links at 1000 Mbps/.test(f)),
    byMac.join('\n'),
  );
});

test('a BMC of several systems: --bmc needs --system, which picks one; a malformed one is a usage error', async () => {
  const mockup = edited('public-rackmount1', (json, root) => {
    cpSync(join(root, 'Systems', '437XR1138R2'), join(root, 'Systems', 'blade2'), { recursive: true });
    json('Systems/blade2', (j) => {
      j.Id = 'blade2';
      j['@odata.id'] = '/redfish/v1/Systems/blade2';
      j.ProcessorSummary = { ...(j.ProcessorSummary as object), LogicalProcessorCount: 48 };
    });
    json('Systems', (j) => {
      j.Members = [{ '@odata.id': '/redfish/v1/Systems/437XR1138R2' }, { '@odata.id': '/redfish/v1/Systems/blade2' }];
      j['Members@odata.count'] = 2;
    });
  });
  await withBmc(mockup, async (address) => {
    const dir = site('127.0.0.1:9');
    const both = await measureFacts({ site: dir, env: CREDS, bmc: { address, as: 'hv-new', insecure: true } });
    const failed = both.machines[0]!.diagnostics[0]!;
    assert.is(failed.code, 'FACTS_READ_FAILED');
    assert.match(failed.message, /the BMC has 2 systems \(\/redfish\/v1\/Systems\/437XR1138R2, \/redfish\/v1\/Systems\/blade2\)/);
    assert.match(failed.message, /--system with --bmc/);
    const one = await measureFacts({
      site: dir,
      env: CREDS,
      bmc: { address, as: 'hv-new', insecure: true, system: '/redfish/v1/Systems/blade2' },
    });
    assert.is(one.machines[0]!.status, 'written', JSON.stringify(one.machines[0]!.diagnostics));
    assert.match(readFileSync(join(dir, 'facts', 'hv-new.yaml'), 'utf8'), /\/redfish\/v1\/Systems\/blade2/);
    const bad = await measureFacts({ site: dir, env: CREDS, bmc: { address, as: 'hv-new', insecure: true, system: 'blade2; rm' } });
    assert.is(bad.diagnostics[0]?.code, 'CLI_USAGE');
    assert.match(bad.diagnostics[0]!.message, /--system "blade2; rm" is not a Redfish system/);
  });
});

test.run();
