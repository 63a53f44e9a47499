// The installer's preflight checks (pkg/preflight, from v1.3.0): the firmware, CPUs, memory, NIC
// speed, a virtualized machine and /dev/kvm. Each stops the install unless skipchecks lifts it.
import { installView, skip, type InstallerRule } from './subject.ts';

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
];
