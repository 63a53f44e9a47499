// The redo journal that makes a site's tree switch from old to new as one step. A build first
// writes every new or changed file to a temp name next to its target, then commits
// `.harvgen-journal.json` (written to a temp name and renamed: the commit point), then applies
// it (renames, chmods, removals; manifest.json last) and deletes it. A killed build leaves
// either temps and no journal (the tree is wholly old: recovery deletes the temps) or a
// journal (recovery applies it again, every step idempotent: the tree becomes wholly new).
// The journal also carries the removals, so files of the old build are cleaned up even when
// the kill came right after manifest.json was replaced.
import { renameSync } from 'node:fs';
import { chmod, lstat, readFile, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { isSafeRelativePath } from '../render/artifact.ts';
import { TEMP_SUFFIX, tempFor, type SafePaths } from './safe-path.ts';
import { scanTree, type EntryKind } from './tree.ts';

/** The journal file inside a site's output directory. */
export const JOURNAL_FILE = '.harvgen-journal.json';

/** What one build changes, in the order it is applied. */
export interface Journal {
  readonly version: 1;
  /** Temps renamed over their targets (manifest.json last). */
  readonly renames: readonly { readonly path: string; readonly mode: number }[];
  /** Files whose content is unchanged but whose mode is not. */
  readonly chmods: readonly { readonly path: string; readonly mode: number }[];
  /** Files the previous build wrote and this one does not. */
  readonly removals: readonly string[];
}

/** A journal read from disk, with the entries that were dropped because their path is not plain. */
export interface ParsedJournal {
  readonly journal: Journal;
  /** The dropped paths, as JSON strings. */
  readonly ignored: readonly string[];
}

/**
 * Parse a journal read from disk (untrusted): undefined unless it has the journal's shape; an
 * entry whose path is not a plain relative path (or whose mode is not 0644/0755) is dropped and
 * listed, the others are kept.
 */
export function parseJournal(text: string): ParsedJournal | undefined {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return undefined;
  }
  const o = j as { version?: unknown; renames?: unknown; chmods?: unknown; removals?: unknown } | null;
  if (o?.version !== 1 || !Array.isArray(o.renames) || !Array.isArray(o.chmods) || !Array.isArray(o.removals)) return undefined;
  const ignored: string[] = [];
  const plain = (p: unknown): p is string => {
    if (typeof p === 'string' && isSafeRelativePath(p)) return true;
    ignored.push(JSON.stringify(p) ?? String(p));
    return false;
  };
  const entries = (list: unknown[]) =>
    list.flatMap((e) => {
      const x = (e ?? {}) as { path?: unknown; mode?: unknown };
      return plain(x.path) && (x.mode === 0o644 || x.mode === 0o755) ? [{ path: x.path, mode: x.mode }] : [];
    });
  const journal: Journal = { version: 1, renames: entries(o.renames), chmods: entries(o.chmods), removals: o.removals.filter(plain) };
  return { journal, ignored };
}

const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

/**
 * Test only (test/crash.test.ts): with HARVGEN_TEST_CRASH=<point>:<n> the process kills itself
 * (SIGKILL) at the n-th pass of that point: `temp` (a temp file written), `journal` (committed),
 * `rename` (a file renamed into place), `manifest` (manifest.json renamed), `before-journal-delete`.
 */
export function crashPoint(point: string, n = 1): void {
  const want = process.env.HARVGEN_TEST_CRASH;
  if (want !== undefined && want === `${point}:${n}`) process.kill(process.pid, 'SIGKILL');
}

/**
 * Apply a committed journal; every step can run again after a crash with the same result.
 * `fresh`: the journal was just planned and its temps written by this process against a tree
 * it checked link by link (emit/index.ts), so the renames are not checked again (and run
 * synchronously, like the writes). Recovery applies a journal read from disk
 * and checks every path.
 */
export async function applyJournal(paths: SafePaths, journal: Journal, options: { fresh?: boolean } = {}): Promise<void> {
  let n = 0;
  const manifest = journal.renames.filter((r) => r.path === 'manifest.json');
  const others = journal.renames.filter((r) => r.path !== 'manifest.json');
  const renameOne = async (r: { path: string }) => {
    if (options.fresh) renameSync(join(paths.root, tempFor(r.path)), join(paths.root, r.path));
    else {
      const target = await paths.resolve(r.path);
      const temp = await paths.resolve(r.path, { temp: true });
      // Gone already: renamed before the crash (the target then holds the new bytes).
      if (await exists(temp)) await rename(temp, target);
    }
    crashPoint(r.path === 'manifest.json' ? 'manifest' : 'rename', r.path === 'manifest.json' ? 1 : ++n);
  };
  for (const r of others) await renameOne(r);
  for (const c of journal.chmods) {
    const target = await paths.resolve(c.path);
    // Only a plain file with one name: a hard link would carry the chmod outside the output.
    const st = await lstat(target).catch(() => undefined);
    if (!st?.isFile() || st.nlink !== 1) continue;
    await chmod(target, c.mode).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  for (const r of manifest) await renameOne(r);
  for (const p of journal.removals) {
    const target = await paths.resolve(p);
    await rm(target, { force: true });
    await removeEmptyParents(paths.root, dirname(target));
  }
}

/** Remove `dir` and its parents up to (not including) `root` while they are empty. */
export async function removeEmptyParents(root: string, dir: string): Promise<void> {
  for (let d = dir; d.startsWith(root + sep); d = dirname(d)) {
    const entries = await readdir(d).catch(() => ['?']);
    if (entries.length > 0) return;
    await rmdir(d).catch(() => undefined);
  }
}

/** Every temp file in a walked tree (relative paths, sorted): files named `*.harvgen-tmp`. */
export function tempsIn(tree: ReadonlyMap<string, EntryKind>): string[] {
  return [...tree].flatMap(([p, kind]) => (kind === 'file' && p.endsWith(TEMP_SUFFIX) ? [p] : [])).sort();
}

/** True when a walked tree holds an unfinished build (a journal or temp files). */
export function interruptedIn(tree: ReadonlyMap<string, EntryKind>): boolean {
  return tree.has(JOURNAL_FILE) || tempsIn(tree).length > 0;
}

/** What recovery found and did. */
export interface RecoveryResult {
  /** `rolled-forward`: a committed build was completed; `rolled-back`: an uncommitted one was undone. */
  readonly recovered?: 'rolled-forward' | 'rolled-back';
  /** File operations (renames, chmods, removals) the completed journal listed. */
  readonly completed: number;
  readonly tempFilesRemoved: number;
  /** What was read from the journal and not trusted (ignored): dropped paths, or the whole journal. */
  readonly untrusted?: readonly string[];
}

/** Bring a site directory back to one whole tree: finish a committed build, drop an uncommitted one. */
export async function recoverDir(paths: SafePaths): Promise<RecoveryResult> {
  const journalPath = join(paths.root, JOURNAL_FILE);
  const st = await lstat(journalPath).catch(() => undefined);
  let recovered: RecoveryResult['recovered'];
  let completed = 0;
  const untrusted: string[] = [];
  if (st) {
    // Not read through a link: a journal is only ever a regular file harvgen renamed into place.
    const parsed = st.isFile() ? parseJournal(await readFile(journalPath, 'utf8')) : undefined;
    if (parsed) {
      const { journal, ignored } = parsed;
      untrusted.push(...ignored.map((p) => `${JOURNAL_FILE}: ${p}`));
      await applyJournal(paths, journal);
      recovered = 'rolled-forward';
      completed = journal.renames.length + journal.chmods.length + journal.removals.length;
    } else untrusted.push(`${JOURNAL_FILE}: not a harvgen journal`);
    await rm(journalPath, { force: true });
  }
  const temps = tempsIn(scanTree(paths.root));
  // Found without following links, so each is inside the site directory.
  for (const t of temps) await rm(join(paths.root, t), { force: true });
  if (recovered === undefined && temps.length > 0) recovered = 'rolled-back';
  return {
    ...(recovered ? { recovered } : {}),
    completed,
    tempFilesRemoved: temps.length,
    ...(untrusted.length > 0 ? { untrusted } : {}),
  };
}

/** True when a site directory holds an unfinished build (a journal or temp files). */
export function isInterrupted(root: string): boolean {
  return interruptedIn(scanTree(root));
}
