// The install disk by what it is, proven on a machine whose disks change order: a QEMU guest with
// two SCSI disks (virtio-scsi, each with its `serial=` and `wwn=`), the first boot with the system
// disk at target 0, the second with the disks swapped, so the kernel's sda is one disk, then the
// other. In the guest Debian's udev names the disks (/dev/disk/by-id/) and harvgen's own collector
// script measures them; `harvgen facts --dump` imports the first boot's dump, and `build` resolves
// `install.device: { serial: ... }` and `install.data_disk: { wwn: ... }` into by-id paths. The
// guest resolves each path to its disk in both boots: the same disk, under another kernel name.
// The mutation: a config that named /dev/sda would have installed on the other disk.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { build } from '../../src/index.ts';
import { measureFacts } from '../../src/measure/index.ts';
import { parseDump } from '../../src/measure/dump.ts';
import { ensureKernel } from './helpers/initramfs.ts';
import { buildDiskInitramfs, UDEV_FILES } from './helpers/disk-initramfs.ts';
import { requireProgram } from './helpers/programs.ts';
import { describe, run } from './helpers/proc.ts';
import { cleanSerial, qemuBase } from './helpers/qemu.ts';
import { tempDir } from '../helpers/tmp.ts';

/** The two disks: the system disk (300 GiB) and the data disk (200 GiB). */
const SYSTEM = { serial: 'HVSYS0001', wwn: '0x5000c50000000a01', gib: 300 };
const DATA = { serial: 'HVDATA0002', wwn: '0x5000c50000000b02', gib: 200 };
const MAC = '52:54:00:00:0d:01';
const ENV = { T: 'token.12345', P: 'password.12345' };

/** A sparse raw image of `gib` GiB (nothing is written to it: QEMU attaches it with snapshot=on). */
async function sparse(file: string, gib: number): Promise<string> {
  const h = await open(file, 'w');
  await h.truncate(gib * 2 ** 30);
  await h.close();
  return file;
}

interface Guest {
  /** The collector's output in the guest. */
  dump: string;
  /** Each `harvgen.disk=` path and the kernel name it resolved to. */
  resolves: Record<string, string>;
  serial: string;
}

/** Boot the guest with `disks` on targets 0, 1, ... of one virtio-scsi controller. */
async function boot(work: string, name: string, disks: [typeof SYSTEM, string][], paths: string[] = []): Promise<Guest> {
  const kernel = await ensureKernel();
  const initrd = await buildDiskInitramfs(kernel);
  const serialPath = path.join(work, `${name}.serial`);
  const argv = [
    ...qemuBase(serialPath),
    '-machine',
    'pc',
    '-kernel',
    kernel.vmlinuz,
    '-initrd',
    initrd,
    '-append',
    ['console=ttyS0', 'quiet', ...paths.map((p) => `harvgen.disk=${p}`)].join(' '),
    '-device',
    'virtio-scsi-pci,id=scsi0',
    ...disks.flatMap(([d, file], i) => [
      '-drive',
      `if=none,id=d${i},format=raw,file=${file},snapshot=on`,
      '-device',
      `scsi-hd,drive=d${i},bus=scsi0.0,channel=0,scsi-id=${i},lun=0,serial=${d.serial},wwn=${d.wwn}`,
    ]),
  ];
  const r = await run(argv, { timeoutMs: 240_000 });
  const serial = cleanSerial(readFileSync(serialPath, 'latin1'));
  const m = /HARVGEN-DUMP-BEGIN\n([\s\S]*?)HARVGEN-DUMP-END/.exec(serial);
  if (r.code !== 0 || !m || !serial.includes('HARVGEN-DONE')) throw new Error(`the guest did not finish\n${describe(r)}\n${serial}`);
  const resolves = Object.fromEntries([...serial.matchAll(/^HARVGEN-RESOLVES (\S+) (\S*)$/gm)].map((x) => [x[1]!, x[2]!]));
  return { dump: m[1]!, resolves, serial };
}

/** Kernel name -> serial, as the guest's dump says (the collector read udev's unit serial). */
function serialsByName(dump: string): Record<string, string | undefined> {
  return Object.fromEntries(parseDump(dump).disks!.map((d) => [d.name!, d.serial]));
}

/** Link name -> kernel name, as udev made them in the guest (the dump's `byid` lines). */
function links(dump: string): Record<string, string> {
  return Object.fromEntries([...dump.matchAll(/^byid (\S+) (\S+)$/gm)].map((x) => [`/dev/disk/by-id/${x[2]!}`, x[1]!]));
}

test('a disk by its serial and a disk by its WWN: the config names the same disks when the kernel swaps their names', async () => {
  if (!requireProgram('qemu-system-x86_64', '/bin/busybox', 'cpio', 'ldd', ...UDEV_FILES)) return;
  const work = tempDir('disk-selector');
  const a = await sparse(path.join(work, 'system.raw'), SYSTEM.gib);
  const b = await sparse(path.join(work, 'data.raw'), DATA.gib);

  // First boot: the system disk at target 0.
  const first = await boot(work, 'first', [
    [SYSTEM, a],
    [DATA, b],
  ]);
  const firstSerials = serialsByName(first.dump);
  assert.equal(firstSerials, { sda: SYSTEM.serial, sdb: DATA.serial }, `the guest's disks:\n${first.dump}`);
  // udev's links, as Debian and SLE Micro name a SCSI disk with a WWN.
  assert.is(links(first.dump)[`/dev/disk/by-id/wwn-${SYSTEM.wwn}`], 'sda', first.dump);

  // The site, its facts from the first boot's dump, and the build.
  const root = tempDir('disk-selector-repo');
  mkdirSync(path.join(root, '.git'));
  const site = path.join(root, 'sites', 'disks');
  mkdirSync(site, { recursive: true });
  writeFileSync(
    path.join(site, 'site.yaml'),
    [
      'site: disks',
      // The guest is a small legacy-BIOS VM: v1.7 with skipchecks installs there (v1.8 refuses BIOS).
      'harvester: { version: v1.7.1, artifacts: http://10.0.0.1/artifacts }',
      'boot: { server: http://10.0.0.1, skipchecks: true }',
      'network: { cidr: 10.0.0.0/24, gateway: 10.0.0.1, dns: [10.0.0.1], dhcp_range: 10.0.0.100-10.0.0.199 }',
      'cluster: { vip: 10.0.0.10, token: { env: T }, password: { env: P } }',
      'nodes:',
      `  - hostname: n1`,
      `    mac: "${MAC}"`,
      '    ip: 10.0.0.11',
      '    install:',
      `      device: { serial: ${SYSTEM.serial} }`,
      `      data_disk: { wwn: "${DATA.wwn.toUpperCase().replace('0X', '0x')}" }`,
      '',
    ].join('\n'),
  );
  const dumpFile = path.join(work, 'n1.facts');
  writeFileSync(dumpFile, first.dump);
  const facts = await measureFacts({ site, nodes: ['n1'], dump: dumpFile, cwd: root });
  assert.equal(
    facts.machines.map((m) => [m.status, m.diagnostics]),
    [['written', []]],
  );
  const out = tempDir('disk-selector-out');
  const built = await build({ sites: [site], outDir: out, env: ENV, cwd: root });
  assert.equal(
    built.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  const config = readFileSync(path.join(out, 'disks', 'harvester', 'n1.yaml'), 'utf8');
  const device = /^\s+device: (\S+)$/m.exec(config)?.[1];
  const dataDisk = /^\s+data_disk: (\S+)$/m.exec(config)?.[1];
  assert.ok(device?.startsWith('/dev/disk/by-id/'), config);
  assert.is(dataDisk, `/dev/disk/by-id/wwn-${DATA.wwn}`, config);
  assert.is(firstSerials[links(first.dump)[device!]!], SYSTEM.serial, 'the first boot: the config names the system disk');
  assert.is(firstSerials[links(first.dump)[dataDisk!]!], DATA.serial, 'the first boot: the config names the data disk');

  // Second boot: the disks swapped, the config's paths resolved by the guest.
  const second = await boot(
    work,
    'second',
    [
      [DATA, b],
      [SYSTEM, a],
    ],
    [device!, dataDisk!, '/dev/sda'],
  );
  const secondSerials = serialsByName(second.dump);
  assert.equal(secondSerials, { sda: DATA.serial, sdb: SYSTEM.serial }, `the kernel swapped the names:\n${second.dump}`);
  assert.is(second.resolves[device!], 'sdb', second.serial);
  assert.is(secondSerials[second.resolves[device!]!], SYSTEM.serial, 'the second boot: the same system disk');
  assert.is(secondSerials[second.resolves[dataDisk!]!], DATA.serial, 'the second boot: the same data disk');
  // The mutation: /dev/sda, the system disk at the first boot, is the data disk at the second.
  assert.is(secondSerials[second.resolves['/dev/sda']!], DATA.serial);
  assert.is.not(secondSerials[second.resolves['/dev/sda']!], firstSerials.sda);
});

test.run();
