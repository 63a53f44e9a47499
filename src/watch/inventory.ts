// The inventory's watches, apart from watch() so that the declarations shipped with the library
// (dist/watch/index.d.ts) never name chokidar's types, which need Node's.
import { join, relative, resolve, sep } from 'node:path';
import { watch as chokidarWatch, type FSWatcher } from 'chokidar';
import { layerParents, layerWatch } from './layers.ts';
import { nodeTreeWatch } from './trees.ts';

/** The inventory's watches: `chokidar` on what the others leave, closed by its owner. */
export interface InventoryWatch {
  readonly chokidar: FSWatcher;
  /** Close the node trees' and the layers' watches. */
  close(): void;
}

/**
 * Watch the inventory of `sites`: the node trees by one fs.watch per directory (trees.ts), the
 * shared layers through the directory that holds them (layers.ts), the rest of each site
 * directory by chokidar, given nothing else (so that its `ready` comes after it watches every site
 * file: layers.ts). `report` is told each event (`'change'` a file's edit; anything else may touch
 * every parse) with its absolute path and the path as watch shows it (relative to `displayCwd`
 * when given, else under its site as given); `failed` once any of the watches fails (chokidar's
 * errors included).
 */
export function watchInventory(
  sites: readonly { readonly dir: string; readonly abs: string }[],
  cwd: string,
  displayCwd: string | undefined,
  report: (event: string, abs: string, shown: string) => void,
  failed: () => void,
): InventoryWatch {
  const shown = (abs: string): string => {
    if (displayCwd !== undefined) return relative(cwd, abs);
    const site = sites.find((s) => abs === s.abs || abs.startsWith(s.abs + sep));
    return site ? join(site.dir, relative(site.abs, abs)) : abs;
  };
  const trees = nodeTreeWatch(
    sites.map((s) => s.abs),
    (event, abs) => report(event, abs, shown(abs)),
    failed,
  );
  const shared = layerWatch(layerParents(sites.map((s) => s.abs)), (event, abs) => report(event, abs, shown(abs)), failed);
  const nodeTrees = sites.map((s) => join(s.abs, 'nodes'));
  const chokidar = inventoryWatcher(
    sites.map((s) => s.dir),
    displayCwd,
    nodeTrees,
    (event, path) => report(event, resolve(cwd, path), path),
  );
  // From the start: an 'error' with no listener would be thrown (a directory of a site that cannot
  // be read is one, before chokidar is even ready). Its events may be lost from then on.
  chokidar.on('error', () => failed());
  return {
    chokidar,
    close() {
      trees.close();
      shared.close();
    },
  };
}

/**
 * chokidar on the inventory's YAML files outside the node trees (those are `trees`, watched by
 * trees.ts; other files are watched when a build read them: inputs.ts).
 */
function inventoryWatcher(
  paths: readonly string[],
  displayCwd: string | undefined,
  trees: readonly string[],
  seen: (event: string, path: string) => void,
): FSWatcher {
  const w = chokidarWatch([...paths], {
    cwd: displayCwd,
    ignoreInitial: true,
    ignored: (path, stats) => {
      if (stats?.isFile() === true && !/\.ya?ml$/.test(path)) return true;
      // chokidar passes a path under the process's working directory (`cwd` joined in when given).
      const abs = resolve(path);
      return trees.some((t) => abs === t || abs.startsWith(t + sep));
    },
  });
  w.on('all', (event, path) => seen(event, path));
  return w;
}
