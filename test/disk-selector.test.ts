// The install disk by what it is: `install.device` (and `data_disk`) as a selector (`serial`,
// `wwn`, `model`, `min_gib`, `max_gib`) resolved against the node's measured facts into the
// `/dev/disk/by-id/` path its config carries; refused with the disks seen when it matches none or
// several, and with the command that measures the machine when no facts name its disks. The QEMU
// proof that the path is the same disk whatever the kernel's order: test/real/disk-selector.test.ts.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { build, check, explain, formatExplanation } from '../src/index.ts';
import { factsText } from '../src/facts/file.ts';
import { parseDump } from '../src/measure/dump.ts';
import type { MeasuredFacts } from '../src/facts/types.ts';
import { chooseDisk, diskMatches, globMatches } from '../src/facts/disk-selector.ts';
import { tempDir } from './helpers/tmp.ts';

const MAC = '52:54:00:00:00:01';
const ENV = { T: 'token.123', P: 'password.123' };

/** Three disks as the collector prints them: two of one model (sda, sdb), an NVMe (nvme0n1). */
const DUMP = [
  'harvgen-facts 1',
  'nproc 32',
  'dmi19 64 GB',
  'firmware uefi',
  'virt none',
  'kvm yes',
  `nic eno1 mac ${MAC}`,
  'nic eno1 speed 10000',
  'nic eno1 operstate up',
  // 480 GB SATA SSDs: the serial from udev (ATA: ID_SERIAL_SHORT), the WWN from its link.
  'disk sda sectors 937703088',
  'disk sda rotational 0',
  'disk sda model SAMSUNG MZ7LH480',
  'disk sda serial_short S45PNA0M100001',
  'byid sda ata-SAMSUNG_MZ7LH480_S45PNA0M100001',
  'byid sda wwn-0x5002538e00000001',
  'disk sdb sectors 937703088',
  'disk sdb rotational 0',
  'disk sdb model SAMSUNG MZ7LH480',
  'disk sdb serial_short S45PNA0M100002',
  'byid sdb ata-SAMSUNG_MZ7LH480_S45PNA0M100002',
  'byid sdb wwn-0x5002538e00000002',
  // A SAS disk: its unit serial (ID_SCSI_SERIAL) wins over the NAA udev also calls its short serial.
  'disk sdc sectors 7814037168',
  'disk sdc rotational 1',
  'disk sdc model HUS726T4TAL',
  'disk sdc scsi_serial K4KABCDE',
  'disk sdc serial_short 5000cca0aaaaaaaa',
  'byid sdc scsi-35000cca0aaaaaaaa',
  'byid sdc wwn-0x5000cca0aaaaaaaa',
  // An NVMe disk: sysfs has its serial; its WWN link is nvme-eui.
  'disk nvme0n1 sectors 3750748848',
  'disk nvme0n1 rotational 0',
  'disk nvme0n1 model SAMSUNG MZQL21T9HCJR-00A07',
  'disk nvme0n1 serial S64GNE0R700001',
  'byid nvme0n1 nvme-SAMSUNG_MZQL21T9HCJR-00A07_S64GNE0R700001',
  'byid nvme0n1 nvme-eui.36344730527000010025384500000001',
  // A virtio disk without a serial: no by-id link at all.
  'disk vdz sectors 1048576000',
  'disk vdz rotational 1',
  'end',
  '',
].join('\n');

function dumpFacts(text = DUMP): MeasuredFacts {
  return { measured: { source: 'dump', from: 'n1.facts', at: '2026-11-27T00:00:00Z' }, ...parseDump(text) };
}

/** A site of node n1 with `install` (YAML flow map), and its facts (none: `null`). */
function site(install: string, facts: MeasuredFacts | null = dumpFacts(), extra = '', boot = 'boot: { server: http://10.0.0.1 }'): string {
  const dir = tempDir('disk-selector');
  writeFileSync(
    join(dir, 'site.yaml'),
    [
      'site: disks',
      'harvester: { version: v1.8.1, artifacts: http://10.0.0.1/artifacts }',
      boot,
      'network: { cidr: 10.0.0.0/24, gateway: 10.0.0.1, dns: [10.0.0.1], dhcp_range: 10.0.0.100-10.0.0.199 }',
      'cluster: { vip: 10.0.0.10, token: { env: T }, password: { env: P } }',
      extra,
      'nodes:',
      `  - { hostname: n1, mac: "${MAC}", ip: 10.0.0.11, install: ${install} }`,
      '',
    ].join('\n'),
  );
  if (facts) {
    mkdirSync(join(dir, 'facts'));
    writeFileSync(join(dir, 'facts', 'n1.yaml'), factsText('n1', facts));
  }
  return dir;
}

/** `code line:col: message` of check's errors. */
async function errors(dir: string): Promise<string[]> {
  const r = await check({ sites: [dir], env: ENV });
  return r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.line}:${d.col}: ${d.message}\n  hint: ${d.hint}`);
}

/** The built config's install.device and data_disk. */
async function built(dir: string): Promise<string> {
  const out = tempDir('disk-selector-out');
  const r = await build({ sites: [dir], outDir: out, env: ENV });
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  const config = readFileSync(join(out, 'disks', 'harvester', 'n1.yaml'), 'utf8');
  return config
    .split('\n')
    .filter((l) => /^\s+(device|data_disk):/.test(l))
    .map((l) => l.trim())
    .join('\n');
}

test('the dump names each disk: serials from sysfs or udev (a SCSI disk its unit serial), WWNs from the links', () => {
  const f = dumpFacts();
  assert.equal(
    f.disks!.map((d) => [d.name, d.byId, d.wwn, d.serial]),
    [
      [
        'nvme0n1',
        '/dev/disk/by-id/nvme-SAMSUNG_MZQL21T9HCJR-00A07_S64GNE0R700001',
        'eui.36344730527000010025384500000001',
        'S64GNE0R700001',
      ],
      ['sda', '/dev/disk/by-id/ata-SAMSUNG_MZ7LH480_S45PNA0M100001', '0x5002538e00000001', 'S45PNA0M100001'],
      ['sdb', '/dev/disk/by-id/ata-SAMSUNG_MZ7LH480_S45PNA0M100002', '0x5002538e00000002', 'S45PNA0M100002'],
      ['sdc', '/dev/disk/by-id/scsi-35000cca0aaaaaaaa', '0x5000cca0aaaaaaaa', 'K4KABCDE'],
      ['vdz', undefined, undefined, undefined],
    ],
  );
});

test('a selector matches by every key it gives: serial exactly, WWN in any spelling, model with *, size bounds', () => {
  const [nvme, sda, , sdc] = dumpFacts().disks!;
  assert.ok(diskMatches(sda!, { serial: 'S45PNA0M100001' }));
  assert.not.ok(diskMatches(sda!, { serial: 's45pna0m100001' }), 'a serial is exact');
  for (const wwn of ['0x5002538e00000001', '5002538E00000001', 'naa.5002538e00000001']) assert.ok(diskMatches(sda!, { wwn }), wwn);
  assert.ok(diskMatches(nvme!, { wwn: 'eui.36344730527000010025384500000001' }));
  assert.ok(diskMatches(sdc!, { model: 'hus726*' }), 'model: glob, any case');
  assert.not.ok(diskMatches(sdc!, { model: 'HUS726' }), 'model: whole, not a prefix');
  assert.ok(diskMatches(sdc!, { minGib: 3726, maxGib: 3726 }));
  assert.not.ok(diskMatches(sdc!, { minGib: 3727 }));
  assert.not.ok(diskMatches(sda!, { serial: 'S45PNA0M100001', maxGib: 100 }), 'every key must match');
});

test("serial, WWN, model and size resolve to the disk's by-id path in the config (by WWN: its WWN link)", async () => {
  assert.is(
    await built(site('{ device: { serial: S45PNA0M100002 }, data_disk: { model: "HUS726*" } }')),
    'device: /dev/disk/by-id/ata-SAMSUNG_MZ7LH480_S45PNA0M100002\ndata_disk: /dev/disk/by-id/scsi-35000cca0aaaaaaaa',
  );
  assert.is(
    await built(site('{ device: { wwn: "0x5002538E00000001" }, data_disk: { min_gib: 1000, max_gib: 2000 } }')),
    'device: /dev/disk/by-id/wwn-0x5002538e00000001\ndata_disk: /dev/disk/by-id/nvme-SAMSUNG_MZQL21T9HCJR-00A07_S64GNE0R700001',
  );
  assert.is(
    await built(site('{ device: { wwn: eui.36344730527000010025384500000001 } }')),
    'device: /dev/disk/by-id/nvme-eui.36344730527000010025384500000001',
  );
  // From `defaults:` too, whole: the node's own device replaces the selector.
  assert.is(
    await built(
      site(
        '{ data_disk: /dev/disk/by-id/scsi-35000cca0aaaaaaaa }',
        dumpFacts(),
        'defaults: { install: { device: { serial: S45PNA0M100001 } } }',
      ),
    ),
    'device: /dev/disk/by-id/ata-SAMSUNG_MZ7LH480_S45PNA0M100001\ndata_disk: /dev/disk/by-id/scsi-35000cca0aaaaaaaa',
  );
});

test('explain shows the selector where it is written and the disk it chose', async () => {
  const r = await explain({ site: site('{ device: { serial: S45PNA0M100002, min_gib: 400 } }'), node: 'n1', env: ENV });
  const text = formatExplanation(r.explanation!);
  assert.match(
    text,
    /install\.device +\{"serial":"S45PNA0M100002","min_gib":400\}\n +<- .*site\.yaml:8:\d+ \(nodes\[0\]\.install\.device\)/,
  );
  assert.match(
    text,
    /install\.device chosen +\/dev\/disk\/by-id\/ata-SAMSUNG_MZ7LH480_S45PNA0M100002\n +<- derived from the selector and facts\/n1\.yaml/,
  );
});

test('none, several, no stable path: refused at the selector, with the disks seen', async () => {
  const none = await errors(site('{ device: { serial: NOPE } }'));
  assert.is(none.length, 1, none.join('\n'));
  assert.match(
    none[0]!,
    /^NODE_DISK_SELECTOR_NO_MATCH 8:\d+: install\.device of node n1 \(serial NOPE\) matches none of the machine's disks \(facts\/n1\.yaml: nvme0n1 /,
  );
  assert.match(
    none[0]!,
    /sda \(\/dev\/disk\/by-id\/ata-SAMSUNG_MZ7LH480_S45PNA0M100001\) SAMSUNG MZ7LH480 serial S45PNA0M100001 WWN 0x5002538e00000001 447 GiB/,
  );
  const several = await errors(site('{ device: { model: "SAMSUNG MZ7LH480" } }'));
  assert.is(several.length, 1, several.join('\n'));
  assert.match(
    several[0]!,
    /^NODE_DISK_SELECTOR_SEVERAL 8:\d+: install\.device of node n1 \(model SAMSUNG MZ7LH480\) matches 2 of the machine's disks \(facts\/n1\.yaml: sda .*; sdb .*\): .*will not guess/,
  );
  assert.match(several[0]!, /hint: Add a key that tells them apart/);
  const noPath = await errors(site('{ device: { min_gib: 500, max_gib: 500 } }'));
  assert.is(noPath.length, 1, noPath.join('\n'));
  assert.match(noPath[0]!, /^NODE_DISK_SELECTOR_NO_PATH/, noPath[0]);
  assert.match(noPath[0]!, /^NODE_DISK_SELECTOR_NO_PATH .*disk vdz 500 GiB, which has no \/dev\/disk\/by-id\/ name/);
  // The advice is never the kernel name the selector is there to avoid.
  assert.match(noPath[0]!, /hint: Give the disk a serial number .* or set the disk by its slot: its `\/dev\/disk\/by-path\/` link/);
  assert.not.match(noPath[0]!, /\/dev\/vdz/);
  // A dump with no by-id link at all was taken where udev made none: measure again.
  const unlinked = await errors(site('{ device: { min_gib: 3000 } }', dumpFacts(DUMP.replace(/^byid .*\n/gm, ''))));
  assert.is(unlinked.length, 1, unlinked.join('\n'));
  assert.match(unlinked[0]!, /^NODE_DISK_SELECTOR_NO_PATH .*disk sdc /);
  assert.match(
    unlinked[0]!,
    /hint: No disk of this dump has a \/dev\/disk\/by-id\/ name: it was taken where udev made no links .*Take the dump again/,
  );
  assert.not.match(unlinked[0]!, /\/dev\/sdc\b/);
  // The same disk as install and data disk under two of its names.
  const same = await errors(
    site('{ device: /dev/disk/by-id/ata-SAMSUNG_MZ7LH480_S45PNA0M100001, data_disk: { wwn: "0x5002538e00000001" } }'),
  );
  assert.is(same.length, 1, same.join('\n'));
  assert.match(
    same[0]!,
    /^NODE_DATA_DISK_IS_DEVICE .*install\.data_disk \/dev\/disk\/by-id\/wwn-0x5002538e00000001 of node n1 is the install device \/dev\/disk\/by-id\/ata-SAMSUNG_MZ7LH480_S45PNA0M100001 \(facts\/n1\.yaml: both are sda /,
  );
});

test('without facts that name the disks: refused with the command that measures them (no facts, BMC facts)', async () => {
  const unmeasured = await errors(site('{ device: { serial: S45PNA0M100001 } }', null));
  assert.is(unmeasured.length, 1, unmeasured.join('\n'));
  assert.match(unmeasured[0]!, /^NODE_DISK_SELECTOR_UNMEASURED 8:\d+: .*no facts were measured of its machine \(no facts\/n1\.yaml\)/);
  assert.match(
    unmeasured[0]!,
    /hint: Measure the machine: take a dump on the machine \(`harvgen facts --script > collect\.sh`.*`harvgen facts <site-dir> --node n1 --dump n1\.facts`\)/,
  );
  // No NODE_DEVICE_MISSING beside it: the selector is the device, unresolved.
  const bmc: MeasuredFacts = {
    measured: { source: 'redfish', from: 'https://10.0.9.21/redfish/v1/Systems/1', at: '2026-11-27T00:00:00Z' },
    identity: {},
    disks: [
      { model: 'SAMSUNG MZ7LH480', serial: 'S45PNA0M100001', wwn: '0x5002538e00000001', sizeGib: 447 },
      { model: 'SAMSUNG MZ7LH480', serial: 'S45PNA0M100002', sizeGib: 447 },
    ],
    nics: [{ mac: MAC, speedMbps: 10000 }],
  };
  const fromBmc = await errors(site('{ device: { serial: S45PNA0M100001 } }', bmc));
  assert.is(
    fromBmc.length,
    1,
    JSON.stringify((await check({ sites: [site('{ device: { serial: S45PNA0M100001 } }', bmc)], env: ENV })).diagnostics),
  );
  assert.match(
    fromBmc[0]!,
    /comes from the machine's BMC, which lists its drives, not the disks its kernel sees .* the selector matches: SAMSUNG MZ7LH480 serial S45PNA0M100001 WWN 0x5002538e00000001 447 GiB\n/,
  );
  assert.is(chooseDisk(bmc, { serial: 'S45PNA0M100001' }).kind, 'unnamed');
});

test('a selector of bad shape is a schema error at its key; unknown machines cannot join on a selector', async () => {
  const bad = await check({ sites: [site('{ device: { serial: S1, size: 400 } }')], env: ENV });
  assert.ok(
    bad.diagnostics.some((d) => d.severity === 'error' && /size/.test(d.message)),
    JSON.stringify(bad.diagnostics),
  );
  const wwn = await check({ sites: [site('{ device: { wwn: "0x12" } }')], env: ENV });
  assert.ok(
    wwn.diagnostics.some((d) => d.severity === 'error' && d.path?.endsWith('install.device.wwn')),
    JSON.stringify(wwn.diagnostics),
  );
  const join = await errors(
    site(
      '{ device: /dev/disk/by-id/ata-SAMSUNG_MZ7LH480_S45PNA0M100001 }',
      dumpFacts(),
      'defaults: { install: { device: { serial: S45PNA0M100001 } }, interfaces: [{ name: eno1 }] }',
      'boot: { server: http://10.0.0.1, unknown: join }',
    ),
  );
  assert.is(join.length, 1, join.join('\n'));
  assert.match(join[0]!, /^BOOT_UNKNOWN_JOIN_INCOMPLETE .*names its disk by what it is: no facts were measured of an unknown machine/);
});

test('the model glob: * for any run, no other metacharacter, and no backtracking blow-up', () => {
  assert.ok(globMatches('SAMSUNG*480', 'samsung mz7lh480'));
  assert.ok(globMatches('*', ''));
  assert.ok(globMatches('a*b*c', 'axxbyyc'));
  assert.not.ok(globMatches('a?b', 'axb'), '? is a character');
  assert.ok(globMatches('a.b(1)+', 'A.B(1)+'));
  assert.not.ok(globMatches('a.b', 'axb'), '. is a character');
  // Many stars against a long model that does not match: answered at once (a regular expression
  // of .* took seconds here).
  const started = process.hrtime.bigint();
  assert.not.ok(globMatches('*a'.repeat(30) + '*b', 'a'.repeat(120)));
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 1000);
});

test('the same disk under two names: a data disk or a wipe-list entry that is the selected install disk is refused', async () => {
  const data = await errors(site('{ device: { serial: S45PNA0M100001 }, data_disk: /dev/sda }'));
  assert.ok(
    data.some((e) =>
      /^NODE_DATA_DISK_IS_DEVICE .*install\.data_disk \/dev\/sda of node n1 is the install device \/dev\/disk\/by-id\/ata-SAMSUNG_MZ7LH480_S45PNA0M100001 \(facts\/n1\.yaml: both are sda /.test(
        e,
      ),
    ),
    data.join('\n'),
  );
  const wipe = await errors(
    site('{ device: { wwn: "0x5002538e00000002" }, wipe_disks_list: [/dev/disk/by-id/ata-SAMSUNG_MZ7LH480_S45PNA0M100002] }'),
  );
  assert.ok(
    wipe.some((e) =>
      /^NODE_WIPE_LIST_HAS_DEVICE .*contains \/dev\/disk\/by-id\/ata-SAMSUNG_MZ7LH480_S45PNA0M100002, which is its install disk \(facts\/n1\.yaml: both are sdb /.test(
        e,
      ),
    ),
    wipe.join('\n'),
  );
  // Another disk in the wipe list is no finding.
  assert.equal(await errors(site('{ device: { serial: S45PNA0M100001 }, wipe_disks_list: [/dev/sdb] }')), []);
});

test('a selector the config never carries is not judged: config: sets the key, or a witness from v1.6 has no data disk', async () => {
  const overridden = await errors(site('{ device: { serial: NOPE } }', null));
  assert.ok(
    overridden.some((e) => e.startsWith('NODE_DISK_SELECTOR_UNMEASURED')),
    'without config: the selector is judged',
  );
  const dir = site('{ device: { serial: NOPE } }', null);
  writeFileSync(
    join(dir, 'site.yaml'),
    readFileSync(join(dir, 'site.yaml'), 'utf8').replace(
      'install: { device: { serial: NOPE } } }',
      'install: { device: { serial: NOPE } }, config: { install: { device: /dev/disk/by-id/os } } }',
    ),
  );
  assert.equal(await errors(dir), []);
  // A witness (v1.8) whose data disk harvgen leaves out: its selector chooses nothing and is no error.
  const witness = site('{ device: /dev/disk/by-id/os }', null);
  writeFileSync(
    join(witness, 'site.yaml'),
    readFileSync(join(witness, 'site.yaml'), 'utf8').replace(
      `  - { hostname: n1, mac: "${MAC}", ip: 10.0.0.11, install: { device: /dev/disk/by-id/os } }`,
      [
        '  - { hostname: c1, mac: "52:54:00:00:00:0c", ip: 10.0.0.12, role: create, install: { device: /dev/disk/by-id/os } }',
        `  - { hostname: n1, mac: "${MAC}", ip: 10.0.0.11, harvester_role: witness, install: { device: /dev/disk/by-id/os, data_disk: { serial: NOPE } } }`,
      ].join('\n'),
    ),
  );
  const r = await check({ sites: [witness], env: ENV });
  assert.ok(
    r.diagnostics.some((d) => d.code === 'NODE_WITNESS_DATA_DISK'),
    JSON.stringify(r.diagnostics.map((d) => d.code)),
  );
  assert.not.ok(r.diagnostics.some((d) => d.code.startsWith('NODE_DISK_SELECTOR')));
});

test('facts from a BMC that lists no drives (behind a RAID controller) are no facts to resolve a selector by', async () => {
  const bmc: MeasuredFacts = {
    measured: { source: 'redfish', from: 'https://10.0.9.21/redfish/v1/Systems/1', at: '2026-11-27T00:00:00Z' },
    identity: {},
    disks: [],
    nics: [{ mac: MAC, speedMbps: 10000, link: 'up' }],
  };
  const got = await errors(site('{ device: { serial: S45PNA0M100001 } }', bmc));
  assert.is(got.length, 1, got.join('\n'));
  assert.match(got[0]!, /^NODE_DISK_SELECTOR_UNMEASURED .*comes from the machine's BMC/);
});

test('unknown machines cannot join on a data disk selector either', async () => {
  const join = await errors(
    site(
      '{ device: /dev/disk/by-id/ata-SAMSUNG_MZ7LH480_S45PNA0M100001 }',
      dumpFacts(),
      'defaults: { install: { device: /dev/disk/by-path/pci-0000:00:1f.2-ata-1, data_disk: { model: "SAMSUNG*" } }, interfaces: [{ name: eno1 }] }',
      'boot: { server: http://10.0.0.1, unknown: join }',
    ),
  );
  assert.ok(
    join.some((e) => /^BOOT_UNKNOWN_JOIN_INCOMPLETE .*`install\.data_disk` of `defaults`, which names its disk by what it is/.test(e)),
    join.join('\n'),
  );
});

test.run();
