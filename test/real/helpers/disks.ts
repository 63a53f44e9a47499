/**
 * Disk images for the boot lifecycle test (test/real/lifecycle.test.ts): an empty disk (a machine
 * with nothing installed) and "installed system" stand-ins that print HARVGEN-DISK-BOOTED on the
 * serial console when the firmware boots them, then stop the VM.
 *
 *   BIOS: a 1 MiB raw image whose first sector is a hand-assembled real-mode boot sector. It
 *         writes the marker to COM1 (0x3f8) on a line of its own, then `out 0xf4, al`: with QEMU's
 *         `-device isa-debug-exit,iobase=0xf4,iosize=0x04` QEMU exits with code 1.
 *   UEFI: an MBR disk with one EFI system partition (type 0xEF) holding a FAT volume labelled
 *         COS_GRUB (the label Harvester's installed ESP carries) with EFI/BOOT/BOOTX64.EFI, a
 *         standalone GRUB whose embedded grub.cfg echoes the marker and halts (QEMU exits 0).
 *
 * Each image is built once per process in a temp dir; QEMU attaches them with snapshot=on, so a
 * boot never changes them.
 */
import { createHash } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { run, describe } from './proc.ts';
import { findProgram } from './programs.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** What an installed-system stand-in prints on the serial console when it boots. */
export const DISK_MARKER = 'HARVGEN-DISK-BOOTED';
/** The FAT label `imgfetch file://COS_GRUB/...` looks for (Harvester's installed ESP). */
export const ESP_LABEL = 'COS_GRUB';

const SECTOR = 512;
const MIB = 1024 * 1024;

/** Programs the UEFI disk needs (Debian: grub-efi-amd64-bin, dosfstools, mtools). */
export const UEFI_DISK_PROGRAMS = ['grub-mkstandalone', 'mkfs.vfat', 'mmd', 'mcopy', '/usr/lib/grub/x86_64-efi/echo.mod'] as const;

/**
 * The BIOS boot sector: real-mode code assembled at 0x7c00 (jump offsets and the message
 * address computed here, not written by hand), the message right after the code, 55 AA at 510.
 */
export function biosBootSector(message = `\r\n${DISK_MARKER}\r\n`): Buffer {
  const ORG = 0x7c00;
  type Item = number | { rel8: string } | { abs16: string } | { label: string };
  // One instruction per row.
  const code: Item[] = [
    [0xfa], // cli
    [0xfc], // cld (lodsb counts up)
    [0x31, 0xc0], // xor ax, ax
    [0x8e, 0xd8], // mov ds, ax
    [0xbe, { abs16: 'msg' }], // mov si, msg
    [{ label: 'loop' }],
    [0xac], // lodsb
    [0x84, 0xc0], // test al, al
    [0x74, { rel8: 'done' }], // jz done
    [0x88, 0xc4], // mov ah, al
    [0xba, 0xfd, 0x03], // mov dx, 0x3fd (COM1 line status)
    [{ label: 'wait' }],
    [0xec], // in al, dx
    [0xa8, 0x20], // test al, 0x20 (transmit holding register empty)
    [0x74, { rel8: 'wait' }], // jz wait
    [0x88, 0xe0], // mov al, ah
    [0xba, 0xf8, 0x03], // mov dx, 0x3f8 (COM1 data port)
    [0xee], // out dx, al
    [0xeb, { rel8: 'loop' }], // jmp loop
    [{ label: 'done' }],
    [0xb0, 0x00], // mov al, 0
    [0xe6, 0xf4], // out 0xf4, al (isa-debug-exit: QEMU exits with (0 << 1) | 1 = 1)
    [{ label: 'hang' }],
    [0xf4], // hlt (without the debug-exit device: stay here)
    [0xeb, { rel8: 'hang' }], // jmp hang
    [{ label: 'msg' }],
  ].flat();
  // Pass 1: offsets of labels (rel8 takes 1 byte, abs16 2 bytes).
  const labels = new Map<string, number>();
  let off = 0;
  for (const it of code) {
    if (typeof it === 'number') off += 1;
    else if ('label' in it) labels.set(it.label, off);
    else off += 'rel8' in it ? 1 : 2;
  }
  const at = (name: string): number => {
    const v = labels.get(name);
    if (v === undefined) throw new Error(`boot sector: no label ${name}`);
    return v;
  };
  // Pass 2: emit.
  const bytes: number[] = [];
  for (const it of code) {
    if (typeof it === 'number') bytes.push(it);
    else if ('rel8' in it) {
      const rel = at(it.rel8) - (bytes.length + 1); // relative to the next instruction
      if (rel < -128 || rel > 127) throw new Error(`boot sector: jump to ${it.rel8} out of range`);
      bytes.push(rel & 0xff);
    } else if ('abs16' in it) {
      const addr = ORG + at(it.abs16);
      bytes.push(addr & 0xff, addr >> 8);
    }
  }
  const sector = Buffer.alloc(SECTOR);
  Buffer.from(bytes).copy(sector, 0);
  const msg = Buffer.from(message + '\0', 'latin1');
  if (bytes.length + msg.length > 440) throw new Error('boot sector: code and message do not fit before the partition table');
  msg.copy(sector, bytes.length);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** An MBR with one partition entry (no boot code) and the 55 AA signature. */
export function mbrWithPartition(type: number, startLba: number, sectors: number): Buffer {
  const mbr = Buffer.alloc(SECTOR);
  const e = 446;
  mbr[e] = 0x00; // not active
  mbr.writeUIntBE(0xfeffff, e + 1, 3); // CHS: use LBA
  mbr[e + 4] = type;
  mbr.writeUIntBE(0xfeffff, e + 5, 3);
  mbr.writeUInt32LE(startLba, e + 8);
  mbr.writeUInt32LE(sectors, e + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return mbr;
}

let dir: string | undefined;
function diskDir(): string {
  dir ??= tempDir('disks');
  return dir;
}

const cache = new Map<string, Promise<string>>();
function once(name: string, make: (file: string) => Promise<void>): Promise<string> {
  let p = cache.get(name);
  if (!p) {
    const file = path.join(diskDir(), name);
    p = make(file).then(() => file);
    cache.set(name, p);
  }
  return p;
}

/** A 1 MiB all-zero disk: no partition table, no boot sector, no file system (nothing installed). */
export function emptyDisk(): Promise<string> {
  return once('empty.img', (file) => writeFile(file, Buffer.alloc(MIB)));
}

/** A 1 MiB disk whose boot sector prints DISK_MARKER on COM1 and exits QEMU (see the file comment). */
export function biosMarkerDisk(): Promise<string> {
  return once('bios-marker.img', async (file) => {
    const disk = Buffer.alloc(MIB);
    biosBootSector().copy(disk, 0);
    await writeFile(file, disk);
  });
}

/**
 * Write a BIOS marker disk of `bytes` (sparse: only the boot sector is data) to `file`. For an
 * iSCSI LUN: iPXE's INT 13 emulation guesses a 255-head, 63-sector geometry for a disk without
 * partitions, so a disk smaller than one such cylinder (16065 sectors, ~7.8 MiB) has 0 cylinders and
 * its MBR read fails ("Boot from SAN device 0x80 failed: Input/output error").
 */
export async function writeBiosMarkerDisk(file: string, bytes: number): Promise<void> {
  if (bytes < SECTOR || bytes % SECTOR) throw new Error(`disk size ${bytes} is not a whole number of sectors`);
  const fh = await open(file, 'w');
  try {
    await fh.write(biosBootSector(), 0, SECTOR, 0);
    await fh.truncate(bytes);
  } finally {
    await fh.close();
  }
}

/**
 * An MBR disk with an EFI system partition labelled `label` whose BOOTX64.EFI prints DISK_MARKER and
 * halts; `files` are further empty files on the volume (absolute paths: reinstall generation markers).
 */
export function uefiMarkerDisk(label = ESP_LABEL, files: readonly string[] = []): Promise<string> {
  const key = files.length ? `-${createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 12)}` : '';
  return once(`uefi-marker-${label}${key}.img`, async (file) => {
    const work = path.join(diskDir(), `esp-${label}${key}`);
    await must(['mkdir', '-p', work]);
    const cfg = path.join(work, 'grub.cfg');
    await writeFile(cfg, `echo ${DISK_MARKER}\nhalt\n`);
    const efi = path.join(work, 'BOOTX64.EFI');
    await must(
      [
        'grub-mkstandalone',
        '-O',
        'x86_64-efi',
        '--modules=echo halt',
        '--install-modules=echo halt normal configfile',
        '--locales=',
        '--fonts=',
        '--themes=',
        '-o',
        efi,
        `boot/grub/grub.cfg=${cfg}`,
      ],
      120_000,
    );
    const fat = path.join(work, 'fat.img');
    await writeFile(fat, Buffer.alloc(2 * MIB));
    // (In /usr/sbin, which a non-login root shell may not have on PATH.)
    await must([findProgram('mkfs.vfat') ?? 'mkfs.vfat', '-n', label, fat]);
    // mtools refuses images whose geometry it cannot check unless told not to.
    const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
    await must(['mmd', '-i', fat, '::/EFI', '::/EFI/BOOT'], 30_000, env);
    await must(['mcopy', '-i', fat, efi, '::/EFI/BOOT/BOOTX64.EFI'], 30_000, env);
    const empty = path.join(work, 'empty');
    await writeFile(empty, '');
    for (const f of files) {
      const parts = f.split('/').filter(Boolean);
      const dirs = parts.slice(0, -1).map((_, i) => `::/${parts.slice(0, i + 1).join('/')}`);
      // mmd refuses a directory that exists: make only the ones this file adds.
      for (const d of dirs) if ((await run(['mdir', '-i', fat, d], { env })).code !== 0) await must(['mmd', '-i', fat, d], 30_000, env);
      await must(['mcopy', '-i', fat, empty, `::${f}`], 30_000, env);
    }
    const fatBytes = await readFile(fat);
    const start = MIB / SECTOR; // LBA 2048
    const disk = Buffer.alloc(MIB + fatBytes.length);
    mbrWithPartition(0xef, start, fatBytes.length / SECTOR).copy(disk, 0);
    fatBytes.copy(disk, MIB);
    await writeFile(file, disk);
  });
}

async function must(argv: string[], timeoutMs = 30_000, env?: NodeJS.ProcessEnv): Promise<void> {
  const r = await run(argv, { timeoutMs, env });
  if (r.code !== 0) throw new Error(`disk image: command failed\n${describe(r)}`);
}
