// Reading a file the inventory names from outside the inventory (secret files, cloud-init
// user-data, iPXE binaries): containment in the repository, and one bounded read of a regular
// file through a descriptor (no FIFO or device can hang the build, no size check can race the read).
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { sep } from 'node:path';
import { stampOf, type InputStamp } from './stamps.ts';
import { readWhole } from '../util/read-fd.ts';

/** True when the real path `path` is `root` or below it (both already resolved with realpath). */
export function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The bytes of a regular file of at most `maxBytes`, or why not; the stamp is taken from the open descriptor. */
export type BoundedRead = { bytes: Buffer; stamp: InputStamp } | { problem: string; missing?: true; stamp: InputStamp };

/**
 * Open `file` (without following a symbolic link at its name unless `followLinks`), check that
 * it is a regular file of at most `maxBytes`, and read it whole. The stamp names `stampAs`
 * (default `file`): the path the up-to-date check looks at again.
 */
export function readBounded(file: string, maxBytes: number, followLinks = true, stampAs = file): BoundedRead {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | (followLinks ? 0 : constants.O_NOFOLLOW));
  } catch (e) {
    const stamp = stampOf(stampAs, undefined);
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') return { problem: 'is a symbolic link', stamp };
    return { problem: 'does not exist or cannot be read', missing: true, stamp };
  }
  try {
    const st = fstatSync(fd);
    const stamp = stampOf(stampAs, st);
    if (!st.isFile()) return { problem: 'is not a regular file', stamp };
    if (st.size > maxBytes) return { problem: `is ${st.size} bytes (at most ${maxBytes})`, stamp };
    const bytes = readWhole(fd, st.size);
    if (bytes.length !== st.size) return { problem: 'changed while it was read', stamp };
    return { bytes, stamp };
  } finally {
    closeSync(fd);
  }
}
