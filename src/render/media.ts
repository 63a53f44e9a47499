// The boot ISO of a node with `medium: iso` (docs/install-without-pxe.md): what its BMC mounts as
// virtual media where the node can neither PXE nor get DHCP. One image boots both firmwares, and
// both run the same iPXE script (media.ipxe), which sets the node's static address on the NIC with
// one of its boot MACs and runs that MAC's own script from the boot server:
//   BIOS: El Torito (no emulation) -> ISOLINUX -> ipxe.lkrn with the script as its initrd (iPXE
//         runs an initrd that is a script: src/arch/x86/core/runtime.c, initrd_init);
//   UEFI: El Torito (platform 0xEF) -> a FAT image -> EFI/BOOT/BOOTX64.EFI (ipxe.efi), which runs
//         the script at the image's root as `autoexec.ipxe` (iPXE's efi_autoexec). ipxe.efi brings
//         its own NIC drivers, so it finds the node's NIC where the firmware connected only the
//         CD (a BMC's one-time boot from its virtual CD).
// The boot programs are the site's (`boot.media_loaders`), copied unmodified; only the script and
// ISOLINUX's config are the node's. Deterministic: the writers take no time or randomness.
import { createHash } from 'node:crypto';
import { nodeScriptUrl } from '../derive/file-names.ts';
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { fatImage } from '../formats/fat.ts';
import { isoImage } from '../formats/iso9660.ts';
import { embedStatics } from './ipxe.ts';
import type { MediumImage } from '../derive/media/index.ts';
import { renderPart, renderTemplate } from './templates.ts';

/** Where each part lives: on the ISO (ISOLINUX looks for its config in /isolinux), and in the FAT image of the UEFI entry. */
export const MEDIUM_FILES = {
  isolinux: 'isolinux/isolinux.bin',
  ldlinux: 'isolinux/ldlinux.c32',
  isolinuxCfg: 'isolinux/isolinux.cfg',
  ipxe: 'isolinux/ipxe.lkrn',
  script: 'isolinux/node.ipxe',
  efiImage: 'efi.img',
  /** In the FAT image: the firmware's default loader path (UEFI 2.x, "Removable Media Boot Behavior"). */
  efiLoader: 'EFI/BOOT/BOOTX64.EFI',
  /** In the FAT image: the script ipxe.efi runs, at the root of the medium it was loaded from. */
  autoexec: 'autoexec.ipxe',
} as const;

/**
 * What iPXE's `${errno}` reads after a fetch the server answered 404 (`-ENOENT_404` of
 * src/net/tcp/httpcore.c, formatted `%#lx`), on each firmware's build: POSIX ENOENT (0x2d) << 24,
 * httpcore's file id (ERRFILE_NET | 0x000c0000, since 2012), its disambiguator 0x01 << 8, and the
 * platform's code for ENOENT: PXENV_STATUS_TFTP_FILE_NOT_FOUND (0x3b) on BIOS, EFI_NOT_FOUND
 * compressed (0x8e) on UEFI. test/real/media-messages.test.ts boots both.
 */
export const IPXE_HTTP_404 = ['0x2d0c613b', '0x2d0c618e'] as const;

/** How many times boot.retry_delay the image waits after a 404 before it asks again: a missing script is no passing fault. */
export const MISSING_SCRIPT_WAIT_FACTOR = 6;

/** ISOLINUX's config: boot iPXE with the node's script as its initrd. */
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

/**
 * The image of a medium (`media/shared.boot.<ext>`, or a node's own `media/<hostname>.<ext>`) for
 * `nodes`, from the boot programs of `boot.media_loaders` (MEDIA_LOADERS): an ISO, or for the
 * `hybrid` layout the same ISO made a disk as well (src/formats/iso9660.ts, `hybrid`).
 */
export function renderMedium(
  model: SiteModel,
  nodes: readonly ResolvedNode[],
  image: MediumImage,
  loaders: ReadonlyMap<string, Uint8Array>,
  /** The image's script, when the caller has rendered it already (renderMediumScript). */
  scriptText: string = renderMediumScript(model, nodes, image),
): Uint8Array {
  const need = (name: string): Uint8Array => {
    const bytes = loaders.get(name);
    // The inputs stage reports a missing program (BOOT_MEDIA_LOADER_MISSING) before render runs.
    if (!bytes) throw new Error(`renderMedium: boot program ${name} was not read`);
    return bytes;
  };
  const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
  const script = text(scriptText);
  return isoImage({
    volumeId: 'HARVGEN',
    files: [
      { path: MEDIUM_FILES.isolinux, bytes: need('isolinux.bin') },
      { path: MEDIUM_FILES.ldlinux, bytes: need('ldlinux.c32') },
      { path: MEDIUM_FILES.isolinuxCfg, bytes: text(ISOLINUX_CFG) },
      { path: MEDIUM_FILES.ipxe, bytes: need('ipxe.lkrn') },
      { path: MEDIUM_FILES.script, bytes: script },
      {
        path: MEDIUM_FILES.efiImage,
        bytes: fatImage([
          { path: MEDIUM_FILES.efiLoader, bytes: need('ipxe.efi') },
          { path: MEDIUM_FILES.autoexec, bytes: script },
        ]),
      },
    ],
    biosBoot: { path: MEDIUM_FILES.isolinux },
    efiBoot: { path: MEDIUM_FILES.efiImage },
    ...(image.layout === 'hybrid' ? { hybrid: { mbr: need('isohdpfx.bin') } } : {}),
  });
}

/**
 * The image's iPXE script (both firmwares): the table of its nodes, each boot MAC with its node's
 * static address; the NIC with a MAC of the table gets that address and runs that MAC's script
 * from the boot server. A machine none of whose NICs is in the table is told so and left alone.
 */
export function renderMediumScript(model: SiteModel, nodes: readonly ResolvedNode[], image: MediumImage): string {
  // One table, a row per boot MAC: the address its NIC gets (embed-static) and the script it
  // then fetches (`scripts`), so the two lists the script matches a MAC against cannot disagree.
  const statics = embedStatics(nodes, 0).map((s) => ({ ...s, url: nodeScriptUrl(model, s.mac) }));
  const own = nodes.length === 1 && nodes[0]!.mediumImage === 'own';
  return renderTemplate(
    'media.ipxe',
    {
      site: model.site,
      medium: nodes[0]!.medium,
      title: image.title,
      what: own ? `node ${nodes[0]!.hostname}` : `${nodes.length} node(s)`,
      server: model.boot.server,
      retryDelay: model.boot.retryDelay,
      missingDelay: model.boot.retryDelay * MISSING_SCRIPT_WAIT_FACTOR,
      notFound: IPXE_HTTP_404,
      scripts: statics,
    },
    {
      './embed-match.ipxe.eta': renderPart('embed-match.ipxe.eta', { statics }),
      './embed-static.ipxe.eta': renderPart('embed-static.ipxe.eta', { statics, known: 'harvgen_known' }),
    },
  );
}
