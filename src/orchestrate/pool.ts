// A pool of worker threads that compiles a build's sites (`--jobs N`, README "Speed"). Each site
// goes, in order, to the next idle worker, which runs the first pass and keeps the site; the
// second pass of a site runs on the worker that keeps it, when build() asks for it (in site order,
// a few sites ahead of the one being written). What crosses threads is plain data: the task (a
// directory and the compile options), and back a site without its model or locator (its summary
// and cross-site facts in their place, src/orchestrate/summary.ts) and, from the second pass, its files.
// The main thread writes the sites in order, so the tree, the records and what is printed are
// those of a serial build whatever the number of workers (ARCHITECTURE.md, "Parallel builds").
// A worker that throws or dies makes its sites' INTERNAL_ERROR: never a hang, never a stack trace.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../diagnostics/types.ts';
import { redact } from '../load/secrets.ts';
import type { CompiledSite, CompileOptions, ModelledSite } from '../pipeline.ts';
import { MaskedValues, NOTHING_MASKED } from '../util/masked.ts';
import { bundled, fromSource, packageFile } from '../util/package-root.ts';
import type { CheckOptions } from './check.ts';
import type { SiteSummary, Summarized } from './summary.ts';
import { artifactsFromWire } from '../render/artifact.ts';

/** What the main thread sends a worker. */
export type Task =
  | {
      readonly kind: 'model';
      readonly id: number;
      readonly dir: string;
      readonly options: CompileOptions;
      /** The nodes this worker keeps whole between the passes (its share of the run's HeldNodes). */
      readonly held: number;
    }
  | { readonly kind: 'render'; readonly id: number };

/** A site as it crosses threads (worker.ts makes it). */
export type WireSite = Omit<CompiledSite, 'model' | 'locate' | 'masked'> & {
  readonly masked: readonly string[];
  readonly summary?: SiteSummary;
};

/** What a worker answers: the site, or why it could not. */
export type Reply =
  | { readonly id: number; readonly site: WireSite; readonly renderable: boolean; readonly light?: boolean }
  | { readonly id: number; readonly error: string; readonly stack: string };

/** A site on the main thread, compiled by a worker. */
export type PooledSite = CompiledSite & Summarized;

interface Pending {
  readonly task: Task;
  readonly resolve: (reply: Reply) => void;
  readonly onStart?: () => void;
}

interface Slot {
  readonly worker: Worker;
  busy?: Pending;
  /** Second passes of the sites this worker keeps, waiting for it. */
  readonly queue: Pending[];
  dead?: string;
}

/** What startWorker reads of tsx's package.json. */
interface TsxPackage {
  readonly exports: { readonly './esm/api': { readonly import: { readonly default: string } } };
}

/**
 * The worker's entry: the same code as this module's: the CLI's worker bundle from the CLI's
 * bundle (dist/cli-worker.js), tsc's dist/orchestrate/worker.js from the library, and src/
 * through tsx from the sources (tests), registered in the worker before the entry is loaded. The
 * worker judges reuse by the code identity the main thread recorded: each must be the other's.
 */
function startWorker(): Worker {
  // Loaded when a worker is started: a build on the main thread (most) never pays for the module.
  const { Worker } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
  // From the package root: inside the CLI's bundle this module is not in dist/orchestrate/.
  const entry = pathToFileURL(
    fromSource
      ? packageFile('src', 'orchestrate', 'worker.ts')
      : bundled
        ? packageFile('dist', 'cli-worker.js')
        : packageFile('dist', 'orchestrate', 'worker.js'),
  );
  if (!fromSource) return new Worker(entry);
  // tsx's ESM API, by its package's own exports (require.resolve would give its CommonJS one).
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const api = (JSON.parse(readFileSync(manifest, 'utf8')) as TsxPackage).exports['./esm/api'].import.default;
  const tsx = pathToFileURL(join(dirname(manifest), api)).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true });
}

/** The worker threads of one build; `close()` ends them. */
export class WorkerPool {
  readonly #slots: Slot[];
  /** First passes not yet handed to a worker, in site order. */
  readonly #waiting: Pending[] = [];
  /** The worker that keeps each site, by index. */
  readonly #owner = new Map<number, Slot>();
  readonly #renderable = new Set<number>();
  /** The sites their worker holds light between the passes (src/orchestrate/held.ts). */
  readonly #light = new Set<number>();
  readonly #rendered = new Map<number, Promise<PooledSite>>();
  #closing = false;

  /** The nodes the run keeps whole (`runHeldNodes`), shared among the workers. */
  readonly #held: number;

  constructor(jobs: number, held: number) {
    this.#held = held;
    this.#slots = Array.from({ length: jobs }, () => {
      const slot: Slot = { worker: startWorker(), queue: [] };
      slot.worker.on('message', (reply: Reply) => {
        const done = slot.busy;
        slot.busy = undefined;
        done?.resolve(reply);
        this.#dispatch();
      });
      slot.worker.on('error', (e: Error) => this.#lose(slot, `worker thread failed: ${e.message}`));
      slot.worker.on('exit', (code) => this.#lose(slot, `worker thread exited (code ${code})`));
      return slot;
    });
  }

  /** The first pass of site `index` on the next idle worker. */
  model(index: number, dir: string, options: CheckOptions): Promise<PooledSite> {
    const compile: CompileOptions = {
      cwd: options.cwd ?? process.cwd(),
      ...(options.env ? { env: { ...options.env } } : {}),
      ...(options.secrets ? { secrets: options.secrets } : {}),
      ...(options.stamps !== undefined ? { stamps: options.stamps } : {}),
      ...(options.reuseOutput !== undefined ? { reuseOutput: options.reuseOutput } : {}),
    };
    const total = options.sites.length;
    return new Promise<Reply>((resolve) => {
      this.#waiting.push({
        task: { kind: 'model', id: index, dir, options: compile, held: Math.max(1, Math.floor(this.#held / this.#slots.length)) },
        resolve,
        onStart: () => options.onProgress?.({ step: 'compile', dir, index, total }),
      });
      this.#dispatch();
    }).then((reply) => {
      if ('error' in reply) return { dir, diagnostics: [workerError(dir, reply, [])], sources: {}, masked: NOTHING_MASKED };
      if (reply.renderable) this.#renderable.add(index);
      if (reply.light) this.#light.add(index);
      return fromWire(reply.site);
    });
  }

  /** Whether the first pass left site `index` ready to render (on its worker). */
  renderable(index: number): boolean {
    return this.#renderable.has(index);
  }

  /** Whether the worker of site `index` holds it light between the passes. */
  light(index: number): boolean {
    return this.#light.has(index);
  }

  /** Start the second pass of site `index` ahead of `render()` asking for it. */
  prefetch(index: number, modelled: ModelledSite): void {
    if (!this.#rendered.has(index)) this.#rendered.set(index, this.#render(index, modelled));
  }

  /** The second pass of site `index` (the one `prefetch` started, if it did), asked once. */
  render(index: number, modelled: ModelledSite): Promise<PooledSite> {
    const known = this.#rendered.get(index);
    this.#rendered.delete(index);
    return known ?? this.#render(index, modelled);
  }

  #render(index: number, modelled: ModelledSite): Promise<PooledSite> {
    const slot = this.#owner.get(index);
    const rendered = new Promise<Reply>((resolve) => {
      const pending: Pending = { task: { kind: 'render', id: index }, resolve };
      if (!slot || slot.dead !== undefined) fail(pending, slot?.dead ?? 'no worker keeps the site');
      else {
        slot.queue.push(pending);
        this.#dispatch();
      }
    }).then((reply): PooledSite => {
      if (!('error' in reply)) return fromWire(reply.site);
      const { renderable: _none, ...site } = modelled;
      return {
        ...site,
        diagnostics: [...site.diagnostics, workerError(site.dir, reply, site.masked.values)],
        ...(site.inputs ? { inputs: { ...site.inputs, complete: false } } : {}),
      };
    });
    return rendered;
  }

  /** End every worker (what they keep goes with them). */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #dispatch(): void {
    // No worker left: what waits fails at once (a site asked for later too), never a hang.
    const gone = this.#slots.every((s) => s.dead !== undefined);
    if (gone) for (const p of this.#waiting.splice(0)) fail(p, this.#slots[0]!.dead!);
    for (const slot of this.#slots) {
      if (slot.busy || slot.dead !== undefined) continue;
      const next = slot.queue.shift() ?? this.#waiting.shift();
      if (!next) continue;
      if (next.task.kind === 'model') this.#owner.set(next.task.id, slot);
      slot.busy = next;
      next.onStart?.();
      slot.worker.postMessage(next.task);
    }
  }

  /** A worker gone: what it was doing and what it keeps fail; the others take the rest. */
  #lose(slot: Slot, why: string): void {
    if (this.#closing || slot.dead !== undefined) return;
    slot.dead = why;
    for (const p of [...(slot.busy ? [slot.busy] : []), ...slot.queue.splice(0)]) fail(p, why);
    slot.busy = undefined;
    this.#dispatch();
  }
}

function fail(p: Pending, why: string): void {
  p.resolve({ id: p.task.id, error: why, stack: why });
}

function fromWire(site: WireSite): PooledSite {
  return {
    ...site,
    ...(site.artifacts ? { artifacts: artifactsFromWire(site.artifacts) } : {}),
    masked: site.masked.length > 0 ? new MaskedValues(site.masked) : NOTHING_MASKED,
  };
}

/** A worker's failure as the site's INTERNAL_ERROR (stack in `detail`, shown with --debug), masked. */
function workerError(dir: string, reply: { readonly error: string; readonly stack: string }, masked: readonly string[]): Diagnostic {
  const clean = (t: string) => (masked.length > 0 ? redact(t, masked) : t);
  return {
    code: 'INTERNAL_ERROR',
    severity: 'error',
    message: clean(`harvgen failed on ${dir}: ${reply.error} (this is a bug in harvgen)`),
    hint: 'Please report it with the inventory; run with --debug for the stack trace (or build with --jobs 1).',
    detail: clean(reply.stack),
  };
}
