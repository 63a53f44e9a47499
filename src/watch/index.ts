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
  const { debounceMs = 50, onBuild, onError, ...buildOptions } = options;
  const cwd = options.cwd ?? process.cwd();
  const siteDirs = options.sites.map((dir) => ({ dir, abs: resolve(cwd, dir) }));
  const layers = layerPaths(siteDirs.map((s) => s.abs));
  // Clean parses of inventory files, reused while their stamps hold.
  // Trusted without a stat from the watcher's `ready` on (see ParseCache), until an event says otherwise.
  const parseCache: ParseCache = new Map();
  // Rendered nodes of each site, reused while a node's resolved model is unchanged.
  const renderCaches = new Map<string, RenderCache>();
  // What each site's last emit wrote (its files with the same bytes are not looked at again).
  const emitted = new Map<string, EmittedSite>();
  // Sites (as given) this watch built and has seen no change to since.
  const trusted = new Set<string>();
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  /** A change seen: a build once no other change came for debounceMs. */
  const seen = (path: string) => {
    pending.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const changed = [...pending].sort();
      pending = new Set();
      void run(changed);
    }, debounceMs);
  };
  const inputs = inputWatch(cwd, options.cwd, [...siteDirs.map((s) => s.abs), ...layers], seen);
  const untrust = (changed: readonly string[]) => {
    for (const p of changed) {
      const abs = resolve(cwd, p);
      const owner = siteDirs.filter((s) => abs === s.abs || abs.startsWith(s.abs + sep) || inputs.readBy(s.dir, abs));
      if (owner.length === 0) trusted.clear(); // a shared layer (or a path no site read): every site may have changed
      for (const s of owner) trusted.delete(s.dir);
    }
  };
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (stop = r));
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const run = (changed: string[]) => {
    running = running.then(async () => {
      if (closed) return;
      const gone = options.sites.find((dir) => !existsSync(resolve(cwd, dir)));
      if (gone !== undefined) {
        closed = true;
        inputs.close();
        inventory?.close();
        await (await watcher).close();
        onError?.(siteGone(gone));
        stop();
        return;
      }
      untrust(changed);
      const startedAt = new Date();
      const t0 = performance.now();
      const result = await build({ ...buildOptions, trusted: new Set(trusted), parseCache, renderCaches, emitted });
      const built = new Set(result.sites.map((s) => s.site));
      for (const c of result.compiled) if (c.site !== undefined && built.has(c.site)) trusted.add(c.dir);
      // Watched before the event is reported, so that a change made after it is seen.
      if (!closed) inputs.update(result.compiled);
      onBuild({ result, changed, startedAt, durationMs: Math.round(performance.now() - t0) });
    });
    return running;
  };
  // The inventory, watched before the first build starts (below).
  let inventory: InventoryWatch | undefined;
  // A watch that failed (even before chokidar is ready): no parse is trusted from then on.
  let watchFailed = false;
  const watcher: Promise<FSWatcher> = Promise.resolve().then(() => {
    inventory = watchInventory(
      siteDirs,
      cwd,
      options.cwd,
      (event, abs, shown) => {
        distrust(parseCache, event, abs);
        seen(shown);
      },
      () => {
        watchFailed = true;
        parseCache.trust = undefined;
      },
    );
    return inventory.chokidar;
  });
  // The first build starts once every watcher is ready, so that a change made while it runs, or
  // right after it, is always seen: chokidar's first scan of the inventory could otherwise end
  // after the build (it does when the build never yields), and an edit or a removed site directory
  // in between went unnoticed. Its `ready` holds because it is given no missing path (layers.ts).
  const ready = watcher
    .then(
      (w) =>
        new Promise<void>((r) =>
          w.once('ready', () => {
            // Every inventory file is watched from here on: a parse read or checked since is
            // reused without a stat until its file's event. A watcher error ends that for good.
            if (!watchFailed) parseCache.trust = 0;
            r();
          }),
        ),
    )
    .then(() => run([]))
    .then(() => undefined);
  return {
    ready,
    stopped,
    async close() {
      closed = true;
      clearTimeout(timer);
      await (await watcher).close();
      await running;
      inputs.close();
      inventory?.close();
    },
  };
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
