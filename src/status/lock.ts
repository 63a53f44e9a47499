// One run of `status --state` at a time on a state directory: the durable layer's lock
// (`.harvgen.lock`, a dead or reused-pid holder's lock taken over).
import { mkdirSync } from 'node:fs';
import type { Diagnostic } from '../diagnostics/types.ts';
import { acquireLock, DurableError } from '../durable/index.ts';

export async function lockState(dir: string): Promise<{ release: () => Promise<void> } | { diagnostic: Diagnostic }> {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    return {
      release: await acquireLock(dir, {
        code: 'STATUS_LOCKED',
        what: 'reading logs into',
        hint: 'Another harvgen status is using this --state directory: run them one after another (a timer with a lock, not overlapping cron jobs).',
      }),
    };
  } catch (e) {
    if (e instanceof DurableError) return { diagnostic: e.toDiagnostic() };
    const err = e as NodeJS.ErrnoException;
    return {
      diagnostic: {
        code: 'STATUS_LOG_UNREADABLE',
        severity: 'error',
        message: `the state directory ${dir} cannot be used (${err.code ?? err.message})`,
        hint: 'Give --state a directory this user may create and write (harvgen keeps its cursors and tallies there).',
        file: dir,
      },
    };
  }
}
