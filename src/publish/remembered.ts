// What publish remembers of the sites it published, used (src/publish/state.ts holds the state and
// its checks): a site whose inputs did not change since is answered without compiling it, once
// the registry's tag (one request) still names its digest; a site just published is remembered,
// or forgotten when it was dirty or not wholly stamped.
import { join, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { InputStamp } from '../load/stamps.ts';
import type { InputsRead } from '../pipeline.ts';
import type { SiteArtifact } from './artifact.ts';
import { readRecordText, recordText, writeRecordText, type FleetRecord } from './record.ts';
import type { Sink } from './sink.ts';
import { gitPaths, gitPathsWithin, GitChanges } from './git-changes.ts';
import { changedSince, dropState, loadState, saveState, stateKeyOf, type PublishedAnswer } from './state.ts';
import type { PublishRunOptions, PublishSite } from './types.ts';

/** What remembering needs of a run's options: where records go, the state's key, the sinks. */
type RememberOptions = Pick<PublishRunOptions, 'registry' | 'releasesDir' | 'cwd' | 'env' | 'dryRun' | 'recordDir'> & {
  readonly sinkFor: (repository: string) => Pick<Sink, 'resolveTag'>;
};

/** What a site's publish read: the deploy compile's inputs, the tracked inputs and every input git could report a change of, the release files. */
export interface SiteRead {
  readonly inputs?: InputsRead;
  readonly paths: readonly string[];
  readonly watched: readonly string[];
  readonly releases: readonly InputStamp[];
}

/**
 * A site answered from what the last publish remembered (src/publish/state.ts), not compiled:
 * undefined unless every input holds, no commit touched one, and the registry's tag (one request)
 * still names the digest. Its record is written again only when it differs on disk.
 */
export async function unchanged(dir: string, options: RememberOptions, git: GitChanges): Promise<PublishSite | undefined> {
  const state = loadState(stateKeyOf(dir, options));
  if (!state || changedSince(state, options.env ?? process.env, git) !== undefined) return undefined;
  const p = state.published;
  try {
    if ((await options.sinkFor(p.repository).resolveTag(p.tag)) !== p.digest) return undefined;
  } catch {
    return undefined; // the full run says what the registry answered
  }
  if (!options.dryRun && options.recordDir !== null) {
    const file = join(resolve(options.cwd ?? process.cwd(), options.recordDir ?? 'published'), `${p.site}.json`);
    if (readRecordText(file) !== p.record) writeRecordText(file, p.record);
  }
  return answeredSite(dir, p.site, p);
}

/** A site answered without compiling it, from what its last publish answered (this machine's state or the fleet state). */
export function answeredSite(dir: string, site: string, p: PublishedAnswer): PublishSite {
  return {
    dir,
    site,
    repository: p.repository,
    digest: p.digest,
    tags: p.tags,
    files: p.files,
    nodes: p.nodes,
    previous: p.digest,
    unchanged: true,
    diagnostics: p.diagnostics,
  };
}

/** What a site just published answered: kept by this machine's state and the fleet state. */
export function publishedAnswer(
  built: { artifact: SiteArtifact; record: FleetRecord; repository: string },
  tags: readonly string[],
  diagnostics: readonly Diagnostic[],
): PublishedAnswer {
  return {
    repository: built.repository,
    digest: built.artifact.index.digest,
    tag: built.record.tag,
    tags,
    files: { public: built.artifact.counts.public, sealed: built.artifact.counts.sealed },
    nodes: built.artifact.counts.nodes,
    diagnostics,
  };
}

/** The work tree's top and its HEAD, for a site about to be compiled; undefined outside git or in a shallow clone. */
export function headBefore(dir: string, git: GitChanges): { top: string; head: string } | undefined {
  const top = git.toplevel(resolve(dir));
  const head = top !== undefined && !git.isShallow(top) ? git.head(top) : undefined;
  return top !== undefined && head !== undefined ? { top, head } : undefined;
}

/** Keep what was just published (a clean site whose every input was stamped, in a git work tree), or forget it. */
export function remember(
  dir: string,
  options: RememberOptions,
  at: { top: string; head: string } | undefined,
  built: { artifact: SiteArtifact; record: FleetRecord; repository: string; dirty?: string[]; read: SiteRead },
  tags: readonly string[],
  diagnostics: readonly Diagnostic[],
): void {
  const key = stateKeyOf(dir, options);
  const inputs = built.read.inputs;
  const paths = at !== undefined ? gitPaths(at.top, built.read.paths) : undefined;
  if (built.dirty || !inputs?.complete || at === undefined || paths === undefined) {
    dropState(key);
    return;
  }
  saveState({
    key,
    inputs: inputs.stamps,
    env: inputs.env ?? [],
    releases: built.read.releases,
    git: { root: at.top, head: at.head, paths, watched: gitPathsWithin(at.top, built.read.watched) },
    published: { site: built.artifact.site, ...publishedAnswer(built, tags, diagnostics), record: recordText(built.record) },
  });
}
