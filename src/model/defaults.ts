// Built-in defaults, in one frozen object. Precedence (ARCHITECTURE.md): node value >
// `defaults:` value > these built-ins. Maps (install, lab, bond, config) merge key by key.

/** Defaults harvgen applies when the inventory says nothing. */
export const BUILTIN_DEFAULTS = Object.freeze({
  boot: Object.freeze({
    firmware: 'uefi',
    // snponly.efi leaves the NIC to the firmware, so `exit` (local disks, unknown machines) hands
    // control back to it (BOOT_EXIT_MAY_HANG warns about ipxe.efi).
    uefiLoader: 'snponly.efi',
    arm64Loader: 'ipxe-arm64.efi',
    console: Object.freeze(['tty1']),
    skipchecks: false,
    report: true,
    retries: 3,
    retryDelay: 5,
    // What an unknown machine (and a keyed site's stub) waits before leaving network boot.
    unknownWait: 60,
    unknown: 'wait',
    // Harvester's EFI system partition (Elemental's layout) and the boot loader on it.
    installedMarker: Object.freeze({ volume: 'COS_GRUB', file: '/EFI/BOOT/bootx64.efi' }),
  }),
  cluster: Object.freeze({ vipMode: 'static' }),
  node: Object.freeze({
    harvesterRole: 'default',
    method: 'dhcp',
    state: 'install',
    medium: 'network',
    mediumImage: 'shared',
    bond: Object.freeze({ mode: 'active-backup', miimon: 100 }),
    lab: Object.freeze({ memoryMib: 16384, vcpus: 8, diskGib: 250, dataDiskGib: 100, nicModel: 'virtio' as const }),
  }),
  lab: Object.freeze({ diskDir: '/var/lib/libvirt/images', tftpRoot: '/var/lib/tftpboot', hostArch: 'x86_64' }),
  nginx: Object.freeze({ rootBase: '/srv/harvgen', accessLogDir: '/var/log/nginx', access: 'nodes' as const }),
  dnsmasq: Object.freeze({
    tftpRoot: '/var/lib/tftpboot',
    leaseTime: '12h',
    dns: true,
    hostsDir: '/etc/harvgen/dhcp-hosts',
    mode: 'server' as const,
  }),
  dhcp: Object.freeze({ server: 'dnsmasq' as const }),
  forward: Object.freeze({ ports: Object.freeze([443, 6443]) }),
} as const);
