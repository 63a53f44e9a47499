// The one lock: one writer per directory. The lock file (`.harvgen.lock` unless named otherwise),
// created exclusively (O_EXCL, never through a link), names the process that holds it: its pid,
// host, start time (/proc/<pid>/stat field 22) and boot. A second harvgen on the same directory
// fails clearly (a DurableError with the caller's code) instead of interleaving. A lock whose
// holder is gone is taken over: a dead pid, a pid now run by a process that started later (a
// reused pid), a lock from before a reboot, and a live process whose command line is no Node.js
// or harvgen one (a forged lock naming any process). Meant for local file systems (O_EXCL and
// rename are atomic there). Synchronous: it is taken once per directory, and an asynchronous
// call only waits on libuv's thread pool (src/util/lstat.ts).
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Code } from '../diagnostics/codes.ts';
import { lstatOrUndefined } from '../util/lstat.ts';
import { DurableError } from './errors.ts';
import { bootId, commandOf, harvgenCommand, processAlive, processStart, procVisible } from './process.ts';
import { TEMP_SUFFIX } from './safe-path.ts';

/** Name of the lock file in a directory harvgen writes (a site's output, a --state directory). */
export const LOCK_FILE = '.harvgen.lock';

/**
 * A lock that cannot be read is being written by a harvgen that is starting (its content follows
 * within microseconds) or was left by one killed in that instant; it is taken over only when older.
 */
const UNREADABLE_STALE_MS = 10 * 60_000;

/** Largest lock file read (harvgen's are about 250 bytes). */
const MAX_LOCK = 4096;

export interface LockOptions {
  /** The lock file's name in the directory (default `.harvgen.lock`). */
  readonly file?: string;
  /** The diagnostic code of a refusal (default EMIT_LOCKED). */
  readonly code?: Code;
  /** What the holder is doing to the directory, for the message: `building` unless given. */
  readonly what?: string;
  /** What to do when the lock is held (default: wait, or delete a lock whose holder is gone). */
  readonly hint?: string;
}

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

/** A lock file as found: its identity (to take over exactly that file) and what it says. */
interface FoundLock {
  readonly ino: number;
  readonly mtimeMs: number;
  readonly text: string;
  readonly info?: LockInfo;
  /** Too large to be a lock harvgen wrote: stale at once. */
  readonly foreign?: true;
}

/** Locks this process holds (real paths): a second lock of the same directory in-process is refused too. */
const held = new Set<string>();

function parseLock(text: string): LockInfo | undefined {
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const { pid, hostname: host, started, start, boot, token } = o;
    if (!(typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0 && typeof host === 'string' && typeof started === 'string'))
      return undefined;
    return {
      pid,
      hostname: host,
      started,
      ...(typeof start === 'string' ? { start } : {}),
      ...(typeof boot === 'string' ? { boot } : {}),
      ...(typeof token === 'string' ? { token } : {}),
    };
  } catch {
    return undefined;
  }
}

function readLock(file: string): FoundLock | undefined {
  const st = lstatOrUndefined(file);
  if (!st) return undefined;
  // harvgen writes a lock of a few hundred bytes: anything much larger is none of its own.
  if (!st.isFile() || st.size > MAX_LOCK)
    return { ino: st.ino, mtimeMs: st.mtimeMs, text: '', ...(st.isFile() ? { foreign: true as const } : {}) };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = '';
  }
  const info = parseLock(text);
  return { ino: st.ino, mtimeMs: st.mtimeMs, text, ...(info ? { info } : {}) };
}

/** True when the live process `info` names is still the holder that wrote it (same boot, same start, a harvgen). */
function stillHolder(info: LockInfo): boolean {
  // Own pid: this process reserves its locks in `held` first, so this one is from an earlier process with our pid.
  if (info.pid === process.pid || !processAlive(info.pid)) return false;
  if (!procVisible()) return true; // no /proc: a live pid is all that can be known
  const boot = bootId();
  if (info.boot !== undefined && boot !== undefined && info.boot !== boot) return false; // every process of an earlier boot is gone
  const start = processStart(info.pid);
  if (start === 'hidden') return true; // another user's process, not visible: cannot be checked
  if (start === undefined) return false; // exited meanwhile
  if (info.start !== undefined && info.start !== start) return false; // the pid was reused by a later process
  const argv = commandOf(info.pid);
  return argv === undefined || harvgenCommand(argv); // a live process that is no harvgen: a forged lock
}

/** Why the found lock is still held (a message), or undefined when its holder is gone or is not a harvgen. */
function holder(found: FoundLock, dir: string, file: string, what: string): string | undefined {
  const { info } = found;
  if (found.foreign) return undefined;
  if (!info) {
    if (Date.now() - found.mtimeMs >= UNREADABLE_STALE_MS) return undefined;
    return `${file} cannot be read (written ${new Date(found.mtimeMs).toISOString()}): a harvgen is starting on ${dir}, or one was killed while taking the lock`;
  }
  const here = info.hostname === hostname();
  const who = here ? `pid ${info.pid}` : `pid ${info.pid} on ${info.hostname}`;
  // Another host cannot be checked from here.
  if (here && !stillHolder(info)) return undefined;
  return `another harvgen (${who}) has been ${what} ${dir} since ${info.started}`;
}

/** Remove exactly the lock file that was judged stale; a fresh lock found in its place is put back. */
function takeOver(file: string, stale: FoundLock): void {
  // Renamed aside, then compared: two harvgens finding the same stale lock cannot both remove it
  // and then each other's new lock. The aside name is a temp name, so emit's recovery removes a leftover.
  const aside = `${file}.${process.pid}${TEMP_SUFFIX}`;
  try {
    renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const moved = readLock(aside);
  if (moved && (moved.ino !== stale.ino || moved.mtimeMs !== stale.mtimeMs || moved.text !== stale.text)) {
    try {
      linkSync(aside, file);
    } catch {
      // a newer lock is there already
    }
  }
  rmSync(aside, { force: true, recursive: true });
}

function myLock(): LockInfo {
  const start = procVisible() ? processStart(process.pid) : undefined;
  const boot = bootId();
  return {
    pid: process.pid,
    hostname: hostname(),
    started: new Date().toISOString(),
    ...(start !== undefined && start !== 'hidden' ? { start } : {}),
    ...(boot !== undefined ? { boot } : {}),
    token: randomBytes(8).toString('hex'),
  };
}

/**
 * Create the lock file exclusively, whole: its inode, or undefined when one exists. The content is
 * written to a temp sibling first and hard-linked to the lock's name (link(2) fails when the name
 * exists, a link included, and never follows one), so a harvgen killed at any instant leaves no
 * lock without its holder in it: an empty lock could not be judged stale for minutes. A file system
 * without hard links gets O_EXCL and a write, as before.
 */
function create(file: string, mine: LockInfo): number | undefined {
  const temp = `${file}.${process.pid}.${mine.token ?? 'lock'}${TEMP_SUFFIX}`;
  try {
    writeFileSync(temp, JSON.stringify(mine) + '\n', { flag: 'wx', mode: 0o644 });
  } catch {
    return createInPlace(file, mine);
  }
  try {
    linkSync(temp, file);
    return lstatSync(file).ino;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return undefined;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') return createInPlace(file, mine);
    throw e;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** O_EXCL and a write: the lock where hard links are not to be had. */
function createInPlace(file: string, mine: LockInfo): number | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644); // O_EXCL: fails when the name exists, a link included (never followed)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw e;
  }
  try {
    writeFileSync(fd, JSON.stringify(mine) + '\n');
    return fstatSync(fd).ino;
  } catch (e) {
    rmSync(file, { force: true });
    throw e;
  } finally {
    closeSync(fd);
  }
}

function lockFile(dir: string, options: LockOptions): () => void {
  const file = join(dir, options.file ?? LOCK_FILE);
  const code = options.code ?? 'EMIT_LOCKED';
  const hint =
    options.hint ??
    `Wait for it to finish. If that process is gone (another host cannot be checked from here), delete ${file} and try again.`;
  const mine = myLock();
  for (let attempt = 0; attempt < 3; attempt++) {
    const ino = create(file, mine);
    // Only our own lock file is removed, never one that replaced it.
    if (ino !== undefined) return () => void (lstatOrUndefined(file)?.ino === ino && rmSync(file, { force: true }));
    const found = readLock(file);
    if (!found) continue; // released meanwhile
    const why = holder(found, dir, file, options.what ?? 'building');
    if (why !== undefined) throw new DurableError(code, why, hint, file);
    takeOver(file, found); // a killed harvgen's lock
  }
  throw new DurableError(code, `could not take the lock ${file}: other processes keep taking it`, hint, file);
}

/** Take the lock of `dir` (which exists); its release. Throws DurableError when a live harvgen holds it. */
export function acquireLockSync(dir: string, options: LockOptions = {}): { release(): void } {
  const key = join(realpathSync(dir), options.file ?? LOCK_FILE);
  if (held.has(key))
    throw new DurableError(options.code ?? 'EMIT_LOCKED', `this process already holds ${key}`, 'Run them one after another.', key);
  // Reserved before the file exists: a lock naming this pid is then never one of ours in flight.
  held.add(key);
  try {
    const release = lockFile(dir, options);
    return {
      release() {
        try {
          release();
        } finally {
          held.delete(key);
        }
      },
    };
  } catch (e) {
    held.delete(key);
    throw e;
  }
}

/** `acquireLockSync` for callers that release asynchronously (emit, status). */
export async function acquireLock(dir: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const lock = acquireLockSync(dir, options);
  return async () => lock.release();
}

/** True when `dir` holds a lock file (a build may be running or was killed there). */
export function lockPresent(dir: string, file = LOCK_FILE): boolean {
  try {
    lstatSync(join(dir, file));
    return true;
  } catch {
    return false;
  }
}
