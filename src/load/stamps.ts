// Input stamps: what a file or directory looked like when load read it (size, mtime, ctime,
// inode), taken just before the read so that an edit during the build makes the stamp stale,
// never the other way round. A directory's stamp changes when an entry is added, removed or
// renamed in it: that is how a new node file is noticed. build's up-to-date check (src/cache)
// compares them with the tree as it is now.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { nearPaths, statOrUndefined } from '../util/lstat.ts';
import { readBounded } from '../util/read-bounded.ts';

/** `[absolute path, size, mtimeMs, ctimeMs, inode]`; size -1 for a path that did not exist, -2 for a racy one (never matches). */
export type InputStamp = readonly [path: string, size: number, mtimeMs: number, ctimeMs: number, ino: number];

/** The fields of fs.Stats a stamp keeps (structural: the shipped declarations need no @types/node). */
interface StatLike {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  isDirectory(): boolean;
}

/**
 * A file changed this recently (ms) may change again within the same timestamp tick of the file
 * system (Linux file systems tick at most every 10 ms), after it was read, without its stamp
 * changing: its stamp is "racy" and never matches (the next build compiles it again).
 */
export const RACY_MS = 100;

/** Whether `st` changed within RACY_MS of `now`: its stamp is racy. */
const isRacy = (st: StatLike, now: number): boolean => now - Math.max(st.mtimeMs, st.ctimeMs) < RACY_MS;

/** The stamp of `path` from its stats (followed through links, as the loader reads it). */
export function stampOf(path: string, st: StatLike | undefined): InputStamp {
  if (!st) return [path, -1, 0, 0, 0];
  if (isRacy(st, Date.now())) return [path, -2, 0, 0, 0];
  return [path, st.isDirectory() ? 0 : st.size, st.mtimeMs, st.ctimeMs, st.ino];
}

/** The stamp of `path` as it is now. */
export function stampNow(path: string): InputStamp {
  return stampOf(path, statOrUndefined(path));
}

/** An entry of a directory listing as stampTree keeps it (a `Dirent`; named here so that the declarations need no Node types). */
export interface Listed {
  readonly name: string;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

/**
 * Stamps of `dir` and every directory below it (not following links, as the node glob does not),
 * each taken before it is listed; each listing is put in `listings` (by directory), so that the
 * loader lists the tree once.
 */
export function stampTree(dir: string, listings?: Map<string, readonly Listed[]>): InputStamp[] {
  const out: InputStamp[] = [stampNow(dir)];
  let entries: readonly Listed[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  listings?.set(dir, entries);
  for (const e of entries) if (e.isDirectory()) out.push(...stampTree(join(dir, e.name), listings));
  return out;
}

/**
 * True when every stamp still matches the tree: stampNow's comparison without its array per
 * stamp (a no-op of 3,000 nodes checks 3,600). `near` (util/lstat.ts) is taken once per run by a
 * caller that checks many sites.
 */
export function stampsHold(stamps: readonly InputStamp[], near: (absolute: string) => string = nearPaths()): boolean {
  const now = Date.now();
  for (const s of stamps) {
    if (s[1] === -2) return false;
    const st = statOrUndefined(near(s[0]));
    if (!st) {
      if (s[1] !== -1 || s[2] !== 0 || s[3] !== 0 || s[4] !== 0) return false;
      continue;
    }
    // A racy stamp never matches.
    if (isRacy(st, now)) return false;
    if ((st.isDirectory() ? 0 : st.size) !== s[1] || st.mtimeMs !== s[2] || st.ctimeMs !== s[3] || st.ino !== s[4]) return false;
  }
  return true;
}

/** Largest input file whose content the up-to-date record binds (iPXE binaries are at most 8 MiB). */
export const MAX_BOUND_INPUT = 16 * 1024 * 1024;

/**
 * The bytes of the regular file at `path` (followed through links, as load reads it) when it
 * still has the size of its stamp, else undefined: one bounded read through a descriptor (a FIFO
 * put in its place cannot block, a grown file is not read).
 */
export function inputBytes(path: string, size: number): Uint8Array | undefined {
  return size > MAX_BOUND_INPUT ? undefined : readBounded(path, size, { follow: true });
}
