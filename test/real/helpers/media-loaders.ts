/**
 * The boot programs of the boot media tests (`boot.media_loaders`), made as docs/install-without-pxe.md
 * tells a user to: ISOLINUX, its hybrid MBR and ldlinux.c32 from Debian's `isolinux` and `syslinux-common`, and
 * `ipxe.lkrn` and `ipxe.efi` from Debian 13's `ipxe` (fetched by scripts/fetch-ipxe.sh: Debian 12's
 * ipxe.efi runs no autoexec.ipxe).
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { requireFetched, requireProgram } from './programs.ts';
import { REPO_ROOT } from './initramfs.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** Debian 13's iPXE, as scripts/fetch-ipxe.sh leaves it. */
export const FETCHED_IPXE = path.join(REPO_ROOT, '.tmp/real/ipxe');

/** Where each program comes from. */
const SOURCES = {
  'isolinux.bin': '/usr/lib/ISOLINUX/isolinux.bin',
  // The USB image's MBR (ISOLINUX's hybrid MBR, the `isolinux` package too).
  'isohdpfx.bin': '/usr/lib/ISOLINUX/isohdpfx.bin',
  'ldlinux.c32': '/usr/lib/syslinux/modules/bios/ldlinux.c32',
  'ipxe.lkrn': path.join(FETCHED_IPXE, 'ipxe.lkrn'),
  'ipxe.efi': path.join(FETCHED_IPXE, 'ipxe.efi'),
} as const;

/** True when every program the loaders are made from is here (else skipped, or a failure under HARVGEN_REQUIRE_REAL=1). */
export function mediaLoadersAvailable(): boolean {
  return (
    requireProgram(SOURCES['isolinux.bin'], SOURCES['isohdpfx.bin'], SOURCES['ldlinux.c32']) &&
    requireFetched(
      [SOURCES['ipxe.lkrn'], SOURCES['ipxe.efi']].filter((f) => !existsSync(f)),
      "Debian 13's iPXE (scripts/fetch-ipxe.sh)",
    )
  );
}

let made: Promise<string> | undefined;

/** The loaders directory (made once per process). */
export function mediaLoaders(): Promise<string> {
  made ??= (async () => {
    const dir = path.join(tempDir('media-loaders'), 'loaders');
    await mkdir(dir, { recursive: true });
    for (const [name, from] of Object.entries(SOURCES)) await copyFile(from, path.join(dir, name));
    return dir;
  })();
  return made;
}
