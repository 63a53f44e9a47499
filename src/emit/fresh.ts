// A site's first build, when its directory is not there yet: every file written once, straight
// into a staging directory beside it (`.<site>.harvgen-staging-<pid>`), which one rename(2) then
// puts in place. No temp per file, no journal, no rename per file: a killed run leaves no site
// directory at all (never a torn one) and a staging directory the next first build of that site
// removes. Nothing goes through a link: the staging directory is made exclusively, each
// directory in it one level at a time and checked, each file with O_EXCL.
import { lstatSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { removeStaleTemps } from '../durable/index.ts';
import type { Artifact } from '../render/artifact.ts';
import { crashPoint } from './journal.ts';
import { manifestRank, type EmitResult } from './plan.ts';
import { NewFiles } from './write-file.ts';

/** What names a staging directory: `.<site>` + this + the writer's pid. */
export const STAGING_MARK = '.harvgen-staging-';

/** The names of `site`'s staging directories, the writer's pid in the first group. */
function stagingNames(site: string): RegExp {
  const literal = (t: string) => t.replace(/[.]/g, '\\.');
  return new RegExp(`^\\.${literal(site)}${literal(STAGING_MARK)}(\\d+)$`);
}

/** Make each directory from `root` down to `dir` that is missing, one level at a time; refuse anything that is not a directory. */
function makeDirs(root: string, dir: string, made: Set<string>): void {
  if (dir === root || made.has(dir)) return;
  makeDirs(root, dirname(dir), made);
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // lstat: a link someone put there is not a directory.
  if (!lstatSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  made.add(dir);
}

/** The artifacts in their order, with manifest.json's signature and then manifest.json moved to the end (as plan() renames them). */
function manifestLast(artifacts: readonly Artifact[]): Artifact[] {
  const others = artifacts.filter((a) => manifestRank(a.path) === 0);
  const last = artifacts.filter((a) => manifestRank(a.path) !== 0).sort((x, y) => manifestRank(x.path) - manifestRank(y.path));
  return [...others, ...last];
}

/** Whether an error of rename(2) means the site directory appeared meanwhile (another build made it). */
const taken = (e: unknown) => ['EEXIST', 'ENOTEMPTY', 'ENOTDIR', 'EISDIR'].includes((e as NodeJS.ErrnoException).code ?? '');

/**
 * Write every artifact of a site whose directory `root` does not exist, through a staging
 * directory renamed into place. Undefined when another build made `root` meanwhile (nothing of
 * this one is left: the caller then writes as it would into an existing tree).
 */
export function emitFresh(root: string, artifacts: readonly Artifact[]): EmitResult | undefined {
  const parent = dirname(root);
  mkdirSync(parent, { recursive: true });
  // What a killed first build of this site left (its writer's pid gone).
  removeStaleTemps(parent, stagingNames(basename(root)));
  const staging = join(parent, `.${basename(root)}${STAGING_MARK}${process.pid}`);
  mkdirSync(staging);
  try {
    const made = new Set<string>();
    const files = new NewFiles();
    let n = 0;
    // manifest.json (and its signature) last, as the journal renames them: every other file is
    // then older than the manifest that lists it, which the next build's check relies on.
    for (const a of manifestLast(artifacts)) {
      const file = join(staging, a.path);
      makeDirs(staging, dirname(file), made);
      files.write(file, a, a.mode);
      crashPoint('staged', ++n);
    }
    crashPoint('before-staging-rename');
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  try {
    renameSync(staging, root);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    if (taken(e)) return undefined;
    throw e;
  }
  const paths = artifacts.map((a) => a.path);
  // In the order plan() gives them (code unit order; a render's files already are).
  if (paths.some((p, i) => i > 0 && paths[i - 1]! > p)) paths.sort();
  return { written: paths, missing: paths.slice(), removed: [], unchanged: [] };
}
