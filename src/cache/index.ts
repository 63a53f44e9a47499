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
import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Dirent,
  type Stats,
} from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { previousManifest, type PreviousManifest } from '../emit/index.ts';
import { JOURNAL_FILE } from '../emit/journal.ts';
import { LOCK_FILE } from '../emit/lock.ts';
import { TEMP_SUFFIX } from '../emit/safe-path.ts';
import { settledDirectories } from '../emit/tree.ts';
import { inputBytes, stampsHold, type InputStamp } from '../load/stamps.ts';
import {
  artifactSha,
  artifactSize,
  isSafeRelativePath,
  regularFileBytes,
  regularFileSha,
  sha256Hex,
  type Artifact,
} from '../render/artifact.ts';
import type { RenderedNodes } from './reuse.ts';
import { macHolds, stateKey, stateMac } from './key.ts';
import { envHolds } from './env.ts';
import { writeText } from '../util/utf8-chunks.ts';
import { codeStamp } from './code.ts';
export { codeStamp } from './code.ts';
import { framesOf, type Frames } from './replay.ts';
export { replayedSources } from './replay.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { LAYOUT } from '../derive/layout.ts';
import type { SecretMode } from '../types/secret-mode.ts';

export { stateKeyDir } from './key.ts';

/** The cache directory at the top of the output root. */
export const CACHE_DIR = '.harvgen-cache';

const RECORD_VERSION = 6;

/** Largest record read back (a 10,000-node site writes about 2 MiB). */
const MAX_RECORD = 64 * 1024 * 1024;

/**
 * Largest input file outside the YAML inventory whose content the record binds (secret files,
 * at most 64 KiB, and cloud-init user-data files, at most 256 KiB; small iPXE binaries too).
 */
const MAX_CONTENT_BOUND = 256 * 1024;

/** What the last successful build of one site directory left. */
export interface SiteRecord {
  readonly version: typeof RECORD_VERSION;
  /** Real path of the output root the record is about (a record copied elsewhere holds nothing). */
  readonly out: string;
  /** Identity of the harvgen that built it (version and the stamps of its code and templates). */
  readonly code: string;
  /** The kind of tree built: committed (`markers`) or deploy (`filled`). */
  readonly secrets: SecretMode;
  readonly siteDir: string;
  readonly site: string;
  /** `host:port` of boot.server, and `dnsmasq.host`: sites sharing one are compiled together (cross-site checks). */
  readonly server: string;
  readonly dnsmasq?: string;
  readonly nodes: number;
  /**
   * Compiled without a single diagnostic, emitted without a recovery or an untrusted path, every
   * input stamped: only then may the site be skipped. A record that is not clean still vouches
   * for the manifest.json it lists (emit's comparison by hash).
   */
  readonly clean: boolean;
  readonly inputs: readonly InputStamp[];
  /** Per input (same index): the keyed SHA-256 of a content-bound file, else `''`. */
  readonly digests: readonly string[];
  /** The ctime of the record's own file when it was created, after the build's last write: a later ctime is a later change. */
  readonly settled: number;
  /** SHA-256, size and inode of the manifest.json written. */
  readonly manifest: string;
  readonly manifestStat: readonly [size: number, ino: number];
  /** Every file written: `[path, size, mode]`. */
  readonly files: readonly (readonly [string, number, number])[];
  /** `[device, inode]` of the site's output directory: a directory swapped in for it is another one. */
  readonly dirId: readonly [number, number];
  /**
   * SHA-256 of the record's companion file (`<record>.nodes`, `NodesFile`): each file's SHA-256 and
   * what each node's render gave, for the next build's reuse (src/cache/reuse.ts). Kept apart so
   * that the up-to-date check, which reads every record, never parses it.
   */
  readonly companion?: string;
  /** SHA-256 of the manifest.json.sig written (a signed deploy tree), which no manifest lists. */
  readonly signature?: string;
  /** `[variable, keyed digest]` of each secret read from the environment (src/cache/env.ts; never the value). */
  readonly env: readonly (readonly [string, string])[];
  /**
   * The site's diagnostics (warnings: a site with an error is never written), replayed when it is
   * skipped, as printed: masked like every printed diagnostic, so they hold no secret.
   */
  readonly diagnostics: readonly Diagnostic[];
  readonly frames: Frames; // the source lines their code frames show (masked)
  /** The working directory and the site directory as given: diagnostics show paths relative to them. */
  readonly shown: readonly [cwd: string, dir: string];
}

/** Where the record of a site directory lives. */
function recordFile(outRoot: string, siteDir: string): string {
  return join(outRoot, CACHE_DIR, `${createHash('sha256').update(resolve(siteDir)).digest('hex').slice(0, 24)}.json`);
}

/** The companion of a record file: each file's SHA-256 and what each node's render gave. */
const nodesFile = (record: string) => `${record.slice(0, -'.json'.length)}.nodes`;

/** What a record's companion file holds (SiteRecord.companion is its SHA-256). */
export interface NodesFile {
  /** SHA-256 of each file of `SiteRecord.files`, in its order. */
  readonly shas: readonly string[];
  /** What each node's render gave (absent without a state key). */
  readonly render?: RenderedNodes;
}

/** Largest companion file read back (a 10,000-node site writes about 4 MiB). */
const MAX_NODES_FILE = 128 * 1024 * 1024;

/**
 * The companion file last read (its path, the identity of the file and the SHA-256 it had), and
 * what it held: a plain build asks twice for one site's (the render's reuse, then emit's view of
 * the previous manifest), and a 10,000-node site's is megabytes to read, hash and parse. One
 * only: a build of many sites keeps none but the last.
 */
let lastNodes: { readonly file: string; readonly id: string; readonly sha: string; readonly nodes: NodesFile } | undefined;

/**
 * The companion of `record` (the record of `siteDir`), when it is the one the record names: its
 * SHA-256 is the record's `companion`. Read again unless it is the file last read, unchanged
 * since (same inode, size and times, as a kept record: keepWritten).
 */
export function recordNodes(outRoot: string, siteDir: string, record: SiteRecord): NodesFile | undefined {
  if (record.companion === undefined) return undefined;
  const file = nodesFile(recordFile(outRoot, siteDir));
  const st = regular(file);
  if (!st || st.size > MAX_NODES_FILE) return undefined;
  const id = recordId(st);
  if (lastNodes?.file === file && lastNodes.id === id && lastNodes.sha === record.companion) return lastNodes.nodes;
  lastNodes = undefined;
  const bytes = regularFileBytes(file, st.size);
  if (!bytes || sha256Hex(bytes) !== record.companion) return undefined;
  try {
    const nodes = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as NodesFile;
    if (!Array.isArray(nodes.shas) || nodes.shas.length !== record.files.length) return undefined;
    if (nodes.render !== undefined && (typeof nodes.render.site !== 'string' || !Array.isArray(nodes.render.nodes))) return undefined;
    lastNodes = { file, id, sha: record.companion, nodes };
    return nodes;
  } catch {
    return undefined;
  }
}

/** Whether `dir` is the output directory the record was written for (not another swapped in). */
export function sameSiteDir(dir: string, record: SiteRecord): boolean {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  return st !== undefined && st.isDirectory() && st.dev === record.dirId[0] && st.ino === record.dirId[1];
}

const regular = (p: string): Stats | undefined => {
  try {
    const st = lstatSync(p);
    return st.isFile() ? st : undefined;
  } catch {
    return undefined;
  }
};

/**
 * A record just written, kept as read back (the next build of this process, a watch rebuild,
 * neither reads nor verifies it again while the file is the one written: same inode, size and
 * times). Parsed from its text, so that it is exactly what loadRecord would give.
 */
function keepWritten(file: string, body: string): void {
  const st = regular(file);
  if (!st) return;
  try {
    loaded.set(file, { id: recordId(st), record: JSON.parse(body) as SiteRecord });
  } catch {
    loaded.delete(file);
  }
}

const recordId = (st: Stats) => `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;

/** The record last read per record file, with the identity of the file it came from (read once per build). */
const loaded = new Map<string, { readonly id: string; readonly record: SiteRecord }>();

const isStamp = (s: unknown): s is InputStamp =>
  Array.isArray(s) && s.length === 5 && typeof s[0] === 'string' && s.slice(1).every((n) => typeof n === 'number');

/**
 * The record of `siteDir` in `outRoot` when its MAC verifies under the state key and it is about
 * this output root and site directory; else undefined. Read from the output, so untrusted until
 * then; its claims are checked by the callers.
 */
export function loadRecord(outRoot: string, siteDir: string, keep = true): SiteRecord | undefined {
  const file = recordFile(outRoot, siteDir);
  try {
    if (!lstatSync(join(outRoot, CACHE_DIR)).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  const st = regular(file);
  if (!st || st.size > MAX_RECORD || !stateKey()) return undefined;
  const id = recordId(st);
  const hit = loaded.get(file);
  if (hit?.id === id) return hit.record;
  const bytes = inputBytes(file, st.size);
  if (!bytes) return undefined;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const nl = text.indexOf('\n');
  const body = text.slice(nl + 1);
  if (nl !== 64 || !macHolds('record', body, text.slice(0, nl))) return undefined;
  let record: SiteRecord;
  try {
    record = JSON.parse(body) as SiteRecord;
  } catch {
    return undefined;
  }
  // Written by harvgen with this key, so well formed; checked anyway (a bug must not become a path).
  if (record?.version !== RECORD_VERSION || record.out !== outRoot || record.siteDir !== resolve(siteDir)) return undefined;
  if (typeof record.site !== 'string' || !isSafeRelativePath(record.site) || record.site.includes('/')) return undefined;
  if (!Array.isArray(record.inputs) || !record.inputs.every(isStamp) || !Array.isArray(record.digests)) return undefined;
  if (!Array.isArray(record.files) || typeof record.settled !== 'number' || !Array.isArray(record.manifestStat)) return undefined;
  if (!Array.isArray(record.dirId) || (record.companion !== undefined && typeof record.companion !== 'string')) return undefined;
  if (![record.env, record.diagnostics, record.shown].every(Array.isArray) || typeof record.frames !== 'object') return undefined;
  // Kept for the build's later questions about the site (`keep`: not by a worker thread's reuse, which asks once).
  if (keep) loaded.set(file, { id, record });
  return record;
}

/**
 * The record of `siteDir` when the site is up to date in `outRoot`: a record whose MAC verifies,
 * clean, same harvgen, same input stamps and bound contents, and its output directory exactly as
 * written (checked without reading a file whose status changed before the record was settled;
 * one that changed in the same clock tick is read and hashed). Undefined means "compile it".
 */
export function upToDate(
  outRoot: string,
  siteDir: string,
  options: {
    verifyOutput?: boolean;
    secrets?: SecretMode;
    /** The environment secrets are read from (default process.env). */
    env?: Readonly<Record<string, string | undefined>>;
    /** Warnings fail the build (a site with any is compiled); diagnostics replay only under the same cwd and site dir as given. */
    strict?: boolean;
    shown?: readonly [string, string];
  } = {},
): SiteRecord | undefined {
  const record = loadRecord(outRoot, siteDir);
  if (!record?.clean || record.code !== codeStamp()) return undefined;
  // The committed tree and the deploy tree differ in the secrets: a record holds for its own kind only.
  if (record.secrets !== (options.secrets ?? 'markers')) return undefined;
  const [cwd, dir] = options.shown ?? [];
  if (record.diagnostics.length > 0 && (options.strict || record.shown[0] !== cwd || record.shown[1] !== dir)) return undefined;
  if (!stampsHold(record.inputs) || !contentsHold(record)) return undefined;
  if (!envHolds(record.env, options.env ?? process.env)) return undefined;
  if (options.verifyOutput === false) return record;
  return outputHolds(join(outRoot, record.site), record) ? record : undefined;
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
  const st = regular(join(dir, LAYOUT.manifest));
  if (st === undefined || !sameSiteDir(dir, record) || !manifestHolds(dir, record, st)) return undefined;
  // What that manifest lists, from the record and its companion (every file's SHA-256): the
  // manifest need not be parsed again. Without the companion, emit reads the manifest.
  const shas = recordNodes(outRoot, siteDir, record)?.shas;
  if (!shas) return {};
  const paths: string[] = [];
  const files = new Map<string, { sha256: string; size: number }>();
  for (const [i, [path, size]] of record.files.entries()) {
    if (path === LAYOUT.manifest || path === LAYOUT.manifestSignature || !isSafeRelativePath(path)) continue;
    paths.push(path);
    files.set(path, { sha256: shas[i]!, size });
  }
  return { previous: { paths, files, ctimeMs: st.ctimeMs, untrusted: [], manifest: { sha256: record.manifest, ino: st.ino } } };
}

function manifestHolds(dir: string, record: SiteRecord, st: Stats): boolean {
  if (st.size !== record.manifestStat[0] || st.ino !== record.manifestStat[1] || st.ctimeMs > record.settled) return false;
  // Touched in the tick the record was settled: read and hashed.
  return st.ctimeMs < record.settled || regularFileSha(join(dir, LAYOUT.manifest), st.size) === record.manifest;
}

/**
 * For the site in `siteDir`: whether an input file's content is bound by the record (besides its stamp): every file that is
 * not part of the YAML inventory (secret files, user-data files, small iPXE binaries), so that
 * a token rotation is noticed even on a file system whose timestamps do not change (a FUSE
 * secret store, vfat). The YAML files are many and read on every no-op build: their stamps,
 * which the MAC keeps from being forged, are enough there.
 */
function contentBound(siteDir: string): (stamp: InputStamp) => boolean {
  // The inventory's places, made once per site (not four paths for each of 10,000 stamps).
  const sites = dirname(siteDir);
  const siteYaml = join(siteDir, 'site.yaml');
  const nodes = join(siteDir, 'nodes') + sep;
  const repoDefaults = join(sites, '_defaults.yaml');
  const profiles = join(sites, '_profiles') + sep;
  return ([path, size]) => {
    if (size < 0 || size > MAX_CONTENT_BOUND) return false;
    const yaml = /\.ya?ml$/.test(path);
    const inventory = path === siteYaml || (yaml && path.startsWith(nodes)) || path === repoDefaults || (yaml && path.startsWith(profiles));
    return !inventory;
  };
}

/** The keyed digest of an input file's content now, or undefined when it is not a regular file of its stamp's size. */
function contentDigest(stamp: InputStamp): string | undefined {
  const bytes = inputBytes(stamp[0], stamp[1]);
  return bytes && stateMac('input', bytes);
}

function contentsHold(record: SiteRecord): boolean {
  return record.digests.every((d, i) => d === '' || (record.inputs[i] !== undefined && contentDigest(record.inputs[i]!) === d));
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
function outputHolds(dir: string, record: SiteRecord): boolean {
  try {
    const root = lstatSync(dir, { throwIfNoEntry: false });
    if (!root?.isDirectory() || root.dev !== record.dirId[0] || root.ino !== record.dirId[1]) return false;
    const settled = record.settled;
    const manifestStat = regular(join(dir, LAYOUT.manifest));
    if (!manifestStat || !manifestHolds(dir, record, manifestStat)) return false;
    if (readdirSync(dir, { withFileTypes: true }).some(unfinished)) return false;
    // A directory renamed into place since (a swapped-in copy) keeps its files' ctimes.
    const dirsSettled = settledDirectories(dir, settled);
    const under = dir + sep;
    let listed: PreviousManifest['files'] | undefined;
    for (const [path, size, mode] of record.files) {
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

/** Forget the record of a site (before its output is touched: a killed build leaves no record). */
export function dropRecord(outRoot: string, siteDir: string): void {
  const file = recordFile(outRoot, siteDir);
  loaded.delete(file);
  if (lastNodes?.file === nodesFile(file)) lastNodes = undefined;
  try {
    if (lstatSync(join(outRoot, CACHE_DIR)).isDirectory()) {
      rmSync(file, { force: true });
      rmSync(nodesFile(file), { force: true });
    }
  } catch {
    // no cache directory: nothing to forget
  }
}

/**
 * Remember a site just emitted (best effort: a cache that cannot be written only costs speed).
 * `clean` (no diagnostic, no recovery, every input stamped) lets the next build skip it; any
 * record vouches for the manifest.json written. Without a state key nothing is recorded.
 * `keep`: kept in memory for the next build of this process (watch). Returns the time the record
 * is settled at (undefined: none written).
 */
export function writeRecord(outRoot: string, site: RecordedSite, artifacts: readonly Artifact[], keep = false): number | undefined {
  const cache = join(outRoot, CACHE_DIR);
  let temp: string | undefined;
  try {
    if (!stateKey() || !cacheDirReady(cache)) return undefined;
    const manifest = artifacts.find((a) => a.path === LAYOUT.manifest);
    const written = regular(join(outRoot, site.site, LAYOUT.manifest));
    const dir = lstatSync(join(outRoot, site.site), { throwIfNoEntry: false });
    if (!manifest || !written || !dir?.isDirectory()) return undefined;
    const file = recordFile(outRoot, site.dir);
    const companion = writeNodesFile(nodesFile(file), artifacts, site.render);
    temp = `${file}${TEMP_SUFFIX}`;
    rmSync(temp, { force: true });
    const fd = openSync(temp, 'wx', 0o600);
    let settled: number;
    let body: string;
    try {
      // Settled now, after the build's last write: the ctime of this new file, on the same
      // clock as the output files' ctimes. Unless emit took files on trust (`site.settled`).
      settled = site.settled ?? settledNow(fd);
      const record = recordOf(outRoot, site, artifacts, { manifest, written, dir, companion, settled });
      body = JSON.stringify(record);
      writeText(fd, `${stateMac('record', body)}\n`);
      writeText(fd, body);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    temp = undefined;
    // Kept for the next build of this process (watch's) only: a build of 1,000 sites would hold them all.
    if (keep) keepWritten(file, body);
    return settled;
  } catch {
    // best effort
    return undefined;
  } finally {
    if (temp !== undefined) rmSync(temp, { force: true });
  }
}

/**
 * The ctime of the open, new record file, as late as the file system's clock gives it. A new
 * file's ctime is the clock's coarse tick (Linux: 4 ms or so), which the output files written in
 * that tick share: each of them is "racy", read and hashed by every later no-op build (most files
 * of a small site). A file whose ctime was asked for gets a fine-grained one at its next change
 * where the kernel gives them on demand (Linux 6.13 and later, multigrain timestamps): asked, then
 * touched, the record's is later than every file the build wrote. Elsewhere it stays the tick.
 */
function settledNow(fd: number): number {
  const st = fstatSync(fd);
  try {
    futimesSync(fd, st.atime, st.mtime);
  } catch {
    return st.ctimeMs;
  }
  return fstatSync(fd).ctimeMs;
}

/**
 * Write a record's companion file (each file's SHA-256, each node's render), before the record
 * that names it by its SHA-256, which it returns; undefined when it could not be written.
 */
function writeNodesFile(file: string, artifacts: readonly Artifact[], render: RenderedNodes | undefined): string | undefined {
  const temp = `${file}${TEMP_SUFFIX}`;
  try {
    const text = JSON.stringify({ shas: artifacts.map(artifactSha), ...(render ? { render } : {}) } satisfies NodesFile);
    rmSync(temp, { force: true });
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeText(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    return sha256Hex(text);
  } catch {
    rmSync(temp, { force: true });
    return undefined;
  }
}

/** A site as writeRecord records it. */
export interface RecordedSite {
  dir: string;
  site: string;
  server: string;
  dnsmasq?: string | undefined;
  nodes: number;
  stamps?: readonly InputStamp[] | undefined;
  secrets: SecretMode;
  clean: boolean;
  env?: readonly (readonly [string, string])[] | undefined;
  diagnostics: readonly Diagnostic[];
  sources: Readonly<Record<string, string>>;
  shown: readonly [string, string];
  /** What each node's render gave (src/cache/reuse.ts). */
  render?: RenderedNodes | undefined;
  /**
   * When emit took files as this process last wrote them without looking (watch's `known`): the
   * time the output was last seen whole, which the record vouches for instead of now. A file
   * written since is newer than that, so the next build looks at it (and at manifest.json).
   */
  settled?: number | undefined;
}

/** The cache directory, made when missing; false when it is a link or a file (not ours, never written through). */
function cacheDirReady(cache: string): boolean {
  const st = lstatSync(cache, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) return false;
  if (!st) mkdirSync(cache);
  // Created exclusively: never written through a link someone put there.
  if (!regular(join(cache, '.gitignore')))
    writeFileSync(join(cache, '.gitignore'), '# harvgen build state, not for git\n*\n', { flag: 'wx' });
  return true;
}

/** The record of a site just written. */
function recordOf(
  outRoot: string,
  site: RecordedSite,
  artifacts: readonly Artifact[],
  at: { manifest: Artifact; written: Stats; dir: Stats; companion: string | undefined; settled: number },
): SiteRecord {
  const siteDir = resolve(site.dir);
  const { clean, inputs, digests } = inputDigests(site, siteDir);
  const signature = artifacts.find((a) => a.path === LAYOUT.manifestSignature);
  return {
    version: RECORD_VERSION,
    out: outRoot,
    code: codeStamp(),
    siteDir,
    secrets: site.secrets,
    site: site.site,
    server: site.server,
    ...(site.dnsmasq !== undefined ? { dnsmasq: site.dnsmasq } : {}),
    nodes: site.nodes,
    clean,
    inputs: clean ? inputs : [],
    digests: clean ? digests : [],
    settled: at.settled,
    manifest: artifactSha(at.manifest),
    manifestStat: [at.written.size, at.written.ino],
    files: artifacts.map((a) => [a.path, artifactSize(a), a.mode] as const),
    dirId: [at.dir.dev, at.dir.ino],
    ...(at.companion !== undefined ? { companion: at.companion } : {}),
    ...(signature ? { signature: artifactSha(signature) } : {}),
    env: clean ? (site.env ?? []) : [],
    diagnostics: clean ? site.diagnostics : [],
    frames: clean ? framesOf(site.diagnostics, site.sources) : {},
    shown: site.shown,
  };
}

/**
 * Whether the site can be recorded as clean (no diagnostic, no recovery, every input stamped and
 * unchanged since it was read), its inputs' stamps and their content digests.
 */
function inputDigests(site: RecordedSite, siteDir: string): { clean: boolean; inputs: readonly InputStamp[]; digests: string[] } {
  let clean = site.clean && site.stamps !== undefined;
  const inputs = clean ? site.stamps! : [];
  const bound = contentBound(siteDir);
  const digests = inputs.map((s) => {
    if (!bound(s) || statSync(s[0], { throwIfNoEntry: false })?.isFile() !== true) return '';
    const d = contentDigest(s);
    if (d === undefined) clean = false; // changed since it was read: the stamp no longer holds either
    return d ?? '';
  });
  return { clean, inputs, digests };
}
