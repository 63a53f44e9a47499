// iPXE binaries the tree carries (`boot.ipxe_binaries`): read after validation from a directory
// on the build machine, by fixed file names only (those the validated model's firmware needs,
// and the standard ones), so no inventory value can make harvgen publish another file. Each is
// stamped for the up-to-date check like every other input.
import { imageOf } from '../derive/media/index.ts';
import { HYBRID_MBR_CODE } from '../formats/iso9660.ts';
import { existsSync, lstatSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { SiteModel } from '../model/index.ts';
import { requiredIpxeBinaries, STANDARD_IPXE_BINARIES } from '../model/boot-files.ts';
import { isInside, readBounded } from '../load/files.ts';
import type { Locator } from '../load/locate.ts';
import { boundaryHint, describeBoundary, outsideProblem, realPathOf, repoBoundary, type RepoBoundary } from '../load/repo.ts';
import { stampOf, type InputStamp } from '../load/stamps.ts';
import { findingToDiagnostic } from '../validate/finding.ts';

/** Largest binary copied (Debian's ipxe.efi is about 1 MiB; a signed shim about 1 MiB). */
export const MAX_BINARY_BYTES = 8 * 1024 * 1024;

/** What was read: the files by name, problems, and the stamps of the directory and every name looked at. */
export interface LoadedBinaries {
  readonly files: Map<string, Uint8Array>;
  readonly diagnostics: Diagnostic[];
  readonly stamps: InputStamp[];
}

/** What one directory of boot programs is: its setting, the names read from it and what to say when one is wrong. */
interface BinaryDir {
  readonly setting: 'ipxe_binaries' | 'media_loaders';
  /** The directory as the inventory gives it (undefined: the site names none). */
  readonly given: string | undefined;
  /** Names that must exist. */
  readonly required: ReadonlySet<string>;
  /** Names read when present. */
  readonly optional: readonly string[];
  readonly codes: {
    readonly missing: 'BOOT_IPXE_BINARY_MISSING' | 'BOOT_MEDIA_LOADER_MISSING';
    readonly invalid: 'BOOT_IPXE_BINARY_INVALID' | 'BOOT_MEDIA_LOADER_INVALID';
  };
  /** What to do when the directory is not there. */
  readonly dirHint: string;
  /** Why a missing required name is needed, and what to do. */
  readonly missing: (name: string, dir: string) => { readonly why: string; readonly hint: string };
  readonly invalidHint: string;
  readonly systemDir: string;
  /** What is wrong with a file's bytes beyond the common checks (undefined: nothing). */
  readonly check?: (name: string, bytes: Uint8Array) => string | undefined;
}

/**
 * Read the binaries `model.boot.ipxe_binaries` names (relative to the site directory). The
 * directory is either inside the repository boundary (`repo`, else computed with
 * `repoBoundary`) by its real path, and then no link in it leads out; or a system directory
 * the inventory names by its absolute path (Debian's /usr/lib/ipxe, whose links are followed).
 */
export function loadIpxeBinaries(
  model: SiteModel,
  siteDir: string,
  locate: Locator,
  repo: RepoBoundary = repoBoundary(siteDir),
): LoadedBinaries {
  const required = new Set(requiredIpxeBinaries(model));
  return loadBinaryDir(
    {
      setting: 'ipxe_binaries',
      given: model.boot.ipxeBinaries,
      required,
      optional: STANDARD_IPXE_BINARIES,
      codes: { missing: 'BOOT_IPXE_BINARY_MISSING', invalid: 'BOOT_IPXE_BINARY_INVALID' },
      dirHint: "Install Debian's `ipxe` package (`/usr/lib/ipxe`) or name the directory that holds the iPXE binaries.",
      missing: (name) => ({
        why: `this site's firmware loads ${name}`,
        hint:
          model.boot.secureBoot && name !== model.boot.uefiLoader
            ? 'Secure Boot files come from the site (a signed shim and a signed iPXE): put them in that directory.'
            : "Install Debian's `ipxe` package (it has ipxe.efi, snponly.efi and undionly.kpxe) or copy the file there.",
      }),
      invalidHint: 'Point boot.ipxe_binaries at the directory of the real binaries (Debian: /usr/lib/ipxe).',
      systemDir: '/usr/lib/ipxe',
    },
    siteDir,
    locate,
    repo,
  );
}

/**
 * Read the boot programs of the per-node boot ISOs from `boot.media_loaders` (MEDIA_LOADERS),
 * when a node boots from one; the same boundary rules as the iPXE binaries.
 */
export function loadMediaLoaders(
  model: SiteModel,
  siteDir: string,
  locate: Locator,
  repo: RepoBoundary = repoBoundary(siteDir),
): LoadedBinaries {
  // The programs of every medium a node boots from (src/derive/media/: each image names its own).
  const required = new Set(model.nodes.flatMap((n) => imageOf(n)?.loaders ?? []));
  if (required.size === 0) return { files: new Map(), diagnostics: [], stamps: [] };
  return loadBinaryDir(
    {
      setting: 'media_loaders',
      given: model.boot.mediaLoaders,
      required,
      optional: MEDIA_LOADERS.optional,
      codes: { missing: 'BOOT_MEDIA_LOADER_MISSING', invalid: 'BOOT_MEDIA_LOADER_INVALID' },
      dirHint: `Make the directory of the boot ISOs' programs: ${FETCH_LOADERS} (docs/install-without-pxe.md, "The boot programs").`,
      missing: (name, dir) => ({
        why: `every ${[...new Set(model.nodes.flatMap((n) => (imageOf(n)?.loaders.includes(name) ? [imageOf(n)!.title] : [])))].join(' and ')} carries ${name}`,
        hint: `${MEDIA_LOADERS.source[name] ?? 'Copy it there'}; ${FETCH_LOADERS} makes the whole directory (docs/install-without-pxe.md, "The boot programs").${
          name === 'ipxe.efi' && existsSync(resolve(dir, 'bootx64.efi'))
            ? ' The UEFI path is iPXE now, no longer GRUB: the bootx64.efi there is not used.'
            : ''
        }`,
      }),
      invalidHint:
        "Point boot.media_loaders at the directory of the real boot programs; ipxe.efi from Debian 13's ipxe package (docs/install-without-pxe.md).",
      systemDir: '/usr/lib/harvgen-media',
      check: mediaLoaderProblem,
    },
    siteDir,
    locate,
    repo,
  );
}

/** The command that makes the directory of the boot programs, as the package ships it (scripts/fetch-media-loaders.sh). */
const FETCH_LOADERS = '`bash node_modules/harvgen/scripts/fetch-media-loaders.sh <dir>`';

/** Where to find each boot program of the media's images (src/derive/media/: which image needs which), by its name in `boot.media_loaders`. */
export const MEDIA_LOADERS = {
  optional: [],
  source: {
    'isohdpfx.bin': "Debian's `isolinux` package: /usr/lib/ISOLINUX/isohdpfx.bin (the hybrid MBR of a USB image)",
    'isolinux.bin': "Debian's `isolinux` package: /usr/lib/ISOLINUX/isolinux.bin",
    'ldlinux.c32': "Debian's `syslinux-common` package: /usr/lib/syslinux/modules/bios/ldlinux.c32",
    'ipxe.lkrn': "Debian's `ipxe` package: /usr/lib/ipxe/ipxe.lkrn",
    'ipxe.efi': "Debian 13's `ipxe` package: /usr/lib/ipxe/ipxe.efi (an iPXE that runs autoexec.ipxe; Debian 12's is too old)",
  } as Readonly<Record<string, string>>,
} as const;

/**
 * The UEFI path's loader must be an iPXE that runs `autoexec.ipxe` from the medium it was loaded
 * from (iPXE's `efi_autoexec`, 2021 and later: Debian 13's ipxe.efi names `file:/autoexec.ipxe`);
 * an older one (Debian 12's, 2019) would look for DHCP instead and never run the node's script.
 * Its bytes name the script: `autoexec.ipxe` in ASCII or UTF-16.
 */
export function runsAutoexec(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.includes('autoexec.ipxe', 0, 'latin1') || b.includes(Buffer.from('autoexec.ipxe', 'utf16le'));
}

/**
 * iPXE's `snponly.efi` drives the NIC only through the firmware's own driver, so it finds none
 * where the firmware connected only the virtual CD; its bytes name the build (`snponly`), which
 * `ipxe.efi`'s (all drivers) do not.
 */
export function snpOnly(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes('snponly', 0, 'latin1');
}

/** What is wrong with one of the boot ISO's programs beyond the common checks (undefined: nothing). */
function mediaLoaderProblem(name: string, bytes: Uint8Array): string | undefined {
  // ISOLINUX gets its boot info table at bytes 8-63 (src/formats/iso9660.ts).
  if (name === 'isolinux.bin' && bytes.byteLength < 64) return 'is too short to be ISOLINUX (under 64 bytes)';
  if (name === 'isohdpfx.bin' && bytes.byteLength < HYBRID_MBR_CODE)
    return `is too short to be ISOLINUX's hybrid MBR (under ${HYBRID_MBR_CODE} bytes)`;
  if (name !== 'ipxe.efi') return undefined;
  if (!runsAutoexec(bytes))
    return "is not an iPXE that runs a script from its boot medium (no autoexec.ipxe in it: iPXE before 2021, such as Debian 12's)";
  if (snpOnly(bytes))
    return "is iPXE's snponly.efi, which drives only a NIC the firmware connected: a machine booted from its virtual CD alone would find none (copy ipxe.efi, with iPXE's own NIC drivers)";
  return undefined;
}

/** Read the files of one directory of boot programs, relative to the site directory. */
function loadBinaryDir(d: BinaryDir, siteDir: string, locate: Locator, repo: RepoBoundary): LoadedBinaries {
  const out: LoadedBinaries = { files: new Map(), diagnostics: [], stamps: [] };
  const given = d.given;
  const at = ['boot', d.setting] as const;
  const report = (code: BinaryDir['codes']['missing'] | BinaryDir['codes']['invalid'], message: string, hint: string) =>
    out.diagnostics.push(findingToDiagnostic({ code, message, hint, at }, locate));
  // None named: the iPXE binaries are optional; a boot ISO without its programs is the `media` rule's (MEDIA_NEEDS_LOADERS).
  if (given === undefined) return out;
  const dir = resolve(siteDir, given);
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch {
    dirStat = undefined;
  }
  out.stamps.push(stampOf(dir, dirStat));
  if (!dirStat?.isDirectory()) {
    report(d.codes.missing, `boot.${d.setting}: ${dir} is not a directory`, d.dirHint);
    return out;
  }
  // Is the directory (links resolved) inside the repository the inventory lives in? If not, it
  // must be a system directory named by its absolute path: not a relative path out of the
  // repository (`../..`), not a link from inside the repository (or a path through one) to
  // outside it.
  const realDir = realPathOf(dir);
  const inRepo = isInside(realDir, repo.root);
  if (!inRepo) {
    // The link: the first component of the path whose parent is (really) inside the repository.
    let through: string | undefined;
    for (let p = dir; dirname(p) !== p && through === undefined; p = dirname(p))
      if (isInside(realPathOf(dirname(p)), repo.root)) through = p;
    if (!isAbsolute(given) || through !== undefined) {
      out.diagnostics.push(
        findingToDiagnostic(
          {
            code: 'LOAD_OUTSIDE_REPOSITORY',
            message: `boot.${d.setting}: ${dir} ${through !== undefined ? `leads out of ${describeBoundary(repo)} through the link ${through}` : `is outside ${describeBoundary(repo)}`} (it resolves to ${realDir}); nothing was read from it`,
            hint: `${boundaryHint(repo)} A system directory outside the repository (e.g. ${d.systemDir}) is named by its absolute path.`,
            at,
          },
          locate,
        ),
      );
      return out;
    }
  }
  for (const name of [...new Set([...d.required, ...d.optional])].sort()) {
    const file = resolve(dir, name);
    const read = readBinary(file, inRepo ? repo : undefined);
    out.stamps.push(read.stamp);
    const problem = 'bytes' in read ? d.check?.(name, read.bytes) : undefined;
    if (problem !== undefined) {
      report(d.codes.invalid, `boot.${d.setting}: ${file} ${problem}`, d.invalidHint);
    } else if ('bytes' in read) {
      out.files.set(name, read.bytes);
    } else if (read.problem !== 'missing') {
      report(d.codes.invalid, `boot.${d.setting}: ${file} ${read.problem}`, d.invalidHint);
    } else if (d.required.has(name)) {
      const { why, hint } = d.missing(name, dir);
      report(d.codes.missing, `boot.${d.setting}: ${file} does not exist, and ${why}`, hint);
    }
  }
  return out;
}

type ReadResult = { bytes: Uint8Array; stamp: InputStamp } | { problem: string; stamp: InputStamp };

/**
 * A binary: a regular file of at most MAX_BINARY_BYTES, not empty; EFI files start with `MZ`.
 * Inside the repository (`repo`: content anyone with commit access controls) a symbolic link at
 * a binary's name could publish any file of the build machine: followed only when it stays
 * inside, and then its target is read without following another link. A system directory such
 * as Debian's /usr/lib/ipxe (whose ipxe.efi links to /boot) is the operator's.
 */
function readBinary(file: string, repo: RepoBoundary | undefined): ReadResult {
  let target = file;
  if (repo !== undefined && lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) {
    const outside = outsideProblem(file, repo);
    if (outside !== undefined) {
      return { problem: `is a symbolic link that ${outside} (give the directory of the real files)`, stamp: stampOf(file, undefined) };
    }
    target = realPathOf(file);
  }
  const read = readBounded(target, MAX_BINARY_BYTES, repo === undefined, file);
  if (!('bytes' in read)) {
    if (read.missing) return { problem: 'missing', stamp: read.stamp };
    return {
      problem: read.problem === 'is a symbolic link' ? 'is a symbolic link (give the directory of the real files)' : read.problem,
      stamp: read.stamp,
    };
  }
  const { bytes, stamp } = read;
  if (file.endsWith('.efi') && !(bytes[0] === 0x4d && bytes[1] === 0x5a)) return { problem: 'is not an EFI binary (no MZ header)', stamp };
  if (bytes.length === 0) return { problem: 'is empty', stamp };
  return { bytes, stamp };
}
