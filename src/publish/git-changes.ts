// What git says of a fleet's repository in one publish run (src/publish/index.ts, remembered.ts):
// asked once per work tree or recorded HEAD, whatever the number of sites, and the inputs' paths
// as git names them.
import { execFileSync } from 'node:child_process';
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { stampsHold, type InputStamp } from '../load/stamps.ts';
import {
  gitlinkOf,
  hiddenChanges,
  indexFacts,
  LS_FILES_ARGS,
  STATUS_ARGS,
  statusPaths,
  TRUSTED_GIT,
  type IndexFacts,
} from './git-trust.ts';

/**
 * What git says, asked once per repository (or recorded HEAD) in a run, whatever the number of
 * sites: the work tree's top, HEAD (taken before any site is compiled), whether the clone is
 * shallow, the uncommitted changes (`git status`), and the files the commits between a recorded
 * HEAD and this one touched: `git log -m --name-only <head>...HEAD`, both sides of the range (a
 * HEAD moved back or to another branch has lost commits, and the last commit that changed an
 * input may be another), merges compared with each parent, renames as a deletion and an
 * addition. Undefined when git cannot say: then the site is compiled.
 */
export class GitChanges {
  private readonly heads = new Map<string, string | undefined>();
  private readonly tops = new Map<string, string | undefined>();
  private readonly shallow = new Map<string, boolean>();
  private readonly status = new Map<string, ReadonlySet<string> | undefined>();
  private readonly indexes = new Map<string, IndexFacts | undefined>();
  /** When each work tree's status was asked (Date.now() before git ran). */
  private readonly statusAt = new Map<string, number>();

  /**
   * An input changed less than this long (ms) before the run's status was asked may have changed
   * after it: a file's ctime is the kernel's coarse clock (a tick behind), or a file server's.
   */
  private readonly ranges = new Map<string, ReadonlySet<string> | undefined>();

  /** Per work tree: the newest commit that touched each path and directory, from one walk of a linear history (lastCommit). */
  private readonly histories = new Map<string, LinearHistory | undefined>();

  constructor(
    private readonly settledMs = 2000,
    /** How many sites the run publishes: with fewer than WALK_FROM, each site's last commit is asked of git for that site. */
    private readonly sites = 0,
  ) {}

  /**
   * What `git log -1 --format='%H %ct' HEAD -- <paths>` says (HEAD as taken at the run's start;
   * `paths` are real paths in the work tree: a site's directory and the layers it read), answered
   * from one walk of the whole history for a run of many sites instead of a git process per site
   * (about 5 ms of harvgen's time to start one, and git's own). Only when the history is linear:
   * no commit reachable from HEAD has two parents, so the walk follows the parent chain as `git log`
   * does for each site, and the first commit that lists a file at or under a path is the one it
   * names. Undefined when it cannot be answered so (merges, a history too large to keep, a path
   * outside the work tree, no commit touched them): then git is asked for this site.
   */
  lastCommit(dir: string, paths: readonly string[]): { commit: string; serial: number } | undefined {
    if (this.sites < WALK_FROM) return undefined;
    const top = this.topOf(dir);
    if (top === undefined) return undefined;
    const history = this.history(top);
    const rel = history && this.asked(top, gitPaths(top, paths));
    if (!history || !rel) return undefined;
    let newest = -1;
    for (const p of rel) {
      const i = history.newest.get(p);
      if (i !== undefined && (newest < 0 || i < newest)) newest = i;
    }
    return newest < 0 ? undefined : history.commits[newest];
  }

  /** The work tree's history walked once: undefined with a merge, a history past the bounds, or git failing. */
  private history(top: string): LinearHistory | undefined {
    if (this.histories.has(top)) return this.histories.get(top);
    let history: LinearHistory | undefined;
    const head = this.head(top);
    // `--min-parents=2`: any merge reachable from HEAD (one is enough to say no).
    if (head !== undefined && this.git(top, ['rev-list', '--min-parents=2', '--max-count=1', head, '--']) === '') {
      const out = this.git(
        top,
        ['-c', 'log.showRoot=true', 'log', '-z', '--name-only', '--no-renames', '--format=%x01%H %ct', head, '--'],
        HISTORY_BYTES,
      );
      history = out === undefined ? undefined : walkHistory(out);
    }
    this.histories.set(top, history);
    return history;
  }

  /**
   * The top of the git work tree that holds `dir` (a real path). Asked of git once per work tree:
   * a directory below a top already found, with no `.git` between them (a nested repository,
   * a submodule), is in that work tree.
   */
  toplevel(dir: string): string | undefined {
    if (!this.tops.has(dir)) {
      const known = this.within(dir);
      if (known !== undefined) {
        this.tops.set(dir, known);
        return known;
      }
      const top = this.git(dir, ['rev-parse', '--show-toplevel'])?.trim();
      let real: string | undefined;
      try {
        real = top ? realpathSync(top) : undefined;
      } catch {
        real = undefined;
      }
      this.tops.set(dir, real);
    }
    return this.tops.get(dir);
  }

  /** The top of the work tree that holds `dir` (any path: its real path is asked about), or undefined. */
  private topOf(dir: string): string | undefined {
    try {
      return this.toplevel(realpathSync(dir));
    } catch {
      return undefined;
    }
  }

  /** A top already found that holds `dir` with no `.git` in between, or undefined. */
  private within(dir: string): string | undefined {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return undefined;
    }
    for (const top of new Set(this.tops.values())) {
      if (top === undefined || !(real === top || real.startsWith(`${top}/`))) continue;
      for (let at = real; at.length > top.length; at = dirname(at))
        if (lstatSync(join(at, '.git'), { throwIfNoEntry: false })) return undefined;
      return top;
    }
    return undefined;
  }

  /** HEAD of the repository at `root`, as it was when first asked in this run. */
  head(root: string): string | undefined {
    if (!this.heads.has(root)) this.heads.set(root, this.git(root, ['rev-parse', '--verify', '-q', 'HEAD'])?.trim() || undefined);
    return this.heads.get(root);
  }

  /** The files git tracks (`git ls-files`, from the top), asked once per work tree; undefined when git cannot say. */
  tracked(root: string): ReadonlySet<string> | undefined {
    return this.index(root)?.tracked;
  }

  /**
   * The index of the work tree at `root` (git-trust.ts): its tracked paths, its submodules, and
   * the entries git status skips, those of its submodules too. Asked once per work tree.
   */
  private index(root: string): IndexFacts | undefined {
    if (!this.indexes.has(root)) {
      const out = this.git(root, [...LS_FILES_ARGS]);
      let facts = out === undefined ? undefined : indexFacts(out);
      if (facts && facts.gitlinks.length > 0) {
        // A submodule's own marked files: git status in the superproject does not look at them either.
        const all = this.git(root, [...LS_FILES_ARGS, '--recurse-submodules']);
        const inner = all === undefined ? undefined : indexFacts(all).flagged.filter((e) => gitlinkOf(e.path, facts!.gitlinks));
        facts = inner === undefined ? undefined : { ...facts, flagged: [...facts.flagged, ...inner] };
      }
      this.indexes.set(root, facts);
    }
    return this.indexes.get(root);
  }

  /** Paths from the top as git's history and status of this work tree can answer for them: a file in a submodule is its submodule. */
  private asked(top: string, rel: readonly string[] | undefined): string[] | undefined {
    const links = rel && this.index(top)?.gitlinks;
    if (!rel || !links) return undefined;
    return [...new Set(rel.map((p) => gitlinkOf(p, links) ?? p))].sort();
  }

  /**
   * What git is asked about a site's inputs (absolute paths in, absolute paths out): each as its
   * real path (a link's target is the input), a file in a submodule as the submodule. Undefined
   * when one is outside the work tree or git cannot say.
   */
  pathspecs(dir: string, paths: readonly string[]): string[] | undefined {
    const top = this.topOf(dir);
    const rel = top !== undefined ? this.asked(top, gitPaths(top, paths, true)) : undefined;
    return top !== undefined && rel !== undefined ? rel.map((p) => join(top, p)) : undefined;
  }

  /** The marked entries under `paths` (absolute) whose content is not what the index holds, hashed now; undefined when git cannot say. */
  hiddenFor(dir: string, paths: readonly string[]): string[] | undefined {
    const top = this.topOf(dir);
    const rel = top !== undefined ? gitPaths(top, paths, true) : undefined;
    const index = top !== undefined ? this.index(top) : undefined;
    return top !== undefined && rel !== undefined && index !== undefined ? hiddenChanges(top, index.flagged, rel) : undefined;
  }

  /** A shallow clone: the last commit that changed an input may lie past its history (no state is kept). */
  isShallow(root: string): boolean {
    if (!this.shallow.has(root)) this.shallow.set(root, this.git(root, ['rev-parse', '--is-shallow-repository'])?.trim() !== 'false');
    return this.shallow.get(root)!;
  }

  /**
   * The paths `git status` reports (staged, unstaged, untracked and not ignored, from the top), with
   * nothing git was told to skip skipped (git-trust.ts), and the marked files whose content is not
   * the index's.
   */
  changes(root: string): ReadonlySet<string> | undefined {
    if (!this.status.has(root)) {
      this.statusAt.set(root, Date.now());
      const out = this.git(root, [...STATUS_ARGS]);
      const index = out === undefined ? undefined : this.index(root);
      this.status.set(
        root,
        out === undefined || index === undefined ? undefined : new Set([...statusPaths(out), ...hiddenChanges(root, index.flagged)]),
      );
    }
    return this.status.get(root);
  }

  /**
   * What `git status -- <watched>` would say now (the changed paths from the work tree's top, in
   * git's order), answered from this run's one status of the work tree instead of a git process per
   * site: only when every input the compile read (`stamps`, directories included, so a file added
   * or removed shows) last changed well before that status ran and is still as stamped, so what the
   * compile read is what git looked at. Undefined otherwise (then git is asked for these paths).
   */
  changesFor(dir: string, watched: readonly string[], stamps: readonly InputStamp[] | undefined): string[] | undefined {
    if (stamps === undefined || stamps.length === 0) return undefined;
    const top = this.topOf(dir);
    if (top === undefined) return undefined;
    // A path that does not exist (a layer the site could read) is named by its directory's real path.
    const paths = gitPaths(top, watched, true);
    const changed = paths && this.changes(top);
    const at = this.statusAt.get(top);
    if (!paths || !changed || at === undefined) return undefined;
    for (const s of stamps) if (s[1] === -2 || Math.max(s[2], s[3]) >= at - this.settledMs) return undefined;
    if (!stampsHold(stamps)) return undefined;
    return [...changed].filter((c) => touches(new Set([c]), paths));
  }

  /** The paths (from the repository root) that the commits on either side of `from`...HEAD touched. */
  touchedSince(root: string, from: string): ReadonlySet<string> | undefined {
    const key = `${root}\0${from}`;
    if (!this.ranges.has(key)) {
      const head = this.head(root);
      let set: Set<string> | undefined;
      if (head !== undefined && /^[0-9a-f]{40,64}$/.test(from) && !this.isShallow(root)) {
        if (head === from) set = new Set();
        else {
          const out = this.git(root, ['log', '-m', '-z', '--name-only', '--no-renames', '--format=', `${from}...HEAD`, '--']);
          set = out === undefined ? undefined : new Set(out.split(/[\0\n]/).filter((l) => l !== ''));
        }
      }
      this.ranges.set(key, set);
    }
    return this.ranges.get(key);
  }

  private git(root: string, args: string[], maxBuffer = 256 * 1024 * 1024): string | undefined {
    try {
      return execFileSync('git', [...TRUSTED_GIT, ...args], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer,
        timeout: 120_000,
      });
    } catch {
      return undefined;
    }
  }
}

/** Runs of at least this many sites walk the history once (GitChanges.lastCommit). */
const WALK_FROM = 8;

/** The longest history listing read, and the most paths (files and directories) it may name; past either each site asks git. */
const HISTORY_BYTES = 64 * 1024 * 1024;

const HISTORY_PATHS = 500_000;

/** A linear history: its commits newest first, and for each path and directory the index of the newest commit that touched it. */
interface LinearHistory {
  readonly commits: readonly { readonly commit: string; readonly serial: number }[];
  readonly newest: ReadonlyMap<string, number>;
}

/**
 * `git log -z --name-only --format=%x01%H %ct` read: each commit is `\x01<hash> <time>` ended by
 * NUL, then its files (the first after a newline), each ended by NUL. A file and each directory
 * above it take the first (newest) commit that names them: a directory already taken has every
 * directory above it taken too. Undefined past HISTORY_PATHS.
 */
function walkHistory(out: string): LinearHistory | undefined {
  const commits: { commit: string; serial: number }[] = [];
  const newest = new Map<string, number>();
  let first = false;
  for (const field of out.split('\0')) {
    if (field.startsWith('\x01')) {
      const m = /^\x01([0-9a-f]{40,64}) (\d+)$/.exec(field);
      if (!m) return undefined;
      const serial = Number(m[2]);
      commits.push({ commit: m[1]!, serial: Number.isSafeInteger(serial) ? serial : 0 });
      first = true;
      continue;
    }
    const file = first && field.startsWith('\n') ? field.slice(1) : field;
    first = false;
    if (file === '') continue;
    if (commits.length === 0) return undefined;
    const i = commits.length - 1;
    for (let at = file; at !== ''; at = at.includes('/') ? at.slice(0, at.lastIndexOf('/')) : '') {
      if (newest.has(at)) break;
      newest.set(at, i);
    }
    if (newest.size > HISTORY_PATHS) return undefined;
  }
  return { commits, newest };
}

/** Each changed path and every directory above it, made once per set of changes (a fleet's sites ask the same set). */
const ancestry = new WeakMap<ReadonlySet<string>, Set<string>>();

/**
 * Whether a changed path is one of the inputs (`paths`: files, and directories that cover what is
 * below them), or an input lies in a changed directory (git status names an untracked one `dir/`,
 * a submodule with changes by its path).
 */
export function touches(changed: ReadonlySet<string>, paths: readonly string[]): boolean {
  if (changed.size === 0) return false;
  let covered = ancestry.get(changed);
  if (!covered) {
    covered = new Set();
    for (const c of changed) {
      const trimmed = c.endsWith('/') ? c.slice(0, -1) : c;
      for (let at = trimmed.length; at > 0; at = trimmed.lastIndexOf('/', at - 1)) covered.add(trimmed.slice(0, at));
    }
    ancestry.set(changed, covered);
  }
  for (const p of paths) {
    if (covered.has(p)) return true;
    // A directory above an input named as changed: untracked (`dir/`), or a submodule (its gitlink `dir`).
    for (let at = p.lastIndexOf('/'); at > 0; at = p.lastIndexOf('/', at - 1))
      if (changed.has(`${p.slice(0, at)}/`) || changed.has(p.slice(0, at))) return true;
  }
  return false;
}

/** Paths from the work tree's top of those of `paths` inside it (the others git cannot report on). */
export function gitPathsWithin(top: string, paths: readonly string[]): string[] {
  return paths.flatMap((p) => gitPaths(top, [p]) ?? []);
}

/**
 * Paths from the work tree's top of the inputs git can see (the site directory, the files read
 * outside it); undefined when one lies outside the work tree (then only its stamp can tell).
 */
export function gitPaths(top: string, paths: readonly string[], missing = false): string[] | undefined {
  const out = new Set<string>();
  for (const p of paths) {
    let real: string;
    try {
      real = realpathSync(p);
    } catch {
      if (!missing || lstatSync(p, { throwIfNoEntry: false })) return undefined;
      try {
        real = join(realpathSync(dirname(p)), basename(p));
      } catch {
        return undefined;
      }
    }
    const rel = relative(top, real);
    if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) return undefined;
    out.add(rel.split(sep).join('/'));
  }
  return [...out].sort();
}
