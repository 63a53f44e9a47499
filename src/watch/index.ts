// watch: rebuild sites when one of their inputs changes. Changes are debounced and builds are
// queued so that two never overlap. Every rebuild is a build(): its up-to-date check skips the
// sites nothing changed, and a site watch itself built and saw no change since is trusted
// without re-checking every file of its output (its input stamps are still compared).
//
// What is watched is what the up-to-date check compares: the inventory (the site directories,
// for new node files too, and the shared layers next to them) from the start, and after each
// build every other input the sites read as it recorded them (secret files, user-data files,
// iPXE binaries and their directory, absent `.git` paths that would move the repository
// boundary: `inputs.ts`). A change to any of them rebuilds.
import { existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { FSWatcher } from 'chokidar';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { ParseCache } from '../load/index.ts';
import type { RenderCache } from '../render/index.ts';
import { build, type BuildOptions, type BuildResult, type EmittedSite } from '../orchestrate/build.ts';
import { inputWatch } from './inputs.ts';
import { watchInventory, type InventoryWatch } from './inventory.ts';
import { layerPaths } from './layers.ts';

/** Options for watch(). */
export interface WatchOptions extends BuildOptions {
  /** Quiet period after the last change before building (ms, default 50). */
  readonly debounceMs?: number;
  /** Called after every build (the first one runs at start). */
  readonly onBuild: (event: WatchEvent) => void;
  /** Called once when watching cannot go on (a site directory disappeared); watching stops. */
  readonly onError?: (diagnostic: Diagnostic) => void;
}

/** One build triggered by watch. */
export interface WatchEvent {
  readonly result: BuildResult;
  /** Files whose change triggered the build (empty for the first build). */
  readonly changed: readonly string[];
  /** When the build started, and how long it took (ms). */
  readonly startedAt: Date;
  readonly durationMs: number;
}

/** A running watch. */
export interface WatchHandle {
  /** Resolves when the first build has finished (and its inputs are watched). */
  readonly ready: Promise<void>;
  /** Resolves when watching stopped by itself (after onError). */
  readonly stopped: Promise<void>;
  close(): Promise<void>;
}

/** Build now, then again after each change to an input of the sites. */
export function watch(options: WatchOptions): WatchHandle {
  return new SiteWatch(options);
}

/** A running watch: its caches, its watchers and its queue of builds. */
class SiteWatch implements WatchHandle {
  readonly ready: Promise<void>;
  readonly stopped: Promise<void>;
  private stop: () => void = () => undefined;
  private readonly debounceMs: number;
  private readonly buildOptions: BuildOptions;
  private readonly cwd: string;
  private readonly siteDirs: readonly { dir: string; abs: string }[];
  // Clean parses of inventory files, reused while their stamps hold.
  // Trusted without a stat from the watcher's `ready` on (see ParseCache), until an event says otherwise.
  private readonly parseCache: ParseCache = new Map();
  // Rendered nodes of each site, reused while a node's resolved model is unchanged.
  private readonly renderCaches = new Map<string, RenderCache>();
  // What each site's last emit wrote (its files with the same bytes are not looked at again).
  private readonly emitted = new Map<string, EmittedSite>();
  // Sites (as given) this watch built and has seen no change to since.
  private readonly trusted = new Set<string>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly inputs: ReturnType<typeof inputWatch>;
  private running: Promise<void> = Promise.resolve();
  private closed = false;
  // The inventory, watched before the first build starts (below).
  private inventory: InventoryWatch | undefined;
  // A watch that failed (even before chokidar is ready): no parse is trusted from then on.
  private watchFailed = false;
  private readonly watcher: Promise<FSWatcher>;

  constructor(private readonly options: WatchOptions) {
    const { debounceMs = 50, onBuild: _onBuild, onError: _onError, ...buildOptions } = options;
    this.debounceMs = debounceMs;
    this.buildOptions = buildOptions;
    this.cwd = options.cwd ?? process.cwd();
    this.siteDirs = options.sites.map((dir) => ({ dir, abs: resolve(this.cwd, dir) }));
    const layers = layerPaths(this.siteDirs.map((s) => s.abs));
    this.inputs = inputWatch(this.cwd, options.cwd, [...this.siteDirs.map((s) => s.abs), ...layers], (path) => this.seen(path));
    this.stopped = new Promise<void>((r) => (this.stop = r));
    this.watcher = Promise.resolve().then(() => this.watchInventory());
    this.ready = this.firstBuild();
  }

  /** Stop watching, after the build under way. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await (await this.watcher).close();
    await this.running;
    this.inputs.close();
    this.inventory?.close();
  }

  /** A change seen: a build once no other change came for debounceMs. */
  private seen(path: string): void {
    this.pending.add(path);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const changed = [...this.pending].sort();
      this.pending = new Set();
      void this.run(changed);
    }, this.debounceMs);
  }

  /** The sites a changed path belongs to are no longer trusted (all of them for a shared path). */
  private untrust(changed: readonly string[]): void {
    for (const p of changed) {
      const abs = resolve(this.cwd, p);
      const owner = this.siteDirs.filter((s) => abs === s.abs || abs.startsWith(s.abs + sep) || this.inputs.readBy(s.dir, abs));
      if (owner.length === 0) this.trusted.clear(); // a shared layer (or a path no site read): every site may have changed
      for (const s of owner) this.trusted.delete(s.dir);
    }
  }

  /** Queue a build after the one under way. */
  private run(changed: string[]): Promise<void> {
    this.running = this.running.then(() => this.rebuild(changed));
    return this.running;
  }

  /** One build for `changed`, or the end of the watch when a site directory is gone. */
  private async rebuild(changed: string[]): Promise<void> {
    if (this.closed) return;
    const gone = this.options.sites.find((dir) => !existsSync(resolve(this.cwd, dir)));
    if (gone !== undefined) return this.stopGone(gone);
    this.untrust(changed);
    const startedAt = new Date();
    const t0 = performance.now();
    const { parseCache, renderCaches, emitted } = this;
    const result = await build({ ...this.buildOptions, trusted: new Set(this.trusted), parseCache, renderCaches, emitted });
    const built = new Set(result.sites.map((s) => s.site));
    for (const c of result.compiled) if (c.site !== undefined && built.has(c.site)) this.trusted.add(c.dir);
    // Watched before the event is reported, so that a change made after it is seen.
    if (!this.closed) this.inputs.update(result.compiled);
    this.options.onBuild({ result, changed, startedAt, durationMs: Math.round(performance.now() - t0) });
  }

  /** Stop watching by itself: the site directory `gone` disappeared. */
  private async stopGone(gone: string): Promise<void> {
    this.closed = true;
    this.inputs.close();
    this.inventory?.close();
    await (await this.watcher).close();
    this.options.onError?.(siteGone(gone));
    this.stop();
  }

  /** Watch the inventory: an event takes back the parse cache's trust and queues a build. */
  private watchInventory(): FSWatcher {
    this.inventory = watchInventory(
      this.siteDirs,
      this.cwd,
      this.options.cwd,
      (event, abs, shown) => {
        distrust(this.parseCache, event, abs);
        this.seen(shown);
      },
      () => {
        this.watchFailed = true;
        this.parseCache.trust = undefined;
      },
    );
    return this.inventory.chokidar;
  }

  /**
   * The first build starts once every watcher is ready, so that a change made while it runs, or
   * right after it, is always seen: chokidar's first scan of the inventory could otherwise end
   * after the build (it does when the build never yields), and an edit or a removed site directory
   * in between went unnoticed. Its `ready` holds because it is given no missing path (layers.ts).
   */
  private firstBuild(): Promise<void> {
    return this.watcher
      .then(
        (w) =>
          new Promise<void>((r) =>
            w.once('ready', () => {
              // Every inventory file is watched from here on: a parse read or checked since is
              // reused without a stat until its file's event. A watcher error ends that for good.
              if (!this.watchFailed) this.parseCache.trust = 0;
              r();
            }),
          ),
      )
      .then(() => this.run([]))
      .then(() => undefined);
  }
}

/** The error that stops watch when a site directory disappears. */
function siteGone(dir: string): Diagnostic {
  return {
    code: 'LOAD_SITE_DIR_NOT_FOUND',
    severity: 'error',
    message: `site directory ${dir} disappeared; watch stopped (the output was left as it was)`,
    hint: 'Restore the directory (or check out the branch that has it) and start `harvgen watch` again.',
  };
}

/**
 * What an event of the inventory's watcher takes back from the parse cache's trust: a file's
 * change, that file's; anything else (a file or directory added or removed, a rename), every
 * file's, as a new generation (the next build stats each once, as without trust).
 */
function distrust(cache: ParseCache, event: string, abs: string): void {
  if (cache.trust === undefined) return;
  if (event !== 'change') {
    cache.trust++;
    return;
  }
  const kept = cache.get(abs);
  if (kept?.trust === undefined) return;
  const { trust: _dropped, ...rest } = kept;
  cache.set(abs, rest);
}
