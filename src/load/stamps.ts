// Input stamps: what a file or directory looked like when load read it (size, mtime, ctime,
// inode), taken just before the read so that an edit during the build makes the stamp stale,
// never the other way round. A directory's stamp changes when an entry is added, removed or
// renamed in it: that is how a new node file is noticed. build's up-to-date check (src/cache)
// compares them with the tree as it is now.
import { readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { join } from 'node:path';

/** `[absolute path, size, mtimeMs, ctimeMs, inode]`; size -1 for a path that did not exist. */
export type InputStamp = readonly [path: string, size: number, mtimeMs: number, ctimeMs: number, ino: number];

/** The fields of fs.Stats a stamp keeps (structural: the shipped declarations need no @types/node). */
interface StatLike {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  isDirectory(): boolean;
}

/** The stamp of `path` from its stats (followed through links, as the loader reads it). */
export function stampOf(path: string, st: StatLike | undefined): InputStamp {
  return st ? [path, st.isDirectory() ? 0 : st.size, st.mtimeMs, st.ctimeMs, st.ino] : [path, -1, 0, 0, 0];
}

/** The stamp of `path` as it is now. */
export function stampNow(path: string): InputStamp {
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  return stampOf(path, st);
}

/** Stamps of `dir` and every directory below it (not following links, as the node glob does not). */
export function stampTree(dir: string): InputStamp[] {
  const out: InputStamp[] = [stampNow(dir)];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) if (e.isDirectory()) out.push(...stampTree(join(dir, e.name)));
  return out;
}

/** True when every stamp still matches the tree. */
export function stampsHold(stamps: readonly InputStamp[]): boolean {
  for (const s of stamps) {
    const now = stampNow(s[0]);
    if (now[1] !== s[1] || now[2] !== s[2] || now[3] !== s[3] || now[4] !== s[4]) return false;
  }
  return true;
}
