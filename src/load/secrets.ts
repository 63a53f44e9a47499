// Secrets out of git: `cluster.token` and `cluster.password` may be `{ env: NAME }` or
// `{ file: path }` (relative to the YAML file that says it). They are resolved here, after
// loading and before validation, so every later stage sees plain strings. A missing variable or
// file is a positioned error naming it (never an empty token); a plain-text secret in the YAML
// is a warning. The resolved values are returned so that every printed output can be redacted.
//
// Two trees come out of one inventory (README "Secrets and the committed tree"): the committed
// tree (`markers`, the default) never reads a secret reference and writes a fixed marker in
// place of every secret, so it can be built, reviewed and checked in CI without any secret; the
// deploy tree (`filled`, `build --deploy`) reads them and writes the values.
import { clonePlain } from '../util/clone.ts';
// Synchronous reads: an asynchronous one waits for libuv's thread pool (src/util/lstat.ts).
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { outsideProblem, repoBoundary } from './repo.ts';
import { stampOf, type InputStamp } from './stamps.ts';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { isCryptHash } from '../util/sha512-crypt.ts';
import { formatPath, type InventoryPath } from '../util/paths.ts';
import type { Locator } from './locate.ts';
import type { SecretMode } from '../types/secret-mode.ts';
import { fileKeyStandIn } from './file-key.ts';
import { configSecrets } from './config-secrets.ts';
import { keyModeProblem, keyModeText, type KeyKind } from './key-mode.ts';

/** A secret file's mode and owner, as read (the private keys' check, src/load/key-mode.ts). */
export interface KeyFileStat {
  readonly mode: number;
  readonly uid: number;
}

export { FILE_KEY_MARKER, MIN_FILE_KEY } from './file-key.ts';
export { configBlockSecrets } from './config-secrets.ts';
export { redact, secretForms } from './redact.ts';

/** The inventory fields that may hold a secret reference. */
export const SECRET_FIELDS: readonly InventoryPath[] = [
  ['cluster', 'token'],
  ['cluster', 'password'],
  ['nginx', 'file_key'],
  ['publish', 'key'],
  ['publish', 'cosign_key'],
];

/** Stands in for a secret that could not be resolved, so validation still reports everything else. */
const UNRESOLVED = 'unresolved-secret';

/**
 * What the committed tree holds in place of each secret. Fixed strings (no part of them comes from
 * the inventory or the secret), so the committed tree is the same on every machine with or
 * without the secrets and tells nothing about them. Chosen so that a committed tree served by
 * mistake installs nothing: the token marker is not printable ASCII, which every installer
 * release from v1.2 to v1.9 refuses before installing (`checkToken` in
 * pkg/console/validator.go, `Invalid token`); the password marker starts with `$`, so it is
 * never taken as a password (the installer writes such a value verbatim as the hash, and it
 * is not one).
 */
export const SECRET_MARKERS = {
  token: '\u00abharvgen secret cluster.token\u00bb',
  password: '$\u00abharvgen secret cluster.password\u00bb',
} as const;

/** What resolving did: the inventory with references replaced, the secret values, diagnostics. */
export interface SecretResolution {
  readonly input: Record<string, unknown>;
  /** Every secret value (resolved or inline), for redaction of printed output. */
  readonly secrets: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
  /** Stamps of the secret files read (taken before reading). */
  readonly stamps: readonly InputStamp[];
  /** A secret came from the environment: the output depends on more than files. */
  readonly fromEnv: boolean;
  /** Each variable read and its value (the up-to-date check's keyed digest, src/cache/env.ts; never stored). */
  readonly envValues: readonly (readonly [name: string, value: string])[];
}

/** Options: where relative display paths start, the environment to read, the directory secret files must be in. */
export interface SecretOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Secret files must be inside this directory (the repository boundary, `secretRoot`: the
   * nearest directory at or above the site with a `.git`, else the site directory alone), so that
   * an inventory cannot copy an arbitrary file of the build machine (/etc/...) into the served
   * node configs.
   */
  readonly root: string;
  /** `markers` (default): references are not read, a stand-in is validated instead. */
  readonly mode?: SecretMode;
}

/**
 * Longest secret, in UTF-8 bytes. A Harvester/RKE2 cluster token is about 100 characters and a
 * password a few dozen; 4 KiB is 40 times that. The bound keeps hashing cheap: SHA-512 crypt
 * hashes the password once per byte of it (the "P sequence"), so its cost grows with the square
 * of the length (a 64 KiB password took 4.3 GB and then failed; 4 KiB takes about 16 MB and a
 * tenth of a second).
 */
export const MAX_SECRET_BYTES = 4096;

/** The SECRET_TOO_LONG problem of a secret value, or nothing. */
export function secretTooLong(value: string): string | undefined {
  const n = Buffer.byteLength(value, 'utf8');
  return n > MAX_SECRET_BYTES ? `is ${n} bytes long; a secret may be at most ${MAX_SECRET_BYTES} bytes` : undefined;
}

const TOO_LONG_HINT =
  'Use a shorter value: a cluster token is about 100 characters (`openssl rand -hex 24` makes one), a password a few dozen. harvgen refuses longer secrets, which no installer needs and whose hashing would take gigabytes.';

/** Largest secret file read. */
const MAX_SECRET_FILE = 64 * 1024;

/** Read a secret file: a regular file inside `root`, at most 64 KiB, not empty (also the signing key: src/sign/key.ts). */
export async function readSecretFile(
  file: string,
  written: string,
  root: string,
): Promise<{ text: string; stamp: InputStamp; stat: KeyFileStat; problem?: undefined } | { problem: string }> {
  if (isAbsolute(written)) return { problem: 'is an absolute path (write it relative to the YAML file)' };
  // The repository boundary (src/load/repo.ts), by real path: no link or `../` leads out of it.
  const outside = outsideProblem(file, root);
  if (outside !== undefined) return { problem: outside };
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return { problem: 'does not exist' };
  }
  const st = statSync(real);
  const stamp = stampOf(file, st);
  if (!st.isFile()) return { problem: 'is not a regular file' };
  if (st.size > MAX_SECRET_FILE) return { problem: `is larger than ${MAX_SECRET_FILE / 1024} KiB` };
  let text: string;
  try {
    text = readFileSync(real, 'utf8');
  } catch (e) {
    return { problem: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  if (text.replace(/\r?\n$/, '') === '') return { problem: 'is empty' };
  return { text, stamp, stat: { mode: st.mode, uid: st.uid } };
}

/**
 * The directory secret files must be in: the repository boundary of the site (`repoBoundary` in
 * src/load/repo.ts, the one rule for every reader): the nearest directory at or above the site
 * with a `.git` directory or file, else the site directory alone (never `/` or a home directory).
 */
export function secretRoot(siteDir: string): string {
  return repoBoundary(siteDir).root;
}

/** Resolve every secret reference of a loaded (not yet validated) inventory. */
export async function resolveSecrets(input: Record<string, unknown>, locate: Locator, options: SecretOptions): Promise<SecretResolution> {
  const out = cloneSiteLevel(input);
  const r: SecretsFound = { secrets: [], diagnostics: [], stamps: [], fromEnv: false, envValues: [] };
  for (const path of SECRET_FIELDS) {
    const [section, key] = path as [string, string];
    const holder = out[section] as Record<string, unknown> | undefined;
    const value = holder?.[key];
    const where = `${section}.${key}`;
    const field: SecretField = { path, key, where, at: secretDiagnostic(where, locate(path)), fileAt: locate([...path, 'file']) };
    if (typeof value === 'string') {
      inlineSecret(field, value, holder!, r);
      continue;
    }
    if (!holder || typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const ref = value as { env?: unknown; file?: unknown };
    // Anything but exactly one string `env` or `file` is left for the schema to report.
    if (Object.keys(ref).length !== 1) continue;
    const file =
      typeof ref.file === 'string'
        ? { written: ref.file, abs: resolve(options.cwd, dirname(locate(path)?.file ?? '.'), ref.file) }
        : undefined;
    if (options.mode !== 'filled') {
      // The committed tree never reads a secret: it holds the marker whatever the value.
      if (file) refuseOutside(field, file, options.root, r);
      if (typeof ref.env === 'string' || file) holder[key] = UNRESOLVED;
    } else if (typeof ref.env === 'string') holder[key] = envSecret(field, ref.env, options.env, r);
    else if (file) holder[key] = await fileSecret(field, file, options, r);
  }
  fileKeyStandIn(out, locate, options.mode ?? 'markers', r.diagnostics, UNRESOLVED);
  configSecretsFound(out, locate, r);
  return { input: out, ...r };
}

/**
 * A copy of the loaded inventory that resolving may write into: every site-level section copied
 * whole, the node list copied but not its nodes (they are the parses of their files, reused by
 * watch while the files are unchanged: copying 10,000 of them each build cost time and memory,
 * and an unchanged node stays the same object). Nothing later writes into a node's input; the one
 * write here, a `config:` secret too long to keep, copies its node first (`ownHolder`).
 */
function cloneSiteLevel(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    const v = key === 'nodes' && Array.isArray(input.nodes) ? [...(input.nodes as unknown[])] : clonePlain(input[key]);
    // Never a prototype set through a key (as clonePlain).
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out;
}

/** The object at `path` (without its last key) in `out`, a node copied into `out.nodes` first. */
function ownHolder(out: Record<string, unknown>, path: InventoryPath, holder: Record<string, unknown>): Record<string, unknown> {
  if (path[0] !== 'nodes' || typeof path[1] !== 'number') return holder;
  const nodes = out.nodes as unknown[];
  const copy = clonePlain(nodes[path[1]]);
  nodes[path[1]] = copy;
  let at: unknown = copy;
  for (const k of path.slice(2, -1)) at = (at as Record<string, unknown>)[k as string];
  return at as Record<string, unknown>;
}

/** What resolving the secrets has found so far (SecretResolution without the input). */
interface SecretsFound {
  readonly secrets: string[];
  readonly diagnostics: Diagnostic[];
  readonly stamps: InputStamp[];
  fromEnv: boolean;
  readonly envValues: (readonly [string, string])[];
}

/** One secret field (`cluster.token`) and how to report a problem at it. */
interface SecretField {
  readonly path: InventoryPath;
  readonly key: string;
  /** Its dotted name. */
  readonly where: string;
  readonly at: (hint: string, message: string, code: string, severity?: 'error' | 'warning') => Diagnostic;
  /** Where its `{ file }` names the file. */
  readonly fileAt?: ReturnType<Locator>;
}

/** The secrets that are private keys, whose files only their owner may read (src/load/key-mode.ts); the signing key is src/sign/key.ts's. */
const PRIVATE_KEY_FIELDS: ReadonlyMap<string, KeyKind> = new Map([
  ['nginx.file_key', 'other'],
  ['publish.key', 'other'],
  ['publish.cosign_key', 'other'],
]);

/** Diagnostics at one secret field. */
function secretDiagnostic(where: string, loc: ReturnType<Locator> | undefined): SecretField['at'] {
  return (hint, message, code, severity = 'error') => ({ code, severity, message, hint, path: where, ...(loc ?? {}) });
}

/** A secret written in the inventory: too long is an error, plain text (not a password hash) a warning. */
function inlineSecret(f: SecretField, value: string, holder: Record<string, unknown>, r: SecretsFound): void {
  if (value !== '') r.secrets.push(value);
  const long = secretTooLong(value);
  if (long !== undefined) {
    r.diagnostics.push(f.at(TOO_LONG_HINT, `${f.where} ${long}`, 'SECRET_TOO_LONG'));
    holder[f.key] = UNRESOLVED;
  }
  if (value === '' || (f.key === 'password' && isCryptHash(value))) return;
  const hash = f.key === 'password' ? ', or write a hash (`harvgen hash-password`)' : '';
  r.diagnostics.push(
    f.at(
      `Keep it out of git: \`${f.key}: { env: HARVGEN_${f.key.toUpperCase()} }\` or \`${f.key}: { file: secrets/${f.key} }\` (and list the file in .gitignore)${hash}.`,
      `${f.where} is written in plain text in the inventory`,
      'SECRET_INLINE',
      'warning',
    ),
  );
}

/**
 * The committed tree's check of a secret file: one outside the repository (by its real path,
 * links followed, also a dangling one; the file itself is not read and need not exist here) is
 * refused, as the deploy build would.
 */
function refuseOutside(f: SecretField, file: { written: string; abs: string }, root: string, r: SecretsFound): void {
  const problem = isAbsolute(file.written) ? 'is an absolute path (write it relative to the YAML file)' : outsideProblem(file.abs, root);
  if (problem === undefined) return;
  r.diagnostics.push(
    f.at(
      `Name a file inside ${root}, relative to the YAML file that names it.`,
      `${f.where} comes from the file ${file.written} (${file.abs}), which ${problem}`,
      'SECRET_FILE_MISSING',
    ),
  );
}

/** A secret from an environment variable: its value, or UNRESOLVED when it is unset, empty or too long. */
function envSecret(f: SecretField, name: string, env: SecretOptions['env'], r: SecretsFound): string {
  r.fromEnv = true;
  const v = env[name];
  if (v === undefined || v === '') {
    r.diagnostics.push(
      f.at(
        `Set it before running harvgen (\`export ${name}=...\`), e.g. from your CI's secret store.`,
        `${f.where} comes from the environment variable ${name}, which is ${v === undefined ? 'not set' : 'empty'}`,
        'SECRET_ENV_MISSING',
      ),
    );
    return UNRESOLVED;
  }
  r.secrets.push(v);
  r.envValues.push([name, v]);
  const long = secretTooLong(v);
  if (long !== undefined)
    r.diagnostics.push(f.at(TOO_LONG_HINT, `${f.where} (the environment variable ${name}) ${long}`, 'SECRET_TOO_LONG'));
  return long === undefined ? v : UNRESOLVED;
}

/** A secret from a file inside the repository: its text without the last line break, or UNRESOLVED. */
async function fileSecret(
  f: SecretField,
  file: { written: string; abs: string },
  options: Pick<SecretOptions, 'root' | 'cwd'>,
  r: SecretsFound,
): Promise<string> {
  const root = options.root;
  const text = await readSecretFile(file.abs, file.written, root);
  if (text.problem !== undefined) {
    r.diagnostics.push(
      f.at(
        `Create the file (relative to the YAML file that names it, inside ${root}) with the ${f.key} as its only content.`,
        `${f.where} comes from the file ${file.written} (${file.abs}), which ${text.problem}`,
        'SECRET_FILE_MISSING',
      ),
    );
    return UNRESOLVED;
  }
  r.stamps.push(text.stamp);
  const kind = PRIVATE_KEY_FIELDS.get(f.where);
  const open = kind !== undefined ? keyModeProblem(text.stat, kind) : undefined;
  if (open !== undefined) {
    const t = keyModeText(open, { where: f.where, ...file, cwd: options.cwd, kind: kind! });
    r.diagnostics.push({ ...f.at(t.hint, t.message, open.code, open.severity), ...(f.fileAt ?? {}) });
  }
  const v = text.text.replace(/\r?\n$/, '');
  r.secrets.push(v);
  const long = secretTooLong(v);
  if (long !== undefined) r.diagnostics.push(f.at(TOO_LONG_HINT, `${f.where} (the file ${file.written}) ${long}`, 'SECRET_TOO_LONG'));
  return long === undefined ? v : UNRESOLVED;
}

/**
 * A token or password written under `config:` (node, defaults) is a secret too: masked in what
 * harvgen prints and written as its marker in the committed tree, and warned about like one
 * written at cluster.token.
 */
function configSecretsFound(out: Record<string, unknown>, locate: Locator, r: SecretsFound): void {
  for (const { path, value, holder, key } of configSecrets(out)) {
    r.secrets.push(value);
    const at = secretDiagnostic(formatPath(path), locate(path));
    const long = secretTooLong(value);
    if (long !== undefined) {
      r.diagnostics.push(at(TOO_LONG_HINT, `${formatPath(path)} ${long}`, 'SECRET_TOO_LONG'));
      ownHolder(out, path, holder)[key] = UNRESOLVED;
    }
    r.diagnostics.push(
      at(
        'Set the cluster secret at cluster.token / cluster.password with { env } or { file } instead of through config:.',
        `${formatPath(path)} is written in plain text in the inventory`,
        'SECRET_INLINE',
        'warning',
      ),
    );
  }
}
