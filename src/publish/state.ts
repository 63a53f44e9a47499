// What publish remembers of each site it published, so that a site whose inputs did not change is
// not compiled again (docs/fleet.md, "Publishing a fleet"). One file per site directory, registry
// and release mirror, in the user's harvgen cache directory (beside the state key, src/cache/key.ts;
// never in the repository): what the compile read (stamps, keyed content digests, keyed digests of
// environment secrets), the git HEAD and the tracked input paths, the harvgen that built it, and
// what was published (the fleet record, tags, counts, warnings). The file carries an HMAC under the
// state key: an edited, forged or copied one is no state. A site is taken as unchanged only when
// all of it still holds and the registry's tag still names the digest; every doubt means "compile".
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { touches, type GitChanges } from './git-changes.ts';
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
  /** What was published, as the run reported it, and the fleet record's JSON, byte for byte. */
  readonly published: PublishedAnswer & { readonly site: string; readonly record: string };
}

/** What a site's publish answered, kept to answer it again without compiling (this machine's state, the registry's fleet state). */
export interface PublishedAnswer {
  readonly repository: string;
  readonly digest: string;
  readonly tag: string;
  readonly tags: readonly string[];
  readonly files: { readonly public: number; readonly sealed: number };
  readonly nodes: number;
  readonly diagnostics: readonly Diagnostic[];
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
