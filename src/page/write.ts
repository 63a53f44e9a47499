// Writing the report: every new or changed page staged to a temp beside it (the durable layer's
// batch, src/durable/), then the temps renamed into place, so each page is replaced whole and a
// failure while staging leaves the previous report as it was. Unchanged pages are not rewritten;
// pages of the last report no longer produced are removed (the list is `.harvgen-report`, which
// also marks a directory as a report's: a directory that is neither empty nor a report is refused,
// never overwritten). Nothing goes through a symbolic link below the output directory, no file
// there is read unless it is a regular file (a FIFO cannot block the run), and the temps a killed
// run left are removed.
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { AtomicBatch, fsyncDir, removeStaleTemps, SafePaths } from '../durable/index.ts';
import { removeEmptyParents } from '../emit/journal.ts';
import { lstatOrUndefined } from '../util/lstat.ts';
import { readBounded, readRegularFile } from '../util/read-bounded.ts';
import type { PageFile } from './types.ts';

/** The file that lists the pages of the report in a directory. */
export const REPORT_LIST = '.harvgen-report';

/** The largest page list read back (a report of 10,000 sites lists about 1 MB). */
const MAX_LIST = 16 * 1024 * 1024;

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
  if (readdirSync(dir).length > 0 && !lstatOrUndefined(join(dir, REPORT_LIST))?.isFile())
    return `${dir} is not empty and holds no report (${REPORT_LIST}): give an empty or new directory`;
  return undefined;
}

/** The pages the last report listed (plain relative `.html` paths only: the list is read as untrusted). */
function previousPages(dir: string): string[] {
  const read = readRegularFile(join(dir, REPORT_LIST), MAX_LIST, { follow: false });
  if (!('bytes' in read)) return [];
  return Buffer.from(read.bytes)
    .toString('utf8')
    .split('\n')
    .filter((l) => /^[A-Za-z0-9_][A-Za-z0-9._/-]*\.html$/.test(l) && !l.split('/').includes('..'));
}

/** Whether `file` already holds `contents`; a page's place taken by anything but a regular file is refused. */
function same(file: string, contents: string): boolean {
  const st = lstatOrUndefined(file);
  if (st === undefined) return false;
  if (!st.isFile()) throw new Error(`${file} is not a regular file`);
  if (st.size !== Buffer.byteLength(contents)) return false;
  const bytes = readBounded(file, st.size, { follow: false });
  return bytes !== undefined && Buffer.from(bytes).toString('utf8') === contents;
}

/** Stage every new or changed page (and the list); the number unchanged. Throws on a link or a page's place taken. */
async function stagePages(paths: SafePaths, files: readonly PageFile[], batch: AtomicBatch): Promise<number> {
  let unchanged = 0;
  const dirs = new Set<string>();
  for (const f of files) {
    const target = await paths.resolve(f.path);
    const parent = dirname(target);
    if (!dirs.has(parent)) {
      mkdirSync(parent, { recursive: true });
      // Made by us, or found and checked above: a directory, and no link.
      if (!lstatOrUndefined(parent)?.isDirectory()) throw new Error(`${parent} is not a directory`);
      dirs.add(parent);
      removeStaleTemps(parent);
    }
    if (same(target, f.contents)) unchanged++;
    else batch.stage(target, f.contents);
  }
  batch.stage(await paths.own(REPORT_LIST), `${files.map((f) => f.path).join('\n')}\n`);
  return unchanged;
}

/** Write the report's pages into `dir`: a diagnostic when it cannot be done. */
export async function writeReport(dir: string, files: readonly PageFile[]): Promise<WriteResult | { diagnostic: Diagnostic }> {
  const fail = (message: string): { diagnostic: Diagnostic } => ({
    diagnostic: { code: 'EMIT_WRITE_FAILED', severity: 'error', message, hint: 'fix the output directory and run again', file: dir },
  });
  const problem = outDirProblem(dir);
  if (problem !== undefined) return fail(problem);
  const previous = previousPages(dir);
  const batch = new AtomicBatch();
  const paths = new SafePaths(dir);
  let unchanged: number;
  try {
    mkdirSync(dir, { recursive: true });
    removeStaleTemps(dir);
    unchanged = await stagePages(paths, files, batch);
  } catch (e) {
    batch.abandon();
    return fail(`the report cannot be written to ${dir} (the previous report is as it was): ${(e as Error).message}`);
  }
  try {
    batch.commit();
  } catch (e) {
    batch.abandon();
    return fail(`the report was written to ${dir} only in part (each page whole; run again): ${(e as Error).message}`);
  }
  const now = new Set(files.map((f) => f.path));
  let removed = 0;
  for (const old of previous) {
    if (now.has(old)) continue;
    try {
      const target = await paths.resolve(old);
      if (!lstatOrUndefined(target)?.isFile()) continue;
      rmSync(target, { force: true });
      removeEmptyParents(paths.root, dirname(target));
      removed++;
    } catch {
      // a link on the way: left, never followed
    }
  }
  if (removed > 0) fsyncDir(dir);
  return { written: files.length - unchanged, unchanged, removed };
}
