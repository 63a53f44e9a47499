// One bounded read of a regular file through a descriptor: the file must be a regular file of
// exactly the size expected, read in one pass; a FIFO put in its place cannot block the read
// (O_NONBLOCK), a grown or shrunk file is not read. Used for inputs whose content a record binds
// (src/load/stamps.ts) and for output files a build reuses (src/render/artifact.ts).
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync } from 'node:fs';

/**
 * The bytes of `file` when it is a regular file of exactly `size` bytes, else undefined (whatever
 * went wrong). `follow: false` refuses a link (O_NOFOLLOW) instead of reading its target.
 */
export function readBounded(file: string, size: number, options: { readonly follow: boolean }): Uint8Array | undefined {
  if (size < 0) return undefined;
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | (options.follow ? 0 : constants.O_NOFOLLOW));
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size !== size) return undefined;
    const bytes = Buffer.alloc(size);
    for (let n = 0; n < size;) {
      const r = readSync(fd, bytes, n, size - n, n);
      if (r === 0) return undefined;
      n += r;
    }
    return bytes;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Why `readRegularFile` read nothing. */
export type RegularFileProblem =
  | { readonly problem: 'unreadable'; readonly code: string }
  | { readonly problem: 'not-file' }
  | { readonly problem: 'too-large'; readonly size: number }
  | { readonly problem: 'changed' };

/**
 * A file given from elsewhere, read once: a regular file (`follow: false`: not a link either) of
 * at most `max` bytes, through `readBounded` (a FIFO put in its place cannot block the read).
 */
export function readRegularFile(
  file: string,
  max: number,
  options: { readonly follow: boolean },
): { readonly bytes: Uint8Array } | RegularFileProblem {
  let st;
  try {
    st = options.follow ? statSync(file) : lstatSync(file);
  } catch (e) {
    return { problem: 'unreadable', code: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
  if (!st.isFile()) return { problem: 'not-file' };
  if (st.size > max) return { problem: 'too-large', size: st.size };
  const bytes = readBounded(file, st.size, options);
  return bytes === undefined ? { problem: 'changed' } : { bytes };
}
