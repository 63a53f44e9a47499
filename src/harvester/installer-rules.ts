// The Harvester installer's own rules that stop or change an automatic (PXE) install and that
// follow from the inventory and the machine's hardware facts, one entry per rule, keyed by the
// releases it holds in. Each entry names where in the installer's source it comes from
// (harvester/harvester-installer, and harvester/harvester pkg/installer from v1.9). The `installer`
// validation rule applies them; the README's table is generated from this list
// (scripts/schema-outputs.ts), and test/installer-rules.test.ts has a case on each side of every
// release boundary and threshold.
import type { Code } from '../diagnostics/codes.ts';
import type { HardwareFacts } from './hardware-facts.ts';
import type { EffectiveConfig } from './effective-config.ts';
import type { HarvesterVersion } from './versions.ts';
import { witnessHasNoData } from './witness.ts';
import { webhookProblem } from './webhooks.ts';
import type { InventoryPath } from '../util/paths.ts';

export type { HardwareFacts };

/**
 * One node as a rule sees it: the config its installer parses (`config`, with where each value
 * was set), its firmware and its hardware facts. A rule reads no inventory field: whatever path
 * a value took into the config (a node setting, `config:`, `defaults:`, a profile, a built-in
 * default), the rule sees it the same way.
 */
export interface RuleSubject {
  /** Only for its name in messages. */
  readonly node: { readonly hostname: string };
  readonly version: HarvesterVersion;
  /** The node's own firmware (`nodeFirmware`: arm64 machines boot UEFI whatever the site says). */
  readonly firmware: 'uefi' | 'bios';
  readonly facts: HardwareFacts;
  /** Where a fact (`memoryGib`, ...) was declared: the node's `hardware:` or lab sizing. */
  readonly factAt: (fact: keyof HardwareFacts) => InventoryPath;
  /** The effective installer config (src/derive/harvester/effective.ts). */
  readonly config: EffectiveConfig;
  /** `boot.report`: the config carries harvgen's own install-event webhooks. */
  readonly report: boolean;
}

/** What a rule found. */
export interface RuleHit {
  readonly message: string;
  readonly hint: string;
  readonly at: InventoryPath;
  readonly severity?: 'error' | 'warning';
}

/** One rule of the installer. */
export interface InstallerRule {
  readonly id: string;
  readonly code: Code;
  /** Releases the rule holds in: `>=1.3.0`, `>=1.7.0 <1.8.0`, ... */
  readonly releases: string;
  /** Releases in which `skipchecks` lifts it (none: never). */
  readonly lifted?: string;
  /** The condition, for the README. */
  readonly when: string;
  /** What the installer does, for the README. */
  readonly effect: string;
  /** File, function and tag in the installer's source (or the upstream issue). */
  readonly source: string;
  readonly check: (s: RuleSubject) => RuleHit | RuleHit[] | undefined;
}

/** Answers of inReleases by release and range: rules ask the same few for every node. */
const rangeAnswers = new Map<string, boolean>();

/** `>=1.3.1 <1.8.0`-style range test on a release (release candidates count as their release). */
export function inReleases(v: HarvesterVersion, range: string): boolean {
  const key = `${v.major}.${v.minor}.${v.patch} ${range}`;
  let answer = rangeAnswers.get(key);
  if (answer === undefined) rangeAnswers.set(key, (answer = testRange(v, range)));
  return answer;
}

function testRange(v: HarvesterVersion, range: string): boolean {
  const n = (x: string) => x.split('.').map(Number) as [number, number, number];
  const cmp = (a: [number, number, number], b: [number, number, number]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  const have: [number, number, number] = [v.major, v.minor, v.patch];
  return range.split(/\s+/).every((part) => {
    const m = /^(>=|<|=)(\d+\.\d+\.\d+)$/.exec(part);
    if (!m) throw new Error(`bad release range ${range}`);
    const c = cmp(have, n(m[2]!));
    return m[1] === '>=' ? c >= 0 : m[1] === '<' ? c < 0 : c === 0;
  });
}

const MIB_PER_GIB = 1024;
/** COS_OEM 50 + COS_STATE 15360 + COS_RECOVERY 8192 + ESP 64 + 50 GiB left for VM data (MiB). */
const FIXED_PARTITIONS_MIB = 74866;

/** `150Gi` / `153600Mi` in MiB. */
export function partitionMib(size: string): number | undefined {
  const m = /^(\d+)(Mi|Gi)$/.exec(size);
  return m ? Number(m[1]) * (m[2] === 'Gi' ? MIB_PER_GIB : 1) : undefined;
}

/**
 * The install settings as the installer reads them from its config: `data_disk` equal (as a
 * string) to `device` is cleared (install_panels.go), `role` exists from v1.3.0, `skipchecks`
 * from v1.3.0 (from the file or the kernel line, whichever says true: config.Merge).
 */
export interface InstallView {
  readonly device: string;
  readonly dataDisk: string;
  /** A data disk other than the install disk. */
  readonly separate: boolean;
  readonly role: string;
  /** A witness whose release gives it no data partition (v1.6.0 and later). */
  readonly witnessNoData: boolean;
  readonly skipchecks: boolean;
  /** The key that sets `force_mbr` true, if any. */
  readonly forceMbr?: 'force_mbr' | 'forceMbr';
  readonly partition: string;
}

/** Views by config: each rule asks for the same node's. */
const views = new WeakMap<EffectiveConfig, InstallView>();

export function installView(s: Pick<RuleSubject, 'config' | 'version'>): InstallView {
  let view = views.get(s.config);
  if (view !== undefined) return view;
  const str = (key: string) => {
    const v = s.config.get(key);
    return typeof v === 'string' ? v : '';
  };
  const device = str('install.device');
  const dataDisk = str('install.data_disk');
  const role = inReleases(s.version, '>=1.3.0') ? str('install.role') : '';
  const forceMbr =
    s.config.get('install.force_mbr') === true ? 'force_mbr' : s.config.get('install.forceMbr') === true ? 'forceMbr' : undefined;
  view = {
    device,
    dataDisk,
    separate: dataDisk !== '' && dataDisk !== device,
    role,
    witnessNoData: role === 'witness' && witnessHasNoData(s.version),
    skipchecks: inReleases(s.version, '>=1.3.0') && s.config.get('install.skipchecks') === true,
    ...(forceMbr ? { forceMbr } : {}),
    partition: str('install.persistent_partition_size') || '150Gi',
  };
  views.set(s.config, view);
  return view;
}

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

const skip = 'or set `boot.skipchecks: true` (`harvester.install.skipchecks=true`) to install anyway';

/** A preflight check: fails below `min` of fact `fact`. */
function preflight(
  id: string,
  fact: 'cpus' | 'memoryGib' | 'nicSpeedMbps',
  min: number,
  releases: string,
  what: (have: number) => string,
  source: string,
  when: string,
): InstallerRule {
  return {
    id,
    code: 'INSTALLER_PREFLIGHT_FAILS',
    releases,
    lifted: releases,
    when,
    effect: 'stops the install',
    source,
    check(s) {
      const have = s.facts[fact];
      if (have === undefined || have >= min || installView(s).skipchecks) return undefined;
      return {
        message: `${what(have)}: the Harvester ${s.version.raw} installer's preflight check stops the install of node ${s.node.hostname}`,
        hint: `Give the machine more (the installer's production minimums: 16 CPUs, 64 GiB, 10 Gbps), ${skip}.`,
        at: s.factAt(fact),
      };
    },
  };
}

/** Every rule, in the order the installer meets them. */
export const INSTALLER_RULES: readonly InstallerRule[] = [
  {
    id: 'preflight-bios-v1.7',
    code: 'INSTALLER_PREFLIGHT_FAILS',
    releases: '>=1.7.0 <1.8.0',
    lifted: '>=1.7.0 <1.8.0',
    when: 'legacy BIOS boot',
    effect: 'stops the install (from v1.8.0 refused whatever skipchecks says: `HARVESTER_BIOS_UNSUPPORTED`)',
    source: 'pkg/preflight/checks.go BIOSCheck @v1.7.0 (harvester#9382)',
    check(s) {
      if (s.firmware !== 'bios' || installView(s).skipchecks) return undefined;
      return {
        message: `Harvester ${s.version.raw} deprecates legacy BIOS: its preflight check stops the install of node ${s.node.hostname}`,
        hint: `Switch the machines to UEFI (\`boot.firmware: uefi\`; v1.8 refuses BIOS outright), ${skip}.`,
        at: ['boot', 'firmware'],
      };
    },
  },
  preflight(
    'preflight-cpu',
    'cpus',
    16,
    '>=1.3.0',
    (n) => `${n} CPU threads (nproc --all); Harvester requires 16 for production use (8 for testing)`,
    'pkg/preflight/checks.go CPUCheck @v1.3.0',
    'fewer than 16 CPU threads (`hardware.cpus`, lab `vcpus`)',
  ),
  preflight(
    'preflight-memory',
    'memoryGib',
    64,
    '>=1.3.1',
    (n) => `${n} GiB of memory; Harvester requires 64 GiB for production use (32 for testing)`,
    'pkg/preflight/checks.go MemoryCheck (dmidecode -t 19, no tolerance) @v1.3.1',
    'less than 64 GiB of memory (`hardware.memory_gib`, lab `memory_mib`)',
  ),
  preflight(
    'preflight-memory-v1.3.0',
    'memoryGib',
    63,
    '=1.3.0',
    (n) => `${n} GiB of memory (v1.3.0 measures the kernel's MemTotal, a few percent below it, against 95% of 64 GiB)`,
    'pkg/preflight/checks.go MemoryCheck (/proc/meminfo) @v1.3.0 (harvester#5599)',
    'less than about 63 GiB of memory (MemTotal under 61 GiB)',
  ),
  preflight(
    'preflight-nic-speed',
    'nicSpeedMbps',
    10000,
    '>=1.3.0',
    (n) =>
      `a NIC of the management interface links at ${n} Mbps (the installer checks every NIC it lists); Harvester requires 10 Gbps for production use (1 Gbps for testing)`,
    'pkg/preflight/checks.go NetworkSpeedCheck, install_panels.go doNetworkSpeedCheck (each NIC of install.management_interface.interfaces) @v1.3.0, same to v1.8.1',
    'a NIC of the management interface slower than 10 Gbps (`hardware.nic_speed_mbps` is the speed of the slowest NIC the management interface lists: the installer checks each one; lab `nic_model: e1000e`; virtio reports no speed and is not checked)',
  ),
  {
    id: 'preflight-virtualized',
    code: 'INSTALLER_PREFLIGHT_FAILS',
    releases: '>=1.3.0',
    lifted: '>=1.3.0',
    when: 'the machine is a virtual machine (`hardware.virtualized`, every lab domain)',
    effect: 'stops the install',
    source: 'pkg/preflight/checks.go VirtCheck @v1.3.0',
    check(s) {
      if (!s.facts.virtualized || installView(s).skipchecks) return undefined;
      return {
        message: `node ${s.node.hostname} is a virtual machine: the Harvester ${s.version.raw} installer's preflight check ("not supported in production") stops its install`,
        hint: `Set \`boot.skipchecks: true\` for virtual machines (labs), as Harvester's own iPXE examples do.`,
        at: s.factAt('virtualized'),
      };
    },
  },
  {
    id: 'preflight-kvm',
    code: 'INSTALLER_PREFLIGHT_FAILS',
    releases: '>=1.3.0',
    lifted: '>=1.3.0',
    when: 'no hardware virtualization (`hardware.kvm: false`: no /dev/kvm)',
    effect: 'stops the install',
    source: 'pkg/preflight/checks.go KVMHostCheck @v1.3.0',
    check(s) {
      if (s.facts.kvm !== false || installView(s).skipchecks) return undefined;
      return {
        message: `node ${s.node.hostname} has no hardware virtualization (/dev/kvm): the Harvester ${s.version.raw} installer's preflight check stops its install`,
        hint: `Enable VT-x/AMD-V in the machine's firmware, ${skip} (its VMs would then not run).`,
        at: s.factAt('kvm'),
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
  {
    id: 'webhooks',
    code: 'INSTALLER_WEBHOOK_INVALID',
    releases: '>=1.2.0',
    when: 'a webhook whose event is not STARTED, SUCCEEDED or FAILED (exact case), whose method is missing or not an HTTP method once upper-cased, or whose `url` or `payload` is outside the Go template subset harvgen accepts',
    effect: "drops every webhook of the node, harvgen's own `boot.report` events too, and installs without them (only logged)",
    source:
      'pkg/console/webhooks.go PrepareWebhooks, prepareWebhook (strings.ToUpper, text/template missingkey=zero), IsValidEvent, IsValidHTTPMethod; install_panels.go (error logged, install goes on) @v1.2.0, same blob to v1.8.1',
    check(s) {
      const hooks = s.config.get('install.webhooks');
      if (!Array.isArray(hooks)) return undefined;
      const base = s.config.at('install.webhooks');
      const own = s.config.origin('install.webhooks') === 'config';
      const hits: RuleHit[] = [];
      hooks.forEach((hook, i) => {
        const p = webhookProblem(hook);
        if (!p) return;
        const present = (hook as Record<string, unknown>)[p.key] !== undefined;
        hits.push({
          message: `webhook ${i + 1} of node ${s.node.hostname}: ${p.message}; the Harvester ${s.version.raw} installer then drops every webhook of the node${s.report ? " (harvgen's install reports included: `harvgen status` sees no event)" : ''}`,
          hint:
            p.key === 'url' || p.key === 'payload'
              ? 'Write the value as plain text with {{.Hostname}}, {{.MACAddr}}, {{.IPAddrV4}} or {{.IPAddrV6}} where the installer fills them in (docs/ "Installer webhooks").'
              : `Set \`${p.key}\` to one of ${p.key === 'event' ? 'STARTED, SUCCEEDED, FAILED' : 'GET, POST, PUT, ...'}.`,
          at: own ? [...base, i, ...(present ? [p.key] : [])] : base,
        });
      });
      return hits;
    },
  },
  {
    id: 'skipchecks-v1.2',
    code: 'INSTALLER_SKIPCHECKS_IGNORED',
    releases: '<1.3.0',
    when: '`skipchecks` set (`boot.skipchecks`, which puts `harvester.install.skipchecks=true` on the kernel line) for a v1.2 release',
    effect: 'ignored: v1.2 has no preflight checks and no skipchecks, and its disk minimums always apply',
    source: 'pkg/config/config.go Install (no SkipChecks field), no pkg/preflight @v1.2.2; both added @v1.3.0',
    check(s) {
      if (s.config.get('install.skipchecks') !== true) return undefined;
      return {
        message: `skipchecks is set for node ${s.node.hostname}, but the Harvester ${s.version.raw} installer has no skipchecks (added in v1.3.0): it is ignored, and the disk minimums still apply`,
        hint: 'Remove it for v1.2 nodes, or install v1.3 or newer.',
        at: s.config.at('install.skipchecks'),
        severity: 'warning',
      };
    },
  },
  {
    id: 'issue-bond-nm-online',
    code: 'INSTALLER_KNOWN_ISSUE',
    releases: '>=1.7.0',
    when: 'DHCP management network on an 802.3ad (LACP) bond',
    effect: 'may fail intermittently: "Can\'t apply networks" (`nm-online -x` times out while LACP negotiates)',
    source: 'pkg/config/cos.go UpdateManagementInterfaceConfig @v1.7.0; harvester#10885, harvester#11662 (open)',
    check(s) {
      const method = s.config.get('install.management_interface.method');
      if (method !== 'dhcp' || s.config.get('install.management_interface.bond_options.mode') !== '802.3ad') return undefined;
      return {
        message: `node ${s.node.hostname} gets its management address by DHCP on an 802.3ad bond, which Harvester ${s.version.raw} may fail to bring up in time ("Can't apply networks"; v1.7.0 and later, harvester#10885, #11662, open)`,
        hint: 'Use `method: static` for nodes on LACP bonds, or `bond.mode: active-backup`, until the upstream issue is fixed.',
        at: s.config.at('install.management_interface.bond_options.mode'),
        severity: 'warning',
      };
    },
  },
  ...(
    [
      [
        'tg3',
        '>=1.8.0 <1.9.0',
        'harvester#11266 (Broadcom 5719: dracut never brings the NIC up; fixed by harvester/os2#257, the v1.8 release that ships it unconfirmed)',
      ],
      ['qlcnic', '>=1.7.0', 'harvester#9846 (QLogic qlcnic driver missing, open)'],
      [
        'r8125',
        '>=1.7.1',
        'harvester#10518 (Realtek RTL8125 driver missing, open; `nic_driver: r8125` names that chip, which mainline kernels drive with r8169)',
      ],
      ['ice', '=1.7.0', 'harvester#9694 (Intel E810/E825 driver too old for their newer device IDs)'],
    ] as const
  ).map(([driver, releases, issue]): InstallerRule => ({
    id: `issue-nic-${driver}`,
    code: 'INSTALLER_KNOWN_ISSUE',
    releases,
    when: `management NIC driver \`${driver}\` (\`hardware.nic_driver\`)`,
    effect: 'the NIC may not come up in the installer',
    source: issue,
    check(s) {
      if (s.facts.nicDriver !== driver) return undefined;
      return {
        message: `node ${s.node.hostname}'s management NIC uses ${driver}, which Harvester ${s.version.raw} is known to break (releases ${releases}): ${issue}`,
        hint: 'Install a release outside that range (the node may set its own `harvester_version`), or boot from another NIC.',
        at: s.factAt('nicDriver'),
        severity: 'warning',
      };
    },
  })),
];
