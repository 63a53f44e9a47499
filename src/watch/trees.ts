// The node trees: each site's `nodes/` directory and its subdirectories, watched with one
// fs.watch per directory instead of through chokidar. chokidar re-reads a whole directory, with
// an lstat for each entry, whenever any file in it changes: with 10,000 node files that was
// about 140 ms of main-thread work and 55 MB of garbage in every rebuild, and one inotify watch
// per file (more than the 8,192 some kernels allow a user). A directory's own watch reports an
// edit of any file in it by name; only a create, a delete or a rename ('rename') makes this
// module look at the directory again, and then only at that name.
//
// What the loader reads is what is watched: `*.yaml`/`*.yml` names not starting with `.`, in
// subdirectories too (not through a link to a directory). A YAML name that is a link is watched
// itself as well, so that its target's edits are seen wherever it lies. The site directory is watched for the name `nodes` only (made, removed or replaced); chokidar
// watches the rest of the site. The shared `_profiles/` tree next to the site directories is
// watched the same way, its parent directory for the name `_profiles` (layers.ts).
import { lstatSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join, sep } from 'node:path';

/**
 * An event in a node tree, with its absolute path: 'change', a YAML file edited, made, removed or
 * replaced (only its own parse can be stale); 'other', a directory made, removed or renamed, or
 * events lost (any parse under it can be).
 */
export type TreeEvent = 'change' | 'other';

/** The node trees of some sites, watched. */
export interface TreeWatch {
  close(): void;
}

const YAML = /\.ya?ml$/;

/**
 * Watch `<site>/nodes` for each absolute site directory (`<dir>/<name>` for another `name`: the
 * shared `_profiles` tree above the sites, layers.ts): `report` is told each event; `failed` once
 * a watch cannot be opened or fails (its events may be lost from then on).
 */
export function nodeTreeWatch(
  sites: readonly string[],
  report: (event: TreeEvent, abs: string) => void,
  failed: () => void,
  name = 'nodes',
): TreeWatch {
  const trees = new NodeTrees(report, failed);
  for (const site of sites) trees.watchSite(site, name);
  return trees;
}

/** The watches of some node trees, with what their events mean. */
class NodeTrees implements TreeWatch {
  /** The open watches by absolute path: the trees' directories, YAML links, the site directories. */
  private readonly open = new Map<string, FSWatcher>();
  private closed = false;

  constructor(
    private readonly report: (event: TreeEvent, abs: string) => void,
    private readonly failed: () => void,
  ) {}

  /** Watch `<site>/<name>` and the site directory for that name (made, removed or replaced). */
  watchSite(site: string, name: string): void {
    const nodes = join(site, name);
    this.start(site, (event, entry) => {
      if (entry !== null && (entry !== name || event !== 'rename')) return;
      this.drop(nodes);
      if (isDirectory(nodes, true)) this.enter(nodes);
      this.report('other', nodes);
    });
    // `nodes` itself may be a link to a directory (the loader follows it inside the repository).
    if (isDirectory(nodes, true)) this.enter(nodes);
  }

  /** Stop every watch; no event is reported after. */
  close(): void {
    this.closed = true;
    for (const w of this.open.values()) w.close();
    this.open.clear();
  }

  /** Watch `path` (unless it is); whether it is watched. */
  private start(path: string, onEvent: (event: string, name: string | null) => void): boolean {
    if (this.open.has(path)) return true;
    try {
      const w = watch(path, { persistent: true }, (event, name) => {
        if (!this.closed) onEvent(event, name === null ? null : name.toString());
      });
      w.on('error', () => {
        this.stop(path);
        this.failed();
      });
      this.open.set(path, w);
      return true;
    } catch (e) {
      // Gone before it could be watched (its parent's event says so), or a dangling link: not a failure.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.failed();
      return false;
    }
  }

  /** Stop watching `path` itself. */
  private stop(path: string): void {
    this.open.get(path)?.close();
    this.open.delete(path);
  }

  /** Stop watching `path` and everything under it; whether anything was. */
  private drop(path: string): boolean {
    let any = false;
    for (const p of [...this.open.keys()]) {
      if (p === path || p.startsWith(path + sep)) {
        this.stop(p);
        any = true;
      }
    }
    return any;
  }

  /** Watch the directory `dir` and its subdirectories, and the YAML links in them. */
  private enter(dir: string): void {
    if (!this.start(dir, (event, name) => this.seen(dir, event, name))) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // gone again: its parent's event says so
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) this.enter(path);
      else if (e.isSymbolicLink() && YAML.test(e.name)) this.watchLink(path);
    }
  }

  /** An event in the watched directory `dir`. */
  private seen(dir: string, event: string, name: string | null): void {
    if (name === null) {
      // No name (not seen on Linux, where libuv drops the kernel's queue-overflow event: a burst of
      // more events than the queue holds is lost, as it was for chokidar): anything under `dir`.
      this.drop(dir);
      if (isDirectory(dir, true)) this.enter(dir);
      this.report('other', dir);
      return;
    }
    if (name.startsWith('.')) return;
    const path = join(dir, name);
    if (event === 'change') {
      if (YAML.test(name) && !this.open.has(path)) this.report('change', path);
      return;
    }
    // Made, removed or renamed. A directory is watched again (or no more): everything under it
    // is new. A YAML file is a new file at its path, whose parse alone is taken back.
    const at = lstatSync(path, { throwIfNoEntry: false });
    const watched = this.drop(path);
    if (at?.isDirectory()) {
      this.enter(path);
      this.report('other', path);
    } else if (YAML.test(name)) {
      if (at?.isSymbolicLink()) this.watchLink(path);
      this.report('change', path);
    } else if (watched) this.report('other', path);
  }

  /**
   * A YAML link is watched itself too (fs.watch follows it): its target's edits, wherever it lies.
   * A target replaced by a rename (an editor's save) is another file: watched anew.
   */
  private watchLink(path: string): boolean {
    return this.start(path, (event) => {
      if (event === 'rename') {
        this.stop(path);
        if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) this.watchLink(path);
      }
      this.report('change', path);
    });
  }
}

/** Whether `path` is a directory (through a link when `follow`). */
function isDirectory(path: string, follow = false): boolean {
  return (follow ? statSync : lstatSync)(path, { throwIfNoEntry: false })?.isDirectory() === true;
}
