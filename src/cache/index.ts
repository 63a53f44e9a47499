// The up-to-date check of build (and so of watch): a site whose inputs, whose harvgen and whose
// output tree are as its last successful build left them is not compiled again. The state is
// one record per site directory in `<out>/.harvgen-cache/` (ignored by git through its own
// .gitignore; it holds paths, timestamps and keyed digests, never a secret). Anyone who can
// write to the output can rewrite a record, so a record is trusted only when its HMAC verifies
// under the user's state key, which lives outside every output directory (key.ts): a forged,
// edited or copied record is no record. Every claim it makes is then checked against the file
// system: input stamps (and the content of the secret and user-data files), the code of this
// harvgen, and the output, against the time the record was settled (a ctime, which no tool can
// set back). Every doubt means "compile". ARCHITECTURE.md, "Up-to-date check".
import { lstatSync, readdirSync, type Dirent, type Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { previousManifest, type PreviousManifest } from '../emit/index.ts';
import { JOURNAL_FILE } from '../emit/journal.ts';
import { LOCK_FILE } from '../durable/index.ts';
import { TEMP_SUFFIX } from '../durable/index.ts';
import { settledDirectories } from '../emit/tree.ts';
import { stampsHold } from '../load/stamps.ts';
import { isSafeRelativePath, regularFileSha } from '../render/artifact.ts';
import { envHolds, prepareEnvDigests } from './env.ts';
import { codeStamp } from './code.ts';
import { LAYOUT } from '../derive/layout.ts';
import type { SecretMode } from '../types/secret-mode.ts';
import { contentsHold } from './inputs.ts';
import { loadRecord, recordNodes, sameSiteDir, type SiteRecord } from './record.ts';
import { nearPaths, regularFile } from '../util/lstat.ts';

export { codeStamp } from './code.ts';
export { replayedSources } from './replay.ts';
export { stateKeyDir } from './key.ts';
export { CACHE_DIR, dropRecord, loadRecord, recordNodes, sameSiteDir, type NodesFile, type SiteRecord } from './record.ts';
export { writeRecord, type RecordedSite } from './write.ts';

/**
 * The record of `siteDir` when the site is up to date in `outRoot`: a record whose MAC verifies,
 * clean, same harvgen, same input stamps and bound contents, and its output directory exactly as
 * written (checked without reading a file whose status changed before the record was settled;
 * one that changed in the same clock tick is read and hashed). Undefined means "compile it".
 */
export function upToDate(outRoot: string, siteDir: string, options: UpToDateOptions = {}): SiteRecord | undefined {
  const record = holdsButEnv(outRoot, loadRecord(outRoot, siteDir), options, nearPaths());
  return record && envHolds(record.env, options.env ?? process.env) ? record : undefined;
}

/** What upToDate is asked. */
export interface UpToDateOptions {
  verifyOutput?: boolean;
  secrets?: SecretMode;
  /** The environment secrets are read from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Warnings fail the build (a site with any is compiled); diagnostics replay only under the same cwd and site dir as given. */
  strict?: boolean;
  shown?: readonly [string, string];
}

/**
 * upToDate of each site directory (`dir`, with its options), by index: the same answers, but the
 * slow digests of the environment's secrets (about 15 ms each, src/cache/env.ts) are made on
 * libuv's thread pool while the files are checked, instead of after.
 */
export async function upToDateSites(
  outRoot: string,
  sites: readonly { readonly dir: string; readonly options: UpToDateOptions }[],
): Promise<Map<number, SiteRecord>> {
  const records = sites.map(({ dir }) => loadRecord(outRoot, dir));
  const env = (i: number) => sites[i]!.options.env ?? process.env;
  const pairs = records.flatMap((r, i) => r?.env.map(([name]) => [name, env(i)[name]] as const) ?? []);
  const digests = pairs.length > 0 ? prepareEnvDigests(pairs) : undefined;
  const near = nearPaths();
  const held = new Map<number, SiteRecord>();
  for (const [i, { options }] of sites.entries()) {
    const record = holdsButEnv(outRoot, records[i], options, near);
    if (record) held.set(i, record);
  }
  await digests;
  for (const [i, record] of held) if (!envHolds(record.env, env(i))) held.delete(i);
  return held;
}

/** Everything upToDate checks of `record` but the environment's secrets (see there). */
function holdsButEnv(
  outRoot: string,
  record: SiteRecord | undefined,
  options: UpToDateOptions,
  near: (absolute: string) => string,
): SiteRecord | undefined {
  if (!record?.clean || record.code !== codeStamp()) return undefined;
  // The committed tree and the deploy tree differ in the secrets: a record holds for its own kind only.
  if (record.secrets !== (options.secrets ?? 'markers')) return undefined;
  const [cwd, dir] = options.shown ?? [];
  if (record.diagnostics.length > 0 && (options.strict || record.shown[0] !== cwd || record.shown[1] !== dir)) return undefined;
  if (!stampsHold(record.inputs, near) || !contentsHold(record)) return undefined;
  if (options.verifyOutput === false) return record;
  return outputHolds(join(outRoot, record.site), record, near) ? record : undefined;
}

/**
 * Whether the manifest.json of `site` in `outRoot` is the one the last build of `siteDir`
 * wrote, untouched since (the record verifies, and the file has its size, inode and a ctime not
 * later than the record's): emit may then judge the files older than it by the SHA-256 it lists.
 * Checked before the record is dropped for a new build. Returns what that manifest lists (from
 * the record), or undefined.
 */
export function manifestVouched(outRoot: string, siteDir: string, site: string): { previous?: PreviousManifest } | undefined {
  const record = loadRecord(outRoot, siteDir);
  if (!record || record.site !== site) return undefined;
  const dir = join(outRoot, site);
  const st = regularFile(join(dir, LAYOUT.manifest));
  if (st === undefined || !sameSiteDir(dir, record) || !manifestHolds(dir, record, st)) return undefined;
  // What that manifest lists, from the record and its companion (every file's SHA-256): the
  // manifest need not be parsed again. Without the companion, emit reads the manifest.
  const shas = recordNodes(outRoot, siteDir, record)?.shas;
  if (!shas) return {};
  const paths: string[] = [];
  const files = new Map<string, { sha256: string; size: number }>();
  const { paths: recorded, sizes } = record.files;
  for (const [i, path] of recorded.entries()) {
    if (path === LAYOUT.manifest || path === LAYOUT.manifestSignature || !isSafeRelativePath(path)) continue;
    paths.push(path);
    files.set(path, { sha256: shas[i]!, size: sizes[i]! });
  }
  return { previous: { paths, files, ctimeMs: st.ctimeMs, untrusted: [], manifest: { sha256: record.manifest, ino: st.ino } } };
}

function manifestHolds(dir: string, record: SiteRecord, st: Stats): boolean {
  if (st.size !== record.manifestStat[0] || st.ino !== record.manifestStat[1] || st.ctimeMs > record.settled) return false;
  // Touched in the tick the record was settled: read and hashed.
  return st.ctimeMs < record.settled || regularFileSha(join(dir, LAYOUT.manifest), st.size) === record.manifest;
}

/**
 * The output is as written: `settled` is when the record was created, after the last change the
 * build made; a file whose status changed later was touched since. One lstat per file recorded
 * and per directory above one, nothing walked: a build running or killed leaves its lock (and a
 * killed one its journal) at the top of the site directory, which is listed, and no record (each
 * drops it before touching the output). A temp file or journal put below the top by anything else
 * is seen only in a directory that holds a recorded file, whose ctime its creation moved (to
 * `settled` at the least, which the check admits: so, a tick after it); a foreign directory's
 * contents are not looked at, as no other foreign file is.
 */
function outputHolds(dir: string, record: SiteRecord, near: (absolute: string) => string): boolean {
  try {
    const root = lstatSync(dir, { throwIfNoEntry: false });
    if (!root?.isDirectory() || root.dev !== record.dirId[0] || root.ino !== record.dirId[1]) return false;
    const settled = record.settled;
    const manifestStat = regularFile(join(dir, LAYOUT.manifest));
    if (!manifestStat || !manifestHolds(dir, record, manifestStat)) return false;
    if (readdirSync(dir, { withFileTypes: true }).some(unfinished)) return false;
    // A directory renamed into place since (a swapped-in copy) keeps its files' ctimes.
    const dirsSettled = settledDirectories(dir, settled);
    const under = near(dir) + sep;
    let listed: PreviousManifest['files'] | undefined;
    const { paths, sizes, modes } = record.files;
    for (let i = 0; i < paths.length; i++) {
      const path = paths[i]!;
      const size = sizes[i]!;
      const mode = modes[i]!;
      if (path === LAYOUT.manifest) continue;
      if (typeof path !== 'string' || !isSafeRelativePath(path)) return false;
      const st = lstatSync(under + path, { throwIfNoEntry: false });
      if (!st?.isFile() || st.size !== size || (st.mode & 0o777) !== mode || st.ctimeMs > settled) return false;
      if (!dirsSettled(path)) return false;
      if (st.ctimeMs === settled) {
        // Changed in the clock tick the record was settled: as likely an edit right after the build.
        listed ??= previousManifest(dir).files;
        const want = path === LAYOUT.manifestSignature ? record.signature : listed.get(path)?.sha256;
        const got = regularFileSha(under + path, size);
        if (got === undefined || got !== want) return false;
      }
    }
  } catch {
    return false; // a path component that is no longer a directory, an unreadable one: compile
  }
  return true;
}

/**
 * An entry a build running or cut short leaves at the top of the site directory: its lock, its
 * journal, a temp file (a directory of that name is none: recovery, which removes temp files, leaves
 * it, so it must not make every build compile).
 */
const unfinished = (e: Dirent): boolean =>
  e.name === LOCK_FILE || e.name === JOURNAL_FILE || (!e.isDirectory() && e.name.endsWith(TEMP_SUFFIX));
