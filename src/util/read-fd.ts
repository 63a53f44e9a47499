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

/** Open `file` for reading without following a link and without blocking on a FIFO; undefined when it cannot be. */
export function openNoFollow(file: string): number | undefined {
  try {
    return openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}
