// watch: rebuild sites when their inventory changes. chokidar watches the site directories;
// changes are debounced and builds are queued so that two never overlap.
import { watch as chokidarWatch } from 'chokidar';
import { build, type BuildOptions, type BuildResult } from '../index.ts';

/** Options for watch(). */
export interface WatchOptions extends BuildOptions {
  /** Quiet period after the last change before building (ms, default 150). */
  readonly debounceMs?: number;
  /** Called after every build (the first one runs at start). */
  readonly onBuild: (event: WatchEvent) => void;
}

/** One build triggered by watch. */
export interface WatchEvent {
  readonly result: BuildResult;
  /** Files whose change triggered the build (empty for the first build). */
  readonly changed: readonly string[];
}

/** A running watch. */
export interface WatchHandle {
  /** Resolves when the first build has finished. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** Build now, then again after each change to the sites' YAML files. */
export function watch(options: WatchOptions): WatchHandle {
  const { debounceMs = 150, onBuild, ...buildOptions } = options;
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const run = (changed: string[]) => {
    running = running.then(async () => {
      if (closed) return;
      onBuild({ result: await build(buildOptions), changed });
    });
    return running;
  };
  const watcher = chokidarWatch([...options.sites], {
    cwd: options.cwd,
    ignoreInitial: true,
    ignored: (path, stats) => stats?.isFile() === true && !/\.ya?ml$/.test(path),
  });
  watcher.on('all', (_event, path) => {
    pending.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const changed = [...pending].sort();
      pending = new Set();
      void run(changed);
    }, debounceMs);
  });
  const ready = Promise.all([new Promise<void>((r) => watcher.once('ready', () => r())), run([])]).then(() => undefined);
  return {
    ready,
    async close() {
      closed = true;
      clearTimeout(timer);
      await watcher.close();
      await running;
    },
  };
}
