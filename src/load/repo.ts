// The repository boundary of a site: the one directory below which harvgen reads anything the
// inventory names (site.yaml, node files, the shared layers, secret files, cloud-init user-data
// files, iPXE binaries), by real path, so that no symbolic link and no `../` can make it read a
// file of the build machine into a code frame or the served tree.
//
// The boundary is never guessed. It is the nearest directory at or above the site directory (its
// real path) that holds a `.git` directory or file (a checkout, a worktree or a submodule). A
// contributor cannot plant one: git refuses to check out any path with a `.git` component. When
// there is none, or the nearest one is `/` or a home directory (a dotfiles repository), the
// boundary is the site directory alone: the shared layers and secret files beside it are then
// refused with a diagnostic saying to put the sites in a git repository.
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { isInside } from './files.ts';

/** Where a site's inputs may come from. */
export interface RepoBoundary {
  /** Real path of the boundary directory: nothing outside it is read. */
  readonly root: string;
  /** Real path of the site directory (inside `root`, or `root` itself). */
  readonly site: string;
  /** `git`: the nearest directory with a `.git` directory or file; `site`: the site directory alone. */
  readonly kind: 'git' | 'site';
  /** With `site`: why no repository was taken. */
  readonly reason?: string;
}

/** A `.git` directory or regular file (not a link, not anything else) directly in `dir`. */
function hasGit(dir: string): boolean {
  try {
    const st = lstatSync(join(dir, '.git'));
    return st.isDirectory() || st.isFile();
  } catch {
    return false;
  }
}

/** `/`, a home directory (`~`, `/root`, `/home`, `/home/<user>`): never a repository boundary. */
function isTooWide(dir: string): boolean {
  if (dirname(dir) === dir || dir === '/root' || dir === '/home' || dirname(dir) === '/home') return true;
  const home = homedir();
  return home !== '' && (dir === resolve(home) || dir === realPathOf(home));
}

/** The repository boundary of a site directory (absolute, or relative to the process's cwd). */
export function repoBoundary(siteDir: string): RepoBoundary {
  const site = realPathOf(resolve(siteDir));
  for (let d = site; ; d = dirname(d)) {
    if (hasGit(d)) {
      if (isTooWide(d) && d !== site) {
        return {
          root: site,
          site,
          kind: 'site',
          reason: `the nearest .git is in ${d}, a home directory or /, which harvgen never takes as a repository`,
        };
      }
      return { root: d, site, kind: 'git' };
    }
    if (dirname(d) === d) return { root: site, site, kind: 'site', reason: 'no directory at or above it has a .git directory or file' };
  }
}

/**
 * The real path of `path`, also when it does not exist (yet): the real path of its longest
 * existing prefix, a dangling link followed to where it points. Never throws.
 */
export function realPathOf(path: string, depth = 0): string {
  try {
    return realpathSync(path);
  } catch {
    // not there, or a dangling link or a loop below: resolve what exists
  }
  const parent = dirname(path);
  if (parent === path || depth > 40) return path;
  const joined = join(realPathOf(parent, depth + 1), basename(path));
  try {
    if (lstatSync(joined).isSymbolicLink()) return realPathOf(resolve(dirname(joined), readlinkSync(joined)), depth + 1);
  } catch {
    // does not exist
  }
  return joined;
}

/** The rule, for messages: which directory is the boundary and why. */
export function describeBoundary(repo: RepoBoundary): string {
  return repo.kind === 'git'
    ? `the repository ${repo.root} (the nearest directory above the site with a .git)`
    : `the site directory ${repo.root} (${repo.reason ?? 'no repository'}; outside a git repository harvgen reads only the site directory)`;
}

/** The boundary directory `root` (a real path, as `RepoBoundary.root`) described from the file system alone. */
export function describeRoot(root: string): string {
  return existsSync(join(root, '.git'))
    ? `the repository ${root} (the nearest directory above the site with a .git)`
    : `the site directory ${root} (no git repository above it: outside a git repository harvgen reads only the site directory)`;
}

/** What to do about a refusal. */
export function boundaryHint(repo: RepoBoundary | string): string {
  const kind = typeof repo === 'string' ? (existsSync(join(repo, '.git')) ? 'git' : 'site') : repo.kind;
  return kind === 'git'
    ? 'harvgen reads nothing outside the repository of the site, not even through a symbolic link: move the file into the repository (a link that stays inside is fine).'
    : 'Put the sites in a git repository (`git init` in the directory that holds sites/): without one harvgen reads nothing outside the site directory, so shared layers and files beside it are refused.';
}

/**
 * Why `path` (absolute) may not be read: its real path is outside the boundary; undefined when
 * it is inside (or a link that stays inside).
 */
export function outsideProblem(path: string, repo: RepoBoundary | string): string | undefined {
  const root = typeof repo === 'string' ? realPathOf(repo) : repo.root;
  const real = realPathOf(path);
  if (isInside(real, root)) return undefined;
  const via = real !== resolve(path) ? ` (it resolves to ${real})` : '';
  return `is outside ${typeof repo === 'string' ? describeRoot(root) : describeBoundary(repo)}${via}`;
}

/** LOAD_OUTSIDE_REPOSITORY for an inventory file or directory found (not named) outside the boundary, at the file itself. */
export function outsideDiagnostic(display: string, problem: string, repo: RepoBoundary): Diagnostic {
  return {
    code: 'LOAD_OUTSIDE_REPOSITORY',
    severity: 'error',
    message: `${display} ${problem}: it was not read`,
    hint: boundaryHint(repo),
    file: display,
  };
}
