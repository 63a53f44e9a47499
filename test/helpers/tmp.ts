// Temporary directories for all tests, removed when the process exits
// (kept, and listed, with HARVGEN_KEEP_TMP=1).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
process.on('exit', () => {
  if (process.env.HARVGEN_KEEP_TMP === '1') {
    if (dirs.size) console.warn(`HARVGEN_KEEP_TMP=1: kept ${[...dirs].join(' ')}`);
    return;
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp dir `harvgen-<label>-XXXXXX`, deleted at process exit. */
export function tempDir(label = 'test'): string {
  const d = mkdtempSync(join(tmpdir(), `harvgen-${label}-`));
  dirs.add(d);
  return d;
}

/** Delete a temp dir now (unless HARVGEN_KEEP_TMP=1). */
export function removeTempDir(dir: string): void {
  if (process.env.HARVGEN_KEEP_TMP === '1') return;
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}
