// Writing the up-to-date record of a site just emitted (record.ts holds its shape) and its
// companion file: best effort, each through a temp file renamed into place, under the state key's MAC.
import { closeSync, fstatSync, futimesSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { TEMP_SUFFIX } from '../durable/index.ts';
import type { InputStamp } from '../load/stamps.ts';
import { artifactSha, artifactSize, sha256Hex, type Artifact } from '../render/artifact.ts';
import { stateKey, stateMac } from './key.ts';
import { writeText } from '../util/utf8-chunks.ts';
import { codeStamp } from './code.ts';
import { framesOf } from './replay.ts';
import type { Diagnostic } from '../diagnostics/types.ts';
import { LAYOUT } from '../derive/layout.ts';
import type { SecretMode } from '../types/secret-mode.ts';
import { boundDigests } from './inputs.ts';
import {
  CACHE_DIR,
  keepWritten,
  nodesFile,
  RECORD_VERSION,
  recordFile,
  type NodesFile,
  type RenderedNodes,
  type SiteRecord,
} from './record.ts';
import { regularFile } from '../util/lstat.ts';

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
    const written = regularFile(join(outRoot, site.site, LAYOUT.manifest));
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
  if (!regularFile(join(cache, '.gitignore')))
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
    files: { paths: artifacts.map((a) => a.path), sizes: artifacts.map(artifactSize), modes: artifacts.map((a) => a.mode) },
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
  const inputs = site.clean && site.stamps !== undefined ? site.stamps : [];
  // Undefined: a bound file changed since it was read (the stamp no longer holds either).
  const digests = boundDigests(siteDir, inputs);
  return { clean: site.clean && site.stamps !== undefined && digests !== undefined, inputs, digests: digests ?? [] };
}
