// The git side of one site's publish (src/publish/site-artifact.ts): which inputs git is
// asked about, the commit that holds them and the uncommitted changes (provenance.ts gitState),
// and what publish says of a site whose inputs no commit holds (PUBLISH_DIRTY).
import { realpathSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { InputStamp } from '../load/stamps.ts';
import type { GitChanges } from './git-changes.ts';
import { gitState, type GitState } from './provenance.ts';

/** A site's inputs as git is asked about them, and what git says. */
export interface SiteGit {
  /** The site's own inputs: its directory, the files read outside it, the targets of the links it read through. */
  readonly tracked: string[];
  /** Every input git could report a change of: those, and every other input read (layers, profiles, secret files). */
  readonly watched: string[];
  readonly git: GitState | undefined;
}

/** What the site's compile read: its sources (paths as its diagnostics name them, from `cwd`) and its stamps. */
export async function siteGit(
  dir: string,
  read: { readonly cwd?: string | undefined; readonly sources: readonly string[]; readonly stamps?: readonly InputStamp[] | undefined },
  answers?: GitChanges,
): Promise<SiteGit> {
  const siteDir = resolve(dir);
  const sources = read.sources.map((p) => resolve(read.cwd ?? process.cwd(), p));
  const outside = (f: string) => !f.startsWith(`${siteDir}/`) && f !== siteDir && !f.endsWith('/.git');
  const stamped = (read.stamps ?? []).map((st) => st[0]);
  // A file read through a link (a node file, a directory of them) is its target: git answers for
  // the site directory's link, not for what it points at elsewhere in the work tree.
  const linked = linkTargets(siteDir, [...sources, ...stamped]);
  const tracked = [...new Set([siteDir, ...sources.filter(outside), ...linked])].sort();
  // Uncommitted changes count in every input read (layers, profiles, secret files), not only the YAML the commit is taken of.
  const watched = [...new Set([...tracked, ...stamped.filter(outside)])].sort();
  const git = await gitState(siteDir, { paths: tracked, watched, stamps: read.stamps, answers });
  return { tracked, watched, git };
}

/** The real paths of the inputs in the site directory reached through a link and lying outside it. */
function linkTargets(siteDir: string, paths: readonly string[]): string[] {
  let realSite: string;
  try {
    realSite = realpathSync(siteDir);
  } catch {
    return [];
  }
  const targets: string[] = [];
  for (const p of paths) {
    if (!p.startsWith(`${siteDir}/`)) continue;
    let real: string;
    try {
      real = realpathSync(p);
    } catch {
      continue; // not there (an input looked for): nothing to follow
    }
    if (real !== join(realSite, relative(siteDir, p)) && !real.startsWith(`${realSite}/`)) targets.push(real);
  }
  return targets;
}

/** The uncommitted changes of a site's inputs, listed (the first few). */
function changedList(changed: readonly string[]): string {
  const shown = changed.slice(0, 5).join(', ');
  return changed.length > 5 ? `${shown} and ${changed.length - 5} more` : shown;
}

/** Why git status did not show some of them: their index entries are marked. */
function hiddenNote(hidden: readonly string[]): string {
  return hidden.length === 0
    ? ''
    : `; git status does not show ${changedList(hidden)}: marked skip-worktree or assume-unchanged, it differs from what the index holds`;
}

/** A site whose inputs have uncommitted changes: refused, the `<site>-<commit>` tag would name what no commit holds. */
export function dirtyProblem(site: string, dir: string, git: Pick<GitState, 'commit' | 'changed' | 'hidden'>): Diagnostic {
  return {
    code: 'PUBLISH_DIRTY',
    severity: 'error',
    message: `${site} has uncommitted changes (${changedList(git.changed)}${hiddenNote(git.hidden)}): published now, the tag ${site}-${git.commit.slice(0, 12)} would name inputs that commit does not hold`,
    hint:
      git.hidden.length > 0
        ? 'Commit the changes first (`git update-index --no-skip-worktree --no-assume-unchanged <file>` shows them to git), then publish. To publish them anyway, add --allow-dirty: the artifact is then tagged <site>-<commit>-dirty-<digest>, never <site>-<commit>.'
        : 'Commit the changes first (`git add` and `git commit`), then publish. To publish them anyway, add --allow-dirty: the artifact is then tagged <site>-<commit>-dirty-<digest>, never <site>-<commit>.',
    file: join(dir, 'site.yaml'),
  };
}

/** `--allow-dirty` said out loud: what was published, and under which tag. */
export function dirtyWarning(site: string, tags: readonly string[], changed: readonly string[]): Diagnostic {
  return {
    code: 'PUBLISH_DIRTY',
    severity: 'warning',
    message: `${site} is published with uncommitted changes (${changedList(changed)}), tagged ${tags.join(' and ')}: no commit holds these inputs`,
    hint: 'Commit the changes and publish again, so that the site is tagged with the commit that holds them.',
  };
}
