// The installer's preflight checks (pkg/preflight, from v1.3.0): the firmware, CPUs, memory, NIC
// speed, a virtualized machine and /dev/kvm. Each stops the install unless skipchecks lifts it.
import { installView, skip, type InstallerRule, type RuleSubject } from './subject.ts';

/** A preflight check: fails below `min` of fact `fact` (memory has its own, memoryRule). */
function preflight(
  id: string,
  fact: 'cpus' | 'nicSpeedMbps',
  min: number,
  releases: string,
  what: (have: number, s: RuleSubject) => string,
  source: string,
  when: string,
): InstallerRule {
  // The check's name in the installer's source (`MemoryCheck`), for the message.
  const checkName = /(\w+Check)\b/.exec(source)?.[1] ?? id;
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
        message: `${what(have, s)}, ${shortBy(fact, min - have)} short: the Harvester ${s.version.raw} installer's preflight check ${checkName} stops the install of node ${s.node.hostname}`,
        hint: `Give the machine more (the installer's production minimums: 16 CPUs, 64 GiB, 10 Gbps), ${skip}.`,
        at: s.factAt(fact),
      };
    },
  };
}

/**
 * The memory check: installed memory (`memoryGib`: dmidecode's type 19 ranges) against
 * `installed`, or the kernel's MemTotal (`memoryTotalGib`, measured) against `total`: the only
 * measure of `totalOnly` releases, the fallback of the others when no range was reported.
 */
function memoryRule(r: {
  id: string;
  releases: string;
  source: string;
  when: string;
  installed: number;
  total: number;
  totalOnly?: boolean;
}): InstallerRule {
  return {
    id: r.id,
    code: 'INSTALLER_PREFLIGHT_FAILS',
    releases: r.releases,
    lifted: r.releases,
    when: r.when,
    effect: 'stops the install',
    source: r.source,
    check(s) {
      const { memoryGib, memoryTotalGib } = s.facts;
      const byTotal = memoryTotalGib !== undefined && (r.totalOnly || memoryGib === undefined);
      const have = byTotal ? memoryTotalGib : memoryGib;
      const min = byTotal ? r.total : r.installed;
      if (have === undefined || have >= min || installView(s).skipchecks) return undefined;
      const what = byTotal ? `the kernel counts ${have} GiB of memory (MemTotal)` : `${have} GiB of memory`;
      return {
        message: `${what}, ${min - have} GiB short of the ${min} GiB the Harvester ${s.version.raw} installer's preflight check MemoryCheck asks (64 GiB for production use, 32 for testing; either message stops the install of node ${s.node.hostname})`,
        hint: `Give the machine more memory (the installer's production minimums: 16 CPUs, 64 GiB, 10 Gbps), ${skip}.`,
        at: s.factAt(byTotal ? 'memoryTotalGib' : 'memoryGib'),
      };
    },
  };
}

/** How far below the minimum a fact is, in its unit. */
function shortBy(fact: 'cpus' | 'nicSpeedMbps', by: number): string {
  return fact === 'cpus' ? `${by} CPU thread${by === 1 ? '' : 's'}` : `${by} Mbps`;
}

/** The preflight rules, in the order the installer meets them. */
export const PREFLIGHT_RULES: readonly InstallerRule[] = [
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
        at: s.firmwareAt ?? ['boot', 'firmware'],
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
  {
    id: 'preflight-bios',
    code: 'INSTALLER_PREFLIGHT_FAILS',
    releases: '>=1.8.0',
    when: 'the machine measured legacy BIOS (`facts/<hostname>.yaml`) where the site boots UEFI (a site of `boot.firmware: bios` is refused as a whole: `HARVESTER_BIOS_UNSUPPORTED`)',
    effect: 'stops the install before anything else, whatever skipchecks says',
    source:
      'pkg/console/install_panels.go addInstallPanel (biosCheck.Run first, no skipchecks test) @v1.8.0, same to v1.8.1; pkg/installer/console/install_panels.go @harvester/harvester v1.9.0-rc6',
    check(s) {
      if (s.firmware !== 'bios' || s.firmwareAt === undefined || s.declaredFirmware === 'bios') return undefined;
      return {
        message: `node ${s.node.hostname}'s machine boots legacy BIOS: the Harvester ${s.version.raw} installer stops its install first thing ("Legacy BIOS systems are no longer supported. Please reconfigure the system to use UEFI prior to installation."), whatever skipchecks says`,
        hint: "Switch the machine's firmware to UEFI and measure it again (`harvgen facts`), or install v1.7.x with `boot.skipchecks: true`.",
        at: s.firmwareAt,
      };
    },
  },
  memoryRule({
    id: 'preflight-memory',
    releases: '>=1.3.1',
    source:
      'pkg/preflight/checks.go MemoryCheck.Run (dmidecode -t 19 ranges summed, floored, no tolerance; none reported: MemTotal against 90%) @v1.3.1',
    when: "less than 64 GiB of memory (`hardware.memory_gib`, lab `memory_mib`; measured: dmidecode type 19, or the kernel's MemTotal under 58 GiB when dmidecode reports no range)",
    installed: 64,
    // wiggleRoom 0.9: floor(MemTotal) < 57.6.
    total: 58,
  }),
  memoryRule({
    id: 'preflight-memory-v1.3.0',
    releases: '=1.3.0',
    source: 'pkg/preflight/checks.go MemoryCheck.Run (/proc/meminfo MemTotal floored to GiB against 95% of 64) @v1.3.0 (harvester#5599)',
    when: "less than about 63 GiB of memory (the kernel's MemTotal, floored, under 61 GiB: measured exactly by a dump)",
    // Declared memory is installed memory; the kernel keeps a few percent of it: about 63 installed.
    installed: 63,
    // floor(MemTotal) < 60.8.
    total: 61,
    totalOnly: true,
  }),
  preflight(
    'preflight-nic-speed',
    'nicSpeedMbps',
    10000,
    '>=1.3.0',
    (n, s) =>
      s.nicSpeedUntied
        ? `none of the machine's NICs that are up reaches 10 Gbps (the fastest links at ${n} Mbps), so neither does the NIC the management interface names by kernel name; Harvester requires 10 Gbps for production use (1 Gbps for testing)`
        : `a NIC of the management interface links at ${n} Mbps (the installer checks every NIC it lists); Harvester requires 10 Gbps for production use (1 Gbps for testing)`,
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
];
