// The file operations of the version store (src/pull/store.ts) and of what it keeps (src/pull/kept.ts).
import { chmodSync, closeSync, constants, fsyncSync, lstatSync, openSync, readdirSync, rmSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { HEX, PullStoreError } from './state.ts';

/** `abc…` or `sha256:abc…` -> the 64 hex digits, or a PullStoreError. */
export function digestHex(digest: string): string {
  const hex = digest.startsWith('sha256:') ? digest.slice(7) : digest;
  if (!HEX.test(hex))
    throw new PullStoreError(
      'bad-digest',
      `not a SHA-256 digest (64 lowercase hex digits, optionally after "sha256:"): ${JSON.stringify(digest)}`,
    );
  return hex;
}

export function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export function fsyncPath(p: string): void {
  const fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Remove a tree the store made read-only (directories made writable first; links not followed). */
export function removeTree(p: string): void {
  const st = lstatOrUndefined(p);
  if (!st) return;
  if (st.isDirectory()) {
    chmodSync(p, 0o755);
    for (const name of readdirSync(p)) removeTree(join(p, name));
  }
  rmSync(p, { recursive: true, force: true });
}

/** fsync every file and directory under `dir` and make them read-only (0444, 0555 for executables and directories); `onFile` after each file. */
export function makeReadOnly(dir: string, onFile: () => void): void {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) {
      makeReadOnly(p, onFile);
      chmodSync(p, 0o555);
    } else if (ent.isFile()) {
      const fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        chmodSync(p, (lstatSync(p).mode & 0o111) !== 0 ? 0o555 : 0o444);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      onFile();
    } else {
      throw new PullStoreError(
        'tree-invalid',
        `${p}: only regular files and directories may be in a tree (found a ${ent.isSymbolicLink() ? 'symbolic link' : 'special file'})`,
      );
    }
  }
  fsyncPath(dir);
}
