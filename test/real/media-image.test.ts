// Real readers of the boot media writers (src/formats/fat.ts, src/formats/iso9660.ts): fsck.fat
// (dosfstools) finds the FAT images clean and mtools reads their files back; xorriso and isoinfo
// (genisoimage) see the ISO's two El Torito entries where its files are, list and extract those
// files, and xorriso's own -boot-info-table patches ISOLINUX's file as we do. sgdisk, sfdisk and
// fdisk (util-linux) and xorriso read the USB image's GPT: one EFI system partition, the FAT
// image's extent, every CRC right. Booting the image is
// another test's (QEMU, OVMF and SeaBIOS); test/media-image.test.ts reads the same structures
// with readers of its own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fatImage, type ImageFile } from '../../src/formats/fat.ts';
import { isoImage } from '../../src/formats/iso9660.ts';
import { prng } from '../helpers/prng.ts';
import { tempDir } from '../helpers/tmp.ts';
import { requireProgram } from './helpers/programs.ts';
import { mediaLoaders, mediaLoadersAvailable } from './helpers/media-loaders.ts';
import { mediaSite, withMediaNodes } from '../helpers/media.ts';
import { compileSite } from '../../src/index.ts';
import { describe, run, type RunResult } from './helpers/proc.ts';

function bytes(n: number, seed: number): Uint8Array {
  const r = prng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}
const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(b);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function ok(argv: string[]): Promise<RunResult> {
  const r = await run(argv, { timeoutMs: 60_000, env: { ...process.env, LC_ALL: 'C' } });
  assert.is(r.code, 0, describe(r));
  return r;
}

const dir = tempDir('media-image');
const EFI_BINARY = bytes(700 * 1024, 1);
const GRUB_CFG = text('set timeout=0\n');
const efiFat = fatImage([
  { path: 'EFI/BOOT/BOOTX64.EFI', bytes: EFI_BINARY },
  { path: 'EFI/BOOT/GRUB.CFG', bytes: GRUB_CFG },
]);
const FILES: ImageFile[] = [
  { path: 'isolinux/isolinux.bin', bytes: bytes(38 * 1024 + 2, 2) },
  { path: 'isolinux/ldlinux.c32', bytes: bytes(120 * 1024, 3) },
  { path: 'isolinux/isolinux.cfg', bytes: text('default ipxe\nlabel ipxe\n  kernel ipxe.lkrn\n') },
  { path: 'isolinux/ipxe.lkrn', bytes: bytes(300 * 1024, 4) },
  { path: 'isolinux/node.ipxe', bytes: text('#!ipxe\nchain http://boot/x\n') },
  { path: 'efi.img', bytes: efiFat },
];
const iso = isoImage({
  volumeId: 'HARVGEN_NODE1',
  files: FILES,
  biosBoot: { path: 'isolinux/isolinux.bin' },
  efiBoot: { path: 'efi.img' },
});

/** fsck.fat -n: exit 0 and nothing but its version line and the summary. */
async function fsckClean(path: string): Promise<void> {
  const r = await ok(['fsck.fat', '-n', path]);
  assert.match(r.stdout, /^fsck\.fat [^\n]*\n[^\n]*: \d+ files, \d+\/\d+ clusters\n$/, describe(r));
}

test('fsck.fat finds the FAT12 EFI image clean, and mtools reads its files back byte for byte', async () => {
  if (!requireProgram('fsck.fat', 'mdir', 'mtype', 'mcopy')) return;
  const img = join(dir, 'efi.img');
  writeFileSync(img, efiFat);
  await fsckClean(img);
  assert.match((await ok(['fsck.fat', '-n', '-v', img])).stdout, /2 FATs, 12 bit entries/);
  const listing = (await ok(['mdir', '-i', img, '::/EFI/BOOT'])).stdout;
  assert.match(listing, /^BOOTX64\s+EFI\s+716 ?800 1980-01-01\s+0:00/m, listing);
  assert.match(listing, /^GRUB\s+CFG\s+14 1980-01-01/m, listing);
  assert.match((await ok(['mdir', '-i', img, '::/'])).stdout, /Volume in drive : is HARVGEN/);
  assert.is((await ok(['mtype', '-i', img, '::/EFI/BOOT/GRUB.CFG'])).stdout, 'set timeout=0\n');
  await ok(['mcopy', '-n', '-i', img, '::/EFI/BOOT/BOOTX64.EFI', join(dir, 'BOOTX64.EFI')]);
  assert.ok(eq(readFileSync(join(dir, 'BOOTX64.EFI')), EFI_BINARY), 'mcopy gives back BOOTX64.EFI');
});

test('fsck.fat and mtools read a FAT16 image of thousands of files and a FAT12 image of 8 MiB', async () => {
  if (!requireProgram('fsck.fat', 'mcopy')) return;
  const files = Array.from({ length: 3830 }, (_, i) => ({ path: `D${i % 8}/F${i}.BIN`, bytes: bytes(1 + (i % 300), i) }));
  const img = join(dir, 'fat16.img');
  writeFileSync(img, fatImage(files));
  assert.match((await ok(['fsck.fat', '-n', '-v', img])).stdout, /2 FATs, 16 bit entries/);
  await fsckClean(img);
  const out = join(dir, 'fat16');
  mkdirSync(out);
  await ok(['mcopy', '-s', '-n', '-i', img, '::/D3', out]);
  for (const f of files.filter((f) => f.path.startsWith('D3/'))) assert.ok(eq(readFileSync(join(out, f.path)), f.bytes), f.path);
  const big = bytes(8 * 1024 * 1024, 9);
  const bigImg = join(dir, 'big.img');
  writeFileSync(bigImg, fatImage([{ path: 'EFI/BOOT/BOOTX64.EFI', bytes: big }]));
  await fsckClean(bigImg);
  await ok(['mcopy', '-n', '-i', bigImg, '::/EFI/BOOT/BOOTX64.EFI', join(dir, 'big.efi')]);
  assert.ok(eq(readFileSync(join(dir, 'big.efi')), big), '8 MiB file read back');
});

test('fsck.fat and mtools read long names back with their case, and the short aliases', async () => {
  if (!requireProgram('fsck.fat', 'mdir', 'mtype')) return;
  const script = text('#!ipxe\necho autoexec\n');
  const img = join(dir, 'long.img');
  writeFileSync(
    img,
    fatImage([
      { path: 'EFI/BOOT/BOOTX64.EFI', bytes: EFI_BINARY },
      { path: 'autoexec.ipxe', bytes: script },
      { path: 'Some Dir/longer file name.text', bytes: text('x') },
    ]),
  );
  await fsckClean(img);
  const root = (await ok(['mdir', '-i', img, '::/'])).stdout;
  assert.match(root, /^AUTOEX~1\s+IPX\s+21 1980-01-01\s+0:00\s+autoexec\.ipxe$/m, root);
  assert.match(root, /^SOMEDI~1\s+<DIR>.*Some Dir$/m, root);
  assert.is((await ok(['mtype', '-i', img, '::/autoexec.ipxe'])).stdout, '#!ipxe\necho autoexec\n');
  assert.is((await ok(['mtype', '-i', img, '::/Some Dir/longer file name.text'])).stdout, 'x');
});

/** xorriso's El Torito report: catalog LBA, and per entry its platform, load size and LBA. */
async function elTorito(path: string): Promise<{ catalog: number; entries: string[]; opts: string }> {
  const r = await ok(['xorriso', '-indev', path, '-report_el_torito', 'plain']);
  const catalog = Number(/^El Torito catalog\s*:\s*(\d+)/m.exec(r.stdout)?.[1]);
  const entries = [...r.stdout.matchAll(/^El Torito boot img :\s+(\d+)\s+(\S+)\s+y\s+none\s+0x0000\s+0x00\s+(\d+)\s+(\d+)/gm)].map((m) =>
    m.slice(1).join(' '),
  );
  return { catalog, entries, opts: r.stdout };
}

/** isoinfo -l: each file's path (without `;1`) -> its extent LBA and size. */
async function isoinfoFiles(path: string): Promise<Map<string, { lba: number; size: number }>> {
  const r = await ok(['isoinfo', '-l', '-i', path]);
  const files = new Map<string, { lba: number; size: number }>();
  let at = '';
  for (const line of r.stdout.split('\n')) {
    const d = /^Directory listing of (\/.*)$/.exec(line);
    if (d) at = d[1]!;
    const f = /^-\S*\s+\d+\s+\d+\s+\d+\s+(\d+) .*\[\s*(\d+) 00\]\s+(\S+);1\s*$/.exec(line);
    if (f) files.set(`${at}${f[3]}`, { lba: Number(f[2]), size: Number(f[1]) });
  }
  return files;
}

test('xorriso and isoinfo see the BIOS and UEFI boot entries where ISOLINUX.BIN and EFI.IMG are', async () => {
  if (!requireProgram('xorriso', 'isoinfo')) return;
  const path = join(dir, 'node.iso');
  writeFileSync(path, iso);
  const files = await isoinfoFiles(path);
  assert.equal([...files.keys()].sort(), FILES.map((f) => `/${f.path.toUpperCase()}`).sort());
  for (const f of FILES) assert.is(files.get(`/${f.path.toUpperCase()}`)?.size, f.bytes.length, f.path);
  const bin = files.get('/ISOLINUX/ISOLINUX.BIN')!;
  const efi = files.get('/EFI.IMG')!;
  const report = await elTorito(path);
  assert.equal(report.entries, [`1 BIOS 4 ${bin.lba}`, `2 UEFI ${Math.ceil(efiFat.length / 2048) * 4} ${efi.lba}`], report.opts);
  assert.match(report.opts, /^El Torito img path :\s+1\s+\/ISOLINUX\/ISOLINUX\.BIN$/m);
  assert.match(report.opts, /^El Torito img opts :\s+1\s+boot-info-table/m, 'xorriso recognizes the boot info table');
  assert.match(report.opts, /^El Torito img path :\s+2\s+\/EFI\.IMG$/m);
  const d = (await ok(['isoinfo', '-d', '-i', path])).stdout;
  assert.match(d, /^Volume id: HARVGEN_NODE1$/m);
  assert.match(d, /^Application id: HARVGEN$/m);
  assert.match(d, /^Logical block size is: 2048$/m);
  assert.match(d, new RegExp(`^Volume size is: ${iso.length / 2048}$`, 'm'));
  assert.match(d, new RegExp(`boot catalog is in sector ${report.catalog}\\b`));
  assert.match(d, new RegExp(`Nsect 4\\n\\s+Bootoff ${bin.lba.toString(16)} ${bin.lba}`));
});

test('xorriso and isoinfo extract every file as it went in, and the FAT image inside is clean', async () => {
  if (!requireProgram('xorriso', 'isoinfo', 'fsck.fat', 'mtype')) return;
  const path = join(dir, 'extract.iso');
  writeFileSync(path, iso);
  const out = join(dir, 'extract');
  await ok(['xorriso', '-osirrox', 'on', '-indev', path, '-extract', '/', out]);
  for (const f of FILES) {
    const back = readFileSync(join(out, f.path.toUpperCase()));
    if (f.path.endsWith('isolinux.bin')) assert.ok(eq(back.subarray(64), f.bytes.subarray(64)), f.path);
    else assert.ok(eq(back, f.bytes), f.path);
  }
  assert.is((await ok(['isoinfo', '-i', path, '-x', '/ISOLINUX/NODE.IPXE;1'])).stdout, '#!ipxe\nchain http://boot/x\n');
  await fsckClean(join(out, 'EFI.IMG'));
  assert.is((await ok(['mtype', '-i', join(out, 'EFI.IMG'), '::/EFI/BOOT/GRUB.CFG'])).stdout, 'set timeout=0\n');
});

test("xorriso's own -boot-info-table and catalog agree with ours for the same files", async () => {
  if (!requireProgram('xorriso')) return;
  const tree = join(dir, 'tree');
  for (const f of FILES) {
    mkdirSync(join(tree, f.path, '..'), { recursive: true });
    writeFileSync(join(tree, f.path), f.bytes);
  }
  const theirs = join(dir, 'xorriso.iso');
  await ok([
    'xorriso',
    '-as',
    'mkisofs',
    '-quiet',
    '-o',
    theirs,
    '-V',
    'HARVGEN_NODE1',
    '-b',
    'isolinux/isolinux.bin',
    '-no-emul-boot',
    '-boot-load-size',
    '4',
    '-boot-info-table',
    '-eltorito-alt-boot',
    '-e',
    'efi.img',
    '-no-emul-boot',
    tree,
  ]);
  const ours = join(dir, 'ours.iso');
  writeFileSync(ours, iso);
  const [a, b] = [await elTorito(ours), await elTorito(theirs)];
  const sizes = (r: typeof a): string[] => r.entries.map((e) => e.split(' ').slice(0, 3).join(' '));
  assert.equal(sizes(a), sizes(b), 'the same platforms and sector counts');
  // Our image has ISO 9660 names only; xorriso's has Rock Ridge ones too, in the case given.
  await ok(['xorriso', '-osirrox', 'on', '-indev', ours, '-extract', '/ISOLINUX/ISOLINUX.BIN', join(dir, 'ours.bin')]);
  await ok(['xorriso', '-osirrox', 'on', '-indev', theirs, '-extract', '/isolinux/isolinux.bin', join(dir, 'theirs.bin')]);
  const [mine, xorriso] = [readFileSync(join(dir, 'ours.bin')), readFileSync(join(dir, 'theirs.bin'))];
  // Bytes 12-15 hold the file's own LBA, which differs between the two layouts.
  assert.ok(eq(mine.subarray(0, 12), xorriso.subarray(0, 12)) && eq(mine.subarray(16), xorriso.subarray(16)), 'boot info tables agree');
  assert.is(mine.readUInt32LE(12), Number(a.entries[0]?.split(' ')[3]));
  assert.is(xorriso.readUInt32LE(12), Number(b.entries[0]?.split(' ')[3]));
});

/** The USB image (a hybrid of the same files): ISOLINUX's MBR code stands in as 432 bytes. */
const usb = isoImage({
  volumeId: 'HARVGEN',
  files: FILES,
  biosBoot: { path: 'isolinux/isolinux.bin' },
  efiBoot: { path: 'efi.img' },
  hybrid: { mbr: new Uint8Array(432).fill(0x90) },
});

/** sgdisk -v's verdict: its text, and whether it found the disk clean (it exits 0 either way). */
async function sgdiskVerify(path: string): Promise<{ clean: boolean; text: string }> {
  const r = await ok(['sgdisk', '-v', path]);
  const text = r.stdout + r.stderr;
  // The one caution it may add: the partition (the FAT image's extent) ends on no 32-sector boundary.
  const rest = text.replace(
    /Caution: Partition 1 doesn't end on a 32-sector boundary\. This may\nresult in problems with some disk encryption tools\.\n/,
    '',
  );
  return {
    clean: /^No problems found\. \d+ free sectors/.test(rest.trim()) && !/Warning|Caution|ERROR|Problem|Creating new GPT/.test(rest),
    text,
  };
}

/** sfdisk --json's partition table, and what it said on stderr. */
async function sfdiskTable(path: string): Promise<{ table: Record<string, any>; stderr: string }> {
  const r = await ok(['sfdisk', '--json', path]);
  return { table: (JSON.parse(r.stdout) as { partitiontable: Record<string, any> }).partitiontable, stderr: r.stderr };
}

test("sgdisk finds the USB image's GPT clean, and sfdisk, fdisk and xorriso see its EFI system partition where the FAT image is", async () => {
  if (!requireProgram('sgdisk', 'sfdisk', 'fdisk', 'xorriso', 'isoinfo')) return;
  const path = join(dir, 'usb.img');
  writeFileSync(path, usb);
  const v = await sgdiskVerify(path);
  assert.ok(v.clean, v.text);
  const efi = (await isoinfoFiles(path)).get('/EFI.IMG')!;
  const { table, stderr } = await sfdiskTable(path);
  assert.is(stderr, '');
  assert.is(table.label, 'gpt');
  assert.equal([table.firstlba, table.lastlba, table.sectorsize], [34, usb.length / 512 - 34, 512]);
  assert.is(table.partitions.length, 1, JSON.stringify(table));
  const [p] = table.partitions;
  assert.is(p.type, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  assert.equal([p.start, p.size], [efi.lba * 4, efiFat.length / 512], 'the partition is the FAT image');
  assert.match(p.uuid, /^[0-9A-F]{8}-[0-9A-F]{4}-8/, 'a derived GUID (version 8)');
  const fdisk = (await ok(['fdisk', '-l', path])).stdout;
  assert.match(fdisk, /^Disklabel type: gpt$/m, fdisk);
  assert.match(fdisk, new RegExp(`^${path}1 +${efi.lba * 4} +\\d+ +${efiFat.length / 512} .* EFI System$`, 'm'), fdisk);
  const area = (await ok(['xorriso', '-indev', path, '-report_system_area', 'plain'])).stdout;
  assert.match(area, /^System area summary: MBR .*GPT$/m, area);
  assert.match(area, /^MBR partition +: +1 +0x00 +0xee +1 +\d+$/m, 'a protective MBR');
  assert.match(area, /^GPT partition path : +1 +\/EFI\.IMG$/m, "xorriso maps the partition to the ISO's EFI.IMG");
  assert.match(area, /^GPT type GUID +: +1 +28732ac11ff8d211ba4b00a0c93ec93b$/m);
  // Still the ISO: its El Torito entries and files are where they were.
  assert.equal((await elTorito(path)).entries.length, 2);
});

test('mutation: sgdisk refuses a wrong header CRC or entry array, and sfdisk sees no GPT in the MBR-only image of before', async () => {
  if (!requireProgram('sgdisk', 'sfdisk')) return;
  const mutant = async (name: string, change: (b: Buffer) => void): Promise<string> => {
    const b = Buffer.from(usb);
    change(b);
    const path = join(dir, name);
    writeFileSync(path, b);
    return path;
  };
  const header = await sgdiskVerify(await mutant('crc.img', (b) => (b[512 + 16] = b[512 + 16]! ^ 1)));
  assert.ok(!header.clean && /Main header: ERROR/.test(header.text), header.text);
  const entries = await sgdiskVerify(await mutant('entries.img', (b) => (b[1024 + 32] = b[1024 + 32]! ^ 1)));
  assert.ok(!entries.clean && /Main partition table: ERROR/.test(entries.text), entries.text);
  // The layout of before: an MBR of two partitions (the whole image, active, type 0; the FAT image, 0xEF), no GPT.
  const before = await mutant('mbr-only.img', (b) => {
    const efiSector = b.readUInt32LE(1024 + 32);
    b.fill(0, 512, 34 * 512);
    b.fill(0, b.length - 33 * 512);
    b.fill(0, 440, 510);
    b.set([0x80, 0xfe, 0xff, 0xff, 0x00, 0xfe, 0xff, 0xff], 446);
    b.writeUInt32LE(0, 454);
    b.writeUInt32LE(b.length / 512, 458);
    b.set([0x00, 0xfe, 0xff, 0xff, 0xef, 0xfe, 0xff, 0xff], 462);
    b.writeUInt32LE(efiSector, 470);
    b.writeUInt32LE(efiFat.length / 512, 474);
  });
  assert.is((await sfdiskTable(before)).table.label, 'dos');
  const old = await sgdiskVerify(before);
  assert.match(old.text, /Found invalid GPT and valid MBR|Creating new GPT entries/, old.text);
});

const MiB = 1024 * 1024;

test("the shared USB image with Debian's boot programs: about 1.5 MiB for one node, growing about 1 KiB a node (2.5 MiB at 1,000)", async () => {
  if (!mediaLoadersAvailable()) return;
  const loaders = await mediaLoaders();
  const sizes = new Map<number, number>();
  for (const n of [1, 100, 1000]) {
    const site = mediaSite((d) => ((d.defaults.medium = 'usb'), withMediaNodes(d, n)), tempDir('media-size'), loaders);
    const r = await compileSite(site, { secrets: 'filled' });
    const img = r.artifacts?.find((a) => a.path === 'media/shared.boot.img');
    assert.ok(img, r.diagnostics.map((d) => d.message).join('\n'));
    sizes.set(n, (img!.contents as Uint8Array).byteLength);
  }
  const [one, hundred, thousand] = [sizes.get(1)!, sizes.get(100)!, sizes.get(1000)!];
  const perNode = (thousand - one) / 999;
  const report = `sizes ${JSON.stringify([...sizes])}, ${perNode.toFixed(0)} bytes a node`;
  console.log(`  USB image: ${report}`);
  assert.ok(one > 1.4 * MiB && one < 1.6 * MiB, report);
  assert.ok(hundred > one && hundred < 1.7 * MiB, report);
  assert.ok(thousand > 2.4 * MiB && thousand < 2.6 * MiB, report);
  // The table (MAC, address, gateway, DNS server and script URL of each node) twice: in the ISO's
  // script for BIOS and in the FAT image's autoexec.ipxe for UEFI.
  assert.ok(perNode > 900 && perNode < 1200, report);
});

test.run();
