// One bounded read of an open regular file, shared by every reader that opens without following
// links (inventory-side files, the output's journal, diffs of the output).
import { constants, openSync, readSync } from 'node:fs';

/** Read up to `size` bytes of `fd` from `start` (default: its start); fewer when the file shrank meanwhile. */
export function readWhole(fd: number, size: number, start = 0): Buffer {
  const bytes = Buffer.alloc(size);
  let n = 0;
  while (n < size) {
    const r = readSync(fd, bytes, n, size - n, start + n);
    if (r === 0) break;
    n += r;
  }
  return bytes.subarray(0, n);
}

/** Up to `limit` bytes of `fd` from its start, read until its end (for a file whose size says nothing). */
export function readToEnd(fd: number, limit: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = Buffer.alloc(Math.min(64 * 1024, limit - total));
    const n = readSync(fd, chunk, 0, chunk.length, total);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
  }
  return Buffer.concat(chunks, total);
}

/** Open `file` for reading without following a link and without blocking on a FIFO; undefined when it cannot be. */
export function openNoFollow(file: string): number | undefined {
  try {
    return openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}
