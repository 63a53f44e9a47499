// The redo journal that makes a site's tree switch from old to new as one step. A build first
// writes every new or changed file to a temp name next to its target, then commits
// `.harvgen-journal.json` (written to a temp name and renamed: the commit point), then applies
// it (renames, chmods, removals, and manifest.json last) and deletes it. A killed build leaves
// either temps and no journal (the tree is wholly old: recovery deletes the temps) or a
// journal (recovery applies it again, every step idempotent: the tree becomes wholly new).
// The removals come before manifest.json is replaced, so until then the old manifest still
// lists every file they remove, and once it is replaced nothing is left to do. A journal read
// back is untrusted (anyone who can write to the output can write one): before anything of it
// is applied it must verify against the manifests (verifyJournal: it only touches files a
// manifest.json lists, never through a link); one that does not is discarded unapplied,
// deleted, and reported once, so it can neither touch another file nor fail every build.
// Synchronous calls: each asynchronous one would wait for libuv's thread pool (src/util/lstat.ts).
import { crashPoint } from '../durable/crash-point.ts';
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
} from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { isSafeRelativePath } from '../render/artifact.ts';
import { LAYOUT } from '../derive/layout.ts';
import { DurableError, TEMP_SUFFIX, tempFor, type SafePaths } from '../durable/index.ts';
import { scanTree, type EntryKind } from './tree.ts';
import { readWhole } from '../util/read-fd.ts';
import { lstatOrUndefined } from '../util/lstat.ts';

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

/** Largest journal read back (a 10,000-node build that rewrites everything writes about 2 MiB). */
const MAX_JOURNAL = 64 * 1024 * 1024;
/** Largest manifest.json read back to check a journal against (a 10,000-node site writes about 5 MiB). */
const MAX_MANIFEST = 256 * 1024 * 1024;

/**
 * Parse a journal read from disk (untrusted): the journal, or why it is not one. Every entry
 * must be a plain relative path (renames and chmods with mode 0644 or 0755): harvgen writes
 * nothing else, so one entry that is not proves the journal is not harvgen's, and it is
 * discarded whole.
 */
export function parseJournal(text: string): Journal | string {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return 'is not a harvgen journal (not JSON)';
  }
  const o = j as { version?: unknown; renames?: unknown; chmods?: unknown; removals?: unknown } | null;
  if (o?.version !== 1 || !Array.isArray(o.renames) || !Array.isArray(o.chmods) || !Array.isArray(o.removals))
    return 'is not a harvgen journal (not its shape)';
  let bad: string | undefined;
  const plain = (p: unknown): p is string => {
    if (typeof p === 'string' && isSafeRelativePath(p)) return true;
    bad ??= `names ${JSON.stringify(p) ?? String(p)}, which is not a plain relative path`;
    return false;
  };
  const entries = (list: unknown[]) =>
    list.flatMap((e) => {
      const x = (e ?? {}) as { path?: unknown; mode?: unknown };
      if (!plain(x.path)) return [];
      if (x.mode !== 0o644 && x.mode !== 0o755) {
        bad ??= `gives ${x.path} the mode ${JSON.stringify(x.mode)} (harvgen writes 0644 and 0755 only)`;
        return [];
      }
      return [{ path: x.path, mode: x.mode }];
    });
  const journal: Journal = { version: 1, renames: entries(o.renames), chmods: entries(o.chmods), removals: o.removals.filter(plain) };
  return bad ?? journal;
}

/** The plain paths a manifest.json lists (undefined when `file` is not a regular file holding one). */
function manifestList(file: string): Set<string> | undefined {
  try {
    const st = lstatSync(file);
    if (!st.isFile() || st.size > MAX_MANIFEST) return undefined;
    const m = JSON.parse(readFileSync(file, 'utf8')) as { generator?: unknown; files?: unknown };
    if (m?.generator !== 'harvgen' || !Array.isArray(m.files)) return undefined;
    const out = new Set<string>();
    for (const f of m.files as unknown[]) {
      const p = (f as { path?: unknown } | null)?.path;
      if (typeof p === 'string' && isSafeRelativePath(p)) out.add(p);
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Check a journal read from disk against the site directory before anything of it is applied:
 * it may only touch files a manifest.json says harvgen writes. The old manifest is the one on
 * disk, the new one the journal's manifest.json temp (or the one on disk when the journal renames
 * none). A rename must put a file of the new manifest in place, over nothing or over a file of
 * the old one; a chmod must name a file both list; a removal a file the old one lists and the
 * new one does not (a rename whose temp is gone was done already and is not judged). No entry
 * may go through a link or meet a directory. A journal whose
 * manifest.json temp is gone was applied to the end (manifest.json is renamed last, after every
 * other step): nothing is left to do. Returns the journal to apply, or why it is discarded.
 */
export function verifyJournal(root: string, journal: Journal, tree: ReadonlyMap<string, EntryKind>): Journal | string {
  const renamesManifest = journal.renames.some((r) => r.path === LAYOUT.manifest);
  const manifestTemp = tempFor(LAYOUT.manifest);
  if (renamesManifest && !tree.has(manifestTemp)) return { version: 1, renames: [], chmods: [], removals: [] };
  const oldList = manifestList(join(root, LAYOUT.manifest));
  const newList = renamesManifest ? manifestList(join(root, manifestTemp)) : oldList;
  if (!newList)
    return `is not matched by a manifest.json (${renamesManifest ? `its ${manifestTemp}` : LAYOUT.manifest} is missing or not harvgen's)`;
  const a = (kind: EntryKind) => (kind === 'link' ? 'a symbolic link' : kind === 'dir' ? 'a directory' : 'not a regular file');
  const through = (rel: string): string | undefined => {
    for (let i = rel.indexOf('/'); i !== -1; i = rel.indexOf('/', i + 1)) {
      const kind = tree.get(rel.slice(0, i));
      if (kind === undefined) return undefined;
      if (kind !== 'dir') return `names ${rel}, whose directory ${rel.slice(0, i)} is ${a(kind)}`;
    }
    return undefined;
  };
  const file = (rel: string, what: string): string | undefined => {
    const kind = tree.get(rel);
    return through(rel) ?? (kind === undefined || kind === 'file' ? undefined : `names ${what} ${rel}, which is ${a(kind)}`);
  };
  // manifest.json.sig is harvgen's by its name (no manifest lists it, as none lists itself).
  const owned = (rel: string) => oldList?.has(rel) === true || rel === LAYOUT.manifestSignature;
  const listed = (rel: string) => newList.has(rel) || rel === LAYOUT.manifestSignature;
  for (const r of journal.renames) {
    const problem = file(r.path, 'the target') ?? file(tempFor(r.path), 'the temp file');
    if (problem) return problem;
    if (r.path === LAYOUT.manifest) continue;
    if (!listed(r.path)) return `renames ${r.path} into place, which no manifest.json of the build lists`;
    // Over an existing file only when harvgen wrote it (a target without its temp was renamed already).
    if (tree.get(tempFor(r.path)) === 'file' && tree.has(r.path) && !owned(r.path))
      return `renames a file over ${r.path}, which the manifest.json on disk does not list (harvgen did not write it)`;
  }
  for (const c of journal.chmods) {
    const problem = file(c.path, 'the file');
    if (problem) return problem;
    if (!listed(c.path) || !owned(c.path)) return `changes the mode of ${c.path}, which no manifest.json of the build lists`;
  }
  for (const p of journal.removals) {
    const problem = file(p, 'the file');
    if (problem) return problem;
    if (!owned(p) || (newList.has(p) && p !== LAYOUT.manifestSignature))
      return `removes ${p}, which the manifest.json on disk does not list as a file the new build drops`;
  }
  return journal;
}

const exists = (p: string): boolean => lstatOrUndefined(p) !== undefined;

/**
 * Apply a committed journal; every step can run again after a crash with the same result.
 * `fresh`: the journal was just planned and its temps written by this process against a tree
 * it checked link by link (emit/index.ts), so the renames are not checked again (and run
 * synchronously, like the writes). Recovery applies a journal read from disk
 * and checks every path.
 */
export async function applyJournal(paths: SafePaths, journal: Journal, options: { fresh?: boolean } = {}): Promise<void> {
  let n = 0;
  const manifest = journal.renames.filter((r) => r.path === LAYOUT.manifest);
  const others = journal.renames.filter((r) => r.path !== LAYOUT.manifest);
  const renameOne = async (r: { path: string }) => {
    if (options.fresh) renameSync(join(paths.root, tempFor(r.path)), join(paths.root, r.path));
    else {
      const target = await paths.resolve(r.path);
      const temp = await paths.resolve(r.path, { temp: true });
      // Gone already: renamed before the crash (the target then holds the new bytes).
      if (exists(temp)) renameSync(temp, target);
    }
    crashPoint(r.path === LAYOUT.manifest ? 'manifest' : 'rename', r.path === LAYOUT.manifest ? 1 : ++n);
  };
  for (const r of others) await renameOne(r);
  for (const c of journal.chmods) {
    const target = await paths.resolve(c.path);
    // Only a plain file with one name: a hard link would carry the chmod outside the output.
    const st = lstatOrUndefined(target);
    if (!st?.isFile() || st.nlink !== 1) continue;
    try {
      chmodSync(target, c.mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  // Removals before manifest.json: until it is replaced, the manifest on disk still lists every
  // file a recovery may remove (verifyJournal), and once it is, they are gone.
  for (const p of journal.removals) {
    const target = await paths.resolve(p);
    rmSync(target, { force: true });
    removeEmptyParents(paths.root, dirname(target));
  }
  for (const r of manifest) await renameOne(r);
}

/** Remove `dir` and its parents up to (not including) `root` while they are empty. */
export function removeEmptyParents(root: string, dir: string): void {
  for (let d = dir; d.startsWith(root + sep); d = dirname(d)) {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    if (entries.length > 0) return;
    try {
      rmdirSync(d);
    } catch {
      // raced with another writer, or not ours to remove: left
    }
  }
}

/**
 * Every temp file in a walked tree (relative paths, sorted): entries named `*.harvgen-tmp` that
 * are not directories (a FIFO or socket there would fail every exclusive create of that temp;
 * a link is removed itself, never followed).
 */
export function tempsIn(tree: ReadonlyMap<string, EntryKind>): string[] {
  return [...tree].flatMap(([p, kind]) => (kind !== 'dir' && p.endsWith(TEMP_SUFFIX) ? [p] : [])).sort();
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
  /**
   * The journal found did not verify or could not be applied (why): it was deleted without
   * (further) effect, so it never blocks another build; the build that follows compares every
   * file it owns with what it builds, which repairs whatever the interrupted build left.
   */
  readonly discarded?: string;
}

/** The text of the journal file when it is a regular file of at most MAX_JOURNAL bytes, else why not. */
function readJournalFile(file: string): string | { problem: string } {
  let fd: number;
  try {
    // Not through a link, and never blocking on a FIFO put in its place.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    return { problem: `cannot be opened (${(e as NodeJS.ErrnoException).code ?? String(e)}; a journal is a regular file)` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { problem: 'is not a regular file' };
    if (st.size > MAX_JOURNAL) return { problem: `is ${st.size} bytes (a journal is at most ${MAX_JOURNAL})` };
    return readWhole(fd, st.size).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Bring a site directory back to one whole tree: finish a committed build, drop an uncommitted
 * one. A journal that does not verify (verifyJournal) is discarded unapplied, one whose
 * application fails is discarded too: either way it is deleted and reported once.
 */
export async function recoverDir(paths: SafePaths): Promise<RecoveryResult> {
  return (await recoverScanned(paths)).recovery;
}

/**
 * recoverDir, and the walk of the directory it made when it found nothing to do: the tree as it
 * is (the caller holds the lock), so that emit need not walk it again.
 */
export async function recoverScanned(paths: SafePaths): Promise<{ recovery: RecoveryResult; tree?: Map<string, EntryKind> }> {
  const journalPath = join(paths.root, JOURNAL_FILE);
  const st = lstatOrUndefined(journalPath);
  let recovered: RecoveryResult['recovered'];
  let completed = 0;
  let discarded: string | undefined;
  if (st?.isDirectory())
    throw new DurableError(
      'EMIT_WRITE_FAILED',
      `${journalPath} is a directory: harvgen keeps the journal of a build under that name and cannot commit one`,
      'Nothing of harvgen is in it: move it away or delete it, then build again.',
    );
  if (st) {
    const text = readJournalFile(journalPath);
    const parsed = typeof text === 'string' ? parseJournal(text) : text.problem;
    const journal = typeof parsed === 'string' ? parsed : verifyJournal(paths.root, parsed, scanTree(paths.root));
    if (typeof journal === 'string') discarded = journal;
    else {
      try {
        await applyJournal(paths, journal);
        recovered = 'rolled-forward';
        completed = journal.renames.length + journal.chmods.length + journal.removals.length;
      } catch (e) {
        const why = e instanceof DurableError ? e.message : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
        discarded = `could not be completed (${why})`;
      }
    }
    rmSync(journalPath, { force: true });
  }
  const tree = scanTree(paths.root);
  const temps = tempsIn(tree);
  // Found without following links, so each is inside the site directory.
  for (const t of temps) rmSync(join(paths.root, t), { force: true });
  if (recovered === undefined && temps.length > 0) recovered = 'rolled-back';
  const recovery = {
    ...(recovered ? { recovered } : {}),
    completed,
    tempFilesRemoved: temps.length,
    ...(discarded !== undefined ? { discarded } : {}),
  };
  return { recovery, ...(st === undefined && temps.length === 0 ? { tree } : {}) };
}

/** True when a site directory holds an unfinished build (a journal or temp files). */
export function isInterrupted(root: string): boolean {
  return interruptedIn(scanTree(root));
}
