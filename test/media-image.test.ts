// The boot media writers (src/formats/fat.ts, src/formats/iso9660.ts), read back by small readers
// of this file written from the specifications, not from the writers: every file comes back as it
// went in, the El Torito catalog and the boot info table hold what firmware and ISOLINUX read,
// and the same input gives the same bytes. test/real/media-image.test.ts has xorriso, isoinfo,
// fsck.fat and mtools read the same images.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fatImage, type ImageFile } from '../src/formats/fat.ts';
import { isoImage, type IsoOptions } from '../src/formats/iso9660.ts';
import { prng } from './helpers/prng.ts';

function bytes(n: number, seed: number): Uint8Array {
  const r = prng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}
const u16 = (b: Uint8Array, o: number, le = true): number => new DataView(b.buffer, b.byteOffset).getUint16(o, le);
const u32 = (b: Uint8Array, o: number, le = true): number => new DataView(b.buffer, b.byteOffset).getUint32(o, le);
const str = (b: Uint8Array, o: number, n: number): string => String.fromCharCode(...b.subarray(o, o + n));
/** ECMA-119 7.2.3 / 7.3.3: a both-byte-order number, whose halves must agree. */
function both(b: Uint8Array, o: number, size: 2 | 4): number {
  const [le, be] = size === 2 ? [u16(b, o), u16(b, o + 2, false)] : [u32(b, o), u32(b, o + 4, false)];
  assert.is(le, be, `both-endian field at ${o}: little ${le} big ${be}`);
  return le;
}

// --- FAT reader (fatgen103) ------------------------------------------------------------------

interface FatRead {
  fatBits: number;
  clusters: number;
  label: string;
  rootLabel: string;
  files: Map<string, Uint8Array>;
}

function readFat(img: Uint8Array): FatRead {
  assert.is(u16(img, 11), 512, 'BPB_BytsPerSec');
  assert.is(img[21], 0xf8, 'BPB_Media');
  assert.is(img[16], 2, 'BPB_NumFATs');
  assert.equal([img[510], img[511]], [0x55, 0xaa], 'boot sector signature');
  const [spc, reserved, rootEntries, tot16, fatSz, tot32] = [
    img[13]!,
    u16(img, 14),
    u16(img, 17),
    u16(img, 19),
    u16(img, 22),
    u32(img, 32),
  ];
  assert.ok(tot16 === 0 ? tot32 >= 0x10000 : tot32 === 0 && tot16 < 0x10000, `total sectors: 16-bit ${tot16}, 32-bit ${tot32}`);
  assert.is((tot16 || tot32) * 512, img.length, 'total sectors give the image size');
  const rootAt = (reserved + 2 * fatSz) * 512;
  const dataAt = rootAt + Math.ceil((rootEntries * 32) / 512) * 512;
  const clusters = Math.floor((img.length - dataAt) / 512 / spc);
  const fatBits = clusters < 4085 ? 12 : 16; // fatgen103 "FAT Type Determination"
  assert.ok(clusters < 65525, 'not a FAT32 cluster count');
  assert.is(str(img, 54, 8), `FAT${fatBits}   `, 'BS_FilSysType');
  const fat = img.subarray(reserved * 512, (reserved + fatSz) * 512);
  assert.ok(Buffer.from(fat).equals(img.subarray((reserved + fatSz) * 512, rootAt)), 'the two FATs are equal');
  assert.ok((clusters + 2) * fatBits <= fat.length * 8, 'the FAT holds every cluster');
  const entry = (n: number): number =>
    fatBits === 16 ? u16(fat, 2 * n) : n % 2 === 0 ? u16(fat, n + (n >> 1)) & 0xfff : u16(fat, n + (n >> 1)) >> 4;
  const eoc = fatBits === 12 ? 0xff8 : 0xfff8;
  assert.is(entry(0), ((eoc | 0xf) & ~0xff) | 0xf8, 'FAT[0] holds the media byte');
  assert.ok(entry(1) >= eoc, 'FAT[1] is an end-of-chain mark');
  const clusterBytes = spc * 512;
  /** A chain's clusters; `size` (a file's) fixes how many there must be, a directory's ends at its mark. */
  const chain = (first: number, size?: number): Uint8Array => {
    const parts: Uint8Array[] = [];
    for (let c = first; c !== 0 && c < eoc; c = entry(c)) {
      assert.ok(c >= 2 && c < clusters + 2 && parts.length <= clusters, `cluster ${c} in range, no loop`);
      parts.push(img.subarray(dataAt + (c - 2) * clusterBytes, dataAt + (c - 1) * clusterBytes));
    }
    if (size !== undefined) assert.is(parts.length, Math.ceil(size / clusterBytes), 'chain length');
    return Buffer.concat(parts);
  };
  const files = new Map<string, Uint8Array>();
  let rootLabel = '';
  const walk = (dir: Uint8Array, prefix: string, own: number, parent: number): void => {
    const names: string[] = [];
    // A long name's entries, last part first (fatgen103 "FAT Long Directory Entries"), before its short entry.
    let long: { parts: string[]; sum: number; next: number } | undefined;
    for (let o = 0; o + 32 <= dir.length && dir[o] !== 0; o += 32) {
      const [name, attr, cluster, size] = [str(dir, o, 11), dir[o + 11]!, u16(dir, o + 26), u32(dir, o + 28)];
      if (attr === 0x0f) {
        const ord = dir[o]!;
        assert.equal([dir[o + 12], u16(dir, o + 26)], [0, 0], 'LDIR_Type and LDIR_FstClusLO are 0');
        if (ord & 0x40) long = { parts: [], sum: dir[o + 13]!, next: ord & 0x3f };
        assert.ok(long && (ord & 0x3f) === long.next && dir[o + 13] === long.sum, `long-name entry ${ord} in order, one checksum`);
        const units = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30].map((k) => u16(dir, o + k));
        const end = units.indexOf(0);
        if (end >= 0)
          assert.ok(
            units.slice(end + 1).every((u) => u === 0xffff),
            'padded with 0xFFFF after the 0x0000',
          );
        long!.parts.unshift(String.fromCharCode(...(end >= 0 ? units.slice(0, end) : units)));
        long!.next--;
        continue;
      }
      assert.equal([u16(dir, o + 16), u16(dir, o + 24), u16(dir, o + 22)], [0x21, 0x21, 0], `${name}: dated 1980-01-01 00:00`);
      let longName: string | undefined;
      if (long) {
        let sum = 0;
        for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + name.charCodeAt(i)) & 0xff;
        assert.equal([long.next, long.sum], [0, sum], `${name}: its long name is whole and its checksum is the short name's`);
        longName = long.parts.join('');
        long = undefined;
      }
      if (attr === 0x08) rootLabel = name;
      else if (name === '.          ') assert.is(cluster, own, `${prefix}.`);
      else if (name === '..         ') assert.is(cluster, parent, `${prefix}..`);
      else {
        names.push(name);
        const path = prefix + (longName ?? name.slice(0, 8).trimEnd() + (name.slice(8).trim() ? `.${name.slice(8).trimEnd()}` : ''));

        if (attr & 0x10) walk(chain(cluster), `${path}/`, cluster, own);
        else files.set(path, chain(cluster, size).subarray(0, size));
      }
    }
    assert.equal(names, [...names].sort(), `${prefix}: entries in sorted order`);
    assert.is(new Set(names).size, names.length, `${prefix}: short names are unique`);
    assert.is(long, undefined, `${prefix}: no long name without its short entry`);
  };
  walk(img.subarray(rootAt, dataAt), '', 0, 0);
  return { fatBits, clusters, label: str(img, 43, 11), rootLabel, files };
}

// --- ISO 9660 reader (ECMA-119, El Torito 1.0) -------------------------------------------------

interface IsoRead {
  volumeId: string;
  files: Map<string, { lba: number; bytes: Uint8Array }>;
  bootRecord: boolean;
  catalog: Uint8Array | undefined;
}

function readIso(img: Uint8Array): IsoRead {
  const block = (n: number): Uint8Array => img.subarray(n * 2048, (n + 1) * 2048);
  assert.is(img.length % 2048, 0, 'whole blocks');
  assert.ok(
    img.subarray(0, 16 * 2048).every((b) => b === 0),
    'the system area is zero',
  );
  const pvd = block(16);
  assert.equal([pvd[0], str(pvd, 1, 5), pvd[6], pvd[881]], [1, 'CD001', 1, 1], 'a Primary Volume Descriptor');
  assert.is(both(pvd, 80, 4), img.length / 2048, 'volume space size');
  assert.equal([both(pvd, 120, 2), both(pvd, 124, 2), both(pvd, 128, 2)], [1, 1, 2048]);
  assert.is(str(pvd, 574, 128).trimEnd(), 'HARVGEN', 'application identifier');
  assert.is(str(pvd, 190, 128 * 3).trim(), '', 'volume set, publisher and preparer are blank');
  for (const o of [813, 830, 847, 864]) assert.equal([str(pvd, o, 16), pvd[o + 16]], ['0'.repeat(16), 0], 'date not specified');
  let catalog: Uint8Array | undefined;
  let n = 17;
  for (; block(n)[0] !== 255; n++) {
    const vd = block(n);
    assert.equal([vd[0], str(vd, 1, 5), str(vd, 7, 32)], [0, 'CD001', 'EL TORITO SPECIFICATION'.padEnd(32, '\0')], `descriptor ${n}`);
    catalog = block(u32(vd, 0x47));
  }
  assert.equal([str(block(n), 1, 5), block(n)[6]], ['CD001', 1], 'the set terminator');
  const files = new Map<string, { lba: number; bytes: Uint8Array }>();
  const dirs: { id: string; lba: number; parent: number }[] = [];
  const walk = (lba: number, size: number, prefix: string, parentLba: number): void => {
    const ext = img.subarray(lba * 2048, lba * 2048 + size);
    const records: { id: string; lba: number; size: number; dir: boolean }[] = [];
    for (let o = 0; o < ext.length;) {
      const len = ext[o]!;
      if (len === 0) {
        o = (Math.floor(o / 2048) + 1) * 2048;
        continue;
      }
      assert.ok((o % 2048) + len <= 2048, 'a record stays in its block');
      assert.equal([...ext.subarray(o + 18, o + 25)], [70, 1, 1, 0, 0, 0, 0], 'recorded 1970-01-01');
      assert.is(both(ext, o + 28, 2), 1, 'volume sequence number');
      records.push({
        id: str(ext, o + 33, ext[o + 32]!),
        lba: both(ext, o + 2, 4),
        size: both(ext, o + 10, 4),
        dir: (ext[o + 25]! & 2) !== 0,
      });
      o += len;
    }
    const [self, parent, ...rest] = records;
    assert.equal([self?.id, self?.lba, parent?.id, parent?.lba], ['\0', lba, '\x01', parentLba], `${prefix}: . and ..`);
    assert.equal(
      rest.map((r) => r.id),
      [...rest.map((r) => r.id)].sort(),
      `${prefix}: records in order`,
    );
    for (const r of rest) {
      if (r.dir) {
        dirs.push({ id: r.id, lba: r.lba, parent: lba });
      } else {
        assert.match(r.id, /^[A-Z0-9_]*\.[A-Z0-9_]*;1$/, 'a level 2 file identifier');
        files.set(prefix + r.id.replace(/;1$/, ''), { lba: r.lba, bytes: img.subarray(r.lba * 2048, r.lba * 2048 + r.size) });
      }
    }
    for (const r of rest) if (r.dir) walk(r.lba, r.size, `${prefix}${r.id}/`, lba);
  };
  const rootLba = both(pvd, 158, 4);
  walk(rootLba, both(pvd, 166, 4), '', rootLba);
  checkPathTables(img, pvd, rootLba, dirs);
  return { volumeId: str(pvd, 40, 32).trimEnd(), files, bootRecord: catalog !== undefined, catalog };
}

/** ECMA-119 9.4: both path tables list every directory with its extent and parent number. */
function checkPathTables(img: Uint8Array, pvd: Uint8Array, rootLba: number, dirs: { id: string; lba: number; parent: number }[]): void {
  const size = both(pvd, 132, 4);
  const read = (at: number, le: boolean): string[] => {
    const out: string[] = [];
    const lbas: number[] = [];
    for (let o = at; o < at + size;) {
      const len = img[o]!;
      const lba = u32(img, o + 2, le);
      lbas.push(lba);
      out.push(`${str(img, o + 8, len)}@${lba}^${lbas[u16(img, o + 6, le) - 1]}`);
      o += 8 + len + (len % 2);
    }
    return out;
  };
  const expected = [`\0@${rootLba}^${rootLba}`, ...dirs.map((d) => `${d.id}@${d.lba}^${d.parent}`)].sort();
  assert.equal([...read(u32(pvd, 140) * 2048, true)].sort(), expected, 'type L path table');
  assert.equal([...read(u32(pvd, 148, false) * 2048, false)].sort(), expected, 'type M path table');
}

interface Entry {
  indicator: number;
  media: number;
  segment: number;
  sectors: number;
  lba: number;
}
const entryAt = (c: Uint8Array, o: number): Entry => ({
  indicator: c[o]!,
  media: c[o + 1]!,
  segment: u16(c, o + 2),
  sectors: u16(c, o + 6),
  lba: u32(c, o + 8),
});

/** El Torito 2.1: the validation entry; returns its platform. */
function validation(c: Uint8Array): number {
  assert.equal([c[0], c[30], c[31]], [1, 0x55, 0xaa], 'validation entry header and key bytes');
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum += u16(c, i);
  assert.is(sum & 0xffff, 0, 'the validation entry words sum to 0');
  return c[1]!;
}

// --- fixtures ---------------------------------------------------------------------------------

const EFI_BINARY = bytes(700 * 1024, 1);
const efiFat = fatImage([
  { path: 'EFI/BOOT/BOOTX64.EFI', bytes: EFI_BINARY },
  { path: 'EFI/BOOT/grub.cfg', bytes: new TextEncoder().encode('set timeout=0\n') },
]);
const FILES: ImageFile[] = [
  { path: 'isolinux/isolinux.bin', bytes: bytes(38 * 1024 + 2, 2) },
  { path: 'isolinux/ldlinux.c32', bytes: bytes(120 * 1024, 3) },
  { path: 'isolinux/isolinux.cfg', bytes: new TextEncoder().encode('default ipxe\nlabel ipxe\n  kernel ipxe.lkrn\n') },
  { path: 'isolinux/ipxe.lkrn', bytes: bytes(300 * 1024, 4) },
  { path: 'isolinux/node.ipxe', bytes: new TextEncoder().encode('#!ipxe\nchain http://boot/x\n') },
  { path: 'efi.img', bytes: efiFat },
];
const BOTH: IsoOptions = {
  volumeId: 'HARVGEN_NODE1',
  files: FILES,
  biosBoot: { path: 'isolinux/isolinux.bin' },
  efiBoot: { path: 'efi.img' },
};
const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(b);
/** The UEFI entry's sector count: the image's whole 2048-byte blocks, as mkisofs and xorriso count. */
const efiSectors = Math.ceil(efiFat.length / 2048) * 4;

// --- FAT ---------------------------------------------------------------------------------------

test('a FAT image gives back every file, under its upper-case 8.3 name, and its label', () => {
  const r = readFat(efiFat);
  assert.equal([...r.files.keys()], ['EFI/BOOT/BOOTX64.EFI', 'EFI/BOOT/GRUB.CFG']);
  assert.ok(eq(r.files.get('EFI/BOOT/BOOTX64.EFI')!, EFI_BINARY), 'BOOTX64.EFI read back');
  assert.equal([r.label, r.rootLabel], ['HARVGEN    ', 'HARVGEN    ']);
  assert.is(r.fatBits, 12);
  assert.ok(efiFat.length < EFI_BINARY.length + 16 * 1024, `as small as fits: ${efiFat.length} bytes`);
  const small = readFat(
    fatImage(
      [
        { path: 'A.TXT', bytes: new Uint8Array(3) },
        { path: 'EMPTY', bytes: new Uint8Array(0) },
      ],
      { label: 'esp' },
    ),
  );
  assert.equal([small.label, small.rootLabel], ['ESP        ', 'ESP        ']);
  assert.equal(
    [...small.files].map(([k, v]) => [k, [...v]]),
    [
      ['A.TXT', [0, 0, 0]],
      ['EMPTY', []],
    ],
  );
});

test('the cluster count decides FAT12 or FAT16, away from the boundary, and files up to 8 MiB fit', () => {
  const big = bytes(8 * 1024 * 1024, 5);
  const r = readFat(fatImage([{ path: 'EFI/BOOT/BOOTX64.EFI', bytes: big }]));
  assert.ok(eq(r.files.get('EFI/BOOT/BOOTX64.EFI')!, big));
  // Files of one cluster each, 4200 of them, and 3830 in 8 directories: 4078 clusters of 512
  // bytes, just under the FAT12 limit, so raised to FAT16's (each is smallest at 512-byte clusters).
  const many = Array.from({ length: 4200 }, (_, i) => ({ path: `D${i % 9}/F${i}.BIN`, bytes: bytes(20 + (i % 50), i) }));
  const near = Array.from({ length: 3830 }, (_, i) => ({ path: `D${i % 8}/F${i}`, bytes: Uint8Array.of(i & 0xff) }));
  for (const files of [many, near]) {
    const m = readFat(fatImage(files));
    assert.is(m.fatBits, 16, `${m.clusters} clusters`);
    assert.ok(m.clusters >= 4085 + 16, `FAT16 stays 16 clusters above the limit: ${m.clusters}`);
    assert.is(m.files.size, files.length);
    for (const f of files) assert.ok(eq(m.files.get(f.path)!, f.bytes), f.path);
  }
  for (const img of [efiFat, fatImage([{ path: 'X.BIN', bytes: bytes(5000, 6) }])]) assert.ok(readFat(img).clusters <= 4085 - 16);
});

test('a FAT image of 32 MiB or more counts its sectors in the 32-bit field', () => {
  const img = fatImage([{ path: 'BIG.BIN', bytes: new Uint8Array(40 * 1024 * 1024).fill(7) }]);
  assert.is(u16(img, 19), 0);
  assert.is(u32(img, 32) * 512, img.length);
  assert.is(readFat(img).files.get('BIG.BIN')!.length, 40 * 1024 * 1024);
});

test('the same files give the same FAT bytes, and other files other bytes and another serial', () => {
  const again = fatImage([
    { path: 'EFI/BOOT/grub.cfg', bytes: new TextEncoder().encode('set timeout=0\n') },
    { path: 'EFI/BOOT/BOOTX64.EFI', bytes: EFI_BINARY },
  ]);
  assert.ok(eq(again, efiFat), 'input order does not matter');
  const other = fatImage([{ path: 'EFI/BOOT/BOOTX64.EFI', bytes: EFI_BINARY.map((b, i) => (i === 5 ? b ^ 1 : b)) }]);
  assert.not.ok(eq(other, efiFat));
  assert.is.not(u32(other, 39), u32(efiFat, 39), 'volume serial');
});

test('a name that is not 8.3 keeps its case in long-name entries, with a unique short alias', () => {
  const files = [
    { path: 'autoexec.ipxe', bytes: new TextEncoder().encode('#!ipxe\n') },
    { path: 'EFI/BOOT/BOOTX64.EFI', bytes: EFI_BINARY },
    { path: 'EFI/BOOT/longer name with spaces.txt', bytes: new Uint8Array(3) },
    { path: 'EFI/BOOT/longer-name-2.txt', bytes: new Uint8Array(4) },
    { path: 'Mixed.Case.Dir/a.b.c', bytes: new Uint8Array(5) },
    { path: 'x'.repeat(255), bytes: new Uint8Array(6) },
  ];
  const img = fatImage(files);
  const r = readFat(img);
  assert.equal([...r.files.keys()].sort(), files.map((f) => f.path).sort());
  for (const f of files) assert.ok(eq(r.files.get(f.path)!, f.bytes), f.path);
  // The short entry of autoexec.ipxe is its alias; an 8.3 name (BOOTX64.EFI) has no long entries.
  const text = Buffer.from(img).toString('latin1');
  assert.ok(text.includes('AUTOEX~1IPX'), 'alias AUTOEX~1.IPX');
  assert.ok(text.includes('LONGER~1TXT') && text.includes('LONGER~2TXT'), 'two aliases of one basis get ~1 and ~2');
  assert.ok(eq(fatImage([...files].reverse()), img), 'the same bytes whatever the input order');
});

test('a name no FAT image can hold, a duplicate (in any case) or a file used as a directory is refused', () => {
  for (const path of ['A/./B', 'A//B', 'X.', '.X', 'É.TXT', 'A:B', 'A*B', 'A\\B', 'x'.repeat(256), 'TAB\t.TXT'])
    assert.throws(() => fatImage([{ path, bytes: new Uint8Array(1) }]), /not a name a FAT image can hold/, path);
  for (const [a, b] of [
    ['A.TXT', 'a.txt'],
    ['autoexec.ipxe', 'AUTOEXEC.IPXE'],
  ])
    assert.throws(
      () =>
        fatImage([
          { path: a!, bytes: new Uint8Array(1) },
          { path: b!, bytes: new Uint8Array(1) },
        ]),
      /twice/,
    );
  assert.throws(
    () =>
      fatImage([
        { path: 'A', bytes: new Uint8Array(1) },
        { path: 'A/B', bytes: new Uint8Array(1) },
      ]),
    /through a file/,
  );
  assert.throws(() => fatImage([], { label: 'TWELVE CHARS' }), /label/);
});

// --- ISO 9660 ----------------------------------------------------------------------------------

const iso = isoImage(BOTH);

test('an ISO image gives back every file under its upper-case ISO 9660 name', () => {
  const r = readIso(iso);
  assert.is(r.volumeId, 'HARVGEN_NODE1');
  assert.equal([...r.files.keys()].sort(), FILES.map((f) => f.path.toUpperCase()).sort());
  for (const f of FILES) {
    const back = r.files.get(f.path.toUpperCase())!.bytes;
    // The boot file differs only in its boot info table (bytes 8 to 63), checked below.
    if (f.path.endsWith('isolinux.bin'))
      assert.ok(eq(back.subarray(64), f.bytes.subarray(64)) && eq(back.subarray(0, 8), f.bytes.subarray(0, 8)));
    else assert.ok(eq(back, f.bytes), f.path);
  }
  const efi = readFat(r.files.get('EFI.IMG')!.bytes);
  assert.ok(eq(efi.files.get('EFI/BOOT/BOOTX64.EFI')!, EFI_BINARY), 'the FAT image inside the ISO');
});

test('the El Torito catalog has a BIOS default entry and a final UEFI section for the FAT image', () => {
  const r = readIso(iso);
  const c = r.catalog!;
  assert.is(validation(c), 0, 'validation entry platform: x86');
  const bin = r.files.get('ISOLINUX/ISOLINUX.BIN')!;
  assert.equal(entryAt(c, 32), { indicator: 0x88, media: 0, segment: 0, sectors: 4, lba: bin.lba });
  assert.is(c[36], 0, 'system type');
  assert.equal([c[64], c[65], u16(c, 66)], [0x91, 0xef, 1], 'final section header, platform EFI, one entry');
  const img = r.files.get('EFI.IMG')!;
  assert.equal(entryAt(c, 96), { indicator: 0x88, media: 0, segment: 0, sectors: efiSectors, lba: img.lba });
  assert.ok(
    c.subarray(128).every((b) => b === 0),
    'nothing after the last entry',
  );
  assert.ok(!r.files.has('BOOT.CAT'), 'the catalog is not a file of the tree');
});

test('with only a UEFI entry the default entry is the FAT image and the platform is EFI', () => {
  const r = readIso(isoImage({ volumeId: 'ONLYEFI', files: [FILES[5]!], efiBoot: { path: 'EFI.IMG' } }));
  const c = r.catalog!;
  assert.is(validation(c), 0xef);
  assert.equal(entryAt(c, 32), { indicator: 0x88, media: 0, segment: 0, sectors: efiSectors, lba: r.files.get('EFI.IMG')!.lba });
  assert.ok(
    c.subarray(64).every((b) => b === 0),
    'no section header',
  );
});

test('a UEFI image too large for the 16-bit sector count gets 0 (the rest of the medium)', () => {
  const huge = new Uint8Array(65536 * 512);
  const r = readIso(isoImage({ volumeId: 'HUGE', files: [{ path: 'efi.img', bytes: huge }], efiBoot: { path: 'efi.img' } }));
  assert.is(entryAt(r.catalog!, 32).sectors, 0);
});

test('the ISOLINUX boot file carries a boot info table with its location, length and checksum', () => {
  const r = readIso(iso);
  const { lba, bytes: bin } = r.files.get('ISOLINUX/ISOLINUX.BIN')!;
  const original = FILES[0]!.bytes;
  let sum = 0;
  const padded = new Uint8Array(Math.ceil(original.length / 4) * 4);
  padded.set(original);
  for (let i = 64; i < padded.length; i += 4) sum = (sum + u32(padded, i)) >>> 0;
  assert.equal([u32(bin, 8), u32(bin, 12), u32(bin, 16), u32(bin, 20)], [16, lba, original.length, sum]);
  assert.ok(
    bin.subarray(24, 64).every((b) => b === 0),
    'reserved bytes 24-63 are zero',
  );
  assert.ok(eq(original, bytes(38 * 1024 + 2, 2)), "the caller's array is not changed");
});

test('the same options give the same ISO bytes, and other options other bytes', () => {
  assert.ok(eq(isoImage(BOTH), iso));
  assert.ok(eq(isoImage({ ...BOTH, files: [...FILES].reverse() }), iso), 'input order does not matter');
  assert.not.ok(eq(isoImage({ ...BOTH, volumeId: 'HARVGEN_NODE2' }), iso));
  const changed = FILES.map((f) =>
    f.path.endsWith('node.ipxe') ? { ...f, bytes: new TextEncoder().encode('#!ipxe\nchain http://boot/y\n') } : f,
  );
  assert.not.ok(eq(isoImage({ ...BOTH, files: changed }), iso));
});

test('an ISO without boot entries has no boot record, and big directories span blocks', () => {
  const files = Array.from({ length: 120 }, (_, i) => ({ path: `dir_${i % 2}/a_rather_long_file_name_${i}.txt`, bytes: bytes(i * 37, i) }));
  const r = readIso(isoImage({ volumeId: 'PLAIN', files: [...files, { path: 'empty.txt', bytes: new Uint8Array(0) }] }));
  assert.not.ok(r.bootRecord);
  for (const f of files) assert.ok(eq(r.files.get(f.path.toUpperCase())!.bytes, f.bytes), f.path);
  assert.is(r.files.get('EMPTY.TXT')!.bytes.length, 0);
  assert.ok(readIso(isoImage({ volumeId: 'ONE', files: [{ path: 'README', bytes: new Uint8Array(1) }] })).files.has('README.'));
  // Given long names first, these records fill 5 blocks; in the order written (9.3) they need 6.
  const mixed = Array.from({ length: 190 }, (_, i) => ({
    path: `d/${String.fromCharCode(65 + (i % 26))}${String(Math.floor(i / 26)).padStart(2, '0')}${i % 2 ? 'X'.repeat(22) : ''}.txt`,
    bytes: bytes(100, i),
  })).sort((a, b) => b.path.length - a.path.length);
  const m = readIso(isoImage({ volumeId: 'MIXED', files: [...mixed, { path: 'e/after.txt', bytes: bytes(5000, 7) }] }));
  for (const f of mixed) assert.ok(eq(m.files.get(f.path.toUpperCase())!.bytes, f.bytes), f.path);
});

test('a name outside ISO 9660 level 2, a bad volume id or a boot path not among the files is refused', () => {
  const one = (path: string): IsoOptions => ({ volumeId: 'X', files: [{ path, bytes: new Uint8Array(1) }] });
  for (const path of ['a-b.txt', 'a.b.c', 'x'.repeat(31) + '.t', 'dir.d/x.txt', 'sp ace.txt', '.', 'a//b.txt', 'a/b/c/d/e/f/g/h/i.txt'])
    assert.throws(() => isoImage(one(path)), /isoImage/, path);
  isoImage(one('a/b/c/d/e/f/g/h.txt')); // seven directories below the root: eight levels
  isoImage(one(`${'x'.repeat(26)}.TXT`)); // 30 characters
  for (const volumeId of ['', 'lower', 'A-B', 'X'.repeat(33)]) assert.throws(() => isoImage({ volumeId, files: [] }), /volume id/);
  assert.throws(() => isoImage({ ...BOTH, biosBoot: { path: 'isolinux/missing.bin' } }), /not one of the files/);
  assert.throws(() => isoImage({ ...BOTH, efiBoot: { path: 'isolinux' } }), /not one of the files|file name/);
  assert.throws(() => isoImage({ ...BOTH, files: [...FILES, { path: 'ISOLINUX/ISOLINUX.BIN', bytes: new Uint8Array(64) }] }), /twice/);
});

test.run();
