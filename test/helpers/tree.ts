// Reading a directory tree into memory for golden comparisons.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fg from 'fast-glob';

/**
 * Every file under `dir` (relative path -> contents), sorted by path; the build state in
 * `.harvgen-cache/` (not output: it holds timestamps and inode numbers) is left out.
 */
export function readTree(dir: string): Map<string, string> {
  const files = fg.sync('**/*', { cwd: dir, dot: true, onlyFiles: true, ignore: ['.harvgen-cache/**'] }).sort();
  return new Map(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

/** Mode bits of a file. */
export function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}
