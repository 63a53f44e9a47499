// The exit-code policy: what a run's result and diagnostics mean to a shell script. It lives with
// the diagnostics catalogue because the codes decide it; the CLI only returns the number.
import type { Diagnostic } from './types.ts';

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

/** Codes that mean "could not do the job" (exit 2) rather than "the inventory is wrong" (exit 1). */
const FAILED = new Set([
  'INTERNAL_ERROR',
  'EMIT_WRITE_FAILED',
  'LOAD_READ_FAILED',
  'CLI_USAGE',
  'EMIT_OUT_DIR_UNSAFE',
  'EMIT_LOCKED',
  'EMIT_SYMLINK_REFUSED',
  // verify: no answer from a server, or no deploy tree to compare with.
  'VERIFY_UNREACHABLE',
  'VERIFY_NO_DEPLOY_TREE',
  'STATUS_LOG_UNREADABLE',
  // ssh-keygen missing or failing (signed trees).
  'SIGNING_FAILED',
]);

/** The exit code of a run that finished: 0 when `ok`, else 2 when a diagnostic says the job could not be done, else 1. */
export function exitCode(ok: boolean, diagnostics: readonly Diagnostic[]): number {
  return ok ? EXIT.ok : diagnostics.some((d) => FAILED.has(d.code) || d.code.startsWith('LOAD_READ')) ? EXIT.failed : EXIT.invalid;
}

/** The exit code of a run stopped by a signal. */
export function signalExitCode(signal: 'SIGINT' | 'SIGTERM'): number {
  return signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated;
}
