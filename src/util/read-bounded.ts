// One bounded read of a regular file through a descriptor: the file must be a regular file of
// exactly the size expected, read in one pass; a FIFO put in its place cannot block the read
// (O_NONBLOCK), a grown or shrunk file is not read. Used for inputs whose content a record binds
// (src/load/stamps.ts) and for output files a build reuses (src/render/artifact.ts).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

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
