// A site held light between the passes of a run (src/orchestrate/held.ts), and its first pass
// compiled again when its turn to render comes.
import type { Diagnostic } from '../diagnostics/types.ts';
import type { CompiledSite, CompileOptions, ModelledSite } from '../pipeline.ts';
import { crossSiteFacts } from '../validate/cross-site-facts.ts';
import { shownSources, summarize, type Summarized } from './summary.ts';

/** A site held light: no model, locator, input files or rendered files. */
export type LightSite = Omit<CompiledSite, 'model' | 'locate' | 'artifacts'> & Summarized;

/**
 * A site without its model, locator, input files and rendered files: its summary with the facts
 * between sites in their place (positions resolved), and the source texts only of the files its
 * diagnostics or those facts point into (what a report's code frames show).
 */
export function lighten(site: ModelledSite | CompiledSite): LightSite {
  const { model, locate, ...rest } = site;
  const { renderable: _renderable, artifacts: _artifacts, ...plain } = rest as typeof rest & { renderable?: unknown; artifacts?: unknown };
  const facts = model && locate ? crossSiteFacts(model, locate, true) : undefined;
  const shown = new Set<string>();
  for (const d of site.diagnostics) if (d.file !== undefined) shown.add(d.file);
  for (const p of facts?.positions ?? []) if (p.at) shown.add(p.at.file);
  const sources = shownSources(site.sources, (path) => shown.has(path));
  return {
    ...plain,
    sources,
    ...(model ? { summary: { ...summarize(model), ...(facts ? { facts } : {}) } } : {}),
  };
}

/**
 * The first pass of a light site again, when its turn to render comes. The inventory was read
 * once already: if what this pass finds differs from the first (a file changed in between), the
 * site is not rendered and says so, so that the next build starts from one reading.
 */
export async function recompile(
  light: ModelledSite,
  dir: string,
  options: CompileOptions,
  compileModel: (dir: string, options: CompileOptions) => Promise<ModelledSite>,
): Promise<ModelledSite> {
  const again = await compileModel(dir, options);
  if (again.renderable && sameDiagnostics(again.diagnostics, light.diagnostics)) return again;
  const { renderable: _never, ...site } = light;
  return { ...site, diagnostics: [...light.diagnostics, changedDuringBuild(dir)] };
}

function sameDiagnostics(a: readonly Diagnostic[], b: readonly Diagnostic[]): boolean {
  return a.length === b.length && a.every((d, i) => JSON.stringify(d) === JSON.stringify(b[i]));
}

function changedDuringBuild(dir: string): Diagnostic {
  return {
    code: 'LOAD_CHANGED_DURING_BUILD',
    severity: 'error',
    message: `${dir} changed while it was being built: its second reading differs from its first`,
    hint: 'Nothing was written for this site. Build again once the inventory is no longer being edited.',
  };
}
