/**
 * The USB image as a strict UEFI firmware sees it (test/real/media.test.ts): OVMF reads El Torito
 * from a disk too (EDK2's PartitionDxe, ElTorito.c, takes any block size that divides 2048), so
 * it would boot the image's FAT image through its El Torito entry whatever its partition tables
 * say. A firmware that finds the EFI system partition in a GPT alone does not; to be that
 * firmware, the copy's Boot Record names no El Torito (one letter of its identifier changed), and
 * OVMF finds the EFI system partition through the GPT or not at all. The mutations of the GPT:
 * both headers' CRCs wrong, or the MBR's protective record gone.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.ts';

export type StrictUsb = 'gpt' | 'bad-gpt-crc' | 'no-protective-mbr';

const BOOT_RECORD = 17 * 2048; // the El Torito Boot Record, right after the Primary Volume Descriptor

/** A copy of the USB image `img` with its El Torito entry hidden, and the GPT mutation of `how`. */
export async function strictUsbImage(img: string, how: StrictUsb): Promise<string> {
  const bytes = await readFile(img);
  const id = 'EL TORITO SPECIFICATION';
  if (bytes.toString('latin1', BOOT_RECORD + 7, BOOT_RECORD + 7 + id.length) !== id)
    throw new Error(`${img}: no El Torito Boot Record at block 17`);
  bytes.write('X', BOOT_RECORD + 7, 'latin1');
  if (bytes.toString('latin1', 512, 520) !== 'EFI PART') throw new Error(`${img}: no GPT header at LBA 1`);
  if (how === 'bad-gpt-crc') for (const crc of [512 + 16, bytes.byteLength - 512 + 16]) bytes[crc] = bytes[crc]! ^ 0x01;
  if (how === 'no-protective-mbr') bytes.fill(0, 446, 510);
  const out = path.join(tempDir(`media-usb-${how}`), path.basename(img));
  await writeFile(out, bytes);
  return out;
}
