// The worker thread of a parallel build (src/orchestrate/pool.ts): compiles the sites the pool hands
// it, one message at a time. Pass 1 keeps the site (its model, locator and input files never
// leave this thread) and sends back what the main thread reads of it: diagnostics, sources, the
// values to mask, input stamps and a summary of the model with the facts the checks between sites
// need (positions resolved). Pass 2 renders the kept site, lets it go and sends back its files.
import { parentPort } from 'node:worker_threads';
import { compileModel, renderModelled, type CompiledSite, type CompileOptions, type ModelledSite } from '../pipeline.ts';
import { crossSiteFacts } from '../validate/cross-site-facts.ts';
import { summarize } from './summary.ts';
import { HeldNodes } from './held.ts';
import { lighten, recompile } from './light.ts';
import type { Reply, Task, WireSite } from './pool.ts';
import { artifactsToWire, type Artifact } from '../render/artifact.ts';

const port = parentPort!;
const kept = new Map<number, ModelledSite>();
/** Sites past this worker's share of HeldNodes (src/orchestrate/held.ts): compiled again for their render. */
const light = new Map<number, { readonly dir: string; readonly options: CompileOptions; readonly site: ModelledSite }>();
let held: HeldNodes | undefined;

/** A site as it crosses to the main thread: no model, no locator, the masked values as a list. */
function wire(site: ModelledSite | CompiledSite): WireSite {
  const { model, locate, masked, ...rest } = site;
  const { renderable: _kept, ...plain } = rest as typeof rest & { renderable?: unknown };
  const { artifacts } = plain as { artifacts?: readonly Artifact[] };
  return {
    ...plain,
    ...(artifacts ? { artifacts: artifactsToWire(artifacts) } : {}),
    masked: [...masked.values],
    ...(model ? { summary: { ...summarize(model), ...(locate ? { facts: crossSiteFacts(model, locate, true) } : {}) } } : {}),
  };
}

async function run(task: Task): Promise<Reply> {
  // Test-only: a bug in the worker itself, outside the pipeline's own guard (test/cli-parallel.test.ts).
  if (process.env.HARVGEN_TEST_THROW === 'worker') throw new Error('HARVGEN_TEST_THROW=worker');
  if (process.env.HARVGEN_TEST_THROW === 'worker-exit') process.exit(3);
  if (task.kind === 'model') {
    held ??= new HeldNodes(task.held);
    const site = await compileModel(task.dir, task.options);
    if (site.renderable && held.keep(site.renderable.model.nodes.length)) kept.set(task.id, site);
    else if (site.renderable) light.set(task.id, { dir: task.dir, options: task.options, site: lighten(site) });
    return { id: task.id, site: wire(site), renderable: site.renderable !== undefined, ...(light.has(task.id) ? { light: true } : {}) };
  }
  const again = light.get(task.id);
  light.delete(task.id);
  if (again)
    return {
      id: task.id,
      site: wire(renderModelled(await recompile(again.site, again.dir, again.options, compileModel))),
      renderable: false,
    };
  const site = kept.get(task.id);
  kept.delete(task.id);
  if (!site) throw new Error(`no site ${task.id} kept for rendering`);
  return { id: task.id, site: wire(renderModelled(site)), renderable: false };
}

port.on('message', (task: Task) => {
  run(task).then(
    (reply) => port.postMessage(reply),
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      port.postMessage({ id: task.id, error: err.message, stack: err.stack ?? err.message } satisfies Reply);
    },
  );
});
