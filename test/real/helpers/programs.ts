/**
 * Which real programs exist. With HARVGEN_REQUIRE_REAL=1 (CI) a missing program is a failure;
 * otherwise the test that needs it is skipped with a loud message.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Debian package that provides each program or file the suite uses (for the skip message). */
export const DEBIAN_PACKAGE: Readonly<Record<string, string>> = {
  nginx: 'nginx',
  chromium: 'chromium',
  pgrep: 'procps',
  zsh: 'zsh',
  man: 'man-db',
  '/usr/bin/python3': 'python3',
  'virt-qemu-run': 'libvirt-daemon-driver-qemu',
  'qemu-system-aarch64': 'qemu-system-arm',
  'qemu-img': 'qemu-utils',
  '/usr/share/AAVMF/AAVMF_CODE.fd': 'qemu-efi-aarch64',
  dnsmasq: 'dnsmasq-base',
  'virt-xml-validate': 'libvirt-clients',
  virsh: 'libvirt-clients',
  xmllint: 'libxml2-utils',
  'systemd-analyze': 'systemd',
  socat: 'socat',
  'qemu-system-x86_64': 'qemu-system-x86',
  busybox: 'busybox-static',
  '/bin/busybox': 'busybox-static',
  cpio: 'cpio',
  curl: 'curl',
  'docker-registry': 'docker-registry',
  skopeo: 'skopeo',
  htpasswd: 'apache2-utils',
  'ssh-keygen': 'openssh-client',
  ip: 'iproute2',
  unshare: 'util-linux',
  flock: 'util-linux',
  nmcli: 'network-manager',
  'apt-get': 'apt',
  'dpkg-deb': 'dpkg',
  '/usr/lib/ipxe/undionly.kpxe': 'ipxe',
  '/usr/lib/ipxe/ipxe.efi': 'ipxe',
  '/usr/lib/ipxe/qemu/pxe-virtio.rom': 'ipxe-qemu',
  '/usr/lib/ipxe/qemu/efi-virtio.rom': 'ipxe-qemu',
  '/usr/share/OVMF/OVMF_CODE_4M.fd': 'ovmf',
  '/usr/lib/NetworkManager/nm-initrd-generator': 'network-manager',
  '/usr/share/OVMF/OVMF_VARS_4M.fd': 'ovmf',
  '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd': 'ovmf',
  '/usr/share/OVMF/OVMF_VARS_4M.ms.fd': 'ovmf',
  ss: 'iproute2',
  '/usr/lib/ipxe/snponly.efi': 'ipxe',
  '/usr/lib/ipxe/ipxe.lkrn': 'ipxe',
  'grub-mkstandalone': 'grub-efi-amd64-bin',
  'grub-mkimage': 'grub-common',
  xorriso: 'xorriso',
  isoinfo: 'genisoimage',
  sgdisk: 'gdisk',
  sfdisk: 'fdisk',
  fdisk: 'fdisk',
  'fsck.fat': 'dosfstools',
  mdir: 'mtools',
  mtype: 'mtools',
  '/usr/lib/ISOLINUX/isolinux.bin': 'isolinux',
  '/usr/lib/syslinux/modules/bios/ldlinux.c32': 'syslinux-common',
  '/usr/lib/grub/x86_64-efi/echo.mod': 'grub-efi-amd64-bin',
  'mkfs.vfat': 'dosfstools',
  mmd: 'mtools',
  mcopy: 'mtools',
  tgtd: 'tgt',
  tgtadm: 'tgt',
  git: 'git',
  rsync: 'rsync',
  'kea-dhcp4': 'kea-dhcp4-server',
  'kea-dhcp6': 'kea-dhcp6-server',
  dhcpd: 'isc-dhcp-server',
  shellcheck: 'shellcheck',
  dash: 'dash',
  jq: 'jq',
  openssl: 'openssl',
  ipmitool: 'ipmitool',
  ipmi_sim: 'openipmi',
  '/usr/lib/python3/dist-packages/sushy/__init__.py': 'python3-sushy',
  ldd: 'libc-bin',
  '/usr/bin/udevadm': 'udev',
  '/lib/udev/scsi_id': 'udev',
  '/lib/udev/ata_id': 'udev',
  '/lib/udev/rules.d/60-persistent-storage.rules': 'udev',
};

/** True when HARVGEN_REQUIRE_REAL=1: a missing program fails instead of skipping. */
export function realRequired(): boolean {
  return process.env.HARVGEN_REQUIRE_REAL === '1';
}

const SEARCH = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of an executable (a name on PATH or the sbin dirs, or an absolute path), or undefined. */
export function findProgram(name: string): string | undefined {
  const candidates = name.includes('/') ? [name] : SEARCH.filter(Boolean).map((d) => path.join(d, name));
  for (const c of candidates) {
    try {
      // Absolute names are data files (firmware, ROMs): readable is enough.
      accessSync(c, name.startsWith('/') ? constants.R_OK : constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Skips so far; repeated in one banner at exit, because uvu counts a skipped test as passed. */
const skipped: string[] = [];
process.on('exit', () => {
  if (skipped.length === 0) return;
  const bar = '!'.repeat(78);
  console.warn(
    `\n${bar}\n${skipped.length} real-program check(s) SKIPPED, NOT RUN:\n  ${[...new Set(skipped)].join('\n  ')}\nSet HARVGEN_REQUIRE_REAL=1 to make this a failure (CI does).\n${bar}`,
  );
});

/** Thrown (and only thrown) when a required program is missing under HARVGEN_REQUIRE_REAL=1. */
export class MissingProgramError extends Error {}

/**
 * Check that every named program (or absolute file) exists.
 * Returns true when all are present. When one is missing: throws under HARVGEN_REQUIRE_REAL=1,
 * else prints `SKIPPED (program missing): ...` and returns false (the caller returns early).
 */
export function requireProgram(what: string, ...more: string[]): boolean {
  const missing = [what, ...more].filter((n) => !findProgram(n));
  if (missing.length === 0) return true;
  const pkgs = [...new Set(missing.map((m) => DEBIAN_PACKAGE[m] ?? '?'))].join(' ');
  const msg = `${missing.join(', ')} (Debian: apt-get install ${pkgs}; or run .ci/install-real-deps.sh)`;
  if (realRequired()) throw new MissingProgramError(`program missing: ${msg} — HARVGEN_REQUIRE_REAL=1 makes this a failure`);
  const bar = '!'.repeat(78);
  console.warn(`\n${bar}\nSKIPPED (program missing): ${msg}\n${bar}`);
  skipped.push(`program missing: ${msg}`);
  return false;
}

/**
 * Like requireProgram for files a script fetches (`missing` names them and the script): true when
 * `missing` is empty; else throws under HARVGEN_REQUIRE_REAL=1, or prints `SKIP: ...`, counts the
 * skip and returns false.
 */
export function requireFetched(missing: readonly string[], msg: string): boolean {
  if (missing.length === 0) return true;
  if (realRequired()) throw new Error(msg);
  console.warn(`\n  SKIP: ${msg}\n`);
  skipped.push(`fetched files missing: ${msg}`);
  return false;
}

/** True when running as root (network namespaces and taps need it). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Like requireProgram for "we must be root": namespaces, taps and a daemon on port 80 need it.
 */
export function requireRoot(): boolean {
  if (isRoot()) return true;
  const msg = 'root (network namespaces, tap devices and port 80 need it)';
  if (realRequired()) throw new MissingProgramError(`missing: ${msg} — HARVGEN_REQUIRE_REAL=1 makes this a failure`);
  console.warn(`\n${'!'.repeat(78)}\nSKIPPED (privilege missing): ${msg}\n${'!'.repeat(78)}`);
  skipped.push(`privilege missing: ${msg}`);
  return false;
}
