// `harvgen build` / `check` with no site directory: every directory under `sites/` that holds a
// site.yaml, in code-point order; names starting with `_` (shared layers) or `.` are skipped.
// noSitesReason says why there is none, naming the directory looked in.
import { readdirSync, type Dirent } from 'node:fs';
import { join, resolve } from 'node:path';
import { statOrUndefined } from '../util/lstat.ts';

/** A name under sites/ that is never a site: a shared layer (`_defaults.yaml`, `_profiles`), or set aside (`_x`, `.x`). */
export const isSetAside = (name: string): boolean => name.startsWith('_') || name.startsWith('.');

/** Site directories under `<cwd>/<root>` (relative to cwd, `/`-separated), sorted. */
export async function discoverSites(cwd: string, root = 'sites'): Promise<string[]> {
  let entries: Dirent[] = [];
  try {
    entries = readdirSync(resolve(cwd, root), { withFileTypes: true });
  } catch {
    // no sites/ directory: no site
  }
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || isSetAside(e.name)) continue;
    const st = statOrUndefined(resolve(cwd, root, e.name, 'site.yaml'));
    if (st?.isFile()) out.push(join(root, e.name).split('\\').join('/'));
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Why discoverSites found nothing, naming the directory looked in: there is no `sites/` in `cwd`,
 * it is not a directory, or it holds no site.
 */
export async function noSitesReason(cwd: string, root = 'sites'): Promise<string> {
  const dir = resolve(cwd, root);
  const st = statOrUndefined(dir);
  if (!st) return `no ${root}/ directory in ${resolve(cwd)}`;
  if (!st.isDirectory()) return `${dir} is not a directory`;
  return `${dir} holds no directory with a site.yaml (names starting with _ or . are not sites)`;
}
