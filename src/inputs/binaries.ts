// iPXE binaries the tree carries (`boot.ipxe_binaries`): read after validation from a directory
// on the build machine, by fixed file names only (those the validated model's firmware needs,
// and the standard ones), so no inventory value can make harvgen publish another file. Each is
// stamped for the up-to-date check like every other input.
import { lstatSync, statSync } from 'node:fs';
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
  const out: LoadedBinaries = { files: new Map(), diagnostics: [], stamps: [] };
  const given = model.boot.ipxeBinaries;
  if (given === undefined) return out;
  const dir = resolve(siteDir, given);
  const at = ['boot', 'ipxe_binaries'] as const;
  const report = (code: 'BOOT_IPXE_BINARY_MISSING' | 'BOOT_IPXE_BINARY_INVALID', message: string, hint: string) =>
    out.diagnostics.push(findingToDiagnostic({ code, message, hint, at }, locate));
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch {
    dirStat = undefined;
  }
  out.stamps.push(stampOf(dir, dirStat));
  if (!dirStat?.isDirectory()) {
    report(
      'BOOT_IPXE_BINARY_MISSING',
      `boot.ipxe_binaries: ${dir} is not a directory`,
      "Install Debian's `ipxe` package (`/usr/lib/ipxe`) or name the directory that holds the iPXE binaries.",
    );
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
            message: `boot.ipxe_binaries: ${dir} ${through !== undefined ? `leads out of ${describeBoundary(repo)} through the link ${through}` : `is outside ${describeBoundary(repo)}`} (it resolves to ${realDir}); nothing was read from it`,
            hint: `${boundaryHint(repo)} A system directory outside the repository (Debian: /usr/lib/ipxe) is named by its absolute path.`,
            at,
          },
          locate,
        ),
      );
      return out;
    }
  }
  const required = new Set(requiredIpxeBinaries(model));
  for (const name of [...new Set([...required, ...STANDARD_IPXE_BINARIES])].sort()) {
    const file = resolve(dir, name);
    const read = readBinary(file, inRepo ? repo : undefined);
    out.stamps.push(read.stamp);
    if ('bytes' in read) {
      out.files.set(name, read.bytes);
    } else if (read.problem !== 'missing') {
      report(
        'BOOT_IPXE_BINARY_INVALID',
        `boot.ipxe_binaries: ${file} ${read.problem}`,
        'Point boot.ipxe_binaries at the directory of the real binaries (Debian: /usr/lib/ipxe).',
      );
    } else if (required.has(name)) {
      report(
        'BOOT_IPXE_BINARY_MISSING',
        `boot.ipxe_binaries: ${file} does not exist, and this site's firmware loads ${name}`,
        model.boot.secureBoot && name !== model.boot.uefiLoader
          ? 'Secure Boot files come from the site (a signed shim and a signed iPXE): put them in that directory.'
          : "Install Debian's `ipxe` package (it has ipxe.efi, snponly.efi and undionly.kpxe) or copy the file there.",
      );
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
