// A boot ISO (docs/install-without-pxe.md): a CD image the node's BMC mounts as virtual media; its
// iPXE script sets the node's static address and runs the node's own script, with no DHCP.
import type { Medium } from './types.ts';

/** The boot programs every ISO carries (src/render/media.ts). */
export const ISO_LOADERS = ['isolinux.bin', 'ldlinux.c32', 'ipxe.lkrn', 'ipxe.efi'] as const;

export const ISO: Medium = {
  name: 'iso',
  description:
    "a boot ISO (`media/shared.boot.iso`, or `media/<hostname>.iso` with `medium_image: own`), which the node's BMC mounts as a virtual CD (`bmc/<hostname>.sh media-boot`)",
  image: {
    ext: 'iso',
    layout: 'iso',
    loaders: ISO_LOADERS,
    slot: { mediaTypes: ['CD', 'DVD'], bootTarget: 'Cd', name: 'virtual CD' },
    title: 'boot ISO',
  },
  dhcp: false,
  tagsVlan: false,
  ipv6: false,
};
