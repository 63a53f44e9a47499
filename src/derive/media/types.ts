// How a machine reaches its boot script: a boot medium, declared once (one file per medium in this
// folder, listed in MEDIA). Everything that must agree on a medium reads its declaration: the
// model (`medium:` values), the rules (what it needs: a static address, boot programs; what it
// cannot do: tag a VLAN, speak IPv6), the renderers (the image and its file, nginx, access, the
// BMC scripts' slot and boot target, the installer's kernel line), `status` (a BMC's download of
// the image) and verify. ARCHITECTURE.md "Adding a boot medium" is the recipe.
import type { MediumName } from '../../types/kinds.ts';

/** The image a medium carries, which a node's BMC mounts (or a USB stick holds). */
export interface MediumImage {
  /** Its file's extension (`media/<hostname>.<ext>`, `media/shared.boot.<ext>`). */
  readonly ext: string;
  /**
   * How the image is laid out (src/render/media.ts): `iso`, an ISO 9660 CD image with El Torito
   * entries for both firmwares; `hybrid`, the same image made a disk as well: an MBR whose code
   * starts ISOLINUX for BIOS (`isohdpfx.bin`) and an EFI system partition for UEFI.
   */
  readonly layout: 'iso' | 'hybrid';
  /** The boot programs of `boot.media_loaders` it carries (src/inputs/binaries.ts, MEDIA_LOADERS). */
  readonly loaders: readonly string[];
  /** The virtual media slot a Redfish BMC mounts it in (its MediaTypes), and the one-time boot target. */
  readonly slot: { readonly mediaTypes: readonly string[]; readonly bootTarget: 'Cd' | 'Usb'; readonly name: string };
  /** What the image is called in messages and in `status`: "boot ISO". */
  readonly title: string;
}

/** One boot medium. */
export interface Medium {
  readonly name: MediumName;
  /** What it is, for the inventory reference: "network boot (PXE or UEFI HTTP boot, with DHCP)". */
  readonly description: string;
  /** The image, for a medium that carries one; none for network boot. */
  readonly image?: MediumImage;
  /** The machine reaches its boot script with DHCP (a node of another medium needs `method: static` and `ip`). */
  readonly dhcp: boolean;
  /**
   * The boot reaches the boot server on the node's VLAN: the installer's kernel line tags it
   * (network boot). A medium whose script tags no VLAN reaches it untagged (MEDIA_VLAN_UNTAGGED).
   */
  readonly tagsVlan: boolean;
  /** The boot can reach the boot server over IPv6. */
  readonly ipv6: boolean;
}
