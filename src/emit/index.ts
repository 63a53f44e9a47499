// Stage 5, emit: the only stage that touches the output directory. One site at a time, under
// its lock: recover what a killed build left (journal.ts), compare, write every new or changed
// file to a temp sibling, commit the journal, apply it (renames, chmods, removals of files the
// previous build wrote; manifest.json last), delete it. Identical files are not touched (mtimes
// stay, rsync stays quiet); files harvgen never wrote are left alone; nothing goes through a
// symbolic link (src/durable/safe-path.ts). The comparison is plan.ts. ARCHITECTURE.md, "Emit: crash safety".
// Synchronous calls throughout: emit's few calls per site would each wait for libuv's thread pool
// while the main thread has nothing else to do (src/util/lstat.ts).
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Artifact } from '../render/artifact.ts';
import { crashPoint } from '../durable/crash-point.ts';
import { applyJournal, isInterrupted, JOURNAL_FILE, recoverDir, recoverScanned, type Journal, type RecoveryResult } from './journal.ts';
import { acquireLock, SafePaths, TEMP_SUFFIX, tempFor } from '../durable/index.ts';

import { lstatOrUndefined } from '../util/lstat.ts';
import { emitFresh } from './fresh.ts';
import { NewFiles } from './write-file.ts';

import { plan, type EmitResult, type PreviousManifest } from './plan.ts';

export { previousManifest, type EmitResult, type PreviousManifest } from './plan.ts';
export { DEPLOY_GITIGNORE, isDeployTree, markDeployTree, real as realPath, treeKindProblem, unsafeOutDir } from './out-dir.ts';
export type { RecoveryResult } from './journal.ts';

/** Options for emitting one site. */
export interface EmitOptions {
  /** Compare only: report what would change, write nothing (no recovery either). */
  readonly dryRun?: boolean;
  /** Read back every file of the same size instead of trusting the previous manifest's hashes (always so with dryRun). */
  readonly exact?: boolean;
  /**
   * What this process emitted into `dir` last time, when it has watched the output since
   * (watch): a file whose contents and mode are those is unchanged without being looked at, and
   * these paths stand in for the previous manifest's list. Never with dryRun or exact.
   */
  readonly known?: ReadonlyMap<string, Artifact>;
  /**
   * The previous manifest.json is the one harvgen wrote, untouched since (build() asks the
   * up-to-date record, whose MAC an output writer cannot forge): a file whose ctime predates it
   * is judged by the SHA-256 it lists, unread. Otherwise every file of the right size is read.
   */
  readonly trustManifest?: boolean;
  /** With `trustManifest`: what that manifest lists, as the up-to-date record holds it (else it is read from disk). */
  readonly previous?: PreviousManifest;
}

/** Write the artifacts of one site into `dir` (created when missing). */
export async function emitSite(dir: string, artifacts: readonly Artifact[], options: EmitOptions = {}): Promise<EmitResult> {
  const root = resolve(dir);
  const paths = new SafePaths(root);
  await paths.checkRoot();
  if (options.dryRun) {
    const interrupted = isInterrupted(root);
    // Compare only (--check, --dry-run): every file of the same size is read back, whatever
    // its timestamps say; CI's stale-output check must not trust anything on disk.
    const { result } = await plan(paths, artifacts, { exact: true });
    return { ...result, ...(interrupted ? { interrupted } : {}) };
  }
  // A site directory not there yet (a first build): written whole beside it and renamed into place.
  if (options.known === undefined && lstatOrUndefined(root) === undefined) {
    const fresh = emitFresh(root, artifacts);
    if (fresh !== undefined) return fresh;
  }
  mkdirSync(root, { recursive: true });
  await paths.checkRoot();
  const release = await acquireLock(root);
  try {
    // What this process wrote last (watch), when no journal says a build was cut short since: taken
    // as it left it, not walked (a file changed or deleted by hand is the next plain build's).
    const trustTree = options.known !== undefined && !options.exact && !lstatOrUndefined(join(root, JOURNAL_FILE));
    const { recovery, tree } = trustTree
      ? { recovery: { completed: 0, tempFilesRemoved: 0 }, tree: undefined }
      : await recoverScanned(paths);
    const { result, journal } = await plan(paths, artifacts, {
      ...(tree ? { tree } : {}),
      trustTree,
      exact: options.exact === true,
      trustManifest: options.trustManifest === true,
      ...(options.trustManifest && options.previous ? { previous: options.previous } : {}),
      ...(options.known && !options.exact ? { known: options.known } : {}),
    });
    if (journal.renames.length + journal.chmods.length + journal.removals.length > 0) {
      writeTemps(root, journal, artifacts);
      // The commit point: after this rename the new tree is what a recovery completes.
      const committed = await paths.own(JOURNAL_FILE);
      const temp = await paths.own(`${JOURNAL_FILE}${TEMP_SUFFIX}`);
      writeFileSync(temp, JSON.stringify(journal) + '\n');
      renameSync(temp, committed);
      crashPoint('journal');
      await applyJournal(paths, journal, { fresh: true });
      crashPoint('before-journal-delete');
      rmSync(committed, { force: true });
    }
    return {
      ...result,
      ...(recovery.recovered || recovery.tempFilesRemoved || recovery.discarded !== undefined ? { recovery } : {}),
    };
  } finally {
    await release();
  }
}

/**
 * Write every temp of the journal: each directory created once, each temp created exclusively
 * (src/emit/write-file.ts). Synchronous, like the stats in plan(): on these 2-core machines 30,000
 * small writes take 3.4 s of build against 4.0 s with 16 promises in flight (tmpfs; disk noise
 * hides either).
 */
function writeTemps(root: string, journal: Journal, artifacts: readonly Artifact[]): void {
  const wanted = new Set(journal.renames.map((r) => r.path));
  const byPath = new Map<string, Artifact>();
  for (const a of artifacts) if (wanted.has(a.path)) byPath.set(a.path, a);
  const dirs = new Set<string>();
  const files = new NewFiles();
  let n = 0;
  for (const r of journal.renames) {
    const temp = join(root, tempFor(r.path));
    const dir = dirname(temp);
    if (!dirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      dirs.add(dir);
    }
    files.write(temp, byPath.get(r.path)!, r.mode);
    crashPoint('temp', ++n);
  }
}

/** Recover a site directory alone (finish or undo what a killed build left), under its lock. */
export async function recoverSite(dir: string): Promise<RecoveryResult> {
  const root = resolve(dir);
  const paths = new SafePaths(root);
  await paths.checkRoot();
  if (!lstatOrUndefined(root)) return { completed: 0, tempFilesRemoved: 0 };
  const release = await acquireLock(root);
  try {
    return await recoverDir(paths);
  } finally {
    await release();
  }
}
