// The error publish reports of a site (src/publish/index.ts, src/publish/site-artifact.ts).
import type { Diagnostic } from '../diagnostics/types.ts';

/** An error diagnostic of publish, at `file` when given. */
export const problem = (code: string, message: string, hint: string, file?: string): Diagnostic => ({
  code,
  severity: 'error',
  message,
  hint,
  ...(file !== undefined ? { file } : {}),
});
