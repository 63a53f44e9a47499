// The sites of a build between its two passes: each site's second pass (its render) asked for
// when its turn comes, the next ones rendered ahead on the workers, and each let go once written.
import type { Diagnostic } from '../diagnostics/types.ts';
import { hasFailures } from '../diagnostics/types.ts';
import type { CompiledSite, ModelledSite } from '../pipeline.ts';
import type { Passes } from './passes.ts';
import type { Summarized } from './summary.ts';

/** The sites of a build between its two passes. */
export interface Rendering {
  readonly passes: Passes;
  /** Sites waiting for their second pass (let go once rendered). */
  readonly pending: (ModelledSite | undefined)[];
  /** Each site as reported (rendered once its turn came, else as the first pass left it). */
  readonly compiled: CompiledSite[];
  /** The first pass's diagnostics, then what rendering added (unsorted). */
  readonly compileDiagnostics: Diagnostic[];
  readonly keepArtifacts: boolean;
  /** The files the first pass's diagnostics (those between sites included) point into, once asked for (`released`). */
  shown?: ReadonlySet<string>;
}

export function startRendering(
  sites: readonly (ModelledSite & Summarized)[],
  diagnostics: readonly Diagnostic[],
  passes: Passes,
  keepArtifacts: boolean,
): Rendering {
  return {
    passes,
    pending: sites.map((s, i) => (passes.renderable(i, s) ? s : undefined)),
    compiled: sites.map(({ renderable: _notRendered, ...s }) => s),
    compileDiagnostics: [...diagnostics],
    keepArtifacts,
  };
}

/**
 * Render site `i` (once), its added diagnostics reported: a site that rendered no files without
 * saying why is an internal error, never a silent success (exit codes never lie). `next`: the
 * sites to be finished after this one, rendered ahead on the workers (at most `passes.ahead` of
 * them), so that the main thread holds only a few sites' files at once.
 */
export async function finishSite(run: Rendering, i: number, next: readonly number[] = []): Promise<CompiledSite> {
  const modelled = run.pending[i];
  if (!modelled) return run.compiled[i]!;
  run.pending[i] = undefined;
  // This site's render is asked for first, so that it never waits behind the ones rendered ahead.
  const rendering = run.passes.render(i, modelled);
  for (const j of next.slice(0, run.passes.ahead)) if (run.pending[j]) run.passes.prefetch(j, run.pending[j]!);
  let full = await rendering;
  const added = full.diagnostics.slice(modelled.diagnostics.length);
  if (!full.artifacts && !hasFailures(full.diagnostics)) {
    const silent = silentRender(full.dir);
    added.push(silent);
    full = { ...full, diagnostics: [...full.diagnostics, silent] };
  }
  run.compileDiagnostics.push(...added);
  run.compiled[i] = full;
  return full;
}

function silentRender(dir: string): Diagnostic {
  return {
    code: 'INTERNAL_ERROR',
    severity: 'error',
    message: `harvgen failed on ${dir}: rendering produced no files and reported no error (this is a bug in harvgen)`,
    hint: 'Please report it with the inventory. Nothing was written for this site.',
  };
}

/** Drop site `i`'s files (and its nodes' renders) from `compiled` (unless `keepArtifacts`). */
export function letGo(run: Rendering, i: number): void {
  const site = run.compiled[i]!;
  if (run.keepArtifacts || !site.artifacts) return;
  // What each node's render gave goes too: it is for the site's record (src/cache/reuse.ts), about
  // 400 bytes a node, which a run of 100,000 nodes would otherwise hold to its end.
  const { artifacts: _dropped, rendered: _recorded, ...rest } = site;
  run.compiled[i] = rest;
}

/** Render every site in order (each one's successors ahead), letting each go after it when `release`. */
export async function renderAll(run: Rendering, release: boolean): Promise<void> {
  const indices = run.compiled.map((_s, i) => i);
  for (let i = 0; i < run.compiled.length; i++) {
    await finishSite(run, i, indices.slice(i + 1));
    if (release) letGo(run, i);
  }
}
