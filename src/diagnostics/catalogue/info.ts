// What a catalogue entry is (src/diagnostics/codes.ts assembles the catalogue from the files beside this one).
import type { Severity } from '../types.ts';

/**
 * What a code means to a shell script when a run fails (README "Exit codes"): `invalid` (exit 1)
 * says what was checked is wrong (the inventory, a stale tree, a server that differs); `failed`
 * (exit 2) says the job could not be done (usage, I/O, a lock, a server that did not answer, a bug).
 * A run that fails with any `failed` code exits 2, else 1.
 */
export type ExitClass = 'invalid' | 'failed';

export interface CodeInfo {
  readonly severity: Severity;
  readonly exit: ExitClass;
  readonly summary: string;
}

/** One entry. */
export const c = (severity: Severity, exit: ExitClass, summary: string): CodeInfo => ({ severity, exit, summary });
