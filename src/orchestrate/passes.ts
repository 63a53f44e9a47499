// The two passes of build() over a run's sites, in process (`--jobs 1`, watch, the library's
// default) or on a pool of worker threads (src/orchestrate/pool.ts). build() reads sites the same way
// from both: their model through summaryOf (src/orchestrate/summary.ts), never directly.
import type { CompiledSite, CompileOptions, ModelledSite } from '../pipeline.ts';
import type { Summarized } from './summary.ts';
import type { CheckOptions } from './check.ts';
import { WorkerPool } from './pool.ts';
import { HeldNodes, runHeldNodes } from './held.ts';

/** How build() runs the passes. */
export interface Passes {
  /** The first passes may all be asked for at once (a pool queues them). */
  readonly concurrent: boolean;
  /** How many sites to render ahead of the one being written (0 in process). */
  readonly ahead: number;
  model(dir: string, options: CompileOptions, index: number): Promise<ModelledSite & Summarized>;
  renderable(index: number, site: ModelledSite): boolean;
  /** Whether site `index` is held light (src/orchestrate/held.ts): its result keeps no model. */
  light(index: number): boolean;
  render(index: number, site: ModelledSite): Promise<CompiledSite & Summarized>;
  /** Start rendering a site that `render` will ask for soon. */
  prefetch(index: number, site: ModelledSite): void;
  close(): Promise<void>;
}

/**
 * The compiler (yaml, ajv, eta and every stage). Startup: a build whose sites are all up to date
 * compiles nothing, so it never loads the compiler.
 */
const compiler = () => import('../pipeline.ts');

/**
 * Both passes in this thread, one site after the other. Sites past the run's HeldNodes are held
 * light between the passes and compiled again for their render (src/orchestrate/held.ts).
 */
export function inProcess(held = new HeldNodes()): Passes {
  const light = new Map<number, { readonly dir: string; readonly options: CompileOptions }>();
  const lightened = new Set<number>();
  return {
    concurrent: false,
    ahead: 0,
    async model(dir, options, index) {
      const site = await (await compiler()).compileModel(dir, options);
      if (!site.renderable || held.keep(site.renderable.model.nodes.length)) return site;
      light.set(index, { dir, options });
      lightened.add(index);
      // Without its input stamps too: its second reading stamps them again, and its record holds those.
      const { inputs: _again, ...lightSite } = (await import('./light.ts')).lighten(site);
      return lightSite;
    },
    renderable: (index, site) => site.renderable !== undefined || light.has(index),
    light: (index) => lightened.has(index),
    async render(index, site) {
      const { compileModel, renderModelled } = await compiler();
      const again = light.get(index);
      if (!again) return renderModelled(site);
      light.delete(index);
      const { lighten, recompile } = await import('./light.ts');
      const whole = await recompile(site, again.dir, again.options, compileModel);
      // Light again, with its files: build() writes them and lets them go, and the model is gone already.
      const rendered = renderModelled(whole);
      return { ...lighten(rendered), ...(rendered.artifacts ? { artifacts: rendered.artifacts } : {}) };
    },
    prefetch: () => undefined,
    close: async () => undefined,
  };
}

/**
 * The passes for `count` sites to compile with up to `jobs` workers: in process for one worker or
 * one site (a worker's start-up would buy nothing), or when the build reuses caches (watch).
 */
export async function openPasses(
  options: CheckOptions & { readonly jobs?: number; readonly keepArtifacts?: boolean },
  count: number,
): Promise<Passes> {
  const jobs = Math.min(options.jobs ?? 1, count);
  // Watch's caches and a caller keeping every site's files (--diff reads their models) keep every site whole.
  const whole = options.parseCache !== undefined || options.renderCaches !== undefined || options.keepArtifacts === true;
  if (jobs < 2 || options.parseCache || options.renderCaches) return inProcess(new HeldNodes(whole ? Infinity : runHeldNodes(count)));
  const pool = new WorkerPool(jobs, runHeldNodes(count));
  return {
    concurrent: true,
    ahead: jobs,
    model: (dir, compile, index) => pool.model(index, dir, { ...options, ...compile }),
    renderable: (index) => pool.renderable(index),
    light: (index) => pool.light(index),
    render: (index, site) => pool.render(index, site),
    prefetch: (index, site) => pool.prefetch(index, site),
    close: () => pool.close(),
  };
}
