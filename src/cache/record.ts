// The up-to-date record of a site directory as it lies in `<out>/.harvgen-cache/`: its shape
// (`SiteRecord`, and its companion file `NodesFile`), where it lives, and reading it back. A record
// is read only when its MAC verifies under the user's state key (key.ts), and each one read is
// kept while its file is unchanged. Below both the up-to-date check (index.ts) and the render's
// reuse of the nodes it lists (reuse.ts); writing one is write.ts.
import { createHash } from 'node:crypto';
import { lstatSync, rmSync, type Stats } from 'node:fs';
import { regularFile } from '../util/lstat.ts';
import { join, resolve } from 'node:path';
import { inputBytes, type InputStamp } from '../load/stamps.ts';
import { isSafeRelativePath, regularFileBytes, sha256Hex } from '../render/artifact.ts';
import { macHolds, stateKey } from './key.ts';
import type { Frames } from './replay.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { SecretMode } from '../types/secret-mode.ts';

/** The cache directory at the top of the output root. */
export const CACHE_DIR = '.harvgen-cache';

export const RECORD_VERSION = 7;

/** Largest record read back (a 10,000-node site writes about 2 MiB). */
const MAX_RECORD = 64 * 1024 * 1024;

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
  /** Every file written, as columns of one length (JSON.parse makes three arrays, not one per file). */
  readonly files: RecordedFiles;
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

/**
 * The files of a record: `paths[i]` was written with `sizes[i]` bytes and mode `modes[i]`. Three
 * columns rather than a `[path, size, mode]` per file: reading the record of a 3,000-node site
 * (11,708 files) parses in 1.6 ms instead of 4.2, and leaves 11,708 fewer arrays to collect.
 */
export interface RecordedFiles {
  readonly paths: readonly string[];
  readonly sizes: readonly number[];
  readonly modes: readonly number[];
}

/** Whether `f` is a RecordedFiles of columns of one length. */
const isFiles = (f: RecordedFiles | undefined): boolean =>
  typeof f === 'object' &&
  f !== null &&
  Array.isArray(f.paths) &&
  Array.isArray(f.sizes) &&
  Array.isArray(f.modes) &&
  f.sizes.length === f.paths.length &&
  f.modes.length === f.paths.length &&
  f.paths.every((p) => typeof p === 'string') &&
  f.sizes.every(Number.isSafeInteger) &&
  f.modes.every(Number.isSafeInteger);

/** Where the record of a site directory lives. */
export function recordFile(outRoot: string, siteDir: string): string {
  return join(outRoot, CACHE_DIR, `${createHash('sha256').update(resolve(siteDir)).digest('hex').slice(0, 24)}.json`);
}

/** The companion of a record file: each file's SHA-256 and what each node's render gave. */
export const nodesFile = (record: string) => `${record.slice(0, -'.json'.length)}.nodes`;

/** One node's render as recorded: hostname, key digest, config bytes, its files, and which are served (`1`/`0` per file). */
export type RenderedNode = readonly [hostname: string, key: string, configBytes: number, paths: readonly string[], served: string];

/** What a site's render gave per node, for the next build (SiteRecord.render). */
export interface RenderedNodes {
  /** Digest of the site's model without its nodes, and the tree kind. */
  readonly site: string;
  readonly nodes: readonly RenderedNode[];
}

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
  const st = regularFile(file);
  if (!st || st.size > MAX_NODES_FILE) return undefined;
  const id = recordId(st);
  if (lastNodes?.file === file && lastNodes.id === id && lastNodes.sha === record.companion) return lastNodes.nodes;
  lastNodes = undefined;
  const bytes = regularFileBytes(file, st.size);
  if (!bytes || sha256Hex(bytes) !== record.companion) return undefined;
  try {
    const nodes = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as NodesFile;
    if (!Array.isArray(nodes.shas) || nodes.shas.length !== record.files.paths.length) return undefined;
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

/**
 * A record just written, kept as read back (the next build of this process, a watch rebuild,
 * neither reads nor verifies it again while the file is the one written: same inode, size and
 * times). Parsed from its text, so that it is exactly what loadRecord would give.
 */
export function keepWritten(file: string, body: string): void {
  const st = regularFile(file);
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
  Array.isArray(s) &&
  s.length === 5 &&
  typeof s[0] === 'string' &&
  typeof s[1] === 'number' &&
  typeof s[2] === 'number' &&
  typeof s[3] === 'number' &&
  typeof s[4] === 'number';

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
  const st = regularFile(file);
  if (!st || st.size > MAX_RECORD || !stateKey()) return undefined;
  const id = recordId(st);
  const hit = loaded.get(file);
  if (hit?.id === id) return hit.record;
  const bytes = inputBytes(file, st.size);
  if (!bytes) return undefined;
  // The first line is the MAC (64 hex digits), over the bytes that follow it: checked on the
  // bytes as read (hashing them is a fifth of hashing the decoded text again).
  const raw = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (raw.length < 65 || raw[64] !== 0x0a || !macHolds('record', raw.subarray(65), raw.toString('latin1', 0, 64))) return undefined;
  const body = raw.toString('utf8', 65);
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
  if (!isFiles(record.files) || typeof record.settled !== 'number' || !Array.isArray(record.manifestStat)) return undefined;
  if (!Array.isArray(record.dirId) || (record.companion !== undefined && typeof record.companion !== 'string')) return undefined;
  if (![record.env, record.diagnostics, record.shown].every(Array.isArray) || typeof record.frames !== 'object') return undefined;
  if (!record.env.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string')) return undefined;
  // Kept for the build's later questions about the site (`keep`: not by a worker thread's reuse, which asks once).
  if (keep) loaded.set(file, { id, record });
  return record;
}

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
