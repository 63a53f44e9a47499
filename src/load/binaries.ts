// iPXE binaries the tree carries (`boot.ipxe_binaries`): read from a directory on the build
// machine, by fixed file names only, so no inventory value can make harvgen publish another
// file. Each is stamped for the up-to-date check like every other input.
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { SiteModel } from '../model/index.ts';
import { requiredIpxeBinaries, STANDARD_IPXE_BINARIES } from '../render/host-configs.ts';
import { findingToDiagnostic } from '../validate/index.ts';
import { isInside, readBounded } from './files.ts';
import type { Locator } from './locate.ts';
import { secretRoot } from './secrets.ts';
import { stampOf, type InputStamp } from './stamps.ts';

/** Largest binary copied (Debian's ipxe.efi is about 1 MiB; a signed shim about 1 MiB). */
export const MAX_BINARY_BYTES = 8 * 1024 * 1024;

/** What was read: the files by name, problems, and the stamps of the directory and every name looked at. */
export interface LoadedBinaries {
  readonly files: Map<string, Uint8Array>;
  readonly diagnostics: Diagnostic[];
  readonly stamps: InputStamp[];
}

/** Read the binaries `model.boot.ipxe_binaries` names (relative to the site directory). */
export function loadIpxeBinaries(model: SiteModel, siteDir: string, locate: Locator): LoadedBinaries {
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
  // Is the directory (links resolved) inside the repository the inventory lives in?
  const root = secretRoot(siteDir);
  let realDir = dir;
  let realRoot = root;
  try {
    realDir = realpathSync(dir);
    realRoot = realpathSync(root);
  } catch {
    // keep the paths as given
  }
  const inRepo = isInside(realDir, realRoot);
  const required = new Set(requiredIpxeBinaries(model));
  for (const name of [...new Set([...required, ...STANDARD_IPXE_BINARIES])].sort()) {
    const file = resolve(dir, name);
    const read = readBinary(file, !inRepo);
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
 * Inside the repository (content anyone with commit access controls) a symbolic link at a
 * binary's name could publish any file of the build machine: not followed there. A system
 * directory such as Debian's /usr/lib/ipxe (whose ipxe.efi links to /boot) is the operator's.
 */
function readBinary(file: string, followLinks: boolean): ReadResult {
  const read = readBounded(file, MAX_BINARY_BYTES, followLinks);
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
