// The one atomic write: a file is replaced whole or not at all. The bytes go to a temporary
// sibling created exclusively (O_EXCL, never through a link: O_NOFOLLOW), are flushed (fsync), and
// the temp is renamed over the target; the directory is flushed too, so the new name survives a
// power cut. A write that fails removes its temp. A process killed between the two leaves a temp
// named `.<name>.harvgen-tmp-<pid>-<random>`, which `removeStaleTemps` removes once that pid is
// gone. (emit's multi-file journal keeps its own fixed temp names, `TEMP_SUFFIX`, which recovery
// knows; every single-file write of every command goes through here.)
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { processAlive } from './process.ts';

/** What every temporary name of harvgen holds. */
export const TEMP_MARK = '.harvgen-tmp';

/** A temp name of this layer: `.<name>.harvgen-tmp-<pid>-<hex>`, and the writer's pid. */
const TEMP_NAME = /^\..+\.harvgen-tmp-(\d+)-[0-9a-f]+$/;

export interface AtomicOptions {
  /** Mode of a new file (before the umask), 0o644 unless given. */
  readonly mode?: number;
  /** Flush the file and its directory (default true). False for files that are caches only. */
  readonly durable?: boolean;
}

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** A fresh temporary sibling of `file`. */
export function atomicTempPath(file: string): string {
  return join(dirname(file), `.${basename(file)}${TEMP_MARK}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Flush a directory's entries (a rename is durable only then); a file system that cannot is left as it is. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on a directory: the rename has happened all the same
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Replace `file` with `data` atomically (synchronous). */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicOptions = {}): void {
  const temp = atomicTempPath(file);
  const bytes = bytesOf(data);
  const fd = openSync(temp, CREATE, options.mode ?? 0o644);
  try {
    try {
      for (let off = 0; off < bytes.byteLength;) off += writeSync(fd, bytes, off, bytes.byteLength - off);
      if (options.durable !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
  if (options.durable !== false) fsyncDir(dirname(file));
}

/** Replace `file` with `data` atomically (asynchronous: for commands that stream, like publish's layouts). */
export async function writeFileAtomicAsync(file: string, data: string | Uint8Array, options: AtomicOptions = {}): Promise<void> {
  const temp = atomicTempPath(file);
  const handle = await open(temp, CREATE, options.mode ?? 0o644);
  try {
    try {
      await handle.writeFile(bytesOf(data));
      if (options.durable !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  if (options.durable !== false) fsyncDir(dirname(file));
}

/**
 * Remove the temps this layer's writers left in `dir` (not below it) when killed: those whose
 * writer's pid no longer runs (`names`: another writer's names, the pid in its first group, such
 * as emit's staging directories). Returns the names removed (sorted). A directory that cannot be
 * read gives nothing.
 */
export function removeStaleTemps(dir: string, names: RegExp = TEMP_NAME): string[] {
  let found: string[];
  try {
    found = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of found.sort()) {
    const m = names.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true, recursive: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Several files replaced together, for a run that writes them as it goes and keeps them only if
 * it succeeds (status's state files): each is staged to a temp of this layer, then `commit`
 * renames them all and flushes their directories, or `abandon` removes them. Staged files are not
 * flushed one by one (that was 7 ms a site, a tenth of a fleet's status run): a file a crash left
 * empty or cut short must be one its reader refuses.
 */
export class AtomicBatch {
  private readonly pending: { temp: string; file: string }[] = [];

  stage(file: string, data: string | Uint8Array, mode = 0o644): void {
    const temp = atomicTempPath(file);
    const fd = openSync(temp, CREATE, mode);
    try {
      const bytes = bytesOf(data);
      for (let off = 0; off < bytes.byteLength;) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    } catch (e) {
      closeSync(fd);
      rmSync(temp, { force: true });
      throw e;
    }
    closeSync(fd);
    this.pending.push({ temp, file });
  }

  commit(): void {
    const dirs = new Set<string>();
    for (const p of this.pending) {
      renameSync(p.temp, p.file);
      dirs.add(dirname(p.file));
    }
    this.pending.length = 0;
    for (const d of dirs) fsyncDir(d);
  }

  abandon(): void {
    for (const p of this.pending) rmSync(p.temp, { force: true });
    this.pending.length = 0;
  }
}
