// The inputs watch watches besides the inventory: after each build, every path the sites read
// or listed as the up-to-date check recorded it (`CompiledSite.inputs`: secret files, user-data
// files, iPXE binaries and their directory, absent `.git` paths that would move the repository
// boundary), except what the inventory watch already reports (YAML files and directories inside
// the site directories and the shared layers). A site whose compile did not stamp its inputs
// this time keeps the paths of its last one.
//
// Each path is watched through its directory (fs.watch, not recursive): one watch per
// directory sees a file's edits, its replacement by a rename and its creation alike, and is in
// place when fs.watch returns (chokidar reports ready before it watches a path that does not
// exist yet). A path whose directory does not exist is watched through the nearest ancestor that
// does, for the first missing name; a link is watched at its target too.
import { realpathSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { stampsHold, type InputStamp } from '../load/stamps.ts';
import type { InputsRead } from '../pipeline.ts';

/** The inputs outside the inventory, watched. */
export interface InputWatch {
  /**
   * Watch what the sites of a build read (BuildResult.compiled). A path that changed between
   * the build's read and now counts as seen (unless its stamp was racy: then the next build
   * compiles its site anyway).
   */
  update(sites: readonly { readonly dir: string; readonly inputs?: InputsRead }[]): void;
  /** Whether the last stamped compile of `siteDir` (as given) read `abs`. */
  readBy(siteDir: string, abs: string): boolean;
  close(): void;
}

/**
 * `cwd` resolves relative paths; a reported path is relative to `displayCwd` when given (as
 * chokidar reports the inventory's), else absolute; `inventory` are the absolute paths the
 * inventory watch covers; `seen` is told every changed path.
 */
export function inputWatch(
  cwd: string,
  displayCwd: string | undefined,
  inventory: readonly string[],
  seen: (path: string) => void,
): InputWatch {
  /** Per site directory (as given): the absolute paths its last stamped compile read. */
  const bySite = new Map<string, ReadonlySet<string>>();
  /** The paths watched, and the watches by directory with the names watched in each. */
  let watched: ReadonlySet<string> = new Set();
  let watching = new Map<string, { readonly names: ReadonlySet<string>; readonly watcher: FSWatcher | undefined }>();
  const covered = (abs: string): boolean => {
    if (!inventory.some((root) => abs === root || abs.startsWith(root + sep))) return false;
    return inventory.includes(abs) || /\.ya?ml$/.test(abs) || statSync(abs, { throwIfNoEntry: false })?.isDirectory() === true;
  };
  const show = (abs: string) => (displayCwd !== undefined ? relative(resolve(cwd, displayCwd), abs) : abs);
  const open = (dir: string, names: ReadonlySet<string>): FSWatcher | undefined => {
    try {
      const w = watch(dir, { persistent: true }, (_event, name) => {
        if (name !== null && names.has(name.toString())) seen(show(join(dir, name.toString())));
      });
      // A directory that cannot be watched (gone, no permission, no inotify watch left): its
      // paths are still compared by the up-to-date check of the next build; watching goes on.
      w.on('error', () => undefined);
      return w;
    } catch {
      return undefined;
    }
  };
  return {
    update(sites) {
      const recorded = new Map<string, InputStamp>();
      for (const s of sites) {
        if (!s.inputs) continue;
        bySite.set(s.dir, new Set(s.inputs.stamps.map((st) => st[0])));
        for (const st of s.inputs.stamps) recorded.set(st[0], st);
      }
      const paths = new Set([...bySite.values()].flatMap((p) => [...p]).filter((p) => !covered(p)));
      const fresh = [...paths].filter((p) => !watched.has(p));
      watched = paths;
      const plan = new Map<string, Set<string>>();
      const add = (path: string) => {
        let p = path;
        while (dirname(p) !== p && statSync(dirname(p), { throwIfNoEntry: false })?.isDirectory() !== true) p = dirname(p);
        if (dirname(p) === p) return;
        plan.set(dirname(p), (plan.get(dirname(p)) ?? new Set()).add(basename(p)));
      };
      for (const p of paths) {
        add(p);
        let real: string | undefined;
        try {
          real = realpathSync(p);
        } catch {
          real = undefined;
        }
        if (real !== undefined && real !== p) add(real);
      }
      const before = watching;
      watching = new Map();
      for (const [dir, names] of plan) {
        const old = before.get(dir);
        if (old && old.names.size === names.size && [...names].every((n) => old.names.has(n))) {
          watching.set(dir, old);
          before.delete(dir);
        } else watching.set(dir, { names, watcher: open(dir, names) });
      }
      for (const old of before.values()) old.watcher?.close();
      // Changed after the build read it, before it was watched.
      for (const p of fresh) {
        const stamp = recorded.get(p);
        if (stamp && stamp[1] !== -2 && !stampsHold([stamp])) seen(show(p));
      }
    },
    readBy: (siteDir, abs) => bySite.get(siteDir)?.has(abs) === true,
    close() {
      for (const w of watching.values()) w.watcher?.close();
      watching = new Map();
      watched = new Set();
    },
  };
}
