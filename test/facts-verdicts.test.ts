// Measured facts get the installer's own verdict of each release. Five machines, each a dump as the
// collector script prints it (src/measure/dump.ts), imported into a facts file and checked at
// every release line that differs. Each expected verdict is computed from the installer's
// preflight and device checks at that tag (harvester/harvester-installer, harvester/harvester for
// v1.9), cited per case:
//   CPUs, memory, NIC, VM, KVM: pkg/preflight/checks.go (CPUCheck, MemoryCheck, NetworkSpeedCheck,
//     VirtCheck, KVMHostCheck), run in console.go doRun; in an automatic install any message stops
//     it unless skipchecks (install_panels.go addInstallPanel: @v1.3.0:2078-2100 ... @v1.8.1:2647-2667,
//     harvester/harvester @v1.9.0-rc6 pkg/installer/console/install_panels.go:2650-2670).
//   v1.3.0 memory: MemoryCheck.Run reads /proc/meminfo, floor(MemTotal GiB) < 64*0.95 (checks.go:96,105 @v1.3.0);
//     from v1.3.1 the sum of dmidecode -t 19 ranges < 64, no tolerance (checks.go MemoryCheck.Run:106 @v1.3.1).
//   NIC: a speed of -1 (virtio) is logged and skipped (checks.go NetworkSpeedCheck.Run:237 @v1.3.1, :245 @v1.7.0).
//   BIOS: none before v1.7; v1.7 BIOSCheck.Run (checks.go:267 @v1.7.0) a preflight message skipchecks
//     lifts; v1.8 checks it first with no skipchecks test (install_panels.go addInstallPanel:2560-2566 @v1.8.1).
//   No disk: console/validator.go checkDevice, os.Lstat of install.device (validator.go:110 @v1.2.2,
//     :112-115 @v1.8.1; the v1.8 skip comes after it, :143).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, check } from '../src/index.ts';
import { readTree } from './helpers/tree.ts';
import { factsText } from '../src/facts/file.ts';
import { parseDump } from '../src/measure/dump.ts';
import { tempDir } from './helpers/tmp.ts';

const DISK = 'ata-SAMSUNG_MZ7LH480_S45PNA0M';
const MAC = '52:54:00:00:00:01';

/** A production machine's dump, with lines replaced or added. */
function dump(over: Record<string, string | null> = {}): string {
  const base: Record<string, string> = {
    nproc: 'nproc 32',
    memtotal: 'memtotal_kb 65011712',
    dmi19: 'dmi19 32 GB\ndmi19 32 GB',
    system: 'system sys_vendor Example\nsystem product_uuid 4C4C4544-0042-3510-8052-B2C04F565331',
    firmware: 'firmware uefi',
    virt: 'virt none',
    kvm: 'kvm yes',
    nic: `nic eno1 mac ${MAC}\nnic eno1 speed 10000\nnic eno1 operstate up\nnic eno1 driver ixgbe`,
    disk: `disk sda sectors 976773168\ndisk sda rotational 0\nbyid sda ${DISK}`,
  };
  const lines = Object.entries({ ...base, ...over }).flatMap(([, v]) => (v === null ? [] : [v]));
  return ['harvgen-facts 1', ...lines, 'end', ''].join('\n');
}

const MACHINES = {
  // 32 GiB of DIMMs (two 16 GiB type 19 ranges), MemTotal 31 GiB.
  a: dump({ memtotal: 'memtotal_kb 32505856', dmi19: 'dmi19 16 GB\ndmi19 16 GB' }),
  // The one management NIC links at 2.5 Gbps.
  b: dump({ nic: `nic eno1 mac ${MAC}\nnic eno1 speed 2500\nnic eno1 operstate up` }),
  // A VM: virtio's speed -1, systemd-detect-virt says kvm.
  c: dump({ virt: 'virt kvm', nic: `nic eth0 mac ${MAC}\nnic eth0 speed -1\nnic eth0 operstate up\nnic eth0 driver virtio_net` }),
  // No disk at all.
  d: dump({ disk: null }),
  // BIOS only.
  e: dump({ firmware: 'firmware bios' }),
};

type Verdict = 'installs' | RegExp;
/** Release -> machine -> the installer's verdict (a pattern of harvgen's message when it stops). */
const VERDICTS: Record<string, Record<keyof typeof MACHINES, Verdict>> = {
  // No preflight at all (v1.2.2: no pkg/preflight); checkDevice exists.
  'v1.2.2': { a: 'installs', b: 'installs', c: 'installs', d: /has no disk at .*lstat/, e: 'installs' },
  'v1.3.0': {
    a: /the kernel counts 31 GiB of memory \(MemTotal\), 30 GiB short of the 61 GiB/,
    b: /links at 2500 Mbps/,
    c: /is a virtual machine/,
    d: /has no disk at .*lstat/,
    e: 'installs',
  },
  'v1.4.1': {
    a: /^32 GiB of memory, 32 GiB short of the 64 GiB/,
    b: /links at 2500 Mbps/,
    c: /is a virtual machine/,
    d: /has no disk at/,
    e: 'installs',
  },
  'v1.7.1': {
    a: /^32 GiB of memory/,
    b: /links at 2500 Mbps/,
    c: /is a virtual machine/,
    d: /has no disk at/,
    e: /deprecates legacy BIOS/,
  },
  'v1.8.1': {
    a: /^32 GiB of memory/,
    b: /links at 2500 Mbps/,
    c: /is a virtual machine/,
    d: /has no disk at/,
    e: /Legacy BIOS systems are no longer supported/,
  },
  'v1.9.0': {
    a: /^32 GiB of memory/,
    b: /links at 2500 Mbps/,
    c: /is a virtual machine/,
    d: /has no disk at/,
    e: /Legacy BIOS systems are no longer supported/,
  },
};

/** With skipchecks: what stops anyway. */
const STOPS_WITH_SKIPCHECKS: Record<string, (keyof typeof MACHINES)[]> = {
  'v1.2.2': ['d'],
  'v1.3.0': ['d'],
  'v1.4.1': ['d'],
  'v1.7.1': ['d'],
  'v1.8.1': ['d', 'e'],
  'v1.9.0': ['d', 'e'],
};

function site(version: string, facts: string, skipchecks: boolean): string {
  const dir = tempDir('facts-verdict');
  mkdirSync(join(dir, 'facts'));
  writeFileSync(
    join(dir, 'site.yaml'),
    [
      'site: verdict',
      'harvester:',
      `  version: ${version}`,
      '  artifacts: http://10.0.0.1/artifacts',
      'boot:',
      '  server: http://10.0.0.1',
      ...(skipchecks ? ['  skipchecks: true'] : []),
      'network: { cidr: 10.0.0.0/24, gateway: 10.0.0.1, dns: [10.0.0.1], dhcp_range: 10.0.0.100-10.0.0.199 }',
      'cluster: { vip: 10.0.0.10, token: { env: T }, password: { env: P } }',
      'nodes:',
      `  - { hostname: n1, mac: "${MAC}", ip: 10.0.0.11, install: { device: /dev/disk/by-id/${DISK} } }`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'facts', 'n1.yaml'), facts);
  return dir;
}

/** The errors a check of the machine at `version` gives (its installer verdict as harvgen says it). */
async function errors(version: string, machine: keyof typeof MACHINES, skipchecks = false): Promise<string[]> {
  const facts = factsText('n1', {
    measured: { source: 'dump', from: `${machine}.facts`, at: '2026-11-27T00:00:00Z' },
    ...parseDump(MACHINES[machine]),
  });
  const r = await check({ sites: [site(version, facts, skipchecks)], env: { T: 'token.123', P: 'password.123' } });
  return r.diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.code} ${d.file?.replace(/^.*\/(facts\/n1\.yaml|site\.yaml)$/, '$1')}: ${d.message}`);
}

for (const [version, row] of Object.entries(VERDICTS)) {
  test(`measured machines at ${version} get the installer's verdict`, async () => {
    for (const [machine, verdict] of Object.entries(row) as [keyof typeof MACHINES, Verdict][]) {
      const got = await errors(version, machine);
      if (verdict === 'installs') {
        assert.equal(got, [], `machine ${machine} at ${version}: the installer installs`);
        continue;
      }
      assert.is(got.length, 1, `machine ${machine} at ${version}: one stop; got\n${got.join('\n')}`);
      assert.match(got[0]!, /^INSTALLER_(PREFLIGHT_FAILS|DEVICE_MISSING) facts\/n1\.yaml: /, `at the measured fact: ${got[0]}`);
      assert.match(got[0]!.replace(/^[A-Z_]+ facts\/n1\.yaml: /, ''), verdict, `machine ${machine} at ${version}`);
    }
  });

  test(`measured machines at ${version} with skipchecks: what the installer stops anyway`, async () => {
    for (const machine of Object.keys(row) as (keyof typeof MACHINES)[]) {
      const got = await errors(version, machine, true);
      const stops = STOPS_WITH_SKIPCHECKS[version]!.includes(machine) && row[machine] !== 'installs';
      assert.is(got.length, stops ? 1 : 0, `machine ${machine} at ${version} with skipchecks; got\n${got.join('\n')}`);
    }
  });
}

test('the facts file a dump gives is what the installer measures: dmidecode ranges summed, MemTotal floored, -1 is no speed', () => {
  const f = parseDump(MACHINES.a);
  assert.is(f.memoryGib, 32);
  assert.is(f.memoryTotalGib, 31);
  assert.is(f.cpus, 32);
  assert.equal(f.disks, [{ name: 'sda', byId: `/dev/disk/by-id/${DISK}`, media: 'SSD', sizeGib: 465 }]);
  const c = parseDump(MACHINES.c);
  assert.equal(c.nics, [{ mac: MAC, link: 'up', name: 'eth0', driver: 'virtio_net' }]);
  assert.is(c.virtualized, true);
  assert.is(parseDump(MACHINES.e).firmware, 'bios');
  assert.equal(parseDump(MACHINES.d).disks, []);
});

test('a NIC whose link is down is not judged: the installer reads no speed from it', async () => {
  const down = dump({ nic: `nic eno1 mac ${MAC}\nnic eno1 speed 1000\nnic eno1 operstate down` });
  const facts = factsText('n1', { measured: { source: 'dump', from: 'x', at: '2026-11-27T00:00:00Z' }, ...parseDump(down) });
  const r = await check({ sites: [site('v1.8.1', facts, false)], env: { T: 'token.123', P: 'password.123' } });
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
});

test('the tree carries skipchecks only when the inventory asks for it, measured facts or not', async () => {
  const facts = factsText('n1', { measured: { source: 'dump', from: 'x', at: '2026-11-27T00:00:00Z' }, ...parseDump(dump()) });
  for (const asked of [false, true]) {
    const dir = site('v1.8.1', facts, asked);
    const out = tempDir('facts-tree');
    const r = await build({ sites: [dir], outDir: out, env: { T: 'token.123', P: 'password.123' } });
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    const text = readTree(join(out, 'verdict'));
    const carried = [...text].filter(([, t]) => /skipchecks/.test(t));
    if (asked) assert.ok(carried.length > 0, 'boot.skipchecks reaches the tree');
    else
      assert.equal(
        carried.map(([f]) => f),
        [],
        'no file carries skipchecks',
      );
  }
});

test.run();
