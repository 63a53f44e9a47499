// Hostile access logs for status's readers: millions of lines (written fast by repeating a block),
// over-long lines, gzip bombs, FIFOs and links to /dev/zero. Shared by the status tests.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from './tmp.ts';

/** A directory for big logs: /dev/shm (memory, fast) when there is one, else the temporary directory. */
export function bigLogDir(name: string): string {
  if (existsSync('/dev/shm')) {
    try {
      return mkdtempSync(join('/dev/shm', `harvgen-${name}-`));
    } catch {
      // not writable: the temporary directory
    }
  }
  return mkdtempSync(join(tmpdir(), `harvgen-${name}-`));
}

/** Write `lines` repeated until the file holds `count` lines (the block written whole, many times). Returns its size. */
export function repeatedLog(file: string, lines: readonly string[], count: number): number {
  const block = Buffer.from(`${lines.join('\n')}\n`);
  const perBlock = lines.length;
  const reps = Math.ceil(count / perBlock);
  // A few MiB a write.
  const group = Math.max(1, Math.floor((4 << 20) / block.length));
  const big = Buffer.concat(Array.from({ length: group }, () => block));
  const fd = openSync(file, 'w');
  let size = 0;
  try {
    for (let done = 0; done < reps; done += group) {
      const n = Math.min(group, reps - done);
      const b = n === group ? big : big.subarray(0, n * block.length);
      writeSync(fd, b);
      size += b.length;
    }
  } finally {
    closeSync(fd);
  }
  return size;
}

/** A log with one line of `bytes` bytes (no newline in it) between `before` and `after`. */
export function longLineLog(file: string, before: readonly string[], bytes: number, after: readonly string[]): void {
  writeFileSync(file, `${before.join('\n')}\n${'A'.repeat(bytes)}\n${after.join('\n')}\n`);
}

/** A gzip file of `bytes` newlines (a few KiB that unpack to `bytes`). */
export function gzipBomb(file: string, bytes: number): void {
  writeFileSync(file, gzipSync(Buffer.alloc(bytes, 0x0a)));
}

/** A FIFO at `file` (nothing ever writes to it). */
export function fifo(file: string): string {
  const r = spawnSync('mkfifo', [file]);
  if (r.status !== 0) throw new Error(`mkfifo ${file}: ${r.stderr}`);
  return file;
}

/** A link at `file` to /dev/zero. */
export function linkToZero(file: string): string {
  symlinkSync('/dev/zero', file);
  return file;
}

/** A fresh directory holding a FIFO, a link to it and a link to /dev/zero, by name. */
export function hostileFiles(name: string): { dir: string; fifo: string; fifoLink: string; zero: string } {
  const dir = tempDir(name);
  const f = fifo(join(dir, 'access.log'));
  const fifoLink = join(dir, 'link.log');
  symlinkSync(f, fifoLink);
  return { dir, fifo: f, fifoLink, zero: linkToZero(join(dir, 'zero.log')) };
}
