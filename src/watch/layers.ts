// The shared layers next to the site directories: `_defaults.yaml`, watched here through the
// directory that holds it (one fs.watch, not recursive, reports it made, edited, removed or
// renamed, by name, whether it exists or not, and is in place when fs.watch returns; every other
// name there, another site or a temp file, is dropped without a look at the disk), and the
// `_profiles/` tree, watched as the node trees are (trees.ts).
//
// Neither is given to chokidar. It counts a path that does not exist twice towards its `ready`
// (chokidar 5), which then comes before it has scanned the site directories: watch's first build
// started, and the parse cache trusted files, before those files were watched, so an edit made
// right after that build could go unseen (it always did once the build no longer yielded to the
// event loop). And it keeps watching a directory it was given after another is put in its place.
import { watch, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { nodeTreeWatch, type TreeEvent } from './trees.ts';

const DEFAULTS = '_defaults.yaml';
const PROFILES = '_profiles';

/** The directories that hold the shared layers of the absolute site directories `sites`. */
export function layerParents(sites: readonly string[]): string[] {
  return [...new Set(sites.map((s) => dirname(s)))];
}

/** The absolute paths of the shared layers of the absolute site directories `sites`, present or not. */
export function layerPaths(sites: readonly string[]): string[] {
  return layerParents(sites).flatMap((d) => [join(d, DEFAULTS), join(d, PROFILES)]);
}

/** The shared layers of some parent directories, watched. */
export interface LayerWatch {
  close(): void;
}

/**
 * Watch the layers of each absolute parent directory: `report` is told each event (as trees.ts
 * reports them: `'change'` for one file, `'other'` for anything under a path); `failed` once a
 * watch cannot be opened or fails (its events may be lost from then on).
 */
export function layerWatch(parents: readonly string[], report: (event: TreeEvent, abs: string) => void, failed: () => void): LayerWatch {
  const profiles = nodeTreeWatch(parents, report, failed, PROFILES);
  const watches: FSWatcher[] = [];
  let closed = false;
  for (const dir of parents) {
    try {
      const w = watch(dir, { persistent: true }, (_event, name) => {
        // No name: the kernel's queue overflowed (trees.ts reports it too).
        if (!closed && (name === null || name.toString() === DEFAULTS)) report('change', join(dir, DEFAULTS));
      });
      w.on('error', () => failed());
      watches.push(w);
    } catch {
      failed();
    }
  }
  return {
    close() {
      closed = true;
      profiles.close();
      for (const w of watches) w.close();
    },
  };
}
