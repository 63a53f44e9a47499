// A USB image: the boot ISO made a disk image as well (an MBR that starts ISOLINUX for BIOS, an
// EFI system partition for UEFI), for BMCs that present virtual media as a USB disk and for a
// USB stick (`dd` it whole). The same script as the ISO's, with no DHCP.
import type { Medium } from './types.ts';
import { ISO_LOADERS } from './iso.ts';

export const USB: Medium = {
  name: 'usb',
  description:
    "a USB disk image (`media/shared.boot.img`, or `media/<hostname>.img` with `medium_image: own`), which the node's BMC mounts as a virtual USB stick, or which is written to a USB stick",
  image: {
    ext: 'img',
    layout: 'hybrid',
    loaders: [...ISO_LOADERS, 'isohdpfx.bin'],
    slot: { mediaTypes: ['USBStick'], bootTarget: 'Usb', name: 'virtual USB stick' },
    title: 'USB image',
  },
  dhcp: false,
  tagsVlan: false,
  ipv6: false,
};
