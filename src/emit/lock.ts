// One writer per site directory: `.harvgen.lock`, created exclusively (O_EXCL), names the process
// that holds it. A second build on the same output fails clearly (EMIT_LOCKED) instead of
// interleaving; a lock left by a killed build (its process is gone) is taken over, and recovery
// then repairs the tree. Meant for local file systems (O_EXCL and rename are atomic there).
import { hostname } from 'node:os';
import { join } from 'node:path';
import { link, lstat, open, readFile, realpath, rename, rm } from 'node:fs/promises';
import { EmitError, TEMP_SUFFIX } from './safe-path.ts';

/** Name of the lock file inside a site's output directory. */
export const LOCK_FILE = '.harvgen.lock';

/**
 * A lock that cannot be read is being written by a build that is starting (its content follows
 * within microseconds) or was left by one killed in that instant; it is taken over only when older.
 */
const UNREADABLE_STALE_MS = 10 * 60_000;

interface LockInfo {
  readonly pid: number;
  readonly hostname: string;
  readonly started: string;
}

/** A lock file as found: its identity (to take over exactly that file) and what it says. */
interface FoundLock {
  readonly ino: number;
  readonly mtimeMs: number;
  readonly text: string;
  readonly info?: LockInfo;
}

/** Locks this process holds (real paths): a second build of the same output in-process is refused too. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(file: string): Promise<FoundLock | undefined> {
  const st = await lstat(file).catch(() => undefined);
  if (!st) return undefined;
  const text = st.isFile() ? await readFile(file, 'utf8').catch(() => '') : '';
  let info: LockInfo | undefined;
  try {
    const o = JSON.parse(text) as Partial<LockInfo>;
    if (Number.isSafeInteger(o.pid) && o.pid! > 0 && typeof o.hostname === 'string' && typeof o.started === 'string') info = o as LockInfo;
  } catch {
    info = undefined;
  }
  return { ino: st.ino, mtimeMs: st.mtimeMs, text, ...(info ? { info } : {}) };
}

/** Why the found lock is still held (a message), or undefined when its holder is gone. */
function holder(found: FoundLock, dir: string, file: string): string | undefined {
  const { info } = found;
  if (!info) {
    if (Date.now() - found.mtimeMs >= UNREADABLE_STALE_MS) return undefined;
    return `${file} cannot be read (written ${new Date(found.mtimeMs).toISOString()}): a harvgen is starting on ${dir}, or one was killed while taking the lock`;
  }
  const here = info.hostname === hostname();
  // Own pid: this process reserves its locks in `held` first, so this one is from an earlier process with our pid.
  if (here && (info.pid === process.pid || !alive(info.pid))) return undefined;
  const who = here ? `pid ${info.pid}` : `pid ${info.pid} on ${info.hostname}`;
  return `another harvgen (${who}) has been building ${dir} since ${info.started}`;
}

/** Remove exactly the lock file that was judged stale; a fresh lock found in its place is put back. */
async function takeOver(file: string, stale: FoundLock): Promise<void> {
  // Renamed aside, then compared: two builds finding the same stale lock cannot both remove it
  // and then each other's new lock. The aside name is a temp name, so recovery removes a leftover.
  const aside = `${file}.${process.pid}${TEMP_SUFFIX}`;
  try {
    await rename(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const moved = await readLock(aside);
  if (moved && (moved.ino !== stale.ino || moved.mtimeMs !== stale.mtimeMs || moved.text !== stale.text)) {
    await link(aside, file).catch(() => undefined);
  }
  await rm(aside, { force: true });
}

/** Take the lock of `dir` (which exists and was checked); resolves to its release function. */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const key = await realpath(dir);
  if (held.has(key))
    throw new EmitError('EMIT_LOCKED', `this process is already building ${dir}`, 'Run the builds of one output one after another.');
  // Reserved before the file exists: a lock naming this pid is then never one of ours in flight.
  held.add(key);
  try {
    const release = await lockFile(dir);
    return async () => {
      try {
        await release();
      } finally {
        held.delete(key);
      }
    };
  } catch (e) {
    held.delete(key);
    throw e;
  }
}

async function lockFile(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, LOCK_FILE);
  const hint = `Wait for it to finish. If that process is gone (another host cannot be checked from here), delete ${file} and build again.`;
  const mine: LockInfo = { pid: process.pid, hostname: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    // O_EXCL: fails when the name exists, a link included (never followed).
    const handle = await open(file, 'wx', 0o644).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EEXIST') return undefined;
      throw e;
    });
    if (handle) {
      let ino: number;
      try {
        await handle.writeFile(JSON.stringify(mine) + '\n');
        ino = (await handle.stat()).ino;
      } catch (e) {
        await handle.close().catch(() => undefined);
        await rm(file, { force: true });
        throw e;
      }
      await handle.close();
      // Only our own lock file is removed, never one that replaced it.
      return async () => {
        if ((await lstat(file).catch(() => undefined))?.ino === ino) await rm(file, { force: true });
      };
    }
    const found = await readLock(file);
    if (!found) continue; // released meanwhile
    const why = holder(found, dir, file);
    if (why !== undefined) throw new EmitError('EMIT_LOCKED', why, hint);
    await takeOver(file, found); // a killed build's lock
  }
  throw new EmitError('EMIT_LOCKED', `could not take the lock ${file}: other builds keep taking it`, hint);
}
