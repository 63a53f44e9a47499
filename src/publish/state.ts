// What publish remembers of each site it published, so that a site whose inputs did not change is
// not compiled again (docs/fleet.md, "Publishing a fleet"). One file per site directory, registry
// and release mirror, in the user's harvgen cache directory (beside the state key, src/cache/key.ts;
// never in the repository): what the compile read (stamps, keyed content digests, keyed digests of
// environment secrets), the git HEAD and the tracked input paths, the harvgen that built it, and
// what was published (the fleet record, tags, counts, warnings). The file carries an HMAC under the
// state key: an edited, forged or copied one is no state. A site is taken as unchanged only when
// all of it still holds and the registry's tag still names the digest; every doubt means "compile".
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, realpathSync, rmSync, utimesSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../durable/index.ts';
import { codeStamp } from '../cache/code.ts';
import { envHolds } from '../cache/env.ts';
import { boundDigests, contentsHold } from '../cache/inputs.ts';
import { macHolds, stateKey, stateKeyDir, stateMac } from '../cache/key.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { stampsHold, type InputStamp } from '../load/stamps.ts';
import { readBounded } from '../util/read-bounded.ts';
import { regularFile } from '../util/lstat.ts';

const STATE_VERSION = 1;
/** Largest state file read back (a 250-node site's is about 60 KiB). */
const MAX_STATE = 16 * 1024 * 1024;

/**
 * Which state a run asks for: the site directory, the registry override and release mirror it is
 * published with, and the working directory (the paths its diagnostics name): another of any of
 * them is another state.
 */
export interface StateKey {
  readonly siteDir: string;
  readonly registry: string;
  readonly releasesDir: string;
  readonly cwd: string;
}

/** The key of `dir` published with `options` (each path resolved). */
export function stateKeyOf(
  dir: string,
  options: { readonly registry?: string; readonly releasesDir?: string; readonly cwd?: string },
): StateKey {
  return {
    siteDir: resolve(dir),
    registry: options.registry ?? '',
    releasesDir: options.releasesDir ? resolve(options.releasesDir) : '',
    cwd: resolve(options.cwd ?? process.cwd()),
  };
}

/** What a publish left of one site: enough to answer a later run without compiling. */
export interface PublishedState extends StateKey {
  readonly version: typeof STATE_VERSION;
  /** The harvgen that built it (version and the stamps of its code and templates). */
  readonly code: string;
  readonly inputs: readonly InputStamp[];
  /** Per input (same index): the keyed SHA-256 of a content-bound file (secret files, user-data), else `''`. */
  readonly digests: readonly string[];
  /** `[variable, keyed digest]` of each secret read from the environment. */
  readonly env: readonly (readonly [string, string])[];
  /** Stamps of the release files published with it, each taken before the file was hashed. */
  readonly releases: readonly InputStamp[];
  /** The repository's HEAD before the site was compiled, and its inputs (paths from the top; a directory covers what is below it). */
  readonly git: {
    readonly root: string;
    readonly head: string;
    /** The tracked inputs: the site directory and the files read outside it. */
    readonly paths: readonly string[];
    /** Every input git could report an uncommitted change of (those, layers, profiles, secret files in the work tree). */
    readonly watched: readonly string[];
  };
  /** What was published, as the run reported it. */
  readonly published: {
    readonly site: string;
    readonly repository: string;
    readonly digest: string;
    readonly tag: string;
    readonly tags: readonly string[];
    readonly files: { readonly public: number; readonly sealed: number };
    readonly nodes: number;
    /** The fleet record's JSON, byte for byte. */
    readonly record: string;
    readonly diagnostics: readonly Diagnostic[];
  };
}

/** States not read or written for this long are removed (a renamed site, a CI workspace gone). */
const STALE_MS = 30 * 24 * 3600_000;

/** The state file of a key; undefined without a cache directory. */
export function stateFileOf(key: StateKey, env?: NodeJS.ProcessEnv): string | undefined {
  const dir = stateKeyDir(env);
  if (dir === undefined) return undefined;
  const id = createHash('sha256').update(`${key.siteDir}\0${key.registry}\0${key.releasesDir}\0${key.cwd}`).digest('hex').slice(0, 32);
  return join(dir, 'publish', `${id}.json`);
}

const sameKey = (a: StateKey, b: StateKey) =>
  a.siteDir === b.siteDir && a.registry === b.registry && a.releasesDir === b.releasesDir && a.cwd === b.cwd;

/** The state of a key when its MAC verifies and it is this format's; undefined otherwise. Marks it used. */
export function loadState(key: StateKey): PublishedState | undefined {
  const file = stateFileOf(key);
  const st = file !== undefined ? regularFile(file) : undefined;
  if (!file || !st || st.size > MAX_STATE || !stateKey()) return undefined;
  const bytes = readBounded(file, st.size, { follow: false });
  if (!bytes) return undefined;
  const text = Buffer.from(bytes).toString('utf8');
  const nl = text.indexOf('\n');
  if (nl < 0 || !macHolds('publish-state', text.slice(nl + 1), text.slice(0, nl))) return undefined;
  try {
    const s = JSON.parse(text.slice(nl + 1)) as PublishedState;
    if (s.version !== STATE_VERSION || !sameKey(s, key)) return undefined;
    // Used: not stale. Marked at most once a day (a no-op run of a fleet writes nothing per site).
    if (Date.now() - st.mtimeMs > 24 * 3600_000) {
      const now = new Date();
      utimesSync(file, now, now);
    }
    return s;
  } catch {
    return undefined;
  }
}

/** Forget the state of a key (a dirty or incomplete publish). */
export function dropState(key: StateKey): void {
  const file = stateFileOf(key);
  if (file) rmSync(file, { force: true });
}

/** Remove the states nobody read or wrote for 30 days (once per run; best effort). */
export function pruneStates(now = Date.now()): void {
  const file = stateFileOf({ siteDir: '', registry: '', releasesDir: '', cwd: '' });
  if (!file) return;
  const dir = join(file, '..');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!/^[0-9a-f]{32}\.json$/.test(name)) continue;
    const st = regularFile(join(dir, name));
    if (st && now - st.mtimeMs > STALE_MS) rmSync(join(dir, name), { force: true });
  }
}

/** What `saveState` is told of a site just published. */
export interface StateInput {
  readonly key: StateKey;
  readonly inputs: readonly InputStamp[];
  readonly env: readonly (readonly [string, string])[];
  readonly releases: readonly InputStamp[];
  readonly git: PublishedState['git'];
  readonly published: PublishedState['published'];
}

/** Remember a site just published (best effort: a state that cannot be written only costs the next run time). */
export function saveState(input: StateInput): void {
  const file = stateFileOf(input.key);
  if (!file || !stateKey()) return;
  const digests = boundDigests(input.key.siteDir, input.inputs);
  if (digests === undefined) return; // changed while it was read: nothing to vouch for
  const state: PublishedState = {
    version: STATE_VERSION,
    ...input.key,
    code: codeStamp(),
    inputs: input.inputs,
    digests,
    env: input.env,
    releases: input.releases,
    git: input.git,
    published: input.published,
  };
  const body = JSON.stringify(state);
  const mac = stateMac('publish-state', body);
  if (mac === undefined) return;
  try {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    // A cache: not flushed (lost, it only costs the next run a compile).
    writeFileAtomic(file, `${mac}\n${body}`, { mode: 0o600, durable: false });
  } catch {
    // best effort
  }
}

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
  /** When each work tree's status was asked (Date.now() before git ran). */
  private readonly statusAt = new Map<string, number>();

  /**
   * An input changed less than this long (ms) before the run's status was asked may have changed
   * after it: a file's ctime is the kernel's coarse clock (a tick behind), or a file server's.
   */
  constructor(private readonly settledMs = 2000) {}
  private readonly ranges = new Map<string, ReadonlySet<string> | undefined>();

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

  /** A shallow clone: the last commit that changed an input may lie past its history (no state is kept). */
  isShallow(root: string): boolean {
    if (!this.shallow.has(root)) this.shallow.set(root, this.git(root, ['rev-parse', '--is-shallow-repository'])?.trim() !== 'false');
    return this.shallow.get(root)!;
  }

  /** The paths `git status` reports (staged, unstaged, untracked and not ignored), from the top. */
  changes(root: string): ReadonlySet<string> | undefined {
    if (!this.status.has(root)) {
      this.statusAt.set(root, Date.now());
      const out = this.git(root, ['status', '--porcelain', '-z']);
      // `-z`: one NUL-terminated `XY path` entry each (a rename's old path follows as an entry of its own, kept as a path).
      this.status.set(
        root,
        out === undefined
          ? undefined
          : new Set(
              out
                .split('\0')
                .filter((e) => e !== '')
                .map((e) => (/^[ MADRCUT?!]{2} /.test(e) ? e.slice(3) : e)),
            ),
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
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return undefined;
    }
    const top = this.toplevel(real);
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

  private git(root: string, args: string[]): string | undefined {
    try {
      return execFileSync('git', ['-c', 'core.quotePath=false', ...args], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: 256 * 1024 * 1024,
        timeout: 120_000,
      });
    } catch {
      return undefined;
    }
  }
}

/** Each changed path and every directory above it, made once per set of changes (a fleet's sites ask the same set). */
const ancestry = new WeakMap<ReadonlySet<string>, Set<string>>();

/**
 * Whether a changed path is one of the inputs (`paths`: files, and directories that cover what is
 * below them), or an input lies in a changed directory (git status names an untracked one `dir/`).
 */
function touches(changed: ReadonlySet<string>, paths: readonly string[]): boolean {
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
    for (let at = p.lastIndexOf('/'); at > 0; at = p.lastIndexOf('/', at - 1)) if (changed.has(`${p.slice(0, at)}/`)) return true;
  }
  return false;
}

/**
 * Why the recorded site is not unchanged (a short reason), or undefined when it is: the same
 * harvgen, every input as it was (stamps, bound contents, environment secrets, release files), and
 * no commit since the recorded HEAD touched a tracked input. The registry's tag is the caller's.
 */
export function changedSince(
  state: PublishedState,
  env: Readonly<Record<string, string | undefined>>,
  git: GitChanges,
): string | undefined {
  if (state.code !== codeStamp()) return 'another harvgen';
  if (!stampsHold(state.inputs) || !stampsHold(state.releases)) return 'an input changed';
  if (!contentsHold(state)) return 'an input changed';
  if (!envHolds(state.env, env)) return 'a secret in the environment changed';
  const touched = git.touchedSince(state.git.root, state.git.head);
  if (touched === undefined) return 'git cannot tell what changed since';
  if (touches(touched, state.git.paths)) return 'a commit changed an input';
  const changes = git.changes(state.git.root);
  if (changes === undefined) return 'git cannot tell what changed since';
  if (touches(changes, state.git.watched)) return 'an input has uncommitted changes';
  return undefined;
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
