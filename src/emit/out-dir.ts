// Where an output root may not be: the whole file system, a home directory, a system
// directory, or anywhere that mixes generated files with an inventory (the site directory
// itself, inside it, or above it). Compared as real paths, so links do not hide a match.
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';

const SYSTEM_DIRS = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib64',
  '/proc',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var',
  '/tmp',
  '/root',
  '/home',
];

/** Real path of `p`, resolving the part that exists (the rest is appended as written). */
export function real(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(real(parent), basename(abs));
  }
}

const within = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/** Why `outRoot` is not a safe output root for these site directories, or undefined. */
export function unsafeOutDir(outRoot: string, siteDirs: readonly string[]): string | undefined {
  const out = real(outRoot);
  if (out === sep) return 'it is the root of the file system';
  const home = real(homedir());
  if (out === home) return 'it is your home directory';
  if (dirname(out) === '/home') return 'it is a home directory';
  if (SYSTEM_DIRS.includes(out)) return `it is the system directory ${out}`;
  for (const d of siteDirs) {
    const site = real(d);
    if (within(out, site))
      return `it is ${out === site ? 'the' : 'inside the'} site directory ${d}: generated files would mix with the inventory`;
    if (within(site, out)) return `it holds the site directory ${d}: a build could remove or overwrite inventory files`;
  }
  return undefined;
}
