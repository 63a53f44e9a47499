// `harvgen build` / `check` with no site directory: every directory under `sites/` that holds a
// site.yaml, in code-point order; names starting with `_` (shared layers) or `.` are skipped.
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Site directories under `<cwd>/<root>` (relative to cwd, `/`-separated), sorted. */
export async function discoverSites(cwd: string, root = 'sites'): Promise<string[]> {
  const entries = await readdir(resolve(cwd, root), { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('_') || e.name.startsWith('.')) continue;
    const st = await stat(resolve(cwd, root, e.name, 'site.yaml')).catch(() => undefined);
    if (st?.isFile()) out.push(join(root, e.name).split('\\').join('/'));
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
