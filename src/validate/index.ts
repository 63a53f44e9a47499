// Stage 2, validate: the inventory's shape (JSON Schema), then its meaning (semantic rules
// over the resolved model). Collects everything; never throws for bad input.
import { findingToDiagnostic } from './finding.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { Locator } from '../load/index.ts';
import { checkProfileRefs, validateLayers } from './layers.ts';
import { resolveSite, type ModelCache, type SiteModel } from '../model/index.ts';
import type { SiteInput } from '../types/site-input.ts';
import { RULES } from './rules/index.ts';
import type { Finding } from './rule.ts';
import { validateShape } from './schema.ts';
import { computeAlways, nodeMemo } from '../model/memo.ts';
import type { Layers } from '../types/layers.ts';

export { validateShape } from './schema.ts';
export { RULES } from './rules/index.ts';
export type { Rule, RuleContext, Finding } from './rule.ts';

/** Result of validating one site. `model` is present when the shape was valid. */
export interface ValidationResult {
  readonly model?: SiteModel;
  readonly input?: SiteInput;
  readonly diagnostics: readonly Diagnostic[];
}

/** Validate the raw inventory of a site: schema first, then (if the shape is right) every rule. */
export function validateSite(raw: unknown, locate: Locator, layers: Layers = { profiles: {} }, cache?: ModelCache): ValidationResult {
  const shape = [...validateShape(raw, locate), ...validateLayers(layers, locate)];
  if (shape.length > 0) return { diagnostics: shape };
  const input = raw as SiteInput;
  const refs = checkProfileRefs(input, layers, locate);
  if (refs.length > 0) return { diagnostics: refs };
  const { model, partial, problems } = resolveSite(input, layers, cache);
  const findings: Finding[] = [...problems];
  const memo = cache ? nodeMemo(cache.findings) : computeAlways;
  for (const rule of RULES) rule.check({ input, model, partial, report: (f) => findings.push(f), memo });
  return { model, input, diagnostics: collapseDefaults(findings).map((f) => findingToDiagnostic(f, locate)) };
}

/** A problem in `defaults:` is found once per node: keep the first and name the other nodes. */
function collapseDefaults(findings: readonly Finding[]): Finding[] {
  const first = new Map<string, { finding: Finding; others: string[] }>();
  const out: Finding[] = [];
  for (const f of findings) {
    // A value set once in a shared layer (defaults:, a profile, repo defaults) is reported once;
    // so is the same finding about several nodes at one site-level setting (`boot`, `lab`).
    const shared = f.at?.[0] === 'defaults' || f.at?.[0] === '$profiles' || f.at?.[0] === '$repo';
    const site = !shared && f.at !== undefined && f.at[0] !== 'nodes' && f.node !== undefined;
    const key =
      shared && f.node !== undefined
        ? `${f.code}|${f.at!.join('.')}`
        : site
          ? `${f.code}|${f.at!.join('.')}|${f.message.split(f.node!).join('\u0000')}`
          : undefined;
    const seen = key !== undefined ? first.get(key) : undefined;
    if (seen) {
      seen.others.push(f.node!);
      continue;
    }
    if (key !== undefined) first.set(key, { finding: f, others: [] });
    out.push(f);
  }
  const groups = new Map([...first.values()].map((g) => [g.finding, g]));
  return out.map((f) => {
    const g = groups.get(f);
    if (!g || g.others.length === 0) return f;
    if (f.at?.[0] !== 'defaults' && f.at?.[0] !== '$profiles' && f.at?.[0] !== '$repo')
      return { ...f, message: `${f.message} (also nodes ${g.others.join(', ')})` };
    const layer = f.at?.[0] === '$repo' ? 'sites/_defaults.yaml' : f.at?.[0] === '$profiles' ? `profile ${String(f.at[1])}` : 'defaults';
    return { ...f, message: `${f.message} (set in ${layer}; also nodes ${g.others.join(', ')})` };
  });
}
