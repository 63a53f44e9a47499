// The exit-code policy: what a run's result and diagnostics mean to a shell script. It lives with
// the diagnostics catalogue because the codes decide it (each code's `exit` class in `CODES`);
// the CLI only returns the number.
import type { Diagnostic } from './types.ts';
import { CODES, type Code } from './codes.ts';

/** The exit codes harvgen returns (README "Exit codes"). */
export const EXIT = {
  /** The job was done (warnings allowed unless --strict). */
  ok: 0,
  /** The inventory has errors (or warnings with --strict), or verify found a server that differs. */
  invalid: 1,
  /** Usage, I/O or internal failure, a server that did not answer: the job could not be done. */
  failed: 2,
  /** Stopped with Ctrl-C (SIGINT): 128 + 2, as a shell reports it. */
  interrupted: 130,
  /** Stopped with SIGTERM: 128 + 15. */
  terminated: 143,
} as const;

/** True when the code's catalogue entry says "could not do the job" (exit 2); an unknown code is `invalid`. */
function jobFailed(code: string): boolean {
  return Object.hasOwn(CODES, code) && CODES[code as Code].exit === 'failed';
}

/** The exit code of a run that finished: 0 when `ok`, else 2 when a diagnostic's code has the exit class `failed`, else 1. */
export function exitCode(ok: boolean, diagnostics: readonly Diagnostic[]): number {
  return ok ? EXIT.ok : diagnostics.some((d) => jobFailed(d.code)) ? EXIT.failed : EXIT.invalid;
}

/** The exit code of a run stopped by a signal. */
export function signalExitCode(signal: 'SIGINT' | 'SIGTERM'): number {
  return signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
}
