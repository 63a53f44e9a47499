// The GPT writer (src/formats/gpt.ts) read back by a reader of this file, with zlib's CRC-32 as the
// second opinion on every checksum. test/real/media-image.test.ts has sgdisk and sfdisk read the
// USB image's GPT; test/real/media.test.ts boots it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { crc32 as zlibCrc32 } from 'node:zlib';
import {
  crc32,
  derivedGuid,
  EFI_SYSTEM_PARTITION,
  GPT_FIRST_USABLE,
  GPT_TAIL_BLOCKS,
  gptLastUsable,
  guidBytes,
  guidText,
  writeGpt,
  writeProtectiveMbr,
  type GptPartition,
} from '../src/formats/gpt.ts';
import { isoImage } from '../src/formats/iso9660.ts';
import { fatImage } from '../src/formats/fat.ts';

const BLOCK = 512;
const DISK = '7E8AC937-A791-8A52-B56C-5F994661C94B';
const ESP: GptPartition = {
  type: EFI_SYSTEM_PARTITION,
  guid: '6649F0D9-9BC1-8281-8511-FE18E5503C86',
  firstLba: 96,
  lastLba: 2063,
  name: 'EFI system partition',
};

interface ReadHeader {
  my: number;
  alternate: number;
  firstUsable: number;
  lastUsable: number;
  disk: string;
  entriesAt: number;
  count: number;
  size: number;
  entriesCrc: number;
  headerCrcOk: boolean;
}

/** A GPT header as UEFI 5.3.2 lays it out, its CRC checked with zlib's. */
function readHeader(image: Uint8Array, lba: number): ReadHeader {
  const at = lba * BLOCK;
  const v = new DataView(image.buffer, image.byteOffset + at, BLOCK);
  assert.is(Buffer.from(image.subarray(at, at + 8)).toString('latin1'), 'EFI PART', `a header at LBA ${lba}`);
  assert.is(v.getUint32(8, true), 0x00010000, 'revision 1.0');
  const size = v.getUint32(12, true);
  const copy = Uint8Array.from(image.subarray(at, at + size));
  copy.fill(0, 16, 20);
  assert.ok(
    image.subarray(at + size, at + BLOCK).every((b) => b === 0),
    'the rest of the block is zero',
  );
  return {
    my: Number(v.getBigUint64(24, true)),
    alternate: Number(v.getBigUint64(32, true)),
    firstUsable: Number(v.getBigUint64(40, true)),
    lastUsable: Number(v.getBigUint64(48, true)),
    disk: guidText(image.subarray(at + 56, at + 72)),
    entriesAt: Number(v.getBigUint64(72, true)),
    count: v.getUint32(80, true),
    size: v.getUint32(84, true),
    entriesCrc: v.getUint32(88, true),
    headerCrcOk: zlibCrc32(copy) === v.getUint32(16, true),
  };
}

/** The used entries of an entry array. */
function readEntries(image: Uint8Array, h: ReadHeader): GptPartition[] {
  const bytes = image.subarray(h.entriesAt * BLOCK, h.entriesAt * BLOCK + h.count * h.size);
  assert.is(zlibCrc32(bytes), h.entriesCrc, 'the entry array CRC');
  const out: GptPartition[] = [];
  for (let i = 0; i < h.count; i++) {
    const e = bytes.subarray(i * h.size, (i + 1) * h.size);
    if (e.subarray(0, 16).every((b) => b === 0)) continue;
    const v = new DataView(e.buffer, e.byteOffset, h.size);
    const name = Buffer.from(e.subarray(56, 128)).toString('utf16le').replace(/\0+$/, '');
    assert.is(v.getBigUint64(48, true), 0n, 'no attributes');
    out.push({
      type: guidText(e.subarray(0, 16)),
      guid: guidText(e.subarray(16, 32)),
      firstLba: Number(v.getBigUint64(32, true)),
      lastLba: Number(v.getBigUint64(40, true)),
      name,
    });
  }
  return out;
}

function disk(blocks: number, partitions: readonly GptPartition[] = [ESP]): Uint8Array {
  const image = new Uint8Array(blocks * BLOCK);
  writeProtectiveMbr(image);
  writeGpt(image, { diskGuid: DISK, partitions });
  return image;
}

test('crc32 is the CRC-32 of ISO 3309 (check value of "123456789"), as zlib computes it', () => {
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const r = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) & 0xff);
  assert.is(crc32(r), zlibCrc32(r));
  assert.is(crc32(new Uint8Array()), 0);
});

test('a GUID is stored with its first three fields little-endian, and read back', () => {
  assert.equal(
    [...guidBytes(EFI_SYSTEM_PARTITION)],
    [0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b],
  );
  assert.is(guidText(guidBytes(DISK.toLowerCase())), DISK);
  assert.throws(() => guidBytes('C12A7328-F81F-11D2-BA4B-00A0C93EC93'), /is not a GUID/);
});

test('a derived GUID is version 8, the same for the same bytes, another for another label or other bytes', () => {
  const a = derivedGuid('disk', Uint8Array.of(1, 2, 3));
  assert.match(a, /^[0-9A-F]{8}-[0-9A-F]{4}-8[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  assert.is(derivedGuid('disk', Uint8Array.of(1, 2, 3)), a);
  assert.is.not(derivedGuid('efi system partition', Uint8Array.of(1, 2, 3)), a);
  assert.is.not(derivedGuid('disk', Uint8Array.of(1, 2, 4)), a);
});

test('the protective MBR has one 0xEE record from LBA 1 to the end, not bootable, and leaves the boot code', () => {
  const image = new Uint8Array(3112 * BLOCK).fill(0x90, 0, 440);
  writeProtectiveMbr(image);
  assert.ok(
    image.subarray(0, 440).every((b) => b === 0x90),
    'the boot code is kept',
  );
  assert.equal([...image.subarray(446, 454)], [0x00, 0x00, 0x02, 0x00, 0xee, 0xff, 0xff, 0xff]);
  const v = new DataView(image.buffer);
  assert.is(v.getUint32(454, true), 1);
  assert.is(v.getUint32(458, true), 3111);
  assert.ok(
    image.subarray(462, 510).every((b) => b === 0),
    'the other three records are empty',
  );
  assert.is(v.getUint16(510, true), 0xaa55);
});

test('the primary header, its entries, the backup entries and the backup header are where UEFI puts them, each CRC right', () => {
  const blocks = 3112;
  const image = disk(blocks);
  const primary = readHeader(image, 1);
  const backup = readHeader(image, blocks - 1);
  assert.ok(primary.headerCrcOk && backup.headerCrcOk, 'both header CRCs');
  assert.equal([primary.my, primary.alternate, primary.entriesAt], [1, blocks - 1, 2]);
  assert.equal([backup.my, backup.alternate, backup.entriesAt], [blocks - 1, 1, blocks - GPT_TAIL_BLOCKS]);
  for (const h of [primary, backup]) {
    assert.equal([h.firstUsable, h.lastUsable, h.count, h.size, h.disk], [34, blocks - 34, 128, 128, DISK]);
    assert.equal(readEntries(image, h), [ESP]);
  }
  assert.is(gptLastUsable(blocks), blocks - 34);
  assert.is(GPT_FIRST_USABLE, 34);
  // Nothing else written: the blocks between the structures are still zero.
  assert.ok(image.subarray(34 * BLOCK, (blocks - 33) * BLOCK).every((b) => b === 0));
});

test('a partition outside the usable blocks, two that overlap, or a disk not of whole blocks are refused', () => {
  const at = (firstLba: number, lastLba: number, guid = ESP.guid): GptPartition => ({ ...ESP, firstLba, lastLba, guid });
  assert.throws(() => disk(200, [at(33, 40)]), /outside the usable blocks 34-166/);
  assert.throws(() => disk(200, [at(100, 167)]), /outside the usable blocks/);
  assert.throws(() => disk(200, [at(50, 40)]), /has blocks 50-40/);
  assert.throws(() => disk(200, [at(34, 60), at(60, 70, DISK)]), /overlap/);
  assert.throws(() => disk(200, [at(34, 60), at(61, 70)]), /one GUID/);
  assert.throws(() => disk(200, [{ ...ESP, firstLba: 40, lastLba: 50, name: 'x'.repeat(37) }]), /longer than 36/);
  assert.throws(() => writeGpt(new Uint8Array(200 * BLOCK + 1), { diskGuid: DISK, partitions: [] }), /not whole 512-byte blocks/);
  assert.equal(
    readEntries(disk(200, [at(34, 60), at(61, 166, DISK)]), readHeader(disk(200, [at(34, 60), at(61, 166, DISK)]), 1)).length,
    2,
  );
});

test("the USB image's GPT names the FAT image's extent as its EFI system partition, with the ISO's blocks around it", () => {
  const fat = fatImage([{ path: 'EFI/BOOT/BOOTX64.EFI', bytes: new Uint8Array(70_000).fill(7) }]);
  const files = [
    { path: 'isolinux/isolinux.bin', bytes: new Uint8Array(4096).fill(1) },
    { path: 'efi.img', bytes: fat },
  ];
  const make = () =>
    isoImage({
      volumeId: 'HARVGEN',
      files,
      biosBoot: { path: 'isolinux/isolinux.bin' },
      efiBoot: { path: 'efi.img' },
      hybrid: { mbr: new Uint8Array(432).fill(0x33) },
    });
  const image = make();
  const blocks = image.byteLength / BLOCK;
  assert.is(image.byteLength % 2048, 0, 'whole ISO blocks');
  assert.is(
    new DataView(image.buffer).getUint32(16 * 2048 + 80, true),
    image.byteLength / 2048,
    "the PVD's volume size is the whole image",
  );
  assert.ok(
    image.subarray(0, 432).every((b) => b === 0x33),
    "ISOLINUX's MBR code",
  );
  assert.is(image[450], 0xee, 'a protective MBR');
  const h = readHeader(image, 1);
  assert.ok(h.headerCrcOk && readHeader(image, blocks - 1).headerCrcOk);
  const [esp, ...rest] = readEntries(image, h);
  assert.equal(rest, []);
  assert.is(esp!.type, EFI_SYSTEM_PARTITION);
  assert.is(esp!.lastLba - esp!.firstLba + 1, fat.byteLength / BLOCK);
  assert.ok(
    Buffer.from(image.subarray(esp!.firstLba * BLOCK, (esp!.lastLba + 1) * BLOCK)).equals(fat),
    'the partition holds the FAT image',
  );
  // The ISO's descriptors (from block 16) are clear of the GPT's first 34 blocks, and its files of the last 33.
  assert.ok(GPT_FIRST_USABLE * BLOCK <= 16 * 2048);
  assert.ok(
    image.subarray((blocks - GPT_TAIL_BLOCKS - 3) * BLOCK, (blocks - GPT_TAIL_BLOCKS) * BLOCK).every((b) => b === 0),
    'free blocks before the backup',
  );
  // Deterministic, and the GUIDs change with the image's files.
  assert.ok(Buffer.from(make()).equals(image), 'the same bytes again');
  files[0] = { path: 'isolinux/isolinux.bin', bytes: new Uint8Array(4096).fill(2) };
  const other = readHeader(make(), 1);
  assert.is.not(other.disk, h.disk);
});

test.run();
