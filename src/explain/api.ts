// `explain()`: the library's `harvgen explain`: compile one site, find the node (by hostname or
// any MAC), and explain every resolved value of it (src/explain/index.ts). An inventory with
// errors is explained all the same, as far as its model goes; no model, or no such node, is said.
import type { Diagnostic } from '../diagnostics/types.ts';
import { compileSite, type CompiledSite, type CompileOptions } from '../pipeline.ts';
import { closest } from '../util/suggest.ts';
import { explainNode, findNode, type Explanation } from './index.ts';

export interface ExplainOptions extends Pick<CompileOptions, 'cwd' | 'env'> {
  /** The site directory. */
  readonly site: string;
  /** The node: its hostname, or any of its MACs (any spelling). */
  readonly node: string;
}

export interface ExplainResult {
  /** The node was found and explained (the inventory may still have errors: `diagnostics`). */
  readonly ok: boolean;
  /** The compiled site (its diagnostics, sources for code frames). */
  readonly compiled: CompiledSite;
  readonly explanation?: Explanation;
  /** Every problem of the inventory, masked. */
  readonly diagnostics: readonly Diagnostic[];
  /** Why nothing was explained: no model (see `diagnostics`), or no node by that name. */
  readonly problem?: string;
  /** With no such node: the hostname closest to the one asked for. */
  readonly suggestion?: string;
}

/** Explain one node of a site. Never throws for the inventory's problems. */
export async function explain(options: ExplainOptions): Promise<ExplainResult> {
  const compiled = await compileSite(options.site, {
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
  });
  const diagnostics = compiled.diagnostics;
  if (!compiled.model)
    return { ok: false, compiled, diagnostics, problem: `${options.site} has no model to explain (see the diagnostics)` };
  const node = findNode(compiled.model, options.node);
  if (!node) {
    const suggestion = closest(
      options.node,
      compiled.model.nodes.map((n) => n.hostname),
    );
    return {
      ok: false,
      compiled,
      diagnostics,
      problem: `site ${compiled.model.site} has no node "${options.node}" (by hostname or MAC)${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
      ...(suggestion !== undefined ? { suggestion } : {}),
    };
  }
  return { ok: true, compiled, explanation: explainNode(compiled, node), diagnostics };
}
