/**
 * The boot programs of the boot ISO tests (`boot.media_loaders`), made as docs/install-without-pxe.md
 * tells a user to: ISOLINUX and ldlinux.c32 from Debian's `isolinux` and `syslinux-common`,
 * `ipxe.lkrn` from `ipxe`, and a GRUB EFI image made by `grub-mkimage` from the modules of
 * `grub-efi-amd64-bin` (the small one; Debian's signed CD GRUB works too, at 3.8 MB).
 */
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram } from './programs.ts';
import { run, describe } from './proc.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** The GRUB modules the ISO's grub.cfg needs: the network, HTTP, the kernel loader and the script commands. */
export const GRUB_MODULES = [
  'normal',
  'configfile',
  'echo',
  'test',
  'sleep',
  'minicmd',
  'linux',
  'efinet',
  'http',
  'net',
  'fat',
  'iso9660',
  'part_msdos',
  'part_gpt',
];

/** Where each program comes from on Debian 12. */
const SOURCES = {
  'isolinux.bin': '/usr/lib/ISOLINUX/isolinux.bin',
  'ldlinux.c32': '/usr/lib/syslinux/modules/bios/ldlinux.c32',
  'ipxe.lkrn': '/usr/lib/ipxe/ipxe.lkrn',
} as const;

/** True when every program the loaders are made from is here (else skipped, or a failure under HARVGEN_REQUIRE_REAL=1). */
export function mediaLoadersAvailable(): boolean {
  return requireProgram('grub-mkimage', '/usr/lib/grub/x86_64-efi/echo.mod', ...Object.values(SOURCES));
}

let made: Promise<string> | undefined;

/** The loaders directory (made once per process). */
export function mediaLoaders(): Promise<string> {
  made ??= (async () => {
    const dir = path.join(tempDir('media-loaders'), 'loaders');
    await mkdir(dir, { recursive: true });
    for (const [name, from] of Object.entries(SOURCES)) await copyFile(from, path.join(dir, name));
    const r = await run(['grub-mkimage', '-O', 'x86_64-efi', '-p', '/EFI/BOOT', '-o', path.join(dir, 'bootx64.efi'), ...GRUB_MODULES]);
    if (r.code !== 0) throw new Error(`grub-mkimage failed: ${describe(r)}`);
    return dir;
  })();
  return made;
}
