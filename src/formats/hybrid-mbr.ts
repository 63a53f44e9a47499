// The MBR of a hybrid ISO (an image that is a CD and a disk at once: `medium: usb`), written into
// the ISO's system area by src/formats/iso9660.ts.

/** The MBR code of isohdpfx.bin: the bytes before the MBR's fields (ISOLINUX's isohybrid MBRSIZE). */
export const HYBRID_MBR_CODE = 432;

/**
 * The hybrid image's MBR, in the system area's first 512 bytes (which ISO 9660 leaves to the
 * system, ECMA-119 6.2.1), as syslinux's isohybrid writes it (utils/isohybrid.c: the code, at 432
 * ISOLINUX's LBA in 512-byte sectors, 4 zero bytes, the disk signature, 2 zero bytes, the table,
 * 55 AA). Partition 1: bootable, type 0 (an empty entry a UEFI firmware skips), the whole image;
 * partition 2: the EFI system partition, the FAT image's extent. The CHS fields say "use the LBA"
 * (0xFE 0xFF 0xFF), as for any disk past 8 GiB. The signature is fixed: the image stays the same
 * bytes for the same files.
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
  const SECTOR = 512;
  const v = new DataView(image.buffer, image.byteOffset, SECTOR);
  image.set(mbr.subarray(0, HYBRID_MBR_CODE), 0);
  v.setUint32(HYBRID_MBR_CODE, bios.lba, true);
  v.setUint32(436, 0, true);
  v.setUint32(440, 0x48475631, true); // 'HGV1'
  v.setUint16(444, 0, true);
  const entry = (index: number, status: number, type: number, start: number, sectors: number) => {
    const at = 446 + index * 16;
    image.set([status, 0xfe, 0xff, 0xff, type, 0xfe, 0xff, 0xff], at);
    v.setUint32(at + 8, start, true);
    v.setUint32(at + 12, sectors, true);
  };
  entry(0, 0x80, 0x00, 0, image.byteLength / SECTOR);
  entry(1, 0x00, 0xef, efi.lba, Math.ceil(efi.bytes / SECTOR));
  image[510] = 0x55;
  image[511] = 0xaa;
}
