// Stage 2, validate: the inventory's shape (JSON Schema), then its meaning (semantic rules
// over the resolved model). Collects everything; never throws for bad input.
import { CODES } from '../diagnostics/codes.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { Locator } from '../load/index.ts';
import { resolveSite, type SiteModel } from '../model/index.ts';
import type { SiteInput } from '../types/site-input.ts';
import { formatPath } from '../util/paths.ts';
import { RULES } from './rules/index.ts';
import type { Finding } from './rule.ts';
import { validateShape } from './schema.ts';

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
export function validateSite(raw: unknown, locate: Locator): ValidationResult {
  const shape = validateShape(raw, locate);
  if (shape.length > 0) return { diagnostics: shape };
  const input = raw as SiteInput;
  const model = resolveSite(input);
  const diagnostics: Diagnostic[] = [];
  const report = (f: Finding) => diagnostics.push(findingToDiagnostic(f, locate));
  for (const rule of RULES) rule.check({ input, model, report });
  return { model, input, diagnostics: collapseDefaults(diagnostics, model) };
}

/** A problem in `defaults:` is found once per node; report it once and name the other nodes. */
function collapseDefaults(diagnostics: readonly Diagnostic[], model: SiteModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const groups = new Map<string, { d: Diagnostic; others: string[] }>();
  for (const d of diagnostics) {
    if (!d.path?.startsWith('defaults')) {
      out.push(d);
      continue;
    }
    const key = `${d.code}|${d.path}`;
    const g = groups.get(key);
    if (!g) {
      const entry = { d, others: [] as string[] };
      groups.set(key, entry);
      out.push(d);
    } else {
      const name = model.nodes.find((n) => d.message.includes(`node ${n.hostname} `) || d.message.endsWith(`node ${n.hostname}`))?.hostname;
      if (name) g.others.push(name);
    }
  }
  return out.map((d) => {
    const g = d.path?.startsWith('defaults') ? groups.get(`${d.code}|${d.path}`) : undefined;
    return g && g.d === d && g.others.length > 0
      ? { ...d, message: `${d.message} (set in defaults; also nodes ${g.others.join(', ')})` }
      : d;
  });
}

/** Turn a rule finding into a positioned diagnostic. */
export function findingToDiagnostic(f: Finding, locate: Locator): Diagnostic {
  const loc = f.at ? locate(f.at, f.target ?? 'value') : undefined;
  return {
    code: f.code,
    severity: f.severity ?? CODES[f.code].severity,
    message: f.message,
    ...(f.hint ? { hint: f.hint } : {}),
    ...(loc ?? {}),
    ...(f.at ? { path: formatPath(f.at) } : {}),
  };
}
