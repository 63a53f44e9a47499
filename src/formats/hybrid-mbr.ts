// The disk side of a hybrid ISO (an image that is a CD and a disk at once: `medium: usb`), written
// into the ISO's system area and the blocks after its files by src/formats/iso9660.ts: ISOLINUX's
// MBR code for a BIOS, a GPT with the EFI system partition for a UEFI firmware (src/formats/gpt.ts).

import { derivedGuid, EFI_SYSTEM_PARTITION, GPT_BLOCK, GPT_TAIL_BLOCKS, writeGpt, writeProtectiveMbr } from './gpt.ts';
import { createHash } from 'node:crypto';

/** The MBR code of isohdpfx.bin: the bytes before the MBR's fields (ISOLINUX's isohybrid MBRSIZE). */
export const HYBRID_MBR_CODE = 432;

/** Bytes the disk needs after the ISO's files, in whole 2048-byte blocks: the backup GPT. */
export const HYBRID_TAIL_BYTES = Math.ceil((GPT_TAIL_BLOCKS * GPT_BLOCK) / 2048) * 2048;

/**
 * The hybrid image's disk structures. Block 0: ISOLINUX's hybrid MBR code (isohdpfx.bin, which a
 * BIOS runs whatever the partition table says: SeaBIOS checks only the 55 AA signature), at 432
 * ISOLINUX's LBA in 512-byte blocks, as syslinux's isohybrid writes them (utils/isohybrid.c), then
 * a protective MBR (one 0xEE record, UEFI 5.2.3), not an MBR of partitions: a UEFI firmware reads
 * the GPT only behind a protective MBR, and one that wants a GPT finds the EFI system partition
 * there. Blocks 1-33: the GPT and its entries, in the ISO's system area (32 KiB, which ISO 9660
 * leaves to the system, ECMA-119 6.2.1); its backup in the last 33 blocks, which the ISO keeps
 * free (HYBRID_TAIL_BYTES). One partition: the EFI system partition, the FAT image's extent. The
 * GUIDs come from a digest of the image: the same bytes for the same files on every machine.
 */
export function writeHybridMbr(
  image: Uint8Array,
  mbr: Uint8Array,
  /** ISOLINUX's start, in 512-byte sectors. */
  bios: { readonly lba: number },
  /** The FAT image's start (512-byte sectors) and length in bytes. */
  efi: { readonly lba: number; readonly bytes: number },
): void {
  if (mbr.byteLength < HYBRID_MBR_CODE)
    throw new Error(`writeHybridMbr: the hybrid MBR code is ${mbr.byteLength} bytes, not ${HYBRID_MBR_CODE}`);
  const v = new DataView(image.buffer, image.byteOffset, GPT_BLOCK);
  image.set(mbr.subarray(0, HYBRID_MBR_CODE), 0);
  v.setUint32(HYBRID_MBR_CODE, bios.lba, true);
  v.setUint32(436, 0, true);
  writeProtectiveMbr(image);
  const digest = createHash('sha256').update(image).digest();
  writeGpt(image, {
    diskGuid: derivedGuid('disk', digest),
    partitions: [
      {
        type: EFI_SYSTEM_PARTITION,
        guid: derivedGuid('efi system partition', digest),
        firstLba: efi.lba,
        lastLba: efi.lba + Math.ceil(efi.bytes / GPT_BLOCK) - 1,
        name: 'EFI system partition',
      },
    ],
  });
}
