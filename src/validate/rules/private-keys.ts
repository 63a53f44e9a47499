// The site's private keys (`signing.private_key`, `publish.key`) given as `{ file }` must stay out of
// git: a key file git tracks, or one the repository does not ignore (a `git add -A` away from being
// committed), is SECRET_KEY_NOT_IGNORED at the key that names it. One git call per site for every
// key file (`git ls-files --cached --others --exclude-standard`: what it lists is tracked, or
// untracked and not ignored), bounded in time, no shell; publish keeps the answers for its run,
// so its two compiles of a site ask once. Not in a git repository, or git missing:
// nothing to say. Unlike the other rules it reads the file system (git's index and ignore files),
// so it runs beside them once per compile, from the site directory (src/pipeline.ts).
import { spawnSync } from 'node:child_process';
import { dirname, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../../diagnostics/types.ts';
import type { Locator } from '../../load/locate.ts';
import type { RepoBoundary } from '../../load/repo.ts';
import type { InventoryPath } from '../../util/paths.ts';
import { findingToDiagnostic } from '../finding.ts';

/** The inventory keys that name a private key, and what each key is called in a message. */
const PRIVATE_KEYS: readonly { readonly at: InventoryPath; readonly what: string }[] = [
  { at: ['signing', 'private_key'], what: 'the signing key' },
  { at: ['publish', 'key'], what: 'the publishing key' },
];

/** git's answers for one run (publish), by repository root and key file paths: the paths it listed, or undefined (it could not tell). */
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
  const paths = keys.map((k) => k.path);
  const asked = `${repo.root}\0${paths.join('\0')}`;
  const exposed = answers?.has(asked) ? answers.get(asked) : notIgnored(repo.root, paths);
  if (answers && !answers.has(asked)) answers.set(asked, exposed);
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

/** Of `paths`, those git tracks or does not ignore; undefined when git cannot tell (no git, not a repository, too slow). */
function notIgnored(root: string, paths: readonly string[]): Set<string> | undefined {
  const run = spawnSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--full-name', '--', ...paths.map((p) => `:(literal)${p}`)],
    { cwd: root, encoding: 'utf8', timeout: GIT_TIMEOUT_MS, maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  if (run.error || run.status !== 0) return undefined;
  return new Set(run.stdout.split('\0').filter((p) => p !== ''));
}

/** The .gitignore line that covers a key file: its directory when it has one (`secrets/`), else the file. */
function ignoreLine(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? `/${path}` : `/${path.slice(0, slash + 1)}`;
}
