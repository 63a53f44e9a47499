// One writer per site directory: `.harvgen.lock`, created exclusively (O_EXCL), names the process
// that holds it. A second build on the same output fails clearly (EMIT_LOCKED) instead of
// interleaving; a lock left by a killed build (its process is gone) is taken over, and recovery
// then repairs the tree. A lock is held only by a live harvgen: on Linux the lock records the
// holder's start time (/proc/<pid>/stat, field 22) and boot, so a reused pid or a lock from
// before a reboot is stale, and a live process whose command line is not a Node.js or harvgen
// one (a forged lock naming any process) is stale too. Meant for local file systems (O_EXCL and
// rename are atomic there).
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { link, lstat, readFile, rename, rm } from 'node:fs/promises';
import { lstatOrUndefined } from '../util/lstat.ts';
import { EmitError, TEMP_SUFFIX } from './safe-path.ts';

/** Name of the lock file inside a site's output directory. */
export const LOCK_FILE = '.harvgen.lock';

/**
 * A lock that cannot be read is being written by a build that is starting (its content follows
 * within microseconds) or was left by one killed in that instant; it is taken over only when older.
 */
const UNREADABLE_STALE_MS = 10 * 60_000;

/** Largest lock file read (harvgen's are about 250 bytes). */
const MAX_LOCK = 4096;

interface LockInfo {
  readonly pid: number;
  readonly hostname: string;
  readonly started: string;
  /** Start time of the holder in clock ticks since boot (/proc/<pid>/stat field 22; Linux). */
  readonly start?: string;
  /** /proc/sys/kernel/random/boot_id of the holder's boot (Linux). */
  readonly boot?: string;
  /** Random: tells this lock from any other lock of the same process. */
  readonly token?: string;
}

/** Start time of process `pid` (field 22 of /proc/<pid>/stat), `hidden` when it exists but /proc does not show it, undefined when it does not exist. */
export function processStart(pid: number): string | 'hidden' | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    // /proc mounted with hidepid: another user's process is invisible but alive.
    return (e as NodeJS.ErrnoException).code === 'ENOENT' && alive(pid) && procVisible() ? 'hidden' : undefined;
  }
  // Field 2 (the command name) is in parentheses and may hold spaces and ')': fields 3... follow the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[22 - 3];
}

let procSelf: boolean | undefined;
/** True when this system has a Linux /proc showing this process. */
function procVisible(): boolean {
  if (procSelf === undefined) {
    try {
      readFileSync(`/proc/${process.pid}/stat`, 'utf8');
      procSelf = true;
    } catch {
      procSelf = false;
    }
  }
  return procSelf;
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when a command line (/proc/<pid>/cmdline, NUL-separated) can be a harvgen: run by Node.js
 * (argv[0] is `node`, `nodejs`, `node20`, ... or this process's own executable) or naming harvgen.
 */
export function harvgenCommand(argv: readonly string[]): boolean {
  if (argv.length === 0 || argv[0] === '') return false;
  const exe = basename(argv[0]!);
  return /^node(js)?[0-9.]*(\.exe)?$/i.test(exe) || exe === basename(process.execPath) || argv.some((a) => /harvgen/i.test(a));
}

/** The command line of `pid`, or undefined when it cannot be read (then it is not judged). */
function commandOf(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return text.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** A lock file as found: its identity (to take over exactly that file) and what it says. */
interface FoundLock {
  readonly ino: number;
  readonly mtimeMs: number;
  readonly text: string;
  readonly info?: LockInfo;
  /** Too large to be a lock harvgen wrote: stale at once. */
  readonly foreign?: true;
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
  // harvgen writes a lock of a few hundred bytes: anything much larger is none of its own.
  if (st.isFile() && st.size > MAX_LOCK) return { ino: st.ino, mtimeMs: st.mtimeMs, text: '', foreign: true };
  const text = st.isFile() ? await readFile(file, 'utf8').catch(() => '') : '';
  let info: LockInfo | undefined;
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const { pid, hostname: host, started, start, boot, token } = o;
    if (typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0 && typeof host === 'string' && typeof started === 'string')
      info = {
        pid,
        hostname: host,
        started,
        ...(typeof start === 'string' ? { start } : {}),
        ...(typeof boot === 'string' ? { boot } : {}),
        ...(typeof token === 'string' ? { token } : {}),
      };
  } catch {
    info = undefined;
  }
  return { ino: st.ino, mtimeMs: st.mtimeMs, text, ...(info ? { info } : {}) };
}

/** Why the found lock is still held (a message), or undefined when its holder is gone or is not a harvgen. */
function holder(found: FoundLock, dir: string, file: string): string | undefined {
  const { info } = found;
  if (found.foreign) return undefined;
  if (!info) {
    if (Date.now() - found.mtimeMs >= UNREADABLE_STALE_MS) return undefined;
    return `${file} cannot be read (written ${new Date(found.mtimeMs).toISOString()}): a harvgen is starting on ${dir}, or one was killed while taking the lock`;
  }
  const here = info.hostname === hostname();
  const who = here ? `pid ${info.pid}` : `pid ${info.pid} on ${info.hostname}`;
  const busy = `another harvgen (${who}) has been building ${dir} since ${info.started}`;
  // Another host cannot be checked from here.
  if (!here) return busy;
  // Own pid: this process reserves its locks in `held` first, so this one is from an earlier process with our pid.
  if (info.pid === process.pid || !alive(info.pid)) return undefined;
  if (!procVisible()) return busy; // no /proc: a live pid is all that can be known
  // Every process of an earlier boot is gone.
  const boot = bootId();
  if (info.boot !== undefined && boot !== undefined && info.boot !== boot) return undefined;
  const start = processStart(info.pid);
  if (start === 'hidden') return busy; // another user's process, not visible: cannot be checked
  if (start === undefined) return undefined; // exited meanwhile
  // The pid was reused by a process that started later than the holder.
  if (info.start !== undefined && info.start !== start) return undefined;
  // A live process that is no harvgen (a lock naming any pid, written by hand or forged).
  const argv = commandOf(info.pid);
  if (argv !== undefined && !harvgenCommand(argv)) return undefined;
  return busy;
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
  const key = realpathSync(dir);
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
  const start = procVisible() ? processStart(process.pid) : undefined;
  const boot = bootId();
  const mine: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    started: new Date().toISOString(),
    ...(start !== undefined && start !== 'hidden' ? { start } : {}),
    ...(boot !== undefined ? { boot } : {}),
    token: randomBytes(8).toString('hex'),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    // O_EXCL: fails when the name exists, a link included (never followed).
    // Synchronous calls on this path, taken once per site written: an asynchronous one waits for
    // libuv's thread pool while the main thread has nothing else to do (src/util/lstat.ts).
    let fd: number | undefined;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (fd !== undefined) {
      let ino: number;
      try {
        writeFileSync(fd, JSON.stringify(mine) + '\n');
        ino = fstatSync(fd).ino;
      } catch (e) {
        try {
          closeSync(fd);
        } catch {
          // closing is all that is left to do
        }
        rmSync(file, { force: true });
        throw e;
      }
      closeSync(fd);
      // Only our own lock file is removed, never one that replaced it.
      return async () => {
        if (lstatOrUndefined(file)?.ino === ino) rmSync(file, { force: true });
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
