// The up-to-date check of build (and so of watch): a site whose inputs, whose harvgen and whose
// output tree are as its last successful build left them is not compiled again. The state is
// one record per site directory in `<out>/.harvgen-cache/` (ignored by git through its own
// .gitignore; it holds paths and timestamps, never a secret). Every doubt means "compile":
// a missing or unreadable record, any changed stamp, an edited, missing or extra-temp output,
// a lock or journal, a secret from the environment, a diagnostic in the last build.
// ARCHITECTURE.md, "Up-to-date check".
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { previousManifest, type PreviousManifest } from '../emit/index.ts';
import { interruptedIn } from '../emit/journal.ts';
import { LOCK_FILE } from '../emit/lock.ts';
import { TEMP_SUFFIX } from '../emit/safe-path.ts';
import { scanTree } from '../emit/tree.ts';
import { stampsHold, type InputStamp } from '../load/stamps.ts';
import type { SecretMode } from '../load/secrets.ts';
import { isSafeRelativePath, sha256Hex, type Artifact } from '../render/artifact.ts';

/** The cache directory at the top of the output root. */
export const CACHE_DIR = '.harvgen-cache';

const RECORD_VERSION = 2;

/** What the last successful build of one site directory left. */
export interface SiteRecord {
  readonly version: typeof RECORD_VERSION;
  /** Identity of the harvgen that built it (version and the stamps of its code and templates). */
  readonly code: string;
  /** The kind of tree built: committed (`markers`) or deploy (`filled`). */
  readonly secrets: SecretMode;
  readonly siteDir: string;
  readonly site: string;
  /** `host:port` of boot.server: sites sharing one are always compiled together (cross-site checks). */
  readonly server: string;
  readonly nodes: number;
  readonly inputs: readonly InputStamp[];
  /** SHA-256, size and inode of the manifest.json written. */
  readonly manifest: string;
  readonly manifestStat: readonly [size: number, ino: number];
  /** Every file written: `[path, size, mode]`. */
  readonly files: readonly (readonly [string, number, number])[];
}

let codeIdentity: string | undefined;

/** Identity of the running harvgen: the path, size, mtime and inode of its package.json (its version), code and templates. */
export function codeStamp(): string {
  if (codeIdentity !== undefined) return codeIdentity;
  const codeDir = resolve(import.meta.dirname, '..'); // dist/ (or src/ under tsx)
  const pkg = resolve(codeDir, '..');
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
    );
  const hash = createHash('sha256');
  for (const f of [join(pkg, 'package.json'), ...files(codeDir), ...files(join(pkg, 'templates'))].sort()) {
    const st = lstatSync(f);
    hash.update(`${f}\0${st.size}\0${st.mtimeMs}\0${st.ino}\n`);
  }
  codeIdentity = hash.digest('hex');
  return codeIdentity;
}

/** Where the record of a site directory lives. */
function recordFile(outRoot: string, siteDir: string): string {
  return join(outRoot, CACHE_DIR, `${createHash('sha256').update(resolve(siteDir)).digest('hex').slice(0, 24)}.json`);
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
 * The record of `siteDir` when the site is up to date in `outRoot`: same harvgen, same input
 * stamps, and its output directory exactly as written (checked without reading a file whose
 * status changed before the record was written; one that changed in the same clock tick is
 * read and hashed). Undefined means "compile it".
 */
export function upToDate(
  outRoot: string,
  siteDir: string,
  options: { verifyOutput?: boolean; secrets?: SecretMode } = {},
): SiteRecord | undefined {
  const file = recordFile(outRoot, siteDir);
  let record: SiteRecord;
  const recordStat = regular(file);
  try {
    if (!recordStat || lstatSync(join(outRoot, CACHE_DIR)).isSymbolicLink()) return undefined;
    record = JSON.parse(readFileSync(file, 'utf8')) as SiteRecord;
  } catch {
    return undefined;
  }
  if (record?.version !== RECORD_VERSION || record.siteDir !== resolve(siteDir) || record.code !== codeStamp()) return undefined;
  // The committed tree and the deploy tree differ in the secrets: a record holds for its own kind only.
  if (record.secrets !== (options.secrets ?? 'markers')) return undefined;
  // Read from disk, so untrusted: the site name becomes a path below the output root.
  if (!Array.isArray(record.inputs) || !Array.isArray(record.files) || typeof record.site !== 'string') return undefined;
  if (!isSafeRelativePath(record.site) || record.site.includes('/')) return undefined;
  if (!stampsHold(record.inputs)) return undefined;
  if (options.verifyOutput === false) return record;
  return outputHolds(join(outRoot, record.site), record, recordStat.ctimeMs) ? record : undefined;
}

/**
 * The output is as written: `settled` is when the record was renamed into place, after the
 * last change the build made; a file whose status changed later was touched since.
 */
function outputHolds(dir: string, record: SiteRecord, settled: number): boolean {
  try {
    const root = lstatSync(dir);
    if (!root.isDirectory()) return false;
  } catch {
    return false;
  }
  const manifestStat = regular(join(dir, 'manifest.json'));
  if (!manifestStat || manifestStat.ctimeMs > settled || !Array.isArray(record.manifestStat)) return false;
  if (manifestStat.size !== record.manifestStat[0] || manifestStat.ino !== record.manifestStat[1]) return false;
  const sha256 = (file: string) =>
    createHash('sha256')
      .update(readFileSync(join(dir, file)))
      .digest('hex');
  // Touched in the tick the record was written: read and hashed, like any other file.
  if (manifestStat.ctimeMs === settled && sha256('manifest.json') !== record.manifest) return false;
  const tree = scanTree(dir);
  // A build running (lock) or killed (journal, temps): compile, so that emit sees it.
  if (tree.has(LOCK_FILE) || interruptedIn(tree)) return false;
  let listed: PreviousManifest['files'] | undefined;
  for (const [path, size, mode] of record.files) {
    if (path === 'manifest.json') continue;
    if (typeof path !== 'string' || !isSafeRelativePath(path)) return false;
    if (tree.get(path) !== 'file') return false;
    const st = regular(join(dir, path));
    if (!st || st.size !== size || (st.mode & 0o777) !== mode || st.ctimeMs > settled) return false;
    if (st.ctimeMs === settled) {
      // Changed in the clock tick the record was written: as likely an edit right after the build.
      listed ??= previousManifest(dir).files;
      if (sha256(path) !== listed.get(path)?.sha256) return false;
    }
  }
  return true;
}

/** Forget the record of a site (before its output is touched: a killed build leaves no record). */
export function dropRecord(outRoot: string, siteDir: string): void {
  try {
    if (lstatSync(join(outRoot, CACHE_DIR)).isDirectory()) rmSync(recordFile(outRoot, siteDir), { force: true });
  } catch {
    // no cache directory: nothing to forget
  }
}

/** Remember a site just built (best effort: a cache that cannot be written only costs speed). */
export function writeRecord(
  outRoot: string,
  site: { dir: string; site: string; server: string; nodes: number; stamps: readonly InputStamp[]; secrets: SecretMode },
  artifacts: readonly Artifact[],
): void {
  const cache = join(outRoot, CACHE_DIR);
  try {
    const st = lstatSync(cache, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) return; // a link or a file: not ours, never written through
    if (!st) mkdirSync(cache);
    // Created exclusively: never written through a link someone put there.
    if (!regular(join(cache, '.gitignore')))
      writeFileSync(join(cache, '.gitignore'), '# harvgen build state, not for git\n*\n', { flag: 'wx' });
    const manifest = artifacts.find((a) => a.path === 'manifest.json');
    const written = regular(join(outRoot, site.site, 'manifest.json'));
    if (!manifest || !written) return;
    const record: SiteRecord = {
      version: RECORD_VERSION,
      code: codeStamp(),
      siteDir: resolve(site.dir),
      secrets: site.secrets,
      site: site.site,
      server: site.server,
      nodes: site.nodes,
      inputs: site.stamps,
      manifest: sha256Hex(manifest.contents),
      manifestStat: [written.size, written.ino],
      files: artifacts.map((a) => [a.path, Buffer.byteLength(a.contents, 'utf8'), a.mode] as const),
    };
    const file = recordFile(outRoot, site.dir);
    const temp = `${file}${TEMP_SUFFIX}`;
    rmSync(temp, { force: true });
    writeFileSync(temp, JSON.stringify(record), { flag: 'wx' });
    renameSync(temp, file);
  } catch {
    // best effort
  }
}
