// A rule's Finding as a Diagnostic, positioned at the inventory line it points at: used by the
// rules, the checks between sites and the readers of input files, without loading the rules.
import { CODES } from '../diagnostics/codes.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { Locator } from '../load/index.ts';
import { formatPath } from '../util/paths.ts';
import type { Finding } from './rule.ts';

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
