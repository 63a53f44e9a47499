// emit's plan: the artifacts of one site compared with its directory (a walk or lstats, the
// previous manifest.json read back as untrusted data), giving what to write, what to chmod and
// what to remove, with every path checked for links first (nothing is written here).
import { lstatSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import {
  artifactSha,
  sameParts,
  artifactSize,
  isOnDisk,
  isParts,
  isSafeRelativePath,
  regularFileSha,
  sameContents,
  type Artifact,
  isLazy,
  isSpilled,
} from '../render/artifact.ts';
import { LAYOUT } from '../derive/layout.ts';
import type { Journal, RecoveryResult } from './journal.ts';
import { SafePaths, symlinkRefused, tempFor } from '../durable/index.ts';
import { directoriesSettled, entryKind, scanTree, type EntryKind } from './tree.ts';
import { lstatOrUndefined } from '../util/lstat.ts';

/** What emitting (or comparing) one site did. */
export interface EmitResult {
  /** Files written because they were new or different (or whose mode changed). */
  readonly written: readonly string[];
  /** Of `written`: the files that were not in the tree at all (new, or missing from it). */
  readonly missing?: readonly string[];
  /** Files the previous build produced that are gone now. */
  readonly removed: readonly string[];
  /** Files already up to date. */
  readonly unchanged: readonly string[];
  /** What recovery did before this build (absent when the tree was whole). */
  readonly recovery?: RecoveryResult;
  /** Compare only: the tree holds an unfinished build (a journal or temp files). */
  readonly interrupted?: boolean;
  /** Paths read from the previous manifest that were not trusted (ignored), as `manifest.json: "path"`. */
  readonly untrusted?: readonly string[];
}

/** Largest manifest.json read back (a 10,000-node site writes about 5 MiB). */
const MAX_MANIFEST = 256 * 1024 * 1024;

/** Compare the artifacts with the tree: what to write, chmod and remove. */
export async function plan(
  paths: SafePaths,
  artifacts: readonly Artifact[],
  options: {
    exact: boolean;
    trustManifest?: boolean;
    known?: ReadonlyMap<string, Artifact>;
    previous?: PreviousManifest;
    /** The directory as recovery just walked it, under this lock (else walked here). */
    tree?: ReturnType<typeof scanTree>;
    /** With `known`: the directory is as this process left it (no journal since), not walked. */
    trustTree?: boolean;
  },
): Promise<{ result: EmitResult; journal: Journal }> {
  const root = paths.root;
  const known = options.known;
  // With `known` and no walk (emitSite): what is on disk is asked of the paths this emit touches
  // only, each by lstat; the files written last are taken as written.
  const trusted = known !== undefined && options.trustTree === true;
  const kindOf = trusted ? statKinds(root) : treeKinds(options.tree ?? scanTree(root));
  // With `known`, the paths written last are listed below only when this build no longer makes
  // one of them (counted as the artifacts are compared, each path once: a render never makes two
  // files at one path, RENDER_PATH_ESCAPE): no list of 39,000 paths to check otherwise.
  const previous: PreviousManifest = known
    ? { paths: [], files: new Map(), ctimeMs: 0, untrusted: [] }
    : (options.previous ?? previousManifest(root));
  let knownMade = 0;
  // Refuse any path that goes through a link (or is one), before anything is written: every path
  // of the site against the walk, or (trusted) each path this emit writes, below.
  const checkPath = linkGuard(root, kindOf);
  if (!trusted) for (const a of artifacts) checkPath(a.path);
  const out: Outcome = { written: [], missing: [], unchanged: [], renames: [], chmods: [] };
  const compare: Compare = { root, trusted, exact: options.exact, kindOf, onDisk: sameOnDisk(root, previous, options) };
  for (const a of artifacts) {
    const last = known?.get(a.path);
    if (last) knownMade++;
    compareArtifact(a, last, compare, out);
  }
  const { written, missing, unchanged, renames, chmods } = out;
  // manifest.json is renamed last: until then the old manifest still describes the old tree. Its
  // signature just before it, so the two change together.
  renames.sort(manifestLast);
  chmods.sort(manifestLast);
  if (trusted) for (const x of [...renames, ...chmods]) checkPath(x.path);
  const gone = known !== undefined && knownMade < known.size ? { ...previous, paths: [...known.keys()] } : previous;
  const removals = removalsOf(kindOf, gone, artifacts, checkPath);
  return {
    result: {
      written: sorted(written),
      missing: sorted(missing),
      removed: removals,
      unchanged: sorted(unchanged),
      ...(previous.untrusted.length > 0 ? { untrusted: previous.untrusted.map((p) => `${LAYOUT.manifest}: ${p}`) } : {}),
    },
    journal: { version: 1, renames, chmods, removals },
  };
}

/** What comparing the artifacts gives: the paths by outcome, and the journal's renames and chmods. */
interface Outcome {
  readonly written: string[];
  readonly missing: string[];
  readonly unchanged: string[];
  readonly renames: { path: string; mode: number }[];
  readonly chmods: { path: string; mode: number }[];
}

/** How an artifact is compared with the tree. */
interface Compare {
  readonly root: string;
  /** The tree is as this process left it: what was written last is taken as written. */
  readonly trusted: boolean;
  readonly exact: boolean;
  readonly kindOf: (path: string) => EntryKind | undefined;
  readonly onDisk: ReturnType<typeof sameOnDisk>;
}

/** One artifact against what this process wrote there last (`last`) or what is on disk: unchanged, chmodded or written. */
function compareArtifact(a: Artifact, last: Artifact | undefined, c: Compare, out: Outcome): void {
  const { kindOf } = c;
  if (last && (c.trusted || kindOf(a.path) === 'file') && !isOnDisk(last) && !isOnDisk(a)) {
    // By SHA-256, which both have (manifest.json lists every file's): a site-wide text rendered
    // again is a new string, which `===` would walk whole (flattening it first). manifest.json
    // itself, which no list hashes, by its parts where they tell (sameParts).
    const same = last === a || (sameParts(last, a) ?? artifactSha(last) === artifactSha(a));
    if (same && last.mode === a.mode) {
      out.unchanged.push(a.path);
      return;
    }
    // Other bytes than this process wrote there: written, not read back to compare.
    if (!same) {
      out.written.push(a.path);
      out.renames.push({ path: a.path, mode: a.mode });
      return;
    }
  }
  // A reused file this build already found as recorded (mode included): not statted twice.
  if (isOnDisk(a) && a.checked && !c.exact && kindOf(a.path) === 'file') {
    out.unchanged.push(a.path);
    return;
  }
  const st = kindOf(a.path) === 'file' ? lstatOrUndefined(join(c.root, a.path)) : undefined;
  const same = st !== undefined && c.onDisk(a, st);
  if (same && (st.mode & 0o777) === a.mode) {
    out.unchanged.push(a.path);
    return;
  }
  out.written.push(a.path);
  if (kindOf(a.path) === undefined) out.missing.push(a.path);
  // A file with other hard links is replaced, never chmodded in place: the chmod would reach
  // the same inode under its other names, possibly outside the output directory.
  if (same && st.nlink === 1) out.chmods.push({ path: a.path, mode: a.mode });
  else out.renames.push({ path: a.path, mode: a.mode });
}

/** `paths` in code-unit order: as they come when the artifacts came sorted (render sorts them), else sorted. */
function sorted(paths: string[]): string[] {
  for (let i = 1; i < paths.length; i++) if (paths[i - 1]! > paths[i]!) return paths.sort();
  return paths;
}

/** What a path below the site directory is, or undefined when there is nothing there. */
type KindOf = (rel: string) => EntryKind | undefined;

/** Kinds from a walk of the site directory. */
function treeKinds(tree: ReturnType<typeof scanTree>): KindOf {
  return (rel) => tree.get(rel);
}

/** Kinds by lstat, each path asked once (a directory is asked for every file below it). */
function statKinds(root: string): KindOf {
  const seen = new Map<string, EntryKind | undefined>();
  return (rel) => {
    if (seen.has(rel)) return seen.get(rel);
    const st = lstatOrUndefined(join(root, rel));
    const kind = st === undefined ? undefined : entryKind(st);
    seen.set(rel, kind);
    return kind;
  };
}

/** A check that throws for a path that goes through a link of the tree or is one (or whose temp file is). */
function linkGuard(root: string, kindOf: KindOf): (rel: string) => void {
  return (rel) => {
    for (let i = rel.indexOf('/'); i !== -1; i = rel.indexOf('/', i + 1)) {
      const kind = kindOf(rel.slice(0, i));
      if (kind === 'link') throw symlinkRefused(join(root, rel.slice(0, i)));
      if (kind === undefined) return; // created by this build
    }
    if (kindOf(rel) === 'link') throw symlinkRefused(join(root, rel));
    if (kindOf(tempFor(rel)) === 'link') throw symlinkRefused(join(root, tempFor(rel)));
  };
}

/**
 * Whether a file on disk already holds an artifact's contents. Synchronous stats and reads: for
 * metadata and small files in the page cache they cost a fifth of the promise versions
 * (measured: 30,000 lstat calls, 70 ms against 355 ms).
 */
function sameOnDisk(
  root: string,
  previous: PreviousManifest,
  options: { exact: boolean; trustManifest?: boolean },
): (a: Artifact, st: Stats) => boolean {
  const settledDirs = new Map<string, boolean>();
  return (a, st) => {
    if (!st.isFile() || st.size !== artifactSize(a)) return false;
    // The previous manifest holds each file's SHA-256 and size. A file whose status last
    // changed before that manifest was renamed into place (ctime, which no tool can set
    // back) still holds what the manifest says, when the manifest is harvgen's own, untouched
    // since (trustManifest): no need to read it.
    const before = previous.files.get(a.path);
    const trusted =
      !options.exact &&
      options.trustManifest === true &&
      before?.size === st.size &&
      st.ctimeMs < previous.ctimeMs &&
      directoriesSettled(root, a.path, previous.ctimeMs, settledDirs) &&
      artifactSha(a) === before.sha256;
    if (trusted) return true;
    const target = join(root, a.path);
    // A reused file (src/cache/reuse.ts) is what the record says or nothing: never read twice.
    if (isOnDisk(a)) return regularFileSha(target, a.size) === artifactSha(a);
    // A binary made on demand (a boot ISO) by its SHA-256, not made again to compare.
    if (isLazy(a)) return regularFileSha(target, a.size) === a.sha256;
    // A text kept as parts (manifest.json) by its SHA-256, never joined to compare. The
    // manifest.json the record vouched for, unchanged since (same inode, size and ctime), holds
    // the SHA-256 the record lists: another SHA-256 means it differs, without reading 16 MB back.
    // A text set aside on disk (a large site's, src/render/spill.ts) the same way, by its SHA-256.
    if (isParts(a) || isSpilled(a)) {
      const vouched = a.path === LAYOUT.manifest && !options.exact ? previous.manifest : undefined;
      if (vouched && st.ino === vouched.ino && st.ctimeMs === previous.ctimeMs && artifactSha(a) !== vouched.sha256) return false;
      return regularFileSha(target, artifactSize(a)) === artifactSha(a);
    }
    return typeof a.contents === 'string' ? readFileSync(target, 'utf8') === a.contents : sameContents(readFileSync(target), a.contents);
  };
}

/** Path order with manifest.json last and its signature just before it. */
function manifestLast(x: { path: string }, y: { path: string }): number {
  return manifestRank(x.path) - manifestRank(y.path) || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);
}

/** Where a path goes among the last writes: manifest.json last (2), its signature just before it (1), any other file first (0). */
export function manifestRank(path: string): number {
  return path === LAYOUT.manifest ? 2 : path === LAYOUT.manifestSignature ? 1 : 0;
}

/**
 * The files of the previous tree this build no longer produces, sorted. manifest.json.sig is
 * harvgen's by its name, as manifest.json is (never listed in it): a signature this build does
 * not make (signing turned off) is removed with the old tree.
 */
function removalsOf(
  kindOf: KindOf,
  previous: PreviousManifest,
  artifacts: readonly Artifact[],
  checkPath: (rel: string) => void,
): string[] {
  // Loops, not arrays mapped into sets: a site's 39,000 paths in temporary arrays cost more (in
  // fresh pages) than the lookups. No set at all when only the signature is asked about (watch
  // lists no previous paths while every path it wrote last is made again).
  let produced: Set<string> | undefined;
  const made = (p: string): boolean => {
    if (previous.paths.length === 0) return artifacts.some((a) => a.path === p);
    if (!produced) {
      produced = new Set<string>();
      for (const a of artifacts) produced.add(a.path);
    }
    return produced.has(p);
  };
  const removals = new Set<string>();
  const consider = (p: string) => {
    if (removals.has(p) || made(p)) return;
    checkPath(p);
    const kind = kindOf(p);
    if (kind !== undefined && kind !== 'dir') removals.add(p);
  };
  for (const p of previous.paths) consider(p);
  if (kindOf(LAYOUT.manifestSignature) === 'file') consider(LAYOUT.manifestSignature);
  return [...removals].sort();
}

/** What the previous build's manifest.json says, read back from disk. */
export interface PreviousManifest {
  /** Files it wrote: what harvgen owns. */
  readonly paths: readonly string[];
  /** SHA-256 and size of each, as recorded. */
  readonly files: ReadonlyMap<string, { readonly sha256: string; readonly size: number }>;
  /** When manifest.json was renamed into place (0 when there is none). */
  readonly ctimeMs: number;
  /** Paths that are not plain relative paths (as JSON): not owned, reported. */
  readonly untrusted: readonly string[];
  /**
   * manifest.json itself as the up-to-date record vouched for it (src/cache/index.ts,
   * manifestVouched): its SHA-256 and inode; its ctime then is `ctimeMs`. A file with that inode
   * and ctime is that file (any write moves the ctime): a new manifest.json with another SHA-256
   * is written without reading it back; one with the same SHA-256 is still read and compared
   * (trust never skips a write).
   */
  readonly manifest?: { readonly sha256: string; readonly ino: number };
}

/**
 * The previous build's manifest. Untrusted (it is read from disk): a path that is not a plain
 * relative path is not owned; it is returned in `untrusted`.
 */
export function previousManifest(root: string): PreviousManifest {
  const none: PreviousManifest = { paths: [], files: new Map(), ctimeMs: 0, untrusted: [] };
  let manifest: { generator?: unknown; files?: unknown };
  let ctimeMs: number;
  try {
    // Checked by plan() first: manifest.json is an artifact, so it is no link here. Only a
    // regular file is read (a FIFO would block the build forever).
    const st = lstatSync(join(root, LAYOUT.manifest));
    if (!st.isFile() || st.size > MAX_MANIFEST) return none;
    ctimeMs = st.ctimeMs;
    manifest = JSON.parse(readFileSync(join(root, LAYOUT.manifest), 'utf8')) as typeof manifest;
  } catch {
    return none;
  }
  if (manifest?.generator !== 'harvgen' || !Array.isArray(manifest.files)) return none;
  const paths: string[] = [];
  const files = new Map<string, { sha256: string; size: number }>();
  const untrusted: string[] = [];
  for (const f of manifest.files as unknown[]) {
    const { path: p, sha256, size } = (f ?? {}) as { path?: unknown; sha256?: unknown; size?: unknown };
    if (typeof p !== 'string' || !isSafeRelativePath(p)) {
      untrusted.push(JSON.stringify(p) ?? String(p));
      continue;
    }
    paths.push(p);
    if (typeof sha256 === 'string' && typeof size === 'number') files.set(p, { sha256, size });
  }
  return { paths, files, ctimeMs, untrusted };
}
