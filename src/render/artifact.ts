// An output file in memory. Rendering produces these; only emit writes them to disk.

/** One generated file. `path` is relative to the site's output directory, with `/`. */
export interface Artifact {
  readonly path: string;
  readonly contents: string;
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
