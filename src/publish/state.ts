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
import { mkdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../durable/index.ts';
import { codeStamp } from '../cache/code.ts';
import { envHolds } from '../cache/env.ts';
import { contentBound, contentDigest } from '../cache/inputs.ts';
import { macHolds, stateKey, stateKeyDir, stateMac } from '../cache/key.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { stampNow, stampsHold, type InputStamp } from '../load/stamps.ts';
import { readBounded } from '../util/read-bounded.ts';
import { regularFile } from '../util/lstat.ts';

const STATE_VERSION = 1;
/** Largest state file read back (a 250-node site's is about 60 KiB). */
const MAX_STATE = 16 * 1024 * 1024;

/** What a publish left of one site: enough to answer a later run without compiling. */
export interface PublishedState {
  readonly version: typeof STATE_VERSION;
  /** The harvgen that built it (version and the stamps of its code and templates). */
  readonly code: string;
  readonly siteDir: string;
  /** The registry override and release mirror it was published with (another one is another state). */
  readonly registry: string;
  readonly releasesDir: string;
  readonly inputs: readonly InputStamp[];
  /** Per input (same index): the keyed SHA-256 of a content-bound file (secret files, user-data), else `''`. */
  readonly digests: readonly string[];
  /** `[variable, keyed digest]` of each secret read from the environment. */
  readonly env: readonly (readonly [string, string])[];
  /** Stamps of the release files published with it. */
  readonly releases: readonly InputStamp[];
  /** The repository's HEAD then, and the tracked inputs (paths from the repository root; a directory covers what is below it). */
  readonly git: { readonly root: string; readonly head: string; readonly paths: readonly string[] };
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

/** The state file of a site directory published with `registry` and `releasesDir`; undefined without a cache directory. */
export function stateFileOf(siteDir: string, registry: string, releasesDir: string, env?: NodeJS.ProcessEnv): string | undefined {
  const dir = stateKeyDir(env);
  if (dir === undefined) return undefined;
  const id = createHash('sha256')
    .update(`${resolve(siteDir)}\0${registry}\0${releasesDir}`)
    .digest('hex')
    .slice(0, 32);
  return join(dir, 'publish', `${id}.json`);
}

/** The state of `siteDir` when its MAC verifies and it is this harvgen's; undefined otherwise. */
export function loadState(siteDir: string, registry: string, releasesDir: string): PublishedState | undefined {
  const file = stateFileOf(siteDir, registry, releasesDir);
  const st = file !== undefined ? regularFile(file) : undefined;
  if (!file || !st || st.size > MAX_STATE || !stateKey()) return undefined;
  const bytes = readBounded(file, st.size, { follow: false });
  if (!bytes) return undefined;
  const text = Buffer.from(bytes).toString('utf8');
  const nl = text.indexOf('\n');
  if (nl < 0 || !macHolds('publish-state', text.slice(nl + 1), text.slice(0, nl))) return undefined;
  try {
    const s = JSON.parse(text.slice(nl + 1)) as PublishedState;
    return s.version === STATE_VERSION && s.siteDir === resolve(siteDir) && s.registry === registry && s.releasesDir === releasesDir
      ? s
      : undefined;
  } catch {
    return undefined;
  }
}

/** Forget the state of a site (a failed or dirty publish, a `--force`d one that fails later). */
export function dropState(siteDir: string, registry: string, releasesDir: string): void {
  const file = stateFileOf(siteDir, registry, releasesDir);
  if (file) rmSync(file, { force: true });
}

/** What `saveState` is told of a site just published. */
export interface StateInput {
  readonly siteDir: string;
  readonly registry: string;
  readonly releasesDir: string;
  readonly inputs: readonly InputStamp[];
  readonly env: readonly (readonly [string, string])[];
  readonly releases: readonly string[];
  readonly git: PublishedState['git'];
  readonly published: PublishedState['published'];
}

/** Remember a site just published (best effort: a state that cannot be written only costs the next run time). */
export function saveState(input: StateInput): void {
  const file = stateFileOf(input.siteDir, input.registry, input.releasesDir);
  if (!file || !stateKey()) return;
  const siteDir = resolve(input.siteDir);
  const bound = contentBound(siteDir);
  const digests: string[] = [];
  for (const stamp of input.inputs) {
    if (!bound(stamp) || statSync(stamp[0], { throwIfNoEntry: false })?.isFile() !== true) {
      digests.push('');
      continue;
    }
    const d = contentDigest(stamp);
    if (d === undefined) return; // changed while it was read: nothing to vouch for
    digests.push(d);
  }
  const state: PublishedState = {
    version: STATE_VERSION,
    code: codeStamp(),
    siteDir,
    registry: input.registry,
    releasesDir: input.releasesDir,
    inputs: input.inputs,
    digests,
    env: input.env,
    releases: input.releases.map((f) => stampNow(f)),
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
 * The files each range of commits touched, asked of git once per recorded HEAD in a run (a fleet
 * published in one run shares one): `git log -m --name-only <head>..HEAD`, merges compared with
 * each parent, renames as a deletion and an addition. Undefined when git cannot say (not a
 * repository, a HEAD it no longer has): then the site is compiled.
 */
export class GitChanges {
  private readonly heads = new Map<string, string | undefined>();
  private readonly tops = new Map<string, string | undefined>();

  /** The top of the git work tree that holds `dir` (a real path), asked once per directory given. */
  toplevel(dir: string): string | undefined {
    if (!this.tops.has(dir)) {
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

  private readonly ranges = new Map<string, ReadonlySet<string> | undefined>();

  /** HEAD of the repository at `root`. */
  head(root: string): string | undefined {
    if (!this.heads.has(root)) this.heads.set(root, this.git(root, ['rev-parse', '--verify', '-q', 'HEAD'])?.trim());
    return this.heads.get(root);
  }

  /** The paths (from the repository root) that the commits after `from` up to HEAD touched. */
  touchedSince(root: string, from: string): ReadonlySet<string> | undefined {
    const key = `${root}\0${from}`;
    if (!this.ranges.has(key)) {
      const head = this.head(root);
      let set: Set<string> | undefined;
      if (head !== undefined && /^[0-9a-f]{40,64}$/.test(from)) {
        if (head === from) set = new Set();
        else {
          const out = this.git(root, ['log', '-m', '--name-only', '--no-renames', '--format=', `${from}..HEAD`, '--']);
          set = out === undefined ? undefined : new Set(out.split('\n').filter((l) => l !== ''));
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

/** Whether a changed path is one of the inputs (`paths`: files, and directories that cover what is below them). */
function touches(changed: ReadonlySet<string>, paths: readonly string[]): boolean {
  if (changed.size === 0) return false;
  for (const c of changed) for (const p of paths) if (c === p || c.startsWith(`${p}/`)) return true;
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
  for (const [i, d] of state.digests.entries()) {
    if (d === '') continue;
    const stamp = state.inputs[i];
    if (stamp === undefined || contentDigest(stamp) !== d) return 'an input changed';
  }
  if (!envHolds(state.env, env)) return 'a secret in the environment changed';
  const touched = git.touchedSince(state.git.root, state.git.head);
  if (touched === undefined) return 'git cannot tell what changed since';
  if (touches(touched, state.git.paths)) return 'a commit changed an input';
  return undefined;
}

/**
 * Paths from the work tree's top of the inputs git can see (the site directory, the files read
 * outside it); undefined when one lies outside the work tree (then only its stamp can tell).
 */
export function gitPaths(top: string, paths: readonly string[]): string[] | undefined {
  const out = new Set<string>();
  for (const p of paths) {
    let real: string;
    try {
      real = realpathSync(p);
    } catch {
      return undefined;
    }
    const rel = relative(top, real);
    if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) return undefined;
    out.add(rel.split(sep).join('/'));
  }
  return [...out].sort();
}
