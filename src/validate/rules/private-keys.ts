// The site's private keys (`signing.private_key`, `publish.key`) given as `{ file }` must stay out of
// git: a key file git tracks, or one the repository does not ignore (a `git add -A` away from being
// committed), is SECRET_KEY_NOT_IGNORED at the key that names it. One git call per site for every
// key file (`git ls-files --cached --others --exclude-standard`: what it lists is tracked, or
// untracked and not ignored), bounded in time, no shell; publish keeps the answers for its run and
// asks about the directories that hold key files, so its two compiles of a site, and the sites
// that keep their keys in one directory, ask once. Not in a git repository, or git missing:
// nothing to say. Unlike the other rules it reads the file system (git's index and ignore files),
// so it runs beside them once per compile, from the site directory (src/pipeline.ts).
import { spawnSync } from 'node:child_process';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../../diagnostics/types.ts';
import type { Locator } from '../../load/locate.ts';
import type { RepoBoundary } from '../../load/repo.ts';
import type { InventoryPath } from '../../util/paths.ts';
import { findingToDiagnostic } from '../finding.ts';

/** The inventory keys that name a private key, and what each key is called in a message. */
const PRIVATE_KEYS: readonly { readonly at: InventoryPath; readonly what: string }[] = [
  { at: ['signing', 'private_key'], what: 'the signing key' },
  { at: ['publish', 'key'], what: 'the publishing key' },
  { at: ['publish', 'cosign_key'], what: 'the cosign key' },
];

/** git's answers for one run (publish), by repository root and a directory of key files (or one key file): the paths it listed, or undefined (it could not tell). */
export type KeyFileAnswers = Map<string, Set<string> | undefined>;

/** The longest git may take (a huge index on a slow disk); then nothing is said. */
const GIT_TIMEOUT_MS = 10_000;

/** A key file named by the inventory: its key, and its path as git is asked about it. */
interface KeyFile {
  readonly at: InventoryPath;
  readonly what: string;
  readonly written: string;
  /** Relative to the repository root, `/`-separated. */
  readonly path: string;
}

/**
 * SECRET_KEY_NOT_IGNORED for each private key file git tracks or does not ignore, positioned at the
 * key that names it. `input` as loaded (unvalidated: only `{ file: <string> }` values count).
 */
export function privateKeyFindings(
  input: unknown,
  locate: Locator,
  cwd: string,
  repo: RepoBoundary | undefined,
  answers?: KeyFileAnswers,
): Diagnostic[] {
  if (repo?.kind !== 'git') return [];
  const keys = keyFiles(input, locate, cwd, repo.root);
  if (keys.length === 0) return [];
  const exposed = answers
    ? exposedInRun(repo.root, keys, answers)
    : notIgnored(
        repo.root,
        keys.map((k) => k.path),
      );
  if (exposed === undefined) return [];
  return keys
    .filter((k) => exposed.has(k.path))
    .map((k) =>
      findingToDiagnostic(
        {
          code: 'SECRET_KEY_NOT_IGNORED',
          message: `${k.what} ${k.written} is tracked by git or not ignored by it: \`git add -A\` would commit a private key (${k.path} in the repository)`,
          hint: `Keep private keys where the repository ignores them: add a line \`${ignoreLine(k.path)}\` to its .gitignore (and \`git rm --cached ${k.path}\` if it is committed already; then make a new key, the old one has left).`,
          at: k.at,
          target: 'key',
        },
        locate,
      ),
    );
}

/** The `{ file }` private keys of the inventory, each resolved as the secret reader resolves it (from the file that names it). */
function keyFiles(input: unknown, locate: Locator, cwd: string, root: string): KeyFile[] {
  const out: KeyFile[] = [];
  for (const { at, what } of PRIVATE_KEYS) {
    let v: unknown = input;
    for (const k of at) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
    const written = (v as { file?: unknown } | undefined)?.file;
    if (typeof written !== 'string' || written === '') continue;
    const abs = resolve(cwd, dirname(locate(at)?.file ?? '.'), written);
    const rel = relative(root, abs);
    // Outside the repository: git cannot commit it (and the loader refuses it).
    if (rel === '' || rel.startsWith('..') || resolve(root, rel) !== abs) continue;
    out.push({ at, what, written, path: rel.split(sep).join('/') });
  }
  return out;
}

/**
 * Within a run (publish of many sites), git is asked about the directories that hold key files, each
 * once: the sites of a fleet keep their keys in one directory (`secrets/` at the root) or each in its
 * own (`sites/<site>/secrets/`, answered from the one listing of `sites/` that listSitesForKeys
 * made), so a run of 1,000 sites asks once or twice instead of once per site (a process each,
 * 7 ms of this one's time).
 * What a directory's listing says of a file is what git says of the file itself. A key at the
 * repository's root, or a directory whose listing is too long or that git cannot list, is asked
 * about as files. Undefined: git cannot tell.
 */
function exposedInRun(root: string, keys: readonly KeyFile[], answers: KeyFileAnswers): Set<string> | undefined {
  const exposed = new Set<string>();
  for (const k of keys) {
    const slash = k.path.lastIndexOf('/');
    let listed: Set<string> | undefined;
    if (slash > 0) {
      const dir = k.path.slice(0, slash);
      listed = covering(root, dir, answers);
      const asked = `${root}\0dir\0${dir}`;
      if (listed === undefined && !answers.has(asked)) {
        listed = notIgnored(root, [dir], DIR_LISTING_BYTES);
        answers.set(asked, listed);
      }
    }
    if (listed === undefined) {
      const file = `${root}\0${k.path}`;
      if (!answers.has(file)) answers.set(file, notIgnored(root, [k.path]));
      listed = answers.get(file);
      if (listed === undefined) return undefined;
    }
    if (listed.has(k.path)) exposed.add(k.path);
  }
  return exposed;
}

/** The listing of `dir` or of a directory above it, when one was made in this run. */
function covering(root: string, dir: string, answers: KeyFileAnswers): Set<string> | undefined {
  for (let d = dir; d !== ''; d = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '') {
    const listed = answers.get(`${root}\0dir\0${d}`);
    if (listed !== undefined) return listed;
  }
  return undefined;
}

/**
 * Before a run of several sites: git lists once what it tracks or does not ignore under the
 * directory that holds them all (`sites/`), when that is not the repository's root, so that each
 * site's own key directory (`sites/<site>/secrets/`) is answered from it. `root` is the
 * repository's (real) root, `siteDirs` the sites' real paths.
 */
export function listSitesForKeys(root: string, siteDirs: readonly string[], answers: KeyFileAnswers): void {
  if (siteDirs.length < 2) return;
  const parts = siteDirs.map((d) => relative(root, d).split(sep));
  if (parts.some((p) => p[0] === '' || p[0] === '..' || isAbsolute(p.join('/')))) return;
  let common = parts[0]!;
  for (const p of parts) {
    let i = 0;
    while (i < common.length && i < p.length && common[i] === p[i]) i++;
    common = common.slice(0, i);
  }
  if (common.length === 0) return;
  const dir = common.join('/');
  const asked = `${root}\0dir\0${dir}`;
  if (!answers.has(asked)) answers.set(asked, notIgnored(root, [dir], SITES_LISTING_BYTES));
}

/** The longest listing of the sites' directory read before a run (13,000 files of 1,000 sites: about 0.5 MB). */
const SITES_LISTING_BYTES = 32 << 20;

/** The longest listing of a key directory read in a run (beyond it, its key files are asked about one by one). */
const DIR_LISTING_BYTES = 4 << 20;

/** Of `paths` (files, or directories: everything under them), those git tracks or does not ignore; undefined when git cannot tell (no git, not a repository, too slow, too much). */
function notIgnored(root: string, paths: readonly string[], maxBuffer = 1 << 20): Set<string> | undefined {
  const run = spawnSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--full-name', '--', ...paths.map((p) => `:(literal)${p}`)],
    { cwd: root, encoding: 'utf8', timeout: GIT_TIMEOUT_MS, maxBuffer, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  if (run.error || run.status !== 0) return undefined;
  return new Set(run.stdout.split('\0').filter((p) => p !== ''));
}

/** The .gitignore line that covers a key file: its directory when it has one (`secrets/`), else the file. */
function ignoreLine(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? `/${path}` : `/${path.slice(0, slash + 1)}`;
}
