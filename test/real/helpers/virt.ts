/**
 * Machines driven by real BMC emulators (test/real/bmc-emulators.test.ts): a libvirtd of the test's
 * own, libvirt domains booted by OVMF or SeaBIOS on the boot lab's tap, and a BMC network where
 * OpenStack's emulators listen as the machines' BMCs (sushy-tools for Redfish, virtualbmc for IPMI;
 * test/real/helpers/sushy-emulator.ts, vbmc.ts).
 *
 * libvirtd runs in the lab's network namespace (so it opens the lab's tap, `managed='no'`) and in
 * a mount namespace of its own whose /run, /var/lib/libvirt, /var/log/libvirt and /etc/libvirt are
 * empty tmpfs: it touches no libvirt state of the machine and meets no other libvirtd. Its socket
 * is in the test's temp dir; its QEMU capabilities cache is kept under .tmp/real/libvirt-cache, so
 * only the first daemon of a machine probes QEMU (about 12 s; then about 0.3 s). QEMU runs as root
 * with no security driver (`qemu.conf`), and stdio goes to files, not to virtlogd: libvirt's
 * re-probe of QEMU on every define (when the `libvirt-qemu` user cannot open /dev/kvm) never
 * happens, and no virtlogd is needed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.ts';
import { REPO_ROOT } from './initramfs.ts';
import { createNetns, type Netns } from './netns.ts';
import { describe, run, startDaemon, waitFor, type Daemon } from './proc.ts';
import { OVMF_CODE, OVMF_VARS } from './qemu.ts';

/** The venv of scripts/install-bmc-emulators.sh (sushy-tools and virtualbmc over Debian's python3-libvirt). */
export const BMC_VENV = process.env.HARVGEN_BMC_VENV ?? path.join(REPO_ROOT, '.tmp/real/bmc-venv');
/** Where libvirtd keeps its QEMU capabilities between runs. */
const CAPS_CACHE = path.join(REPO_ROOT, '.tmp/real/libvirt-cache');

/** A running libvirtd. */
export interface Libvirt {
  /** The URI clients use (`qemu+unix:///system?socket=...`). */
  uri: string;
  dir: string;
  daemon: Daemon;
  /** Run virsh against it; throws with its output when it fails. */
  virsh(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

/** One daemon starts at a time in this process: the first probes QEMU and writes the shared capabilities cache. */
let starting: Promise<unknown> = Promise.resolve();

/** Start libvirtd in `ns`, with a storage pool `default` (sushy-tools' virtual media uploads there). */
export function startLibvirt(ns: Netns): Promise<Libvirt> {
  const started = starting.then(() => startOneLibvirt(ns));
  starting = started.catch(() => undefined);
  return started;
}

async function startOneLibvirt(ns: Netns): Promise<Libvirt> {
  const dir = tempDir('libvirt');
  const sock = path.join(dir, 'sock');
  const pool = path.join(dir, 'pool');
  mkdirSync(sock);
  mkdirSync(pool);
  mkdirSync(CAPS_CACHE, { recursive: true });
  writeFileSync(
    path.join(dir, 'libvirtd.conf'),
    [
      `unix_sock_dir = "${sock}"`,
      'unix_sock_rw_perms = "0700"',
      'auth_unix_rw = "none"',
      'auth_unix_ro = "none"',
      `log_outputs = "3:file:${path.join(dir, 'libvirtd.log')}"`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(dir, 'qemu.conf'),
    ['user = "root"', 'group = "root"', 'dynamic_ownership = 0', 'security_driver = "none"', 'stdio_handler = "file"', ''].join('\n'),
  );
  const setup = [
    'set -e',
    'for d in /run /var/lib/libvirt /var/log/libvirt /etc/libvirt; do mkdir -p "$d"; mount -t tmpfs tmpfs "$d"; done',
    'mkdir -p /run/libvirt /var/cache/libvirt',
    `mount --bind '${CAPS_CACHE}' /var/cache/libvirt`,
    `cp '${path.join(dir, 'qemu.conf')}' /etc/libvirt/qemu.conf`,
    `exec /usr/sbin/libvirtd --config '${path.join(dir, 'libvirtd.conf')}'`,
  ].join('\n');
  const daemon = startDaemon('libvirtd', ns.exec(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', setup]));
  const uri = `qemu+unix:///system?socket=${path.join(sock, 'libvirt-sock')}`;
  const virsh = async (args: readonly string[]): Promise<string> => {
    const r = await run(['virsh', '-q', '-c', uri, ...args], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`virsh ${args.join(' ')} failed:\n${describe(r)}\nlibvirtd:\n${daemon.output().slice(-2000)}`);
    return r.stdout;
  };
  const up = await waitFor(
    async () => daemon.exited() || (await run(['virsh', '-q', '-c', uri, 'version'], { timeoutMs: 10_000 })).code === 0,
    90_000,
    200,
  );
  if (!up || daemon.exited()) {
    await daemon.stop();
    throw new Error(`libvirtd did not start:\n$ ${daemon.cmd}\n${daemon.output()}`);
  }
  await virsh(['pool-define-as', 'default', 'dir', '--target', pool]);
  await virsh(['pool-start', 'default']);
  return {
    uri,
    dir,
    daemon,
    virsh,
    async stop() {
      // Every domain off first (QEMU is libvirtd's child), then the daemon.
      const names = (await run(['virsh', '-q', '-c', uri, 'list', '--name'], { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
      for (const n of names) await run(['virsh', '-q', '-c', uri, 'destroy', n], { timeoutMs: 30_000 });
      await daemon.stop(5000);
    },
  };
}

/** What a test machine is. */
export interface DomainOptions {
  name: string;
  firmware: 'uefi' | 'bios';
  mac: string;
  /** The lab's tap (libvirt opens it, `managed='no'`). */
  tap: string;
  /** Where the serial console goes. */
  serial: string;
  dir: string;
  /** A raw disk image (copied: the domain writes its copy); default: an empty 64 MiB disk. */
  disk?: string;
  uuid?: string;
}

/** Escape text for an XML attribute or element. */
const xml = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The domain XML of a test machine: 512 MiB, one CPU, TCG (`type='qemu'`), q35 with OVMF (its own
 * variable store) or pc with SeaBIOS, a virtio disk, a virtio NIC on the lab's tap in no boot
 * order, the serial console to a file, and the disk as its boot device (`os/boot dev='hd'`, as an
 * installed server's). The BMC changes the boot order itself; a virtual CD is the BMC's to add.
 * The NIC has no option ROM on UEFI (OVMF drives it with its own driver, as in the other boot
 * tests) and Debian's iPXE ROM on BIOS (SeaBIOS network-boots through it).
 */
export function domainXml(o: DomainOptions & { uuid: string; diskFile: string; vars: string }): string {
  const uefi = o.firmware === 'uefi';
  return `<domain type='qemu'>
  <name>${xml(o.name)}</name>
  <uuid>${xml(o.uuid)}</uuid>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='${uefi ? 'q35' : 'pc'}'>hvm</type>
${uefi ? `    <loader readonly='yes' type='pflash'>${xml(OVMF_CODE)}</loader>\n    <nvram template='${xml(OVMF_VARS)}'>${xml(o.vars)}</nvram>\n` : ''}    <boot dev='hd'/>
  </os>
  <features><acpi/></features>
  <on_reboot>restart</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='${xml(o.diskFile)}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='ethernet'>
      <mac address='${xml(o.mac)}'/>
      <target dev='${xml(o.tap)}' managed='no'/>
      <model type='virtio'/>
${uefi ? "      <rom enabled='no'/>\n" : ''}    </interface>
    <serial type='file'>
      <source path='${xml(o.serial)}' append='on'/>
      <target port='0'/>
    </serial>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
  </devices>
</domain>
`;
}

/** A defined (not started) test machine. */
export interface Domain {
  name: string;
  uuid: string;
  serial: string;
  /** The domain's XML now (after a BMC changed it). */
  dumpxml(): Promise<string>;
  state(): Promise<string>;
}

/** Define a test machine in `lv`. */
export async function defineDomain(lv: Libvirt, o: DomainOptions): Promise<Domain> {
  const uuid = o.uuid ?? randomUUID();
  const diskFile = path.join(o.dir, `${o.name}-disk.img`);
  if (o.disk) {
    const c = await run(['cp', '--sparse=always', o.disk, diskFile]);
    if (c.code !== 0) throw new Error(describe(c));
  } else {
    const t = await run(['truncate', '-s', '64M', diskFile]);
    if (t.code !== 0) throw new Error(describe(t));
  }
  const file = path.join(o.dir, `${o.name}.xml`);
  writeFileSync(file, domainXml({ ...o, uuid, diskFile, vars: path.join(o.dir, `${o.name}-VARS.fd`) }));
  await lv.virsh(['define', file]);
  return {
    name: o.name,
    uuid,
    serial: o.serial,
    dumpxml: () => lv.virsh(['dumpxml', '--inactive', o.name]),
    state: async () => (await lv.virsh(['domstate', o.name])).trim(),
  };
}

/** The BMC network: a namespace of its own, one veth into the lab, and the BMC's address. */
export interface BmcNet {
  ns: Netns;
  address: string;
  delete(): Promise<void>;
}

/**
 * A namespace where a BMC listens at `address`, joined to the lab by a veth: the lab reaches
 * `address` over it, and the BMC reaches everything through the lab (its default route), with
 * `address` as its source, as a BMC on its management network does. So nginx sees the BMC's
 * download of an ISO from the BMC's own address; `source` makes it fetch from another one (a
 * BMC behind NAT, or with a separate management interface).
 */
export async function bmcNetwork(lab: Netns, address: string, source: string = address): Promise<BmcNet> {
  const ns = await createNetns('bmc');
  const hop = '10.254.0.1';
  try {
    await lab.sh(['ip', 'link', 'add', 'hgbmc0', 'type', 'veth', 'peer', 'name', 'hgbmc1', 'netns', ns.name]);
    await lab.sh(['ip', 'addr', 'add', `${hop}/32`, 'dev', 'hgbmc0']);
    await lab.sh(['ip', 'link', 'set', 'hgbmc0', 'up']);
    await lab.sh(['ip', 'route', 'add', `${address}/32`, 'dev', 'hgbmc0', 'src', hop]);
    if (source !== address) {
      await ns.sh(['ip', 'addr', 'add', `${source}/32`, 'dev', 'lo']);
      await lab.sh(['ip', 'route', 'add', `${source}/32`, 'dev', 'hgbmc0', 'src', hop]);
    }
    await ns.sh(['ip', 'addr', 'add', `${address}/32`, 'dev', 'hgbmc1']);
    await ns.sh(['ip', 'link', 'set', 'hgbmc1', 'up']);
    await ns.sh(['ip', 'route', 'add', `${hop}/32`, 'dev', 'hgbmc1', 'src', address]);
    await ns.sh(['ip', 'route', 'add', 'default', 'via', hop, 'src', source]);
    // Answers to the lab's requests leave from the address they came to (the route to the lab
    // itself keeps `address`): only what the BMC starts uses `source`.
  } catch (err) {
    await ns.delete();
    throw err;
  }
  return { ns, address, delete: () => ns.delete() };
}
