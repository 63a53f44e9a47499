// The installer's disk rules: the install and data disk minimums, the persistent partition's
// size (its minimum, and whether it fits the install disk) and `force_mbr`.
import type { InventoryPath } from '../../util/paths.ts';
import { inReleases, installView, MIB_PER_GIB, partitionMib, skip, type InstallerRule, type RuleHit, type RuleSubject } from './subject.ts';

/** COS_OEM 50 + COS_STATE 15360 + COS_RECOVERY 8192 + ESP 64 + 50 GiB left for VM data (MiB). */
const FIXED_PARTITIONS_MIB = 74866;

/**
 * The data partition lives on the install disk (ShouldCreateDataPartitionOnOsDisk): no separate
 * data disk, no MBR (an MBR install makes no data partition), and not a witness from v1.6.0.
 */
function dataOnInstallDisk(s: RuleSubject): boolean {
  const i = installView(s);
  return !i.separate && i.forceMbr === undefined && !i.witnessNoData;
}

/** The install disk minimum of the node's release (GiB), and whether the disk rule stops it (checkDevice). */
function installDiskRule(s: RuleSubject): { min: number; why: string; stops: boolean } {
  const i = installView(s);
  const min = i.witnessNoData || i.separate ? 180 : 250;
  const why = i.witnessNoData ? ' for a witness' : i.separate ? ' with a separate data disk' : '';
  const have = s.facts.diskGib;
  const stops = have !== undefined && Math.floor(have) < min && !(inReleases(s.version, '>=1.8.0') && i.skipchecks);
  return { min, why, stops };
}

/** Where the value at `key` came from, said for a message: "(set under `config:`)", ... */
function setBy(s: RuleSubject, key: string): string {
  const origin = s.config.origin(key);
  return origin === 'config' ? ' (set under `config:`)' : origin === 'default' ? " (harvgen's default)" : '';
}

/**
 * What is wrong with `path` as the installer takes it, or undefined. Its device check runs os.Lstat
 * on the path as written, resolves a link (filepath.EvalSymlinks, which cleans the path), and
 * compares a path that is no link with lsblk's `/dev/<name>` as a string; a data disk is sized with
 * lsblk on the path. So a trailing slash (or `/.`) always fails ("not a directory"), and `//` or a
 * `.` part fails a kernel device name (`/dev//vda`: "device not found") but not a link under
 * `/dev/disk/` or `/dev/mapper/`, which resolves: there it is `warning` (one spelling). `..` is
 * refused everywhere (one spelling; the oracle's faked machine cannot show such a path).
 */
export function devicePathProblem(path: string): { problem: string; warning?: true } | undefined {
  if (!path.startsWith('/dev/') || path === '/dev/') return undefined; // the schema's and NODE_DEVICE_MISSING's
  if (path.endsWith('/')) return { problem: 'it ends with a slash' };
  if (path.endsWith('/.')) return { problem: 'it ends with `/.`' };
  const parts = path.split('/');
  if (parts.includes('..')) return { problem: 'it has a `..` part' };
  const odd = path.includes('//') ? 'an empty part (`//`)' : parts.includes('.') ? 'a `.` part' : undefined;
  if (odd === undefined) return undefined;
  // A kernel device node is `/dev/<name>`; deeper paths (by-id, by-path, mapper, md) are links.
  const kernelName = parts.filter((p) => p !== '' && p !== '.').length === 2;
  return kernelName ? { problem: `it has ${odd}` } : { problem: `it has ${odd}`, warning: true };
}

/** `path` as it should be written: no trailing slash, no empty or `.` part, `..` resolved. */
function plainPath(path: string): string {
  const out: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return `/${out.join('/')}`;
}

/** The disk rules, in the order the installer meets them. */
export const DISK_RULES: readonly InstallerRule[] = [
  {
    id: 'disk-device-path',
    code: 'INSTALLER_DEVICE_PATH',
    releases: '>=1.2.0',
    when: '`install.device`, a data disk other than it, or (v1.5 and later) a `wipe_disks_list` entry that is not a plain path: a trailing slash or `/.`, a `..` part, or `//` or a `.` part in a kernel device name (`/dev//vda`; in a link such as `/dev/disk/by-id//x`, which the installer resolves, a warning)',
    effect:
      'stops the install ("lstat /dev/disk/by-id/x/: not a directory", "device not found", or a data disk it cannot size); skipchecks does not lift it',
    source:
      "pkg/console/validator.go checkDevice (os.Lstat on the path as written, filepath.EvalSymlinks only for a link, then a string compare with lsblk's /dev/<name>), util.go validateDataDiskSize (lsblk on the path) @v1.2.0, same to v1.8.1; pkg/installer/console/validator.go @harvester/harvester v1.9.0-rc6",
    check(s) {
      const i = installView(s);
      const wipe = inReleases(s.version, '>=1.5.0') ? s.config.get('install.wipe_disks_list') : undefined;
      type Named = [what: string, path: unknown, at: () => InventoryPath];
      const paths: Named[] = [
        ['install.device', i.device, () => s.config.at('install.device')],
        ...(i.separate ? [['install.data_disk', i.dataDisk, () => s.config.at('install.data_disk')] as Named] : []),
        ...(Array.isArray(wipe)
          ? wipe.map((d: unknown, k): Named => [`install.wipe_disks_list[${k}]`, d, () => [...s.config.at('install.wipe_disks_list'), k]])
          : []),
      ];
      const hits: RuleHit[] = [];
      for (const [what, path, at] of paths) {
        if (typeof path !== 'string') continue;
        const found = devicePathProblem(path);
        if (found === undefined) continue;
        hits.push({
          message: found.warning
            ? `${what} ${path} of node ${s.node.hostname} is not a plain device path: ${found.problem}; the Harvester ${s.version.raw} installer resolves the link, but write the path plainly`
            : `${what} ${path} of node ${s.node.hostname} is not a plain device path: ${found.problem}; the Harvester ${s.version.raw} installer looks the path up as written and stops the install${path.endsWith('/') ? ` ("lstat ${path}: not a directory")` : ''}`,
          hint: `Write it as ${plainPath(path)}.`,
          at: at(),
          ...(found.warning ? { severity: 'warning' as const } : {}),
        });
      }
      return hits;
    },
  },
  {
    id: 'disk-device-missing',
    code: 'INSTALLER_DEVICE_MISSING',
    releases: '>=1.2.0',
    when: 'measured facts show no disk at `install.device` (the machine has none, or a dump lists its disks and none has that path)',
    effect:
      'stops the install ("lstat <device>: no such file or directory", or "no device specified"; skipchecks never lifts it: from v1.8.0 its skip comes after these tests)',
    source:
      'pkg/console/validator.go checkDevice (empty, os.Lstat, lsblk TYPE=disk) @v1.2.0, same to v1.8.1 (skip after the tests: checkDevice:143 @v1.8.1); pkg/installer/console/validator.go checkDevice @harvester/harvester v1.9.0-rc6',
    check(s) {
      if (s.deviceMissing === undefined) return undefined;
      const device = installView(s).device;
      const said = device === '' ? 'no device specified' : `lstat ${device}: no such file or directory`;
      return {
        message: `the machine of node ${s.node.hostname} has no disk ${device === '' ? 'to install to' : `at ${device}`} (its measured disks: ${s.disks ?? 'none'}): the Harvester ${s.version.raw} installer's device check stops the install ("${said}"), whatever skipchecks says`,
        hint: "Set `install.device` to one of the machine's disks (its facts file lists them; a `/dev/disk/by-id/` path stays right when disks are added), give the machine a disk, or measure it again (`harvgen facts`) if it changed.",
        at: s.deviceMissing,
      };
    },
  },
  {
    id: 'disk-install-min',
    code: 'INSTALLER_DISK_TOO_SMALL',
    releases: '>=1.2.0',
    lifted: '>=1.8.0',
    when: 'install disk under 250 GiB (under 180 GiB with a separate data disk, or for a witness from v1.6.0); sizes are floored to whole GiB, so a "250 GB" disk fails',
    effect: 'stops the install (skipchecks lifts it only from v1.8.0: harvester#6064)',
    source: 'pkg/console/validator.go checkDevice, util.go validateDiskSize @v1.2.0; skip @v1.8.0 (harvester#6064)',
    check(s) {
      const have = s.facts.diskGib;
      const { min, why, stops } = installDiskRule(s);
      if (have === undefined || !stops) return undefined;
      const skipped = installView(s).skipchecks;
      return {
        message: `the install disk of node ${s.node.hostname} has ${Math.floor(have)} GiB; the Harvester ${s.version.raw} installer requires ${min} GiB${why}${skipped ? ' even with skipchecks (only v1.8.0 and later lift it)' : ''}`,
        hint: `Use a disk of at least ${min} GiB (2^30 bytes: a "250 GB" disk has 232 GiB)${inReleases(s.version, '>=1.8.0') ? `, ${skip}` : ', or install v1.8 or newer with skipchecks'}.`,
        at: s.factAt('diskGib'),
      };
    },
  },
  {
    id: 'disk-data-min',
    code: 'INSTALLER_DISK_TOO_SMALL',
    releases: '>=1.2.0',
    lifted: '>=1.8.0',
    when: 'data disk under 50 GiB',
    effect: 'stops the install',
    source: 'pkg/console/validator.go validateDataDiskSize @v1.2.0; skip @v1.8.0',
    check(s) {
      const have = s.facts.dataDiskGib;
      const i = installView(s);
      // v1.6.0 and later check no data disk of a witness (it gets no data partition).
      if (have === undefined || !i.separate || i.witnessNoData || Math.floor(have) >= 50) return undefined;
      if (inReleases(s.version, '>=1.8.0') && i.skipchecks) return undefined;
      return {
        message: `the data disk of node ${s.node.hostname} has ${Math.floor(have)} GiB; the Harvester ${s.version.raw} installer requires 50 GiB`,
        hint: `Use a data disk of at least 50 GiB, or remove \`install.data_disk\`${setBy(s, 'install.data_disk')} to keep VM data on the install disk.`,
        at: s.factAt('dataDiskGib'),
      };
    },
  },
  {
    id: 'partition-min',
    code: 'INSTALLER_PARTITION_SIZE',
    releases: '>=1.2.0',
    lifted: '>=1.8.0',
    when: '`persistent_partition_size` under 150Gi (only when the data partition is on the install disk)',
    effect: 'stops the install',
    source: 'pkg/util/disk.go ParsePartitionSize @v1.2.0; skip @v1.8.0',
    check(s) {
      const size = installView(s).partition;
      const mib = partitionMib(size);
      if (mib === undefined || mib >= 150 * MIB_PER_GIB || !dataOnInstallDisk(s)) return undefined;
      if (inReleases(s.version, '>=1.8.0') && installView(s).skipchecks) return undefined;
      return {
        message: `install.persistent_partition_size ${size}${setBy(s, 'install.persistent_partition_size')} of node ${s.node.hostname} is under the 150Gi the Harvester ${s.version.raw} installer requires`,
        hint: 'Use 150Gi or more (the default when it is not set).',
        at: s.config.at('install.persistent_partition_size'),
      };
    },
  },
  {
    id: 'partition-max',
    code: 'INSTALLER_PARTITION_SIZE',
    releases: '>=1.2.0',
    when: '`persistent_partition_size` (default 150Gi) over the install disk minus 74,866 MiB (the system partitions and 50 GiB for VM data)',
    effect: 'stops the install (v1.8.0 and later with skipchecks: shrunk to the maximum, a warning)',
    source: 'pkg/util/disk.go ParsePartitionSize @v1.2.0; clamp @v1.8.0',
    check(s) {
      const disk = s.facts.diskGib;
      // The disk check comes first (validateConfig); the partition layout only after it (doInstall).
      if (disk === undefined || !dataOnInstallDisk(s) || installDiskRule(s).stops) return undefined;
      const size = installView(s).partition;
      const mib = partitionMib(size);
      const max = Math.floor(disk) * MIB_PER_GIB - FIXED_PARTITIONS_MIB;
      if (mib === undefined || mib <= max) return undefined;
      // Below the system partitions' 74,866 MiB the installer's size arithmetic wraps around
      // (uint64) and the install fails while partitioning, skipchecks or not.
      const clamped = inReleases(s.version, '>=1.8.0') && installView(s).skipchecks && max >= 0;
      const own = s.config.origin('install.persistent_partition_size') !== 'default';
      return {
        message: `persistent partition ${size}${setBy(s, 'install.persistent_partition_size')} of node ${s.node.hostname} does not fit its ${Math.floor(disk)} GiB install disk (at most ${Math.max(0, Math.floor(max / MIB_PER_GIB))}Gi)${clamped ? ': the installer shrinks it to the maximum' : `: the Harvester ${s.version.raw} installer stops`}`,
        hint: 'Set `install.persistent_partition_size` to fit, use a larger disk, or give the node a data disk.',
        at: own ? s.config.at('install.persistent_partition_size') : s.factAt('diskGib'),
        ...(clamped ? { severity: 'warning' as const } : {}),
      };
    },
  },
  {
    id: 'force-mbr',
    code: 'INSTALLER_FORCE_MBR',
    releases: '>=1.2.0',
    when: '`install.force_mbr: true` (in `config:`) on UEFI or on a disk over 2 TiB (from v1.8.0 MBR is impossible: BIOS, which it needs, is refused first)',
    effect: 'stops the install',
    source: 'pkg/console/validator.go checkForceMBR, util.go diskExceedsMBRLimit @v1.2.0',
    check(s) {
      const key = installView(s).forceMbr;
      if (!key) return undefined;
      // From v1.8 a BIOS machine is refused before this (HARVESTER_BIOS_UNSUPPORTED), and UEFI here.
      const why =
        s.firmware === 'uefi'
          ? 'the machine boots UEFI ("cannot force MBR on UEFI system")'
          : s.facts.diskGib !== undefined && s.facts.diskGib * 2 ** 30 > 2199023255040
            ? 'the disk is larger than an MBR can address (2 TiB)'
            : undefined;
      if (!why) return undefined;
      return {
        message: `install.force_mbr on node ${s.node.hostname} stops the Harvester ${s.version.raw} installer: ${why}`,
        hint: 'Remove `force_mbr` from `config:` (GPT is the default).',
        at: s.config.at(`install.${key}`),
      };
    },
  },
];
