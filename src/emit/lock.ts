// One writer per site directory: `.harvgen.lock`, created exclusively, names the process that
// holds it. A second build on the same output fails clearly instead of interleaving; a lock
// left by a killed build (its process is gone) is taken over, and recovery then repairs the tree.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { EmitError } from './safe-path.ts';

/** Name of the lock file inside a site's output directory. */
export const LOCK_FILE = '.harvgen.lock';

interface LockInfo {
  readonly pid: number;
  readonly hostname: string;
  readonly started: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the lock of `dir` (which exists and was checked); resolves to its release function. */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, hostname: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, JSON.stringify(mine) + '\n', { flag: 'wx', mode: 0o644 });
      return async () => {
        await rm(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let held: Partial<LockInfo> | undefined;
    try {
      held = JSON.parse(await readFile(file, 'utf8')) as Partial<LockInfo>;
    } catch {
      held = undefined; // unreadable or torn: its writer died while writing it
    }
    const live =
      held !== undefined &&
      typeof held.pid === 'number' &&
      (held.hostname !== mine.hostname || (held.pid !== process.pid && alive(held.pid)));
    if (live) {
      const where = held!.hostname === mine.hostname ? `pid ${held!.pid}` : `pid ${held!.pid} on ${held!.hostname}`;
      throw new EmitError(
        'EMIT_LOCKED',
        `another harvgen (${where}) has been building ${dir} since ${held!.started ?? '?'}`,
        `Wait for it to finish. If that process is gone (another host cannot be checked from here), delete ${file} and build again.`,
      );
    }
    // A lock whose process is gone (killed build): take it over.
    await rm(file, { force: true });
  }
  throw new EmitError('EMIT_LOCKED', `could not take the lock ${file}`, 'Another harvgen is starting on the same output; try again.');
}
