// FAT12/FAT16 file system images, written whole in memory: the EFI system image a per-node El
// Torito CD points its UEFI boot entry at (src/formats/iso9660.ts), holding EFI/BOOT/BOOTX64.EFI.
// The build machine has only Node.js, so no mkfs.fat or mtools: this writes the structures of
// Microsoft's "FAT: General Overview of On-Disk Format" (fatgen103, version 1.03, 2000), cited
// below by its section titles. Deterministic: the same files give the same bytes (sorted entries,
// fixed timestamps, a volume serial number derived from the rest of the image).
//
// A name that is not an 8.3 short name (`autoexec.ipxe`, whose extension has four letters) gets
// long-name entries before its short entry, with a generated short alias (fatgen103 "FAT Long
// Directory Entries" and "Basis-Name Generation Algorithm"); a name that is one keeps only its
// upper-case short entry.
//
// Layout: boot sector (1 reserved sector), FAT 1, FAT 2, the fixed-size root directory, then the
// clusters, each file and directory in one contiguous run of them, in a pre-order walk of the
// sorted tree. The cluster size is the one (of 512 B to 32 KiB) that gives the smallest image;
// the cluster count it gives decides FAT12 or FAT16, as the specification says it must.
import { createHash } from 'node:crypto';

/** One file of an image: its path ('EFI/BOOT/BOOTX64.EFI', '/' between names) and contents. */
export interface ImageFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

const SECTOR = 512;
const DIR_ENTRY = 32;
const RESERVED_SECTORS = 1;
const FAT_COUNT = 2;
const MEDIA = 0xf8; // fixed (non-removable) media, fatgen103 "BPB_Media"
// fatgen103 "FAT Type Determination": fewer than 4085 clusters is FAT12, fewer than 65525 FAT16.
// It also advises staying 16 clusters away from either limit, where implementations have been
// seen to disagree, so the limits used are narrower by that much.
const FAT12_MAX_CLUSTERS = 4085 - 1 - 16;
const FAT16_MIN_CLUSTERS = 4085 + 16;
const FAT16_MAX_CLUSTERS = 65525 - 1 - 16;
// fatgen103 "BPB_SecPerClus": powers of 2 up to 128, but clusters above 32 KiB are not portable.
const MAX_SECTORS_PER_CLUSTER = 64;
// fatgen103 "Date and Time Formats": 1980-01-01 (bits 15-9 year-1980, 8-5 month, 4-0 day), 00:00:00.
const FIXED_DATE = (0 << 9) | (1 << 5) | 1;
const FIXED_TIME = 0;
const ATTR_VOLUME_ID = 0x08;
const ATTR_DIRECTORY = 0x10;
const ATTR_ARCHIVE = 0x20;
const ATTR_LONG_NAME = 0x0f; // fatgen103 "FAT Long Directory Entries": READ_ONLY | HIDDEN | SYSTEM | VOLUME_ID
const LONG_CHARS = 13; // UCS-2 characters one long-name entry holds
const LAST_LONG_ENTRY = 0x40; // LDIR_Ord of the last (first written) entry of a set
const MAX_LONG_NAME = 255;
// The characters a long name may hold here: printable ASCII less those fatgen103 forbids in any name.
const LONG_NAME = /^[\x20-\x7e]+$/;
const LONG_FORBIDDEN = /[\\/:*?"<>|]/;
// fatgen103 "FAT Directory Structure": the characters a short name may hold (besides A-Z, 0-9).
const SHORT_PART = /^[A-Z0-9!#$%&'()@^_`{}~-]+$/;

interface FatFile {
  readonly kind: 'file';
  name: string; // 11 bytes, "NAME    EXT" (a long name's alias is set once its directory is whole)
  /** The name as given, when it is not an 8.3 name: written in long-name entries. */
  readonly long?: string;
  readonly bytes: Uint8Array;
  cluster: number;
}

interface FatDir {
  readonly kind: 'dir';
  name: string;
  readonly long?: string;
  /** By the name's upper case (FAT compares names without regard to case). */
  readonly entries: Map<string, FatFile | FatDir>;
  cluster: number; // 0 for the root, which lives in its own region
}

interface Geometry {
  readonly sectorsPerCluster: number;
  readonly fatBits: 12 | 16;
  readonly clusters: number;
  readonly fatSectors: number;
  readonly rootEntries: number;
  readonly totalSectors: number;
}

/** A FAT12 (FAT16 if the clusters need it) image holding `files` (paths like 'EFI/BOOT/BOOTX64.EFI'). */
export function fatImage(files: readonly ImageFile[], opts: { label?: string } = {}): Uint8Array {
  const label = shortLabel(opts.label ?? 'HARVGEN');
  const root = buildTree(files);
  const g = chooseGeometry(root);
  allocate(root, g.sectorsPerCluster * SECTOR);
  const image = new Uint8Array(g.totalSectors * SECTOR);
  writeBootSector(image, g, label);
  writeFats(image, root, g);
  writeTree(image, root, g, label);
  // fatgen103 "BS_VolID": meant to come from the date and time of formatting; a digest of the
  // rest of the image keeps it distinct between images and equal for equal inputs.
  image.set(createHash('sha256').update(image).digest().subarray(0, 4), 39);
  return image;
}

/** An 8.3 name as the 11 bytes of DIR_Name (lower case taken as upper case), or undefined when it is not one. */
function shortName(component: string): string | undefined {
  const upper = component.toUpperCase();
  const dot = upper.lastIndexOf('.');
  const [base, ext] = dot < 0 ? [upper, ''] : [upper.slice(0, dot), upper.slice(dot + 1)];
  if (base.length > 8 || ext.length > 3 || !SHORT_PART.test(base) || (ext !== '' && !SHORT_PART.test(ext)) || dot === upper.length - 1)
    return undefined;
  return base.padEnd(8, ' ') + ext.padEnd(3, ' ');
}

/** A name for a long-name entry set, refused unless printable ASCII fatgen103 allows (no trailing dot or space). */
function longName(component: string): string {
  if (component.length > MAX_LONG_NAME || !LONG_NAME.test(component) || LONG_FORBIDDEN.test(component) || /^[ .]|[ .]$/.test(component))
    throw new Error(
      `fatImage: ${JSON.stringify(component)} is not a name a FAT image can hold (printable ASCII without \\ / : * ? " < > |, no leading or trailing dot or space, at most ${MAX_LONG_NAME})`,
    );
  return component;
}

/**
 * The short alias of a long name (fatgen103 "Basis-Name Generation Algorithm"): upper case, the
 * characters a short name cannot hold as `_`, spaces and inner dots dropped, 6 characters of the
 * base with `~n` (the lowest n no other entry of the directory has), 3 of the extension.
 */
function shortAlias(long: string, taken: ReadonlySet<string>): string {
  const upper = long.toUpperCase();
  const dot = upper.lastIndexOf('.');
  const clean = (part: string) => [...part.replaceAll(' ', '').replaceAll('.', '')].map((c) => (SHORT_PART.test(c) ? c : '_')).join('');
  const base = clean(dot <= 0 ? upper : upper.slice(0, dot));
  const ext = clean(dot <= 0 ? '' : upper.slice(dot + 1)).slice(0, 3);
  for (let n = 1; n < 1_000_000; n++) {
    const tail = `~${n}`;
    const name = (base.slice(0, 8 - tail.length) + tail).padEnd(8, ' ') + ext.padEnd(3, ' ');
    if (!taken.has(name)) return name;
  }
  throw new Error(`fatImage: no short alias left for ${JSON.stringify(long)}`);
}

/** fatgen103 "FAT Long Directory Entries": the checksum of the short name a long-name set belongs to. */
function shortChecksum(name: string): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + name.charCodeAt(i)) & 0xff;
  return sum;
}

/** Directory entries a name takes: its long-name entries, if any, and its short entry. */
function entriesOf(e: FatFile | FatDir): number {
  return 1 + (e.long === undefined ? 0 : Math.ceil(e.long.length / LONG_CHARS));
}

/** fatgen103 "BS_VolLab": 11 bytes, space padded, the short-name characters and inner spaces. */
function shortLabel(label: string): string {
  const upper = label.toUpperCase();
  if (upper.length < 1 || upper.length > 11 || !SHORT_PART.test(upper.replaceAll(' ', '_')) || upper.startsWith(' '))
    throw new Error(`fatImage: volume label ${JSON.stringify(label)} is not 1 to 11 short-name characters`);
  return upper.padEnd(11, ' ');
}

function buildTree(files: readonly ImageFile[]): FatDir {
  const root: FatDir = { kind: 'dir', name: '', entries: new Map(), cluster: 0 };
  for (const f of files) {
    const parts = f.path.split('/');
    let dir = root;
    for (const [i, part] of parts.entries()) {
      const key = longName(part).toUpperCase();
      const found = dir.entries.get(key);
      if (i === parts.length - 1 && found) throw new Error(`fatImage: ${f.path} is given twice (or names a directory)`);
      if (found?.kind === 'file') throw new Error(`fatImage: ${f.path} passes through a file`);
      if (found) {
        dir = found;
        continue;
      }
      const short = shortName(part);
      const named = short !== undefined ? { name: short } : { name: '', long: part };
      if (i === parts.length - 1) {
        dir.entries.set(key, { kind: 'file', ...named, bytes: f.bytes, cluster: 0 });
      } else {
        const sub: FatDir = { kind: 'dir', ...named, entries: new Map(), cluster: 0 };
        dir.entries.set(key, sub);
        dir = sub;
      }
    }
  }
  assignAliases(root);
  return root;
}

/** Each long name's short alias, in the code-point order of the long names: the same whatever order the files came in. */
function assignAliases(dir: FatDir): void {
  const entries = [...dir.entries.values()];
  const taken = new Set(entries.filter((e) => e.long === undefined).map((e) => e.name));
  const longs = entries.filter((e) => e.long !== undefined).sort((a, b) => (a.long! < b.long! ? -1 : 1));
  for (const e of longs) taken.add((e.name = shortAlias(e.long!, taken)));
  for (const e of entries) if (e.kind === 'dir') assignAliases(e);
}

/** Entries in DIR_Name order: the stable order every directory is written in. */
function sorted(dir: FatDir): (FatFile | FatDir)[] {
  return [...dir.entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Clusters a node takes: a file its bytes, a directory its `.`, `..` and entries. */
function clustersOf(node: FatFile | FatDir, clusterBytes: number): number {
  const bytes = node.kind === 'file' ? node.bytes.length : (2 + entryCount(node)) * DIR_ENTRY;
  return Math.ceil(bytes / clusterBytes);
}

/** Directory entries the names of a directory take. */
function entryCount(dir: FatDir): number {
  let n = 0;
  for (const e of dir.entries.values()) n += entriesOf(e);
  return n;
}

function clustersBelow(dir: FatDir, clusterBytes: number): number {
  let n = 0;
  for (const e of dir.entries.values()) n += clustersOf(e, clusterBytes) + (e.kind === 'dir' ? clustersBelow(e, clusterBytes) : 0);
  return n;
}

/**
 * The smallest image over the cluster sizes: for each, the cluster count the data needs decides
 * the FAT type (fatgen103 "FAT Type Determination"); a FAT16 count is raised to its minimum.
 */
function chooseGeometry(root: FatDir): Geometry {
  // Root entries: the label and the top-level names, in whole sectors (Linux refuses a partial one).
  const perSector = SECTOR / DIR_ENTRY;
  const rootEntries = Math.ceil((1 + entryCount(root)) / perSector) * perSector;
  let best: Geometry | undefined;
  for (let spc = 1; spc <= MAX_SECTORS_PER_CLUSTER; spc *= 2) {
    const needed = Math.max(1, clustersBelow(root, spc * SECTOR));
    const g = geometryFor(spc, needed, rootEntries);
    if (g && (!best || g.totalSectors < best.totalSectors)) best = g;
  }
  if (!best) throw new Error('fatImage: the files do not fit a FAT16 image');
  return best;
}

function geometryFor(sectorsPerCluster: number, needed: number, rootEntries: number): Geometry | undefined {
  const fatBits = needed <= FAT12_MAX_CLUSTERS ? 12 : 16;
  const clusters = fatBits === 12 ? needed : Math.max(needed, FAT16_MIN_CLUSTERS);
  if (clusters > FAT16_MAX_CLUSTERS) return undefined;
  // fatgen103 "FAT Data Structure": entries 0 and 1 are reserved, so the FAT holds clusters + 2.
  const fatSectors = Math.ceil(Math.ceil(((clusters + 2) * fatBits) / 8) / SECTOR);
  const rootSectors = (rootEntries * DIR_ENTRY) / SECTOR;
  const totalSectors = RESERVED_SECTORS + FAT_COUNT * fatSectors + rootSectors + clusters * sectorsPerCluster;
  return { sectorsPerCluster, fatBits, clusters, fatSectors, rootEntries, totalSectors };
}

/** First clusters, handed out in a pre-order walk (a directory, then what it holds). */
function allocate(root: FatDir, clusterBytes: number): void {
  let next = 2; // fatgen103 "FAT Data Structure": the first data cluster is 2
  const walk = (dir: FatDir): void => {
    for (const e of sorted(dir)) {
      const n = clustersOf(e, clusterBytes);
      e.cluster = n === 0 ? 0 : next;
      next += n;
      if (e.kind === 'dir') walk(e);
    }
  };
  walk(root);
}

/** fatgen103 "Boot Sector and BPB Structure" and "FAT12 and FAT16 Structure Starting at Offset 36". */
function writeBootSector(image: Uint8Array, g: Geometry, label: string): void {
  const v = new DataView(image.buffer, image.byteOffset, SECTOR);
  image.set([0xeb, 0x3c, 0x90], 0); // BS_jmpBoot: jump to the code at 0x3E
  ascii(image, 3, 'MSWIN4.1'); // BS_OEMName: the value fatgen103 calls the most compatible
  v.setUint16(11, SECTOR, true); // BPB_BytsPerSec
  v.setUint8(13, g.sectorsPerCluster); // BPB_SecPerClus
  v.setUint16(14, RESERVED_SECTORS, true); // BPB_RsvdSecCnt
  v.setUint8(16, FAT_COUNT); // BPB_NumFATs
  v.setUint16(17, g.rootEntries, true); // BPB_RootEntCnt
  // BPB_TotSec16 when the count fits in 16 bits, else 0 and BPB_TotSec32 (fatgen103 "BPB_TotSec16").
  v.setUint16(19, g.totalSectors < 0x10000 ? g.totalSectors : 0, true);
  v.setUint8(21, MEDIA); // BPB_Media
  v.setUint16(22, g.fatSectors, true); // BPB_FATSz16
  v.setUint16(24, 32, true); // BPB_SecPerTrk: geometry nothing here uses (mkfs.fat's for a file)
  v.setUint16(26, 64, true); // BPB_NumHeads
  v.setUint32(28, 0, true); // BPB_HiddSec: the image is not inside a partition table
  v.setUint32(32, g.totalSectors < 0x10000 ? 0 : g.totalSectors, true); // BPB_TotSec32
  v.setUint8(36, 0x80); // BS_DrvNum: a hard disk
  v.setUint8(38, 0x29); // BS_BootSig: the next three fields are present
  // BS_VolID (offset 39) is set last, from the finished image.
  ascii(image, 43, label); // BS_VolLab
  ascii(image, 54, g.fatBits === 12 ? 'FAT12   ' : 'FAT16   '); // BS_FilSysType (informative only)
  image.set([0xcd, 0x18, 0xeb, 0xfe], 0x3e); // not bootable from BIOS: int 18h, then halt
  image.set([0x55, 0xaa], 510); // the signature at offsets 510 and 511
}

/** Both FATs: the two reserved entries, then one contiguous chain per file and directory. */
function writeFats(image: Uint8Array, root: FatDir, g: Geometry): void {
  const fat = new Uint8Array(g.fatSectors * SECTOR);
  const eoc = g.fatBits === 12 ? 0xfff : 0xffff;
  const set = (n: number, value: number): void => fatSet(fat, g.fatBits, n, value);
  // fatgen103 "FAT Data Structure": FAT[0] is the media byte in the low 8 bits, the other bits
  // set; FAT[1] is end of chain (for FAT16, with the clean-shutdown and no-error bits set).
  set(0, (eoc & ~0xff) | MEDIA);
  set(1, eoc);
  const clusterBytes = g.sectorsPerCluster * SECTOR;
  const walk = (dir: FatDir): void => {
    for (const e of dir.entries.values()) {
      const n = clustersOf(e, clusterBytes);
      for (let i = 0; i < n; i++) set(e.cluster + i, i === n - 1 ? eoc : e.cluster + i + 1);
      if (e.kind === 'dir') walk(e);
    }
  };
  walk(root);
  for (let i = 0; i < FAT_COUNT; i++) image.set(fat, (RESERVED_SECTORS + i * g.fatSectors) * SECTOR);
}

/** fatgen103 "FAT12": entry n is the 12 bits at byte n * 1.5 (low nibble first for odd n). */
function fatSet(fat: Uint8Array, bits: 12 | 16, n: number, value: number): void {
  if (bits === 16) {
    fat[2 * n] = value & 0xff;
    fat[2 * n + 1] = value >> 8;
    return;
  }
  const at = n + (n >> 1);
  if (n % 2 === 0) {
    fat[at] = value & 0xff;
    fat[at + 1] = ((fat[at + 1] ?? 0) & 0xf0) | (value >> 8);
  } else {
    fat[at] = ((fat[at] ?? 0) & 0x0f) | ((value << 4) & 0xf0);
    fat[at + 1] = value >> 4;
  }
}

/** The root directory (label first) and every cluster: directories' entries and files' bytes. */
function writeTree(image: Uint8Array, root: FatDir, g: Geometry, label: string): void {
  const rootAt = (RESERVED_SECTORS + FAT_COUNT * g.fatSectors) * SECTOR;
  const dataAt = rootAt + g.rootEntries * DIR_ENTRY;
  const clusterAt = (c: number): number => dataAt + (c - 2) * g.sectorsPerCluster * SECTOR;
  writeEntry(image, rootAt, label, ATTR_VOLUME_ID, 0, 0);
  const walk = (dir: FatDir, first: number): void => {
    let at = first;
    for (const e of sorted(dir)) {
      if (e.long !== undefined) at = writeLongEntries(image, at, e.long, e.name);
      const entryAt = at;
      at += DIR_ENTRY;
      if (e.kind === 'file') {
        writeEntry(image, entryAt, e.name, ATTR_ARCHIVE, e.cluster, e.bytes.length);
        if (e.cluster !== 0) image.set(e.bytes, clusterAt(e.cluster));
        continue;
      }
      writeEntry(image, entryAt, e.name, ATTR_DIRECTORY, e.cluster, 0);
      // fatgen103 "FAT Directory Structure": `.` is the directory itself, `..` its parent (0 for the root).
      const own = clusterAt(e.cluster);
      writeEntry(image, own, '.'.padEnd(11, ' '), ATTR_DIRECTORY, e.cluster, 0);
      writeEntry(image, own + DIR_ENTRY, '..'.padEnd(11, ' '), ATTR_DIRECTORY, dir.cluster, 0);
      walk(e, own + 2 * DIR_ENTRY);
    }
  };
  walk(root, rootAt + DIR_ENTRY);
}

/**
 * fatgen103 "FAT Long Directory Entries": the set of a long name, last part first (its LDIR_Ord
 * marked 0x40), each holding 13 UCS-2 characters (the name, a 0x0000 after it when there is
 * room, 0xFFFF after that), right before the short entry. Returns where the short entry goes.
 */
function writeLongEntries(image: Uint8Array, at: number, long: string, short: string): number {
  const count = Math.ceil(long.length / LONG_CHARS);
  const sum = shortChecksum(short);
  // LDIR_Name1 (5 characters), LDIR_Name2 (6) and LDIR_Name3 (2): their byte offsets in the entry.
  const slots = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
  for (let k = count; k >= 1; k--) {
    const v = new DataView(image.buffer, image.byteOffset + at, DIR_ENTRY);
    v.setUint8(0, k === count ? k | LAST_LONG_ENTRY : k); // LDIR_Ord
    v.setUint8(11, ATTR_LONG_NAME); // LDIR_Attr
    v.setUint8(12, 0); // LDIR_Type
    v.setUint8(13, sum); // LDIR_Chksum
    v.setUint16(26, 0, true); // LDIR_FstClusLO
    for (const [j, offset] of slots.entries()) {
      const i = (k - 1) * LONG_CHARS + j;
      v.setUint16(offset, i < long.length ? long.charCodeAt(i) : i === long.length ? 0 : 0xffff, true);
    }
    at += DIR_ENTRY;
  }
  return at;
}

/** fatgen103 "FAT 32 Byte Directory Entry Structure"; every date and time the fixed one. */
function writeEntry(image: Uint8Array, at: number, name: string, attr: number, cluster: number, size: number): void {
  const v = new DataView(image.buffer, image.byteOffset + at, DIR_ENTRY);
  ascii(image, at, name); // DIR_Name
  v.setUint8(11, attr); // DIR_Attr
  v.setUint16(14, FIXED_TIME, true); // DIR_CrtTime
  v.setUint16(16, FIXED_DATE, true); // DIR_CrtDate
  v.setUint16(18, FIXED_DATE, true); // DIR_LstAccDate
  v.setUint16(20, 0, true); // DIR_FstClusHI: 0 on FAT12 and FAT16
  v.setUint16(22, FIXED_TIME, true); // DIR_WrtTime
  v.setUint16(24, FIXED_DATE, true); // DIR_WrtDate
  v.setUint16(26, cluster, true); // DIR_FstClusLO
  v.setUint32(28, size, true); // DIR_FileSize
}

function ascii(image: Uint8Array, at: number, text: string): void {
  for (let i = 0; i < text.length; i++) image[at + i] = text.charCodeAt(i);
}
