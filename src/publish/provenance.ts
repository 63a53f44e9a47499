// The provenance of a published site (the site part's config, signed; docs/dev/fleet-format.md):
// what it was built from and where the boot server puts it. No secret: inventory YAML files only.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

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

/**
 * The last commit that changed the site's own inputs (its directory and the shared layers it
 * read, `paths`), its committer time (the serial), and the uncommitted changes (staged, unstaged,
 * untracked and not ignored) to those or to `watched` (every input read: layers, profiles, secret
 * files). A commit elsewhere in the repository changes neither, so it does not give every site of a
 * fleet a new artifact (and every boot server a pull).
 */
export async function gitState(
  dir: string,
  paths: readonly string[],
  watched: readonly string[] = paths,
  /** The changes to `watched` when known without asking git (GitChanges.changesFor), else undefined. */
  known?: () => string[] | undefined,
  /** The last commit that changed `paths` when known without asking git (GitChanges.lastCommit), else undefined. */
  last?: () => { commit: string; serial: number } | undefined,
): Promise<{ commit: string; dirty: boolean; changed: string[]; serial: number } | undefined> {
  // Not synchronous: while git runs, the sites being sent go on (publish compiles one site while it sends two).
  const git = (...args: string[]) =>
    new Promise<string>((done, fail) =>
      execFile('git', args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (e, out) =>
        e ? fail(e) : done(out),
      ),
    );
  try {
    const walked = last?.();
    const [commit, time] = walked
      ? [walked.commit, String(walked.serial)]
      : (await git('log', '-1', '--format=%H %ct', 'HEAD', '--', ...paths)).trim().split(' ');
    if (commit === undefined || !/^[0-9a-f]{40}$/.test(commit)) return undefined;
    // `-z`: one NUL-terminated `XY path` entry each (a rename's old path follows as an entry of its own).
    const changed =
      known?.() ??
      (await git('status', '--porcelain', '-z', '--', ...watched))
        .split('\0')
        .filter((e) => /^[ MADRCU?!]{2} /.test(e))
        .map((e) => e.slice(3));
    const serial = Number(time);
    return { commit, dirty: changed.length > 0, changed, serial: Number.isSafeInteger(serial) ? serial : 0 };
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
