// The provenance of a published site (the site part's config, signed; docs/dev/fleet-format.md):
// what it was built from and where the boot server puts it. No secret: inventory YAML files only.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { InputStamp } from '../load/stamps.ts';
import { GitChanges } from './git-changes.ts';
import { STATUS_ARGS, statusPaths, TRUSTED_GIT } from './git-trust.ts';

export interface ProvenanceRelease {
  readonly arch: string;
  readonly dir: string;
  readonly files: readonly { readonly name: string; readonly sha256: string; readonly size: number }[];
  readonly version: string;
}

/** Keys in alphabetical order (the object is serialized as built). */
export interface Provenance {
  readonly format: 1;
  readonly git: { readonly commit: string; readonly dirty: boolean } | null;
  readonly harvgen: string;
  /**
   * The inventory YAML files read (never a secret file): how many, and the SHA-256 of their
   * `sha256sum` listing (`<hex>  <path from the repository root>` lines, sorted by path), so
   * anyone with the commit can recompute it; one line whatever the number of nodes.
   */
  readonly inputs: { readonly files: number; readonly sha256: string };
  readonly manifest_sha256: string;
  readonly releases: readonly ProvenanceRelease[];
  readonly serial: number;
  readonly serve: { readonly boot_server: string; readonly root: string };
  readonly site: string;
}

/** What gitState asks about a site. */
export interface GitQuestion {
  /** The site's own inputs (its directory, the shared layers it read, the targets of its links): the commit is the last that changed them. */
  readonly paths: readonly string[];
  /** Every input read (layers, profiles, secret files): an uncommitted change to any is a change. */
  readonly watched: readonly string[];
  /** What the compile read (its stamps): with them, this run's one status may answer (GitChanges.changesFor). */
  readonly stamps?: readonly InputStamp[] | undefined;
  /** This run's answers from git; without it, git is asked for this site alone. */
  readonly answers?: GitChanges | undefined;
}

/** A site's git state: the commit, its time (the serial), the changed inputs, and which of them git status does not show. */
export interface GitState {
  readonly commit: string;
  readonly dirty: boolean;
  readonly changed: string[];
  /** Changed inputs whose index entry is marked skip-worktree or assume-unchanged (git status does not show them). */
  readonly hidden: string[];
  readonly serial: number;
}

/**
 * The last commit that changed the site's own inputs, its committer time (the serial), and the
 * uncommitted changes (staged, unstaged, untracked and not ignored) to those or to `watched`, with
 * nothing git was told to skip skipped (git-trust.ts: marked index entries compared by content,
 * fsmonitor off, submodules looked into, a file in one asked about as its submodule). A commit
 * elsewhere in the repository changes neither, so it does not give every site of a fleet a new
 * artifact (and every boot server a pull).
 */
export async function gitState(dir: string, question: GitQuestion): Promise<GitState | undefined> {
  // Not synchronous: while git runs, the sites being sent go on (publish compiles one site while it sends two).
  const git = (...args: string[]) =>
    new Promise<string>((done, fail) =>
      execFile('git', [...TRUSTED_GIT, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (e, out) =>
        e ? fail(e) : done(out),
      ),
    );
  const answers = question.answers ?? new GitChanges();
  try {
    const walked = answers.lastCommit(dir, question.paths);
    const [commit, time] = walked
      ? [walked.commit, String(walked.serial)]
      : (await git('log', '-1', '--format=%H %ct', 'HEAD', '--', ...(answers.pathspecs(dir, question.paths) ?? question.paths)))
          .trim()
          .split(' ');
    if (commit === undefined || !/^[0-9a-f]{40}$/.test(commit)) return undefined;
    const hidden = answers.hiddenFor(dir, question.watched);
    if (hidden === undefined) return undefined;
    const changed =
      answers.changesFor(dir, question.watched, question.stamps) ??
      statusPaths(await git(...STATUS_ARGS, '--', ...(answers.pathspecs(dir, question.watched) ?? question.watched)));
    const all = [...new Set([...changed, ...hidden])];
    const serial = Number(time);
    return { commit, dirty: all.length > 0, changed: all, hidden, serial: Number.isSafeInteger(serial) ? serial : 0 };
  } catch {
    return undefined;
  }
}

/** The inventory files read, as the SHA-256 of their `sha256sum` listing (paths from the repository root, sorted). */
export function inputHashes(files: readonly string[], root: string): Provenance['inputs'] {
  const lines = files
    .map((f) => ({ path: relative(root, resolve(f)), sha256: createHash('sha256').update(readFileSync(f)).digest('hex') }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.path}\n`)
    .join('');
  return { files: files.length, sha256: createHash('sha256').update(lines).digest('hex') };
}
