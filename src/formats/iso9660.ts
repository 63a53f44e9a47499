// ISO 9660 CD images with El Torito boot entries, written whole in memory: the per-node image a
// BMC mounts as virtual media. It boots legacy BIOS through ISOLINUX (a no-emulation entry whose
// file gets the boot info table mkisofs' -boot-info-table writes) and UEFI through a FAT image
// (a no-emulation entry of platform 0xEF, src/formats/fat.ts). The build machine has only
// Node.js, so this writes the structures of ECMA-119 (2nd edition, 1987, the text of ISO 9660)
// and of the "El Torito" Bootable CD-ROM Format Specification 1.0 (Phoenix and IBM, 1995), cited
// below by section. No Joliet or Rock Ridge: the firmware and ISOLINUX read plain ISO 9660 names
// (ISOLINUX compares them without regard to case or the `;1` version).
//
// Layout, in 2048-byte logical blocks: 0-15 the (zero) system area; 16 the Primary Volume
// Descriptor; 17 the Boot Record (when there is a boot entry); then the terminator; the type L
// and type M path tables; the boot catalog; every directory, in path table order; every file's
// data, in the same walk, each from a block boundary. The boot catalog is not a file of the tree
// (it has no directory record, as with xorriso's --boot-catalog-hide): nothing reads it by name.
// The image ends with the last file's last block (a hybrid image: then the blocks of its backup GPT).
// Deterministic: sorted directories, fixed dates, no identifiers that change between runs.
import type { ImageFile } from './fat.ts';

import { HYBRID_TAIL_BYTES, writeHybridMbr } from './hybrid-mbr.ts';
export type { ImageFile } from './fat.ts';

export interface IsoOptions {
  /** d-characters (A-Z 0-9 _), 1 to 32 of them. */
  readonly volumeId: string;
  /** e.g. 'isolinux/isolinux.bin', 'isolinux/ldlinux.c32', 'isolinux/isolinux.cfg', 'efi.img' (names upper-cased). */
  readonly files: readonly ImageFile[];
  /** El Torito BIOS entry: no emulation, load segment 0 (0x7C0), 4 sectors loaded; the file gets an ISOLINUX boot info table (mkisofs -boot-info-table) patched in. */
  readonly biosBoot?: { readonly path: string };
  /** El Torito UEFI entry (platform ID 0xEF, no emulation): a FAT image that is one of `files`. */
  readonly efiBoot?: { readonly path: string };
  /**
   * Make the image a disk as well (an "isohybrid" image, as syslinux's isohybrid and xorriso's
   * -isohybrid-mbr write it): `mbr` is ISOLINUX's hybrid MBR code (isohdpfx.bin, 432 bytes), which
   * a BIOS booting the disk runs and which starts `biosBoot` (ISOLINUX) at the LBA written after
   * it; a protective MBR and a GPT name `efiBoot`'s FAT image as the EFI system partition, which a
   * UEFI firmware boots as a removable disk (src/formats/hybrid-mbr.ts). The image ends with free
   * blocks for the backup GPT. Needs both boot entries.
   */
  readonly hybrid?: { readonly mbr: Uint8Array };
}

export { HYBRID_MBR_CODE } from './hybrid-mbr.ts';

const BLOCK = 2048;
const PVD_LBA = 16; // ECMA-119 6.2.1: the system area is logical sectors 0 to 15
const D_CHARS = /^[A-Z0-9_]+$/; // ECMA-119 7.4.1
const MAX_DIR_LEVELS = 8; // ECMA-119 6.8.2.1, the root being level 1
const MAX_PATH = 255; // ECMA-119 6.8.2.1
const PLATFORM_X86 = 0; // El Torito 2.1
const PLATFORM_EFI = 0xef; // UEFI specification, "ISO-9660 and El Torito"
const BIOS_LOAD_SECTORS = 4; // 512-byte virtual sectors: ISOLINUX loads the rest itself
// ECMA-119 9.1.5: years since 1900, month, day, hour, minute, second, offset: 1970-01-01 00:00 UTC.
const RECORD_DATE = [70, 1, 1, 0, 0, 0, 0];

interface IsoFile {
  readonly kind: 'file';
  readonly id: string; // 'NAME.EXT;1'
  readonly bytes: Uint8Array;
  lba: number;
}

interface IsoDir {
  readonly kind: 'dir';
  readonly id: string; // '' for the root
  readonly parent: IsoDir | undefined;
  readonly level: number;
  readonly entries: Map<string, IsoFile | IsoDir>;
  number: number; // its path table record number, from 1
  lba: number;
  blocks: number;
}

interface Plan {
  readonly dirs: readonly IsoDir[]; // path table order
  readonly files: readonly IsoFile[];
  readonly terminator: number;
  readonly pathTableSize: number;
  readonly lTable: number;
  readonly mTable: number;
  readonly catalog: number | undefined;
  readonly totalBlocks: number;
}

export function isoImage(o: IsoOptions): Uint8Array {
  if (!D_CHARS.test(o.volumeId) || o.volumeId.length > 32)
    throw new Error(`isoImage: volume id ${JSON.stringify(o.volumeId)} is not 1 to 32 of A-Z 0-9 _`);
  const root = buildTree(o.files);
  const bios = o.biosBoot && findFile(root, o.biosBoot.path, 'biosBoot');
  const efi = o.efiBoot && findFile(root, o.efiBoot.path, 'efiBoot');
  if (bios && bios.bytes.length < 64) throw new Error(`isoImage: biosBoot ${o.biosBoot?.path} is too short for a boot info table`);
  const plan = planLayout(root, bios !== undefined || efi !== undefined, o.hybrid ? HYBRID_TAIL_BYTES / BLOCK : 0);
  const image = new Uint8Array(plan.totalBlocks * BLOCK);
  writePrimaryDescriptor(image, o.volumeId, plan, root);
  if (plan.catalog !== undefined) writeBootRecord(image, plan.catalog);
  image.set([255, ...ascii('CD001'), 1], plan.terminator * BLOCK); // ECMA-119 8.3
  writePathTable(image, plan, true);
  writePathTable(image, plan, false);
  for (const d of plan.dirs) writeDirectory(image, d);
  for (const f of plan.files) image.set(f === bios ? withBootInfoTable(f) : f.bytes, f.lba * BLOCK);
  if (plan.catalog !== undefined) writeCatalog(image, plan.catalog, bios, efi);
  if (o.hybrid) {
    if (!bios || !efi) throw new Error('isoImage: a hybrid image needs both boot entries');
    writeHybridMbr(image, o.hybrid.mbr, { lba: bios.lba * (BLOCK / 512) }, { lba: efi.lba * (BLOCK / 512), bytes: efi.bytes.length });
  }
  return image;
}

/** ECMA-119 7.6 (directory identifiers: d-characters, at most 31), lower case taken as upper case. */
function dirId(name: string): string {
  const id = name.toUpperCase();
  if (!D_CHARS.test(id) || id.length > 31) throw new Error(`isoImage: directory name ${JSON.stringify(name)} is not 1 to 31 of A-Z 0-9 _`);
  return id;
}

/** ECMA-119 7.5.1 and 10.2 (level 2): NAME.EXT;1, d-characters, name and extension 30 at most together. */
function fileId(name: string): string {
  const upper = name.toUpperCase();
  const dot = upper.indexOf('.');
  const [base, ext] = dot < 0 ? [upper, ''] : [upper.slice(0, dot), upper.slice(dot + 1)];
  const ok = (s: string): boolean => s === '' || D_CHARS.test(s);
  if (!ok(base) || !ok(ext) || base.length + ext.length === 0 || base.length + ext.length > 30)
    throw new Error(`isoImage: file name ${JSON.stringify(name)} is not NAME.EXT of A-Z 0-9 _ (30 at most)`);
  return `${base}.${ext};1`;
}

function buildTree(files: readonly ImageFile[]): IsoDir {
  const root: IsoDir = { kind: 'dir', id: '', parent: undefined, level: 1, entries: new Map(), number: 0, lba: 0, blocks: 0 };
  for (const f of files) {
    const parts = f.path.split('/');
    if (parts.length > MAX_DIR_LEVELS || f.path.length > MAX_PATH) throw new Error(`isoImage: ${f.path} is nested too deep or too long`);
    let dir = root;
    for (const [i, part] of parts.entries()) {
      if (i === parts.length - 1) {
        const id = fileId(part);
        if (dir.entries.has(id)) throw new Error(`isoImage: ${f.path} is given twice`);
        dir.entries.set(id, { kind: 'file', id, bytes: f.bytes, lba: 0 });
        continue;
      }
      const id = dirId(part);
      const found = dir.entries.get(id);
      if (found?.kind === 'file') throw new Error(`isoImage: ${f.path} passes through a file`);
      const sub: IsoDir = found ?? { kind: 'dir', id, parent: dir, level: dir.level + 1, entries: new Map(), number: 0, lba: 0, blocks: 0 };
      dir.entries.set(id, sub);
      dir = sub;
    }
  }
  return root;
}

function findFile(root: IsoDir, path: string, what: string): IsoFile {
  const parts = path.split('/');
  let node: IsoFile | IsoDir | undefined = root;
  for (const [i, part] of parts.entries()) {
    node = node?.kind === 'dir' ? node.entries.get(i === parts.length - 1 ? fileId(part) : dirId(part)) : undefined;
  }
  if (node?.kind !== 'file') throw new Error(`isoImage: ${what} ${path} is not one of the files`);
  return node;
}

/** ECMA-119 9.3: by name, then extension, each padded with spaces (the version is 1 throughout). */
function compareIds(a: string, b: string): number {
  const split = (id: string): [string, string] => {
    const [name = '', ext = ''] = id.replace(/;1$/, '').split('.');
    return [name, ext];
  };
  const [an, ae] = split(a);
  const [bn, be] = split(b);
  const cmp = (x: string, y: string): number => {
    const n = Math.max(x.length, y.length);
    const [px, py] = [x.padEnd(n, ' '), y.padEnd(n, ' ')];
    return px < py ? -1 : px > py ? 1 : 0;
  };
  return cmp(an, bn) || cmp(ae, be);
}

function sorted(dir: IsoDir): (IsoFile | IsoDir)[] {
  return [...dir.entries.values()].sort((a, b) => compareIds(a.id, b.id));
}

/** ECMA-119 9.1: 33 bytes, the identifier, and a padding byte when the identifier's length is even. */
function recordLength(idLength: number): number {
  return 33 + idLength + (idLength % 2 === 0 ? 1 : 0);
}

/** Blocks of a directory's records: `.`, `..`, then its entries, none across a block (ECMA-119 6.8.1.1). */
function directoryBlocks(dir: IsoDir): number {
  let blocks = 1;
  let used = 2 * recordLength(1);
  for (const e of sorted(dir)) {
    const len = recordLength(e.id.length);
    if (used + len > BLOCK) [blocks, used] = [blocks + 1, 0];
    used += len;
  }
  return blocks;
}

/** Directories in path table order (ECMA-119 6.9.1: by level, parent number, identifier): breadth first. */
function planLayout(root: IsoDir, boot: boolean, tail: number): Plan {
  const dirs: IsoDir[] = [root];
  for (let i = 0; i < dirs.length; i++) {
    const d = dirs[i]!;
    d.number = i + 1;
    for (const e of sorted(d)) if (e.kind === 'dir') dirs.push(e);
  }
  const pathTableSize = dirs.reduce((n, d) => n + pathRecordLength(d), 0);
  const tableBlocks = Math.ceil(pathTableSize / BLOCK);
  let next = PVD_LBA + 1;
  const catalogRecord = boot ? next++ : undefined; // the Boot Record, just after the PVD
  const terminator = next++;
  const lTable = next;
  const mTable = lTable + tableBlocks;
  next = mTable + tableBlocks;
  const catalog = catalogRecord === undefined ? undefined : next++;
  for (const d of dirs) {
    d.blocks = directoryBlocks(d);
    d.lba = next;
    next += d.blocks;
  }
  const files: IsoFile[] = [];
  for (const d of dirs)
    for (const e of sorted(d)) {
      if (e.kind !== 'file') continue;
      // An empty file has no extent; 0 as its location, as mkisofs writes.
      e.lba = e.bytes.length === 0 ? 0 : next;
      next += Math.ceil(e.bytes.length / BLOCK);
      files.push(e);
    }
  return { dirs, files, terminator, pathTableSize, lTable, mTable, catalog, totalBlocks: next + tail };
}

function pathRecordLength(d: IsoDir): number {
  const len = Math.max(1, d.id.length);
  return 8 + len + (len % 2); // ECMA-119 9.4: padded to an even length
}

/** ECMA-119 8.4: the Primary Volume Descriptor. */
function writePrimaryDescriptor(image: Uint8Array, volumeId: string, plan: Plan, root: IsoDir): void {
  const at = PVD_LBA * BLOCK;
  const v = new DataView(image.buffer, image.byteOffset + at, BLOCK);
  image.set([1, ...ascii('CD001'), 1], at); // 8.4.1-8.4.3: type 1, standard identifier, version 1
  text(image, at + 8, '', 32); // 8.4.5 system identifier
  text(image, at + 40, volumeId, 32); // 8.4.6 volume identifier
  both32(v, 80, plan.totalBlocks); // 8.4.8 volume space size
  both16(v, 120, 1); // 8.4.10 volume set size
  both16(v, 124, 1); // 8.4.11 volume sequence number
  both16(v, 128, BLOCK); // 8.4.12 logical block size
  both32(v, 132, plan.pathTableSize); // 8.4.13 path table size
  v.setUint32(140, plan.lTable, true); // 8.4.14 type L path table (8.4.15, its optional copy: none)
  v.setUint32(148, plan.mTable, false); // 8.4.16 type M path table (8.4.17: none)
  writeRecord(image, at + 156, '\0', root.lba, root.blocks * BLOCK, true); // 8.4.18 root directory record
  for (const [offset, length] of [
    [190, 128],
    [318, 128],
    [446, 128],
    [702, 37],
    [739, 37],
    [776, 37],
  ] as const)
    text(image, at + offset, '', length); // 8.4.19-8.4.21, 8.4.23-8.4.25: volume set, publisher, preparer, files
  text(image, at + 574, 'HARVGEN', 128); // 8.4.22 application identifier
  // 8.4.26-8.4.29: creation, modification, expiration, effective dates "not specified" (8.4.26.1):
  // sixteen '0' digits and a zero offset.
  for (const offset of [813, 830, 847, 864]) image.set(ascii('0'.repeat(16)), at + offset);
  image[at + 881] = 1; // 8.4.30 file structure version
}

/** El Torito 2.0: the Boot Record Volume Descriptor, pointing at the boot catalog. */
function writeBootRecord(image: Uint8Array, catalog: number): void {
  const at = (PVD_LBA + 1) * BLOCK;
  image.set([0, ...ascii('CD001'), 1, ...ascii('EL TORITO SPECIFICATION')], at); // zero padded to 32
  new DataView(image.buffer, image.byteOffset + at).setUint32(0x47, catalog, true);
}

/** ECMA-119 9.4: one record per directory, numbers little-endian in L and big-endian in M. */
function writePathTable(image: Uint8Array, plan: Plan, little: boolean): void {
  let at = (little ? plan.lTable : plan.mTable) * BLOCK;
  for (const d of plan.dirs) {
    const id = d.id === '' ? '\0' : d.id; // 9.4.5: the root's identifier is one 0 byte
    const v = new DataView(image.buffer, image.byteOffset + at, 8);
    v.setUint8(0, id.length);
    v.setUint32(2, d.lba, little);
    v.setUint16(6, d.parent?.number ?? 1, little); // 9.4.4: the root is its own parent
    image.set(ascii(id), at + 8);
    at += pathRecordLength(d);
  }
}

/** A directory's extent (ECMA-119 6.8.2.2): `.` (identifier 0), `..` (identifier 1), then its entries in 9.3 order. */
function writeDirectory(image: Uint8Array, d: IsoDir): void {
  const start = d.lba * BLOCK;
  let at = start;
  at += writeRecord(image, at, '\0', d.lba, d.blocks * BLOCK, true);
  const parent = d.parent ?? d;
  at += writeRecord(image, at, '\x01', parent.lba, parent.blocks * BLOCK, true);
  for (const e of sorted(d)) {
    const len = recordLength(e.id.length);
    if (((at - start) % BLOCK) + len > BLOCK) at += BLOCK - ((at - start) % BLOCK); // 6.8.1.1
    at +=
      e.kind === 'dir'
        ? writeRecord(image, at, e.id, e.lba, e.blocks * BLOCK, true)
        : writeRecord(image, at, e.id, e.lba, e.bytes.length, false);
  }
}

/** ECMA-119 9.1: one directory record; returns its length. */
function writeRecord(image: Uint8Array, at: number, id: string, lba: number, size: number, dir: boolean): number {
  const len = recordLength(id.length);
  const v = new DataView(image.buffer, image.byteOffset + at, len);
  v.setUint8(0, len); // 9.1.1 length of the record (9.1.2, extended attribute record length: 0)
  both32(v, 2, lba); // 9.1.3 location of extent
  both32(v, 10, size); // 9.1.4 data length
  image.set(RECORD_DATE, at + 18); // 9.1.5 recording date and time
  v.setUint8(25, dir ? 0x02 : 0); // 9.1.6 file flags: bit 1, directory (9.1.7-9.1.8 unit size, gap: 0)
  both16(v, 28, 1); // 9.1.9 volume sequence number
  v.setUint8(32, id.length); // 9.1.10 length of file identifier
  image.set(ascii(id), at + 33); // 9.1.11 file identifier (9.1.12: a zero pad byte when even)
  return len;
}

/**
 * The boot file with its boot info table, as mkisofs -boot-info-table writes it (and ISOLINUX
 * reads it to find the rest of itself): at offset 8, little-endian, the LBA of the PVD, the LBA of
 * the file, its length in bytes and the 32-bit sum of its little-endian words from offset 64 to
 * the end (a short last word padded with zeros); offsets 24-63 zero. A copy: the input is kept.
 */
function withBootInfoTable(f: IsoFile): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(f.bytes.length / 4) * 4);
  bytes.set(f.bytes);
  const v = new DataView(bytes.buffer);
  let sum = 0;
  for (let i = 64; i < bytes.length; i += 4) sum = (sum + v.getUint32(i, true)) >>> 0;
  v.setUint32(8, PVD_LBA, true);
  v.setUint32(12, f.lba, true);
  v.setUint32(16, f.bytes.length, true);
  v.setUint32(20, sum, true);
  bytes.fill(0, 24, 64);
  return bytes.subarray(0, f.bytes.length);
}

/**
 * El Torito 2.1-2.4: the validation entry, the initial/default entry and, with both entries, a
 * final section header of platform 0xEF with its one section entry. Sector counts are of 512-byte
 * virtual sectors: 4 for ISOLINUX; for UEFI the FAT image's whole extent, in 2048-byte blocks
 * times 4, as mkisofs and xorriso count it (0 when that does not fit 16 bits: EDK2's partition
 * driver then takes the rest of the medium). EDK2 reads a no-emulation count as one of the
 * medium's blocks (so a partition 4 times the image), which is harmless: the FAT driver reads
 * only the sectors its boot sector gives.
 */
function writeCatalog(image: Uint8Array, lba: number, bios: IsoFile | undefined, efi: IsoFile | undefined): void {
  const at = lba * BLOCK;
  const v = new DataView(image.buffer, image.byteOffset + at, BLOCK);
  v.setUint8(0, 1); // 2.1 header ID
  v.setUint8(1, bios ? PLATFORM_X86 : PLATFORM_EFI); // platform of the default entry
  image.set([0x55, 0xaa], at + 30); // key bytes
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum += v.getUint16(i, true);
  v.setUint16(28, (0x10000 - (sum & 0xffff)) & 0xffff, true); // the 16 words then sum to 0
  const efiSectors = efi && Math.ceil(efi.bytes.length / BLOCK) * (BLOCK / 512);
  const efiCount = efiSectors !== undefined && efiSectors <= 0xffff ? efiSectors : 0;
  if (bios) bootEntry(v, 32, bios.lba, BIOS_LOAD_SECTORS);
  else if (efi) bootEntry(v, 32, efi.lba, efiCount);
  if (bios && efi) {
    v.setUint8(64, 0x91); // 2.3 section header: 0x91, the final one
    v.setUint8(65, PLATFORM_EFI);
    v.setUint16(66, 1, true); // one section entry follows
    bootEntry(v, 96, efi.lba, efiCount); // 2.4 section entry (selection criteria 0: none)
  }
}

/** El Torito 2.2 / 2.4: bootable, no emulation, load segment 0 (0x7C0), system type 0. */
function bootEntry(v: DataView, at: number, lba: number, sectors: number): void {
  v.setUint8(at, 0x88); // boot indicator: bootable
  v.setUint8(at + 1, 0); // boot media type: no emulation
  v.setUint16(at + 2, 0, true); // load segment
  v.setUint8(at + 4, 0); // system type
  v.setUint16(at + 6, sectors, true); // sector count
  v.setUint32(at + 8, lba, true); // load RBA
}

function both16(v: DataView, at: number, n: number): void {
  v.setUint16(at, n, true); // ECMA-119 7.2.3: little-endian, then big-endian
  v.setUint16(at + 2, n, false);
}

function both32(v: DataView, at: number, n: number): void {
  v.setUint32(at, n, true); // ECMA-119 7.3.3
  v.setUint32(at + 4, n, false);
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

/** A fixed-length field of a- or d-characters, padded with spaces (ECMA-119 8.4.5 and on). */
function text(image: Uint8Array, at: number, s: string, length: number): void {
  image.set(ascii(s.padEnd(length, ' ')), at);
}
