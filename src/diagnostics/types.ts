// Diagnostics are data: every stage returns them, only the CLI prints them.

/** How bad a problem is. Warnings fail a run only with `--strict`. */
export type Severity = 'error' | 'warning';

/** One problem found in an inventory (or while building it). */
export interface Diagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly hint?: string;
  /** File the problem is in, as given to harvgen (relative to the working directory when possible). */
  readonly file?: string;
  /** 1-based line and column of the value (or key) that caused it. */
  readonly line?: number;
  readonly col?: number;
  /** 1-based end position (exclusive column) for the caret underline. */
  readonly endLine?: number;
  readonly endCol?: number;
  /** Path of the value in the merged inventory, e.g. `nodes[2].mac`. */
  readonly path?: string;
  /** Internal details (a stack trace) shown only with --debug. */
  readonly detail?: string;
}

/** The codes of the checks between the sites of a run (src/validate/cross-site.ts, src/orchestrate/check.ts). */
export const isBetweenSites = (code: string): boolean => code.startsWith('SITE_') || code === 'EMIT_DUPLICATE_SITE';

/** True when any diagnostic is an error (or a warning under `strict`). */
export function hasFailures(diagnostics: readonly Diagnostic[], strict = false): boolean {
  return diagnostics.some((d) => d.severity === 'error' || (strict && d.severity === 'warning'));
}

/** Stable ordering: file, line, column, code. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      cmp(a.file ?? '', b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.col ?? 0) - (b.col ?? 0) ||
      cmp(a.code, b.code) ||
      cmp(a.message, b.message),
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
