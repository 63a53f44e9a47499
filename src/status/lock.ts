// One run of `status --state` at a time on a state directory: the build's lock (src/emit/lock.ts,
// `.harvgen.lock` created exclusively, a dead holder's lock taken over).
import { mkdirSync } from 'node:fs';
import type { Diagnostic } from '../diagnostics/types.ts';
import { acquireLock } from '../emit/lock.ts';
import { EmitError } from '../emit/safe-path.ts';

export async function lockState(dir: string): Promise<{ release: () => Promise<void> } | { diagnostic: Diagnostic }> {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    return { release: await acquireLock(dir) };
  } catch (e) {
    if (e instanceof EmitError)
      return {
        diagnostic: {
          code: e.code,
          severity: 'error',
          message: e.message.replace('building', 'reading logs into'),
          hint: 'Another harvgen status is using this --state directory: run them one after another (a timer with a lock, not overlapping cron jobs).',
          file: dir,
        },
      };
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
