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
  return new InputsWatched(cwd, displayCwd, inventory, seen);
}

/** A watch of the inputs outside the inventory: one fs.watch per directory, for the names in it. */
class InputsWatched implements InputWatch {
  /** Per site directory (as given): the absolute paths its last stamped compile read. */
  private readonly bySite = new Map<string, ReadonlySet<string>>();
  /** The paths watched, and the watches by directory with the names watched in each. */
  private watched: ReadonlySet<string> = new Set();
  private watching = new Map<string, { readonly names: ReadonlySet<string>; readonly watcher: FSWatcher | undefined }>();

  constructor(
    private readonly cwd: string,
    private readonly displayCwd: string | undefined,
    private readonly inventory: readonly string[],
    private readonly seen: (path: string) => void,
  ) {}

  update(sites: readonly { readonly dir: string; readonly inputs?: InputsRead }[]): void {
    const recorded = new Map<string, InputStamp>();
    for (const s of sites) {
      if (!s.inputs) continue;
      this.bySite.set(s.dir, new Set(s.inputs.stamps.map((st) => st[0])));
      for (const st of s.inputs.stamps) recorded.set(st[0], st);
    }
    const paths = new Set([...this.bySite.values()].flatMap((p) => [...p]).filter((p) => !this.covered(p)));
    const fresh = [...paths].filter((p) => !this.watched.has(p));
    this.watched = paths;
    this.rewatch(watchPlan(paths));
    // Changed after the build read it, before it was watched.
    for (const p of fresh) {
      const stamp = recorded.get(p);
      if (stamp && stamp[1] !== -2 && !stampsHold([stamp])) this.seen(this.show(p));
    }
  }

  readBy(siteDir: string, abs: string): boolean {
    return this.bySite.get(siteDir)?.has(abs) === true;
  }

  close(): void {
    for (const w of this.watching.values()) w.watcher?.close();
    this.watching = new Map();
    this.watched = new Set();
  }

  /** Whether the inventory watch reports `abs` already: a YAML file or a directory inside a site or a shared layer. */
  private covered(abs: string): boolean {
    if (!this.inventory.some((root) => abs === root || abs.startsWith(root + sep))) return false;
    return this.inventory.includes(abs) || /\.ya?ml$/.test(abs) || statSync(abs, { throwIfNoEntry: false })?.isDirectory() === true;
  }

  /** A path as reported. */
  private show(abs: string): string {
    return this.displayCwd !== undefined ? relative(resolve(this.cwd, this.displayCwd), abs) : abs;
  }

  /** Watch the directories of `plan`, keeping a watch whose names are the same, closing the ones no longer planned. */
  private rewatch(plan: ReadonlyMap<string, ReadonlySet<string>>): void {
    const before = this.watching;
    this.watching = new Map();
    for (const [dir, names] of plan) {
      const old = before.get(dir);
      if (old && old.names.size === names.size && [...names].every((n) => old.names.has(n))) {
        this.watching.set(dir, old);
        before.delete(dir);
      } else this.watching.set(dir, { names, watcher: this.open(dir, names) });
    }
    for (const old of before.values()) old.watcher?.close();
  }

  /** A watch of `dir` that reports the changes of `names` in it (undefined: it cannot be watched). */
  private open(dir: string, names: ReadonlySet<string>): FSWatcher | undefined {
    try {
      const w = watch(dir, { persistent: true }, (_event, name) => {
        if (name !== null && names.has(name.toString())) this.seen(this.show(join(dir, name.toString())));
      });
      // A directory that cannot be watched (gone, no permission, no inotify watch left): its
      // paths are still compared by the up-to-date check of the next build; watching goes on.
      w.on('error', () => undefined);
      return w;
    } catch {
      return undefined;
    }
  }
}

/** The names to watch in each directory: each path (and a link's target) in its nearest existing ancestor, by the first missing name. */
function watchPlan(paths: ReadonlySet<string>): Map<string, Set<string>> {
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
  return plan;
}
