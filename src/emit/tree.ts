// One walk of a site's output directory before a build: what exists, and as what, without
// following links (a link is reported as a link and never entered). emit checks every path it
// will touch against this map instead of an lstat per path component.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** What a path below the site directory is. */
export type EntryKind = 'file' | 'dir' | 'link' | 'other';

/** Every entry below `root` by relative path (`a/b`), links not followed. */
export async function scanTree(root: string): Promise<Map<string, EntryKind>> {
  const found = new Map<string, EntryKind>();
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(rel ? join(root, rel) : root, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return [];
      throw e;
    });
    const dirs: string[] = [];
    for (const e of entries) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      const kind: EntryKind = e.isSymbolicLink() ? 'link' : e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other';
      found.set(p, kind);
      if (kind === 'dir') dirs.push(p);
    }
    await Promise.all(dirs.map(walk));
  };
  await walk('');
  return found;
}
