// A directory made whole beside its final place and renamed into it once (a site's first build):
// its name (`.<site>.harvgen-staging-<pid>`, so that what a killed run left is known and removed
// once its process is gone), each directory in it made one level at a time and checked (never
// through a link), each file created exclusively (O_EXCL) with its mode. Render writes a new
// site's texts into it as they are made (src/render/spill.ts), emit the rest and renames it
// (src/emit/fresh.ts).
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { removeStaleTemps } from './atomic.ts';

/** What names a staging directory: `.<site>` + this + the writer's pid. */
export const STAGING_MARK = '.harvgen-staging-';

/** The names of `site`'s staging directories, the writer's pid in the first group. */
export function stagingNames(site: string): RegExp {
  const literal = (t: string) => t.replace(/[.]/g, '\\.');
  return new RegExp(`^\\.${literal(site)}${literal(STAGING_MARK)}(\\d+)$`);
}

/** This process's staging directory for `site` in `parent`. */
export function stagingPath(parent: string, site: string): string {
  return join(parent, `.${site}${STAGING_MARK}${process.pid}`);
}

/** The staging directories this process holds now (a render's or an emit's). */
const held = new Set<string>();

/**
 * Make this process's staging directory for `site` in `parent` (made when missing: `madeFrom` is
 * the first directory made for it, as mkdirSync says). The ones dead processes left are removed
 * first, and one with this process's pid that it does not hold (left by an earlier process that
 * had the same pid, as in a container) too. Undefined when this process holds it already.
 */
export function makeStaging(parent: string, site: string): { readonly dir: string; readonly madeFrom: string | undefined } | undefined {
  const madeFrom = mkdirSync(parent, { recursive: true });
  removeStaleTemps(parent, stagingNames(site));
  const dir = stagingPath(parent, site);
  if (held.has(dir)) return undefined;
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // Its name is this process's, and this process does not hold it: an earlier one's (rmSync removes a link, never what it points to).
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
  }
  held.add(dir);
  return { dir, madeFrom };
}

/** The staging directory `dir` is renamed into place or removed: this process holds it no more. */
export function releaseStaging(dir: string): void {
  held.delete(dir);
}

/** Make each directory from `root` down to `dir` that is missing, one level at a time; refuse anything that is not a directory. */
export function makeDirs(root: string, dir: string, made: Set<string>): void {
  if (dir === root || made.has(dir)) return;
  makeDirs(root, dirname(dir), made);
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // lstat: a link someone put there is not a directory.
  if (!lstatSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  made.add(dir);
}

/**
 * Creates new files: exclusively (never through a link or over a file someone else made), with
 * their mode set at creation, and a chmod only when the process umask narrowed it (learned from
 * the first file).
 */
export class NewFileCreator {
  private narrowed: number | undefined;

  /** Create `file` with `mode` and let `body` write it through its descriptor. */
  create(file: string, mode: number, body: (fd: number) => void): void {
    const fd = openSync(file, 'wx', mode);
    try {
      body(fd);
    } finally {
      closeSync(fd);
    }
    this.narrowed ??= mode & ~lstatSync(file).mode & 0o777;
    if ((mode & this.narrowed) !== 0) chmodSync(file, mode);
  }
}
