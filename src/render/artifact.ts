// An output file in memory. Rendering produces these; only emit writes them to disk.
import { hash } from 'node:crypto';

/** One generated file. `path` is relative to the site's output directory, with `/`. */
export interface Artifact {
  readonly path: string;
  /** Text (written as UTF-8), or bytes for binaries copied into the tree (iPXE). */
  readonly contents: string | Uint8Array;
  /** File mode: 0o755 for scripts, 0o644 otherwise. */
  readonly mode: number;
  /** URL under boot.server when nginx serves the file. */
  readonly url?: string;
}

const SAFE_PATH = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/i;

/** True when `path` is relative, has no `..`/`.` segments, no backslashes and only plain characters. */
export function isSafeRelativePath(path: string): boolean {
  return SAFE_PATH.test(path) && !path.split('/').some((seg) => seg === '..' || seg === '.');
}

/** The bytes of an artifact's contents. */
export function contentBytes(contents: string | Uint8Array): Uint8Array {
  return typeof contents === 'string' ? Buffer.from(contents, 'utf8') : contents;
}

/** True when `onDisk` holds exactly `contents`. */
export function sameContents(onDisk: Uint8Array, contents: string | Uint8Array): boolean {
  return Buffer.from(onDisk.buffer, onDisk.byteOffset, onDisk.byteLength).equals(contentBytes(contents));
}

/**
 * SHA-256 (hex) of an artifact's contents as written to disk (a string as UTF-8). The one-shot
 * `crypto.hash` is about twice as fast as a Hash object per file, and a tree hashes every file.
 */
export function sha256Hex(contents: string | Uint8Array): string {
  return hash('sha256', contents, 'hex');
}
