// The boot ISO of a node with `medium: iso` (docs/install-without-pxe.md): what its BMC mounts as
// virtual media where the node can neither PXE nor get DHCP. One image boots both firmwares:
//   BIOS: El Torito (no emulation) -> ISOLINUX -> Debian's ipxe.lkrn with media.ipxe as its
//         initrd, which sets the node's static address and runs the MAC's own script;
//   UEFI: El Torito (platform 0xEF) -> a FAT image -> EFI/BOOT/BOOTX64.EFI (GRUB, or a shim that
//         loads GRUBX64.EFI) -> grub.cfg, which sets the address and loads the node's kernel and
//         initrd over HTTP with the command line its script has.
// The boot programs are the site's (`boot.media_loaders`), copied unmodified; only the two small
// configs are the node's. Deterministic: the writers take no time or randomness.
import { createHash } from 'node:crypto';
import { bootImages } from '../derive/boot-images.ts';
import { grubArgs, grubHttpPath } from '../derive/media.ts';
import { nodeScriptUrl } from '../derive/file-names.ts';
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { fatImage, type ImageFile } from '../formats/fat.ts';
import { isoImage } from '../formats/iso9660.ts';
import { formatIpv4, parseIpv4, prefixToMask } from '../util/ipv4.ts';
import { embedStatics } from './ipxe.ts';
import { renderPart, renderTemplate } from './templates.ts';

/** GRUB's names of the first NICs under UEFI (grub-core/net/drivers/efi/efinet.c): the ones the ISO looks at. */
const GRUB_CARDS = Array.from({ length: 16 }, (_, i) => `efinet${i}`);

/** Where each part lives on the ISO (ISOLINUX looks for its config in /isolinux; GRUB in its own directory). */
export const MEDIUM_FILES = {
  isolinux: 'isolinux/isolinux.bin',
  ldlinux: 'isolinux/ldlinux.c32',
  isolinuxCfg: 'isolinux/isolinux.cfg',
  ipxe: 'isolinux/ipxe.lkrn',
  script: 'isolinux/node.ipxe',
  efiImage: 'efi.img',
  grubCfg: 'EFI/BOOT/GRUB.CFG',
} as const;

/**
 * ISOLINUX's config: boot iPXE with the node's script as its initrd (iPXE runs an initrd that is
 * a script: src/arch/x86/core/runtime.c, initrd_init).
 */
const ISOLINUX_CFG = `# harvgen: boot ISO, BIOS path. Generated; do not edit.
DEFAULT harvgen
PROMPT 0
TIMEOUT 0
LABEL harvgen
  KERNEL /${MEDIUM_FILES.ipxe}
  INITRD /${MEDIUM_FILES.script}
`;

/** The digest of the boot programs: a node's ISO is made again when one of them changes (the render cache's key). */
export function loadersDigest(loaders: ReadonlyMap<string, Uint8Array>): string {
  const h = createHash('sha256');
  for (const [name, bytes] of [...loaders].sort(([a], [b]) => (a < b ? -1 : 1))) h.update(`${name}\0${bytes.byteLength}\0`).update(bytes);
  return h.digest('hex');
}

/** `media/<hostname>.iso`: the node's boot ISO, from the boot programs of `boot.media_loaders` (MEDIA_LOADERS). */
export function renderMedium(model: SiteModel, node: ResolvedNode, loaders: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const need = (name: string): Uint8Array => {
    const bytes = loaders.get(name);
    // The inputs stage reports a missing program (BOOT_MEDIA_LOADER_MISSING) before render runs.
    if (!bytes) throw new Error(`renderMedium: boot program ${name} was not read`);
    return bytes;
  };
  const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
  const grub = text(renderMediumGrub(model, node));
  const shimmed = loaders.get('grubx64.efi');
  const efi: ImageFile[] = [
    { path: 'EFI/BOOT/BOOTX64.EFI', bytes: need('bootx64.efi') },
    ...(shimmed ? [{ path: 'EFI/BOOT/GRUBX64.EFI', bytes: shimmed }] : []),
    { path: MEDIUM_FILES.grubCfg, bytes: grub },
  ];
  return isoImage({
    volumeId: 'HARVGEN',
    files: [
      { path: MEDIUM_FILES.isolinux, bytes: need('isolinux.bin') },
      { path: MEDIUM_FILES.ldlinux, bytes: need('ldlinux.c32') },
      { path: MEDIUM_FILES.isolinuxCfg, bytes: text(ISOLINUX_CFG) },
      { path: MEDIUM_FILES.ipxe, bytes: need('ipxe.lkrn') },
      { path: MEDIUM_FILES.script, bytes: text(renderMediumScript(model, node)) },
      { path: MEDIUM_FILES.efiImage, bytes: fatImage(efi) },
      // The same grub.cfg on the CD itself: a GRUB that sees the whole CD as its device (not the
      // FAT image it was loaded from) finds it at the same path there.
      { path: MEDIUM_FILES.grubCfg, bytes: grub },
    ],
    biosBoot: { path: MEDIUM_FILES.isolinux },
    efiBoot: { path: MEDIUM_FILES.efiImage },
  });
}

/** The BIOS path's iPXE script: the node's static address on the NIC with one of its boot MACs, then that MAC's script. */
export function renderMediumScript(model: SiteModel, node: ResolvedNode): string {
  const statics = embedStatics([node], 0);
  return renderTemplate(
    'media.ipxe',
    {
      site: model.site,
      hostname: node.hostname,
      server: model.boot.server,
      retryDelay: model.boot.retryDelay,
      scripts: node.macs.map((mac) => ({ mac, url: nodeScriptUrl(model, mac) })),
    },
    {
      './embed-match.ipxe.eta': renderPart('embed-match.ipxe.eta', { statics }),
      './embed-static.ipxe.eta': renderPart('embed-static.ipxe.eta', { statics }),
    },
  );
}

/** The UEFI path's grub.cfg: the node's static address on the NIC with one of its boot MACs, then that MAC's kernel, initrds and command line. */
export function renderMediumGrub(model: SiteModel, node: ResolvedNode): string {
  const ip = node.ip ?? '';
  const mask = prefixToMask(Math.min(32, Math.max(0, node.prefix)));
  const network = `${formatIpv4(((parseIpv4(ip) ?? 0) & mask) >>> 0)}/${node.prefix}`;
  const boots = node.macs.map((mac) => {
    const none = {
      mac,
      local: false,
      unfetchable: '',
      kernel: '',
      kernelPath: '',
      args: [] as string[],
      initrds: [] as string[],
      initrdPaths: [] as string[],
    };
    const images = bootImages(model, node, mac);
    if (!images) return { ...none, local: true };
    // A URL GRUB cannot fetch (https; the `media` rule refuses it on UEFI sites): this branch says so.
    const urls = [images.kernel, ...images.initrds.map((i) => i.url)];
    const unfetchable = urls.find((u) => grubHttpPath(u) === undefined);
    if (unfetchable !== undefined) return { ...none, unfetchable };
    return {
      ...none,
      kernel: images.kernel,
      kernelPath: grubHttpPath(images.kernel)!,
      args: grubArgs(images),
      initrds: images.initrds.map((i) => i.url),
      initrdPaths: images.initrds.map((i) => grubHttpPath(i.url)!),
    };
  });
  return renderTemplate('media.grub.cfg', {
    site: model.site,
    hostname: node.hostname,
    server: model.boot.server,
    retryDelay: model.boot.retryDelay,
    cards: GRUB_CARDS,
    macs: node.macs,
    ip,
    cidr: `${ip}/${node.prefix}`,
    network,
    gateway: node.gateway,
    dns: node.dns,
    boots,
  });
}
