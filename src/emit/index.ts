// Stage 5, emit: the only stage that touches the output directory. One site at a time, under
// its lock: recover what a killed build left (journal.ts), compare, write every new or changed
// file to a temp sibling, commit the journal, apply it (renames, chmods, removals of files the
// previous build wrote; manifest.json last), delete it. Identical files are not touched (mtimes
// stay, rsync stays quiet); files harvgen never wrote are left alone; nothing goes through a
// symbolic link (safe-path.ts). ARCHITECTURE.md, "Emit: crash safety".
import { chmod, lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Artifact } from '../render/index.ts';
import { isSafeRelativePath } from '../render/index.ts';
import { applyJournal, crashPoint, isInterrupted, JOURNAL_FILE, recoverDir, type Journal, type RecoveryResult } from './journal.ts';
import { acquireLock } from './lock.ts';
import { SafePaths, TEMP_SUFFIX } from './safe-path.ts';

export { EmitError } from './safe-path.ts';
export { real as realPath, unsafeOutDir } from './out-dir.ts';
export type { RecoveryResult } from './journal.ts';

/** What emitting (or comparing) one site did. */
export interface EmitResult {
  /** Files written because they were new or different (or whose mode changed). */
  readonly written: readonly string[];
  /** Files the previous build produced that are gone now. */
  readonly removed: readonly string[];
  /** Files already up to date. */
  readonly unchanged: readonly string[];
  /** What recovery did before this build (absent when the tree was whole). */
  readonly recovery?: RecoveryResult;
  /** Compare only: the tree holds an unfinished build (a journal or temp files). */
  readonly interrupted?: boolean;
  /** Paths read from the journal or the previous manifest that were not trusted (ignored), as `file: "path"`. */
  readonly untrusted?: readonly string[];
}

/** Options for emitting one site. */
export interface EmitOptions {
  /** Compare only: report what would change, write nothing (no recovery either). */
  readonly dryRun?: boolean;
}

/** Write the artifacts of one site into `dir` (created when missing). */
export async function emitSite(dir: string, artifacts: readonly Artifact[], options: EmitOptions = {}): Promise<EmitResult> {
  const root = resolve(dir);
  const paths = new SafePaths(root);
  await paths.checkRoot();
  if (options.dryRun) {
    const interrupted = await isInterrupted(root);
    const { result } = await plan(paths, artifacts);
    return { ...result, ...(interrupted ? { interrupted } : {}) };
  }
  await mkdir(root, { recursive: true });
  await paths.checkRoot();
  const release = await acquireLock(root);
  try {
    const recovery = await recoverDir(paths);
    const { result, journal } = await plan(paths, artifacts);
    const byPath = new Map(artifacts.map((a) => [a.path, a]));
    let n = 0;
    for (const r of journal.renames) {
      const a = byPath.get(r.path)!;
      const temp = await paths.resolve(r.path, { temp: true });
      await mkdir(dirname(temp), { recursive: true });
      await writeFile(temp, a.contents, { mode: a.mode });
      await chmod(temp, a.mode); // the umask may have narrowed the mode
      crashPoint('temp', ++n);
    }
    if (journal.renames.length + journal.chmods.length + journal.removals.length > 0) {
      // The commit point: after this rename the new tree is what a recovery completes.
      const committed = await paths.own(JOURNAL_FILE);
      const temp = await paths.own(`${JOURNAL_FILE}${TEMP_SUFFIX}`);
      await writeFile(temp, JSON.stringify(journal) + '\n');
      await rename(temp, committed);
      crashPoint('journal');
      await applyJournal(paths, journal);
      crashPoint('before-journal-delete');
      await rm(committed, { force: true });
    }
    const untrusted = [...(recovery.untrusted ?? []), ...(result.untrusted ?? [])];
    return {
      ...result,
      ...(recovery.recovered || recovery.tempFilesRemoved ? { recovery } : {}),
      ...(untrusted.length > 0 ? { untrusted } : {}),
    };
  } finally {
    await release();
  }
}

/** Recover a site directory alone (finish or undo what a killed build left), under its lock. */
export async function recoverSite(dir: string): Promise<RecoveryResult> {
  const root = resolve(dir);
  const paths = new SafePaths(root);
  await paths.checkRoot();
  if (!(await lstat(root).catch(() => undefined))) return { completed: 0, tempFilesRemoved: 0 };
  const release = await acquireLock(root);
  try {
    return await recoverDir(paths);
  } finally {
    await release();
  }
}

/** Largest manifest.json read back (a 10,000-node site writes about 5 MiB). */
const MAX_MANIFEST = 256 * 1024 * 1024;

/** Compare the artifacts with the tree: what to write, chmod and remove. */
async function plan(paths: SafePaths, artifacts: readonly Artifact[]): Promise<{ result: EmitResult; journal: Journal }> {
  const written: string[] = [];
  const unchanged: string[] = [];
  const renames: { path: string; mode: number }[] = [];
  const chmods: { path: string; mode: number }[] = [];
  for (const a of artifacts) {
    const target = await paths.resolve(a.path);
    const st = await lstat(target).catch(() => undefined);
    const same = st?.isFile() === true && st.size === Buffer.byteLength(a.contents) && (await readFile(target, 'utf8')) === a.contents;
    if (same && (st!.mode & 0o777) === a.mode) {
      unchanged.push(a.path);
      continue;
    }
    written.push(a.path);
    // A file with other hard links is replaced, never chmodded in place: the chmod would reach
    // the same inode under its other names, possibly outside the output directory.
    if (same && st!.nlink === 1) chmods.push({ path: a.path, mode: a.mode });
    else renames.push({ path: a.path, mode: a.mode });
  }
  // manifest.json is renamed last: until then the old manifest still describes the old tree.
  renames.sort((x, y) => Number(x.path === 'manifest.json') - Number(y.path === 'manifest.json'));
  const produced = new Set(artifacts.map((a) => a.path));
  const previous = await previousFiles(paths.root);
  const removals: string[] = [];
  for (const p of previous.files) {
    if (produced.has(p)) continue;
    const st = await lstat(await paths.resolve(p)).catch(() => undefined);
    if (st) removals.push(p);
  }
  removals.sort();
  return {
    result: {
      written: written.sort(),
      removed: removals,
      unchanged: unchanged.sort(),
      ...(previous.untrusted.length > 0 ? { untrusted: previous.untrusted.map((p) => `manifest.json: ${p}`) } : {}),
    },
    journal: { version: 1, renames, chmods, removals },
  };
}

/**
 * Files the previous build wrote, from its manifest: what harvgen owns. Untrusted (it is read
 * from disk): a path that is not a plain relative path is not owned; it is returned in `untrusted`.
 */
async function previousFiles(root: string): Promise<{ files: string[]; untrusted: string[] }> {
  let manifest: { generator?: unknown; files?: unknown };
  try {
    // Checked by plan() first: manifest.json is an artifact, so it is no link here. Only a
    // regular file is read (a FIFO would block the build forever).
    const st = await lstat(join(root, 'manifest.json'));
    if (!st.isFile() || st.size > MAX_MANIFEST) return { files: [], untrusted: [] };
    manifest = JSON.parse(await readFile(join(root, 'manifest.json'), 'utf8')) as typeof manifest;
  } catch {
    return { files: [], untrusted: [] };
  }
  if (manifest?.generator !== 'harvgen' || !Array.isArray(manifest.files)) return { files: [], untrusted: [] };
  const files: string[] = [];
  const untrusted: string[] = [];
  for (const f of manifest.files as unknown[]) {
    const p = (f as { path?: unknown } | null)?.path;
    if (typeof p === 'string' && isSafeRelativePath(p)) files.push(p);
    else untrusted.push(JSON.stringify(p) ?? String(p));
  }
  return { files, untrusted };
}
