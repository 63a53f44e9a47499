// What `git status` may leave out, and how publish does without its word there (docs/fleet.md,
// "What publish trusts"). git status compares each tracked file's stat data with the index and
// hashes the file when they differ, unless it is told not to look: a file marked skip-worktree or
// assume-unchanged (`git update-index`, sparse checkouts, core.ignoreStat), an fsmonitor hook
// (core.fsmonitor) that answers "nothing changed", stat checks made coarse (core.checkStat,
// core.trustctime), a submodule whose changes are ignored (`ignore = all` in .gitmodules,
// diff.ignoreSubmodules), untracked files hidden (status.showUntrackedFiles). So status runs with
// all of those turned back on (TRUSTED_GIT, STATUS_ARGS), without writing the index
// (--no-optional-locks), and a file whose index entry is marked is compared by content: its bytes
// hashed as git hashes a blob, in process, against the blob id the index holds (hiddenChanges).
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** git's options for every question publish asks of a work tree: nothing git was told to skip is skipped. */
export const TRUSTED_GIT: readonly string[] = [
  '-c',
  'core.quotePath=false',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.untrackedCache=false',
  '-c',
  'core.checkStat=default',
  '-c',
  'core.trustctime=true',
  '-c',
  'core.ignoreStat=false',
  '-c',
  'diff.ignoreSubmodules=none',
  // status neither refreshes nor writes the index (nor drops the user's fsmonitor or untracked cache).
  '--no-optional-locks',
];

/** `git status` as publish asks it: submodules looked into whatever .gitmodules says, untracked files listed. */
export const STATUS_ARGS: readonly string[] = ['status', '--porcelain', '-z', '--ignore-submodules=none', '--untracked-files=normal'];

/** The index as `git ls-files -v -s -z --full-name` lists it (with --recurse-submodules: the submodules' files too). */
export const LS_FILES_ARGS: readonly string[] = ['ls-files', '-v', '-s', '-z', '--full-name'];

/** The paths of `git status --porcelain -z` (a rename's old path is an entry of its own, kept as a path). */
export function statusPaths(out: string): string[] {
  return out
    .split('\0')
    .filter((e) => e !== '')
    .map((e) => (/^[ MADRCUT?!]{2} /.test(e) ? e.slice(3) : e));
}

/** An index entry git status does not look at (skip-worktree `S`, assume-unchanged: a lowercase tag). */
export interface FlaggedEntry {
  readonly path: string;
  readonly mode: string;
  readonly oid: string;
}

/** What the index says: the tracked paths, the submodules (gitlinks), and the entries status skips. */
export interface IndexFacts {
  readonly tracked: ReadonlySet<string>;
  readonly gitlinks: readonly string[];
  readonly flagged: readonly FlaggedEntry[];
}

/** `git ls-files -v -s -z` read: `<tag> <mode> <oid> <stage>\t<path>` each. */
export function indexFacts(out: string): IndexFacts {
  const tracked = new Set<string>();
  const gitlinks: string[] = [];
  const flagged: FlaggedEntry[] = [];
  for (const e of out.split('\0')) {
    const m = /^(\S) (\d{6}) ([0-9a-f]{40,64}) \d\t(.+)$/s.exec(e);
    if (!m) continue;
    const [, tag, mode, oid, path] = m as unknown as [string, string, string, string, string];
    tracked.add(path);
    if (mode === '160000') gitlinks.push(path);
    else if (tag === 'S' || (tag >= 'a' && tag <= 'z')) flagged.push({ path, mode, oid });
  }
  return { tracked, gitlinks, flagged };
}

/** git's blob id of `bytes`: SHA-1 (or, in a SHA-256 repository, SHA-256) of `blob <length>\0` and the bytes. */
export function blobId(bytes: Uint8Array, hexLength: number): string {
  return createHash(hexLength === 64 ? 'sha256' : 'sha1')
    .update(`blob ${bytes.length}\0`)
    .update(bytes)
    .digest('hex');
}

/** Largest marked file hashed: a larger one counts as changed (publish compiles it, or calls it dirty). */
const MAX_HASHED = 64 * 1024 * 1024;

/**
 * The marked entries (under `within`, paths from the top, when given) whose work-tree content is
 * not the blob the index holds: a file edited, removed, turned into a link or a directory, a link
 * pointed elsewhere. Read now, in process: no git process per file.
 */
export function hiddenChanges(top: string, flagged: readonly FlaggedEntry[], within?: readonly string[]): string[] {
  const changed: string[] = [];
  for (const e of flagged) {
    if (within !== undefined && !within.some((w) => e.path === w || e.path.startsWith(`${w}/`))) continue;
    if (!holdsBlob(join(top, e.path), e)) changed.push(e.path);
  }
  return changed;
}

function holdsBlob(path: string, e: FlaggedEntry): boolean {
  try {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) return false;
    let bytes: Uint8Array;
    if (e.mode === '120000') {
      if (!st.isSymbolicLink()) return false;
      bytes = readlinkSync(path, { encoding: 'buffer' });
    } else {
      if (!st.isFile() || st.size > MAX_HASHED) return false;
      bytes = readFileSync(path);
    }
    return blobId(bytes, e.oid.length) === e.oid;
  } catch {
    return false;
  }
}

/** The submodule (gitlink path) that holds `rel`, or undefined: the superproject answers for it only as a whole. */
export function gitlinkOf(rel: string, gitlinks: readonly string[]): string | undefined {
  return gitlinks.find((g) => rel === g || rel.startsWith(`${g}/`));
}
