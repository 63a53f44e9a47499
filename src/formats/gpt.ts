// A GUID Partition Table (UEFI Specification 2.10, chapter 5, "GUID Partition Table (GPT) Disk
// Layout", cited below by section) with its protective MBR, written into a disk image in memory:
// the USB image's EFI system partition (src/formats/hybrid-mbr.ts), which a UEFI firmware that
// looks for it in a GPT only would not find in an MBR. 512-byte logical blocks throughout.
//
// Layout: LBA 0 the protective MBR (its boot code left to the caller); LBA 1 the primary header;
// LBA 2-33 the partition entry array (128 entries of 128 bytes, the minimum 16 KiB of 5.3.1);
// the backup entry array in the 32 blocks before the last; the backup header in the last block.
// Deterministic: the caller gives the GUIDs (derivedGuid: a digest, never a random number).
import { createHash } from 'node:crypto';

/** Bytes of a logical block. */
export const GPT_BLOCK = 512;
/** Entries of the partition entry array, and the bytes of one (5.3.2: 128 at least, 128 each). */
const ENTRIES = 128;
const ENTRY_SIZE = 128;
/** Blocks of the partition entry array. */
export const GPT_ENTRY_BLOCKS = (ENTRIES * ENTRY_SIZE) / GPT_BLOCK;
/** Blocks the GPT takes at the end of a disk: the backup entry array and the backup header. */
export const GPT_TAIL_BLOCKS = GPT_ENTRY_BLOCKS + 1;
/** The first block a partition may use (5.3.1): after the MBR, the primary header and its entry array. */
export const GPT_FIRST_USABLE = 2 + GPT_ENTRY_BLOCKS;
const HEADER_SIZE = 92; // 5.3.2, table 5-5
const SIGNATURE = 'EFI PART';
const REVISION = 0x00010000; // 1.0
/** 5.3.3, table 5-7: the EFI system partition. */
export const EFI_SYSTEM_PARTITION = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const PROTECTIVE_TYPE = 0xee; // 5.2.3, table 5-4

/** One partition (5.3.3, table 5-6): its type and unique GUIDs, its first and last block (inclusive) and name. */
export interface GptPartition {
  readonly type: string;
  readonly guid: string;
  readonly firstLba: number;
  readonly lastLba: number;
  /** At most 36 UTF-16 code units. */
  readonly name: string;
}

/** The GPT of a disk image. */
export interface GptOptions {
  readonly diskGuid: string;
  readonly partitions: readonly GptPartition[];
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 as the GPT uses it (5.3.2: the CRC of ISO 3309, as in zlib and Ethernet: reflected 0x04C11DB7). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const GUID = /^([0-9A-F]{8})-([0-9A-F]{4})-([0-9A-F]{4})-([0-9A-F]{4})-([0-9A-F]{12})$/i;

/** A GUID's 16 bytes as the GPT stores it (appendix A: the first three fields little-endian, the rest as written). */
export function guidBytes(guid: string): Uint8Array {
  const m = GUID.exec(guid);
  if (!m) throw new Error(`gpt: ${JSON.stringify(guid)} is not a GUID`);
  const hex = (s: string): number[] => s.match(/../g)!.map((h) => parseInt(h, 16));
  return Uint8Array.from([...hex(m[1]!).reverse(), ...hex(m[2]!).reverse(), ...hex(m[3]!).reverse(), ...hex(m[4]!), ...hex(m[5]!)]);
}

/** The text form of a GUID stored as guidBytes writes it (upper case). */
export function guidText(bytes: Uint8Array): string {
  const hex = (from: number, to: number, reverse: boolean): string => {
    const part = [...bytes.subarray(from, to)];
    return (reverse ? part.reverse() : part).map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10, false), hex(10, 16, false)].join('-').toUpperCase();
}

/**
 * A GUID derived from `bytes` (RFC 9562 version 8, from the first 16 bytes of a SHA-256, as its
 * appendix B.2 does), `label` telling apart the GUIDs of one disk: the same on every machine for
 * the same bytes, another for other bytes.
 */
export function derivedGuid(label: string, bytes: Uint8Array): string {
  const b = createHash('sha256').update(`harvgen gpt ${label}\0`).update(bytes).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80; // version 8
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`.toUpperCase();
}

/**
 * The protective MBR's partition record and signature (5.2.3, tables 5-3 and 5-4): one record of
 * type 0xEE from LBA 1 to the end of the disk (0xFFFFFFFF past 2 TiB), the other three zero; bytes
 * 0-439, the boot code, are the caller's. Its boot indicator is 0 (not bootable), as 5.2.3 sets it.
 */
export function writeProtectiveMbr(image: Uint8Array): void {
  const blocks = image.byteLength / GPT_BLOCK;
  const v = new DataView(image.buffer, image.byteOffset, GPT_BLOCK);
  v.setUint32(440, 0, true); // UniqueMBRDiskSignature: unused
  v.setUint16(444, 0, true); // Unknown
  image.fill(0, 446, 510);
  // BootIndicator 0, StartingCHS 0x000200, OSType 0xEE, EndingCHS 0xFFFFFF.
  image.set([0x00, 0x00, 0x02, 0x00, PROTECTIVE_TYPE, 0xff, 0xff, 0xff], 446);
  v.setUint32(446 + 8, 1, true); // StartingLBA
  v.setUint32(446 + 12, Math.min(blocks - 1, 0xffffffff), true); // SizeInLBA
  image[510] = 0x55;
  image[511] = 0xaa;
}

/** The last block a partition may use (5.3.1): before the backup entry array. */
export function gptLastUsable(blocks: number): number {
  return blocks - GPT_TAIL_BLOCKS - 1;
}

/**
 * Both headers and both entry arrays of `o` into `image` (a whole number of blocks, the disk
 * itself): the primary at LBA 1 and 2-33, the backup at the end (5.3.1). Each partition must lie
 * in the usable blocks, apart from every other; the protective MBR is writeProtectiveMbr's.
 */
export function writeGpt(image: Uint8Array, o: GptOptions): void {
  if (image.byteLength % GPT_BLOCK !== 0) throw new Error(`gpt: a disk of ${image.byteLength} bytes is not whole ${GPT_BLOCK}-byte blocks`);
  const blocks = image.byteLength / GPT_BLOCK;
  const lastUsable = gptLastUsable(blocks);
  if (o.partitions.length > ENTRIES) throw new Error(`gpt: ${o.partitions.length} partitions, more than ${ENTRIES}`);
  checkPlacement(o.partitions, lastUsable);
  const entries = new Uint8Array(ENTRIES * ENTRY_SIZE);
  for (const [i, p] of o.partitions.entries()) writeEntry(entries.subarray(i * ENTRY_SIZE, (i + 1) * ENTRY_SIZE), p);
  const entriesCrc = crc32(entries);
  const backupEntries = blocks - 1 - GPT_ENTRY_BLOCKS;
  const header = (my: number, alternate: number, entriesAt: number): void => {
    const at = my * GPT_BLOCK;
    const h = image.subarray(at, at + GPT_BLOCK);
    h.fill(0);
    const v = new DataView(image.buffer, image.byteOffset + at, GPT_BLOCK);
    for (let i = 0; i < SIGNATURE.length; i++) h[i] = SIGNATURE.charCodeAt(i);
    v.setUint32(8, REVISION, true);
    v.setUint32(12, HEADER_SIZE, true);
    // 16: HeaderCRC32, computed last over the header with this field zero; 20: Reserved, zero.
    v.setBigUint64(24, BigInt(my), true); // MyLBA
    v.setBigUint64(32, BigInt(alternate), true); // AlternateLBA
    v.setBigUint64(40, BigInt(GPT_FIRST_USABLE), true); // FirstUsableLBA
    v.setBigUint64(48, BigInt(lastUsable), true); // LastUsableLBA
    h.set(guidBytes(o.diskGuid), 56); // DiskGUID
    v.setBigUint64(72, BigInt(entriesAt), true); // PartitionEntryLBA
    v.setUint32(80, ENTRIES, true); // NumberOfPartitionEntries
    v.setUint32(84, ENTRY_SIZE, true); // SizeOfPartitionEntry
    v.setUint32(88, entriesCrc, true); // PartitionEntryArrayCRC32
    v.setUint32(16, crc32(h.subarray(0, HEADER_SIZE)), true);
    image.set(entries, entriesAt * GPT_BLOCK);
  };
  header(1, blocks - 1, 2);
  header(blocks - 1, 1, backupEntries);
}

/** Every partition inside the usable blocks, none overlapping another, and distinct GUIDs. */
function checkPlacement(partitions: readonly GptPartition[], lastUsable: number): void {
  const sorted = [...partitions].sort((a, b) => a.firstLba - b.firstLba);
  for (const [i, p] of sorted.entries()) {
    if (!Number.isSafeInteger(p.firstLba) || !Number.isSafeInteger(p.lastLba) || p.firstLba > p.lastLba)
      throw new Error(`gpt: partition ${p.name} has blocks ${p.firstLba}-${p.lastLba}`);
    if (p.firstLba < GPT_FIRST_USABLE || p.lastLba > lastUsable)
      throw new Error(
        `gpt: partition ${p.name} (${p.firstLba}-${p.lastLba}) is outside the usable blocks ${GPT_FIRST_USABLE}-${lastUsable}`,
      );
    const before = sorted[i - 1];
    if (before && before.lastLba >= p.firstLba) throw new Error(`gpt: partitions ${before.name} and ${p.name} overlap`);
  }
  const guids = new Set(partitions.map((p) => p.guid.toUpperCase()));
  if (guids.size !== partitions.length) throw new Error('gpt: two partitions have one GUID');
}

/** 5.3.3, table 5-6: type GUID, unique GUID, first and last LBA, attributes (none), name in UTF-16LE. */
function writeEntry(e: Uint8Array, p: GptPartition): void {
  if (p.name.length > 36) throw new Error(`gpt: partition name ${JSON.stringify(p.name)} is longer than 36`);
  const v = new DataView(e.buffer, e.byteOffset, ENTRY_SIZE);
  e.set(guidBytes(p.type), 0);
  e.set(guidBytes(p.guid), 16);
  v.setBigUint64(32, BigInt(p.firstLba), true);
  v.setBigUint64(40, BigInt(p.lastLba), true);
  v.setBigUint64(48, 0n, true);
  for (let i = 0; i < p.name.length; i++) v.setUint16(56 + 2 * i, p.name.charCodeAt(i), true);
}
