// The durable layer's refusals: a file operation that cannot be done safely (a link in the way, a
// lock held by a live harvgen, a write that failed) is an error with a diagnostic code and a hint,
// so each command reports it as a diagnostic at the path, never as a raw errno text.
import type { Code } from '../diagnostics/codes.ts';
import type { Diagnostic } from '../diagnostics/types.ts';

export class DurableError extends Error {
  override readonly name = 'DurableError';
  constructor(
    readonly code: Code,
    message: string,
    readonly hint: string,
    readonly path?: string,
  ) {
    super(message);
  }

  /** This refusal as an error diagnostic (at `path` when it has one). */
  toDiagnostic(): Diagnostic {
    return {
      code: this.code,
      severity: 'error',
      message: this.message,
      hint: this.hint,
      ...(this.path !== undefined ? { file: this.path } : {}),
    };
  }
}
