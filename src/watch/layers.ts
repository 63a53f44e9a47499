// The shared layers next to the site directories (`_defaults.yaml`, `_profiles/`), watched
// through the directory that holds them: one fs.watch (not recursive) on that directory reports a
// layer made, edited, removed or renamed by its name, whether the layer exists or not, and is in
// place when fs.watch returns. Every other name in that directory (another site, a temp file) is
// dropped without a look at the disk.
//
// chokidar is given only the layers that exist (for the files inside `_profiles/`); one that
// appears later is handed to it then (`onAppear`). A path that does not exist must never reach
// chokidar: it counts such a path twice towards its `ready` (chokidar 5), which then comes
// before it has scanned the site directories, so watch's first build started, and the parse
// cache trusted files, before those files were watched: an edit made right after that build
// could go unseen (it always did once the build no longer yielded to the event loop).
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

/** The names of the shared layers in the directory above the site directories. */
export const LAYER_NAMES: readonly string[] = ['_defaults.yaml', '_profiles'];

/** The shared layers of some parent directories, watched. */
export interface LayerWatch {
  /** The absolute paths of the layers that exist now (for chokidar). */
  readonly present: readonly string[];
  close(): void;
}

/**
 * Watch the layers of each absolute parent directory: `seen` is told the layer's absolute path
 * on every event that names it; `onAppear` once a layer that was missing exists (given to
 * chokidar then); `failed` once a watch cannot be opened or fails (its events may be lost).
 */
export function layerWatch(
  parents: readonly string[],
  seen: (abs: string) => void,
  onAppear: (abs: string) => void,
  failed: () => void,
): LayerWatch {
  const watches: FSWatcher[] = [];
  const given = new Set<string>();
  let closed = false;
  for (const dir of parents) {
    for (const name of LAYER_NAMES) if (existsSync(join(dir, name))) given.add(join(dir, name));
    try {
      const w = watch(dir, { persistent: true }, (_event, name) => {
        if (closed) return;
        if (name === null) {
          // No name: the kernel's queue overflowed; any layer may have changed.
          for (const n of LAYER_NAMES) seen(join(dir, n));
          return;
        }
        const n = name.toString();
        if (!LAYER_NAMES.includes(n)) return;
        const abs = join(dir, n);
        if (!given.has(abs) && existsSync(abs)) {
          given.add(abs);
          onAppear(abs);
        }
        seen(abs);
      });
      w.on('error', () => failed());
      watches.push(w);
    } catch {
      failed();
    }
  }
  return {
    present: [...given],
    close() {
      closed = true;
      for (const w of watches) w.close();
    },
  };
}
