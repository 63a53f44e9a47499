// One walk of a site's output directory before a build: what exists, and as what, without
// following links (a link is reported as a link and never entered). emit checks every path it
// will touch against this map instead of an lstat per path component.
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

/** What a path below the site directory is. */
export type EntryKind = 'file' | 'dir' | 'link' | 'other';

/** The kind of a directory entry or of an lstat's result (a link is a link, never followed). */
export function entryKind(e: { isSymbolicLink(): boolean; isDirectory(): boolean; isFile(): boolean }): EntryKind {
  return e.isSymbolicLink() ? 'link' : e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other';
}

/**
 * Every entry below `root` by relative path (`a/b`), links not followed. Synchronous, like the
 * rest of emit's file-system reads (a site has few directories; the up-to-date check walks 100
 * sites in a row).
 */
export function scanTree(root: string): Map<string, EntryKind> {
  const found = new Map<string, EntryKind>();
  const walk = (rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(rel ? join(root, rel) : root, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw e;
    }
    for (const e of entries) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      const kind = entryKind(e);
      found.set(p, kind);
      if (kind === 'dir') walk(p);
    }
  };
  walk('');
  return found;
}

/**
 * Whether every directory between `root` and the file `path` (not `root` itself) last changed
 * status no later than `bound`. Renaming a directory (a swapped-in copy of `harvester/`) moves its
 * ctime but not those of the files in it, so a file's own ctime cannot tell that it was swapped
 * in; its directory's can. `memo` caches the answer per directory within one check.
 */
export function directoriesSettled(root: string, path: string, bound: number, memo: Map<string, boolean>): boolean {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    let ok = memo.get(dir);
    if (ok === undefined) {
      try {
        const st = lstatSync(join(root, dir));
        ok = st.isDirectory() && st.ctimeMs <= bound;
      } catch {
        ok = false;
      }
      memo.set(dir, ok);
    }
    if (!ok) return false;
  }
  return true;
}

/**
 * directoriesSettled for the many files of one tree, in path order: each directory is asked once
 * (consecutive files of one directory share the answer, without splitting their paths again).
 */
export function settledDirectories(root: string, bound: number): (path: string) => boolean {
  const memo = new Map<string, boolean>();
  let lastDir: string | undefined;
  let lastOk = true;
  return (path) => {
    const slash = path.lastIndexOf('/');
    if (slash < 0) return true;
    const dir = path.slice(0, slash);
    if (dir !== lastDir) {
      lastDir = dir;
      lastOk = directoriesSettled(root, path, bound, memo);
    }
    return lastOk;
  };
}
