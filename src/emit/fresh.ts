// A site's first build, when its directory is not there yet: every file written once, straight
// into a staging directory beside it (`.<site>.harvgen-staging-<pid>`), which one rename(2) then
// puts in place. No temp per file, no journal, no rename per file: a killed run leaves no site
// directory at all (never a torn one) and a staging directory the next first build of that site
// removes. Nothing goes through a link: the staging directory is made exclusively, each
// directory in it one level at a time and checked, each file with O_EXCL.
import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeDirs, makeStaging, releaseStaging, stagingPath } from '../durable/staging.ts';
import { isSpilled, type Artifact } from '../render/artifact.ts';
import { crashPoint } from '../durable/crash-point.ts';
import { manifestRank, type EmitResult } from './plan.ts';
import { NewFiles } from './write-file.ts';

export { STAGING_MARK } from '../durable/staging.ts';

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
 * directory renamed into place: the one its render already wrote its texts to (src/render/spill.ts),
 * or one of its own. Undefined when another build made `root` meanwhile (the caller then writes as
 * it would into an existing tree; a staging directory of its own is removed, the render's is read
 * from and discarded by its build).
 */
export function emitFresh(root: string, artifacts: readonly Artifact[]): EmitResult | undefined {
  const parent = dirname(root);
  const staging = stagingPath(parent, basename(root));
  // The render's: the texts in it are not written again (those it holds back are written first).
  const spilled = artifacts.find(isSpilled);
  spilled?.spill.flush();
  const staged = spilled?.stagedIn === staging ? spilled.spill : undefined;
  // Otherwise one of its own; none when another build of this process holds that name: the usual way then.
  if (!staged && makeStaging(parent, basename(root)) === undefined) return undefined;
  // A staging directory of its own is removed when this fails; the render's, by its build.
  const drop = () => {
    if (staged) return;
    rmSync(staging, { recursive: true, force: true });
    releaseStaging(staging);
  };
  try {
    const made = new Set<string>();
    const files = new NewFiles();
    let n = 0;
    // manifest.json (and its signature) last, as the journal renames them: every other file is
    // then older than the manifest that lists it, which the next build's check relies on.
    for (const a of manifestLast(artifacts)) {
      if (staged && isSpilled(a) && a.stagedIn === staging) continue;
      const file = join(staging, a.path);
      makeDirs(staging, dirname(file), made);
      files.write(file, a, a.mode);
      crashPoint('staged', ++n);
    }
    crashPoint('before-staging-rename');
  } catch (e) {
    drop();
    throw e;
  }
  try {
    renameSync(staging, root);
  } catch (e) {
    drop();
    if (taken(e)) return undefined;
    throw e;
  }
  if (staged) staged.adopt(root);
  else releaseStaging(staging);
  const paths = artifacts.map((a) => a.path);
  // In the order plan() gives them (code unit order; a render's files already are).
  if (paths.some((p, i) => i > 0 && paths[i - 1]! > p)) paths.sort();
  return { written: paths, missing: paths.slice(), removed: [], unchanged: [] };
}
