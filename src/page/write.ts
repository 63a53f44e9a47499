// Writing the report: every page through the durable layer's batch (src/durable/): all staged to
// temps first, then renamed together, so a failure leaves the previous report as it was.
// Unchanged pages are not rewritten; pages of the last report no longer produced are removed
// (the list is `.harvgen-report`, which also marks a directory as a report's: a directory that is
// neither empty nor a report is refused, never overwritten).
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { AtomicBatch, fsyncDir } from '../durable/index.ts';
import type { PageFile } from './types.ts';

/** The file that lists the pages of the report in a directory. */
export const REPORT_LIST = '.harvgen-report';

/** What writing gave. */
export interface WriteResult {
  readonly written: number;
  readonly unchanged: number;
  readonly removed: number;
}

/** Why `dir` cannot take a report, or undefined. */
export function outDirProblem(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) return `${dir} is a symbolic link: give the real directory`;
  if (!st.isDirectory()) return `${dir} is not a directory`;
  if (readdirSync(dir).length > 0 && !existsSync(join(dir, REPORT_LIST)))
    return `${dir} is not empty and holds no report (${REPORT_LIST}): give an empty or new directory`;
  return undefined;
}

function previousPages(dir: string): string[] {
  try {
    return readFileSync(join(dir, REPORT_LIST), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Za-z0-9_][A-Za-z0-9._/-]*\.html$/.test(l) && !l.includes('..'));
  } catch {
    return [];
  }
}

function same(file: string, contents: string): boolean {
  try {
    return readFileSync(file, 'utf8') === contents;
  } catch {
    return false;
  }
}

/** Write the report's pages into `dir`: a diagnostic when it cannot be done (nothing then changed). */
export function writeReport(dir: string, files: readonly PageFile[]): WriteResult | { diagnostic: Diagnostic } {
  const problem = outDirProblem(dir);
  const fail = (message: string): { diagnostic: Diagnostic } => ({
    diagnostic: { code: 'EMIT_WRITE_FAILED', severity: 'error', message, hint: 'fix the output directory and run again', file: dir },
  });
  if (problem !== undefined) return fail(problem);
  const previous = previousPages(dir);
  const batch = new AtomicBatch();
  let unchanged = 0;
  try {
    for (const f of files) {
      const target = join(dir, f.path);
      mkdirSync(dirname(target), { recursive: true });
      if (existsSync(target) && lstatSync(target).isSymbolicLink()) throw new Error(`${target} is a symbolic link`);
      if (same(target, f.contents)) unchanged++;
      else batch.stage(target, f.contents);
    }
    batch.stage(join(dir, REPORT_LIST), `${files.map((f) => f.path).join('\n')}\n`);
  } catch (e) {
    batch.abandon();
    return fail(`the report cannot be written to ${dir}: ${(e as Error).message}`);
  }
  batch.commit();
  const now = new Set(files.map((f) => f.path));
  let removed = 0;
  for (const old of previous) {
    if (now.has(old)) continue;
    rmSync(join(dir, old), { force: true });
    removed++;
  }
  if (removed > 0) fsyncDir(dir);
  return { written: files.length - unchanged, unchanged, removed };
}
