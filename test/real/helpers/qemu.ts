/**
 * One QEMU boot (TCG; KVM does not work on these machines) with a NIC on a tap inside the test's
 * network namespace, a serial console logged to a file and a hard wall-clock limit.
 */
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { startDaemon, sleep } from './proc.ts';
import type { Netns } from './netns.ts';

/** OVMF firmware images (Debian package ovmf). */
export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
/** OVMF built with Secure Boot (SMM) and a variable store with Microsoft's keys enrolled and Secure Boot on. */
export const OVMF_CODE_SECBOOT = '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd';
export const OVMF_VARS_MS = '/usr/share/OVMF/OVMF_VARS_4M.ms.fd';

/** Options of one boot. */
export interface BootOptions {
  firmware: 'bios' | 'uefi';
  mac: string;
  ns: Netns;
  tap: string;
  /** Directory for the serial log and the OVMF variable store. */
  workDir: string;
  /** Hard limit; QEMU is killed by PID when it expires. */
  timeoutMs: number;
  /** Called with the serial log so far; returning a reason stops the VM early. */
  stopWhen?: (serial: string) => string | undefined;
  /**
   * A raw disk image attached as virtio-blk after the NIC in the boot order (`bootindex=2`), with
   * `snapshot=on` so the image is never written. Without it the VM has no disk.
   */
  disk?: string;
  /** Add `isa-debug-exit` at port 0xf4 (a guest writing v there makes QEMU exit with (v << 1) | 1). */
  debugExit?: boolean;
  /**
   * UEFI only: the OVMF fw_cfg knobs (`opt/org.tianocore/<name>`), replacing the default
   * `{ IPv6PXESupport: 'n' }`, e.g. `{ IPv6Support: 'n', IPv4PXESupport: 'n' }`.
   */
  ovmf?: Record<string, string>;
  /**
   * BIOS only: QEMU loads this kernel itself (`-kernel`, `-initrd`, `-append`), e.g. Debian's
   * `ipxe.lkrn` with an embedded-script stand-in as the initrd. The NIC then gets no option ROM.
   */
  directKernel?: { kernel: string; initrd?: string; append?: string };
  /** UEFI only: Secure Boot on (OVMF's secboot build, SMM, Microsoft's keys enrolled). */
  secureBoot?: boolean;
  /**
   * An ISO image in a CD drive that boots first (`bootindex=0`), as a BMC's virtual CD; the NIC
   * then has no option ROM and, on UEFI, is in no boot order: OVMF connects only the devices
   * QEMU's boot order names (ConnectDevicesFromQemu), so the firmware has connected the CD alone,
   * as after a BMC's one-time boot from its virtual CD, and whatever boots drives the NIC itself.
   * `nicInBootOrder` puts the NIC after the CD (the firmware then connects it too).
   */
  cdrom?: string;
  /**
   * A raw disk image as a USB stick (usb-storage on an xHCI controller, read-only) that boots
   * first (`bootindex=0`), as a BMC's virtual USB stick or a stick in a port; the NIC as with `cdrom`.
   */
  usbDisk?: string;
  nicInBootOrder?: boolean;
  /** The NIC's `-device` value in place of the default (a virtio-net NIC), e.g. an e1000 with its UEFI ROM. */
  nic?: string;
}

/** What happened. */
export interface BootResult {
  serial: string;
  serialPath: string;
  /** QEMU's exit code (0 after the guest powered off) or null when it was killed. */
  exitCode: number | null;
  timedOut: boolean;
  /** Set when stopWhen stopped the VM. */
  stoppedBecause?: string;
  ms: number;
  qemuOutput: string;
  cmd: string;
}

/** The start of every test VM's argv: TCG, 512 MiB, one CPU, no devices, the serial console to `serialPath`. */
export function qemuBase(serialPath: string): string[] {
  return [
    'qemu-system-x86_64',
    '-accel',
    'tcg',
    '-m',
    '512',
    '-smp',
    '1',
    '-nodefaults',
    '-display',
    'none',
    '-monitor',
    'none',
    '-serial',
    `file:${serialPath}`,
    '-no-reboot', // a reboot (or triple fault) ends the run instead of looping
  ];
}

/** argv of the VM (exported for the failure report and the docs). */
export function qemuArgv(o: BootOptions, serialPath: string, varsPath: string): string[] {
  const common = [...qemuBase(serialPath), '-netdev', `tap,id=n0,ifname=${o.tap},script=no,downscript=no`];
  const extra = [
    ...(o.disk
      ? [
          '-drive',
          `if=none,id=d0,format=raw,file=${o.disk},snapshot=on`,
          // After the NIC: the network decides first (as in a real network-boot setup).
          '-device',
          'virtio-blk-pci,drive=d0,bootindex=2',
        ]
      : []),
    ...(o.debugExit ? ['-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'] : []),
    ...(o.cdrom
      ? ['-drive', `if=none,id=cd0,media=cdrom,format=raw,readonly=on,file=${o.cdrom}`, '-device', 'ide-cd,drive=cd0,bus=ide.1,bootindex=0']
      : []),
    ...(o.usbDisk
      ? [
          '-device',
          'qemu-xhci,id=xhci',
          '-drive',
          `if=none,id=usb0,format=raw,readonly=on,file=${o.usbDisk}`,
          '-device',
          'usb-storage,bus=xhci.0,drive=usb0,bootindex=0',
        ]
      : []),
  ];
  // Booting from the CD: the NIC has no option ROM, and is in the boot order only when asked.
  const nic =
    o.nic ?? (o.cdrom || o.usbDisk ? `virtio-net-pci,netdev=n0,mac=${o.mac},romfile=${o.nicInBootOrder ? ',bootindex=1' : ''}` : undefined);
  if (o.firmware === 'bios') {
    if (o.directKernel) {
      const k = o.directKernel;
      return [
        ...common,
        '-machine',
        'pc,graphics=off',
        '-kernel',
        k.kernel,
        ...(k.initrd ? ['-initrd', k.initrd] : []),
        ...(k.append !== undefined ? ['-append', k.append] : []),
        // romfile= (empty): no option ROM; the loaded kernel (iPXE) drives the NIC itself.
        '-device',
        `virtio-net-pci,netdev=n0,mac=${o.mac},romfile=`,
        ...extra,
      ];
    }
    return [
      ...common,
      // graphics=off turns on SeaBIOS's serial console, so iPXE's output lands in the serial log.
      '-machine',
      'pc,graphics=off',
      // The NIC's option ROM is Debian's iPXE (ipxe-qemu): it DHCPs with user-class iPXE and
      // gets boot.ipxe directly from the generated dhcp-boot line.
      '-device',
      nic ?? `virtio-net-pci,netdev=n0,mac=${o.mac},bootindex=1`,
      ...extra,
    ];
  }
  if (o.directKernel) throw new Error('bootVm: directKernel is for BIOS boots only');
  // Default: skip the IPv6 PXE attempt (nothing answers it; it only costs time).
  const knobs = Object.entries(o.ovmf ?? { IPv6PXESupport: 'n' }).flatMap(([k, v]) => [
    '-fw_cfg',
    `name=opt/org.tianocore/${k},string=${v}`,
  ]);
  return [
    ...common,
    '-machine',
    o.secureBoot ? 'q35,smm=on' : 'q35',
    // Secure Boot: only SMM code may write the variable store (what makes the keys trustworthy).
    ...(o.secureBoot ? ['-global', 'driver=cfi.pflash01,property=secure,value=on', '-global', 'ICH9-LPC.disable_s3=1'] : []),
    '-drive',
    `if=pflash,format=raw,unit=0,readonly=on,file=${o.secureBoot ? OVMF_CODE_SECBOOT : OVMF_CODE}`,
    '-drive',
    `if=pflash,format=raw,unit=1,file=${varsPath}`,
    ...knobs,
    // romfile= (empty): no iPXE option ROM, so OVMF's own VirtioNetDxe + PXE run, get
    // ipxe.efi over TFTP from the generated dnsmasq config, and that iPXE then chains boot.ipxe.
    '-device',
    nic ?? `virtio-net-pci,netdev=n0,mac=${o.mac},bootindex=1,romfile=`,
    ...extra,
  ];
}

/** Boot once; resolves when QEMU exits, stopWhen fires, or the time limit is hit (never rejects on guest failure). */
export async function bootVm(o: BootOptions): Promise<BootResult> {
  const serialPath = path.join(o.workDir, `serial-${o.mac.replace(/:/g, '')}.log`);
  const varsPath = path.join(o.workDir, `ovmf-vars-${o.mac.replace(/:/g, '')}.fd`);
  if (o.firmware === 'uefi') await copyFile(o.secureBoot ? OVMF_VARS_MS : OVMF_VARS, varsPath);
  const argv = o.ns.exec(qemuArgv(o, serialPath, varsPath));
  const started = Date.now();
  const vm = startDaemon(`qemu ${o.mac}`, argv);
  let timedOut = false;
  let stoppedBecause: string | undefined;
  let serial = '';
  try {
    for (;;) {
      if (vm.exited()) break;
      if (Date.now() - started > o.timeoutMs) {
        timedOut = true;
        break;
      }
      await sleep(250);
      serial = await readFile(serialPath, 'latin1').catch(() => serial);
      stoppedBecause = o.stopWhen?.(serial);
      if (stoppedBecause) break;
    }
  } finally {
    await vm.stop(1000);
  }
  serial = await readFile(serialPath, 'latin1').catch(() => serial);
  return {
    serial,
    serialPath,
    exitCode: vm.exitCode(),
    timedOut,
    stoppedBecause,
    ms: Date.now() - started,
    qemuOutput: vm.output(),
    cmd: vm.cmd,
  };
}

/** Serial log made readable: ANSI escapes and carriage returns removed, backspace runs collapsed. */
export function cleanSerial(serial: string): string {
  return serial
    .replace(/\x1b\[[0-9;?=]*[A-Za-z]/g, '')
    .replace(/\x1b[c()][0-9A-Za-z]?/g, '')
    .replace(/(?:\x08 \x08)+/g, '')
    .replace(/\r/g, '');
}

/** A bounded semaphore: at most `n` boots at once (2 cores; each TCG guest keeps one busy). */
export function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

/**
 * The boots of a test file, started on first use (after `prep`: the test kernel, initramfs and
 * trees) two at a time (`limiter(2)`: one per core), each test awaiting its own outcome. A boot
 * whose id is not in `cases` (not selected, or its programs missing) is an error when asked for.
 */
export function lazyBoots<C extends { readonly id: string }, P, O>(
  cases: readonly C[],
  prep: () => Promise<P>,
  run: (c: C, prepared: P) => Promise<O>,
): (id: string) => Promise<O> {
  const slot = limiter(2);
  let started: Map<string, Promise<O>> | undefined;
  return (id) => {
    if (!started) {
      const ready = prep();
      started = new Map(
        cases.map((c) => {
          const p = ready.then((prepared) => slot(() => run(c, prepared)));
          p.catch(() => undefined); // reported by the case's own test
          return [c.id, p] as const;
        }),
      );
    }
    const o = started.get(id);
    if (!o) throw new Error(`${id}: not started (not selected, or its programs are missing)`);
    return o;
  };
}
