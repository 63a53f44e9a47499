// One walk of a site's output directory before a build: what exists, and as what, without
// following links (a link is reported as a link and never entered). emit checks every path it
// will touch against this map instead of an lstat per path component.
import { readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

/** What a path below the site directory is. */
export type EntryKind = 'file' | 'dir' | 'link' | 'other';

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
      const kind: EntryKind = e.isSymbolicLink() ? 'link' : e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other';
      found.set(p, kind);
      if (kind === 'dir') walk(p);
    }
  };
  walk('');
  return found;
}
