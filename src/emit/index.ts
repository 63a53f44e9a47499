// Stage 5, emit: the only stage that touches the output directory. Each file is written to
// a temporary name and renamed into place; identical files are not rewritten (mtimes stay,
// rsync stays quiet); files that the previous build wrote (per its manifest.json) and this
// one does not are removed. manifest.json is written last. Files harvgen never wrote are
// left alone.
import { chmod, lstat, mkdir, readFile, readdir, realpath, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Artifact } from '../render/index.ts';
import { isSafeRelativePath } from '../render/index.ts';

/** What emitting (or comparing) one site did. */
export interface EmitResult {
  /** Files written because they were new or different. */
  readonly written: readonly string[];
  /** Files the previous build produced that are gone now. */
  readonly removed: readonly string[];
  /** Files already up to date. */
  readonly unchanged: readonly string[];
}

/** Options for emitting one site. */
export interface EmitOptions {
  /** Compare only: report what would change, write nothing. */
  readonly dryRun?: boolean;
}

/** Write the artifacts of one site into `dir` (created when missing). */
export async function emitSite(dir: string, artifacts: readonly Artifact[], options: EmitOptions = {}): Promise<EmitResult> {
  const root = resolve(dir);
  const written: string[] = [];
  const unchanged: string[] = [];
  const previous = await previousFiles(root);
  const produced = new Set(artifacts.map((a) => a.path));
  // manifest.json last: if anything fails before it, the old manifest still lists what to clean.
  const ordered = [...artifacts].sort((a, b) => Number(a.path === 'manifest.json') - Number(b.path === 'manifest.json'));
  for (const a of ordered) {
    const target = insideOrThrow(root, a.path);
    const same = await readFile(target, 'utf8').then(
      (t) => t === a.contents,
      () => false,
    );
    const modeOk = same && ((await lstat(target)).mode & 0o777) === a.mode;
    if (same && modeOk) {
      unchanged.push(a.path);
      continue;
    }
    written.push(a.path);
    if (options.dryRun) continue;
    await mkdir(dirname(target), { recursive: true });
    await assertNoLinkEscape(root, target);
    if (same) {
      await chmod(target, a.mode);
      continue;
    }
    const tmp = join(dirname(target), `.${a.path.split('/').pop()}.harvgen-${process.pid}.tmp`);
    try {
      await writeFile(tmp, a.contents, { mode: a.mode });
      await chmod(tmp, a.mode);
      await rename(tmp, target);
    } finally {
      await rm(tmp, { force: true });
    }
  }
  const removed = previous.filter((p) => !produced.has(p) && isSafeRelativePath(p)).sort();
  if (!options.dryRun) {
    for (const p of removed) {
      const target = insideOrThrow(root, p);
      await rm(target, { force: true });
      await removeEmptyParents(root, dirname(target));
    }
  }
  return { written: written.sort(), removed, unchanged: unchanged.sort() };
}

async function previousFiles(root: string): Promise<string[]> {
  try {
    const manifest = JSON.parse(await readFile(join(root, 'manifest.json'), 'utf8')) as {
      generator?: string;
      files?: { path?: unknown }[];
    };
    if (manifest.generator !== 'harvgen' || !Array.isArray(manifest.files)) return [];
    return manifest.files.map((f) => f.path).filter((p): p is string => typeof p === 'string');
  } catch {
    return [];
  }
}

function insideOrThrow(root: string, path: string): string {
  const target = resolve(root, path);
  const rel = relative(root, target);
  if (!isSafeRelativePath(path) || rel.startsWith('..') || rel.split(sep).includes('..')) {
    throw new Error(`refusing to touch ${path}: outside ${root}`);
  }
  return target;
}

/** A symlinked directory (or file) inside the output must not redirect a write elsewhere. */
async function assertNoLinkEscape(root: string, target: string): Promise<void> {
  const realRoot = await realpath(root);
  const realDir = await realpath(dirname(target));
  if (realDir !== realRoot && !realDir.startsWith(realRoot + sep))
    throw new Error(`refusing to write ${target}: ${dirname(target)} leads outside the output directory`);
  const st = await lstat(target).catch(() => undefined);
  if (st?.isSymbolicLink()) throw new Error(`refusing to write ${target}: it is a symbolic link`);
}

async function removeEmptyParents(root: string, dir: string): Promise<void> {
  let d = dir;
  while (d.startsWith(root + sep)) {
    const entries = await readdir(d).catch(() => ['?']);
    if (entries.length > 0) return;
    await rmdir(d).catch(() => undefined);
    d = dirname(d);
  }
}
