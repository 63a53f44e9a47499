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
import { existsSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { isInside } from './files.ts';
import { stampOf, type InputStamp } from './stamps.ts';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { isCryptHash } from '../util/sha512-crypt.ts';
import { formatPath } from '../util/paths.ts';
import type { InventoryPath, Locator } from './locate.ts';

/** The inventory fields that may hold a secret reference. */
export const SECRET_FIELDS: readonly InventoryPath[] = [
  ['cluster', 'token'],
  ['cluster', 'password'],
];

/** Stands in for a secret that could not be resolved, so validation still reports everything else. */
const UNRESOLVED = 'unresolved-secret';

/**
 * Which tree a build makes: `markers` (the committed tree: secret references are not read, every
 * secret is written as its marker) or `filled` (the deploy tree: secrets read and written).
 */
export type SecretMode = 'markers' | 'filled';

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
}

/** Options: where relative display paths start, the environment to read, the directory secret files must be in. */
export interface SecretOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Secret files must be inside this directory (the repository: the nearest ancestor of the
   * site directory with a `.git`, else the parent of `sites/`), so that an inventory cannot
   * copy an arbitrary file of the build machine (/etc/...) into the served node configs.
   */
  readonly root: string;
  /** `markers` (default): references are not read, a stand-in is validated instead. */
  readonly mode?: SecretMode;
}

/** Largest secret file read. */
const MAX_SECRET_FILE = 64 * 1024;

/** Read a secret file: a regular file inside `root`, at most 64 KiB, not empty. */
async function readSecretFile(
  file: string,
  written: string,
  root: string,
): Promise<{ text: string; stamp: InputStamp; problem?: undefined } | { problem: string }> {
  if (isAbsolute(written)) return { problem: 'is an absolute path (write it relative to the YAML file)' };
  const real = await realpath(file).catch(() => undefined);
  if (real === undefined) return { problem: 'does not exist' };
  const realRoot = await realpath(root).catch(() => root);
  if (!isInside(real, realRoot)) return { problem: `is outside ${realRoot}` };
  const st = await stat(real);
  const stamp = stampOf(file, st);
  if (!st.isFile()) return { problem: 'is not a regular file' };
  if (st.size > MAX_SECRET_FILE) return { problem: `is larger than ${MAX_SECRET_FILE / 1024} KiB` };
  const text = await readFile(real, 'utf8').catch((e: NodeJS.ErrnoException) => e);
  if (typeof text !== 'string') return { problem: `cannot be read (${text.code ?? text.message})` };
  if (text.replace(/\r?\n$/, '') === '') return { problem: 'is empty' };
  return { text, stamp };
}

/**
 * The repository of a site directory: the nearest ancestor with `.git`; else, for a site in a
 * `sites/` directory, the parent of `sites/`; else the site directory itself (never whatever
 * happens to be two levels up, such as `/` or `/home`).
 */
export function secretRoot(siteDir: string): string {
  const site = resolve(siteDir);
  for (let d = site; ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return d;
    if (dirname(d) === d) return basename(dirname(site)) === 'sites' ? dirname(dirname(site)) : site;
  }
}

/** Resolve every secret reference of a loaded (not yet validated) inventory. */
export async function resolveSecrets(input: Record<string, unknown>, locate: Locator, options: SecretOptions): Promise<SecretResolution> {
  const out = structuredClone(input);
  const secrets: string[] = [];
  const diagnostics: Diagnostic[] = [];
  const stamps: InputStamp[] = [];
  let fromEnv = false;
  for (const path of SECRET_FIELDS) {
    const [section, key] = path as [string, string];
    const holder = out[section] as Record<string, unknown> | undefined;
    const value = holder?.[key];
    const where = `${section}.${key}`;
    const at = (hint: string, message: string, code: string, severity: 'error' | 'warning' = 'error'): Diagnostic => ({
      code,
      severity,
      message,
      hint,
      path: where,
      ...(locate(path) ?? {}),
    });
    if (typeof value === 'string') {
      if (value !== '') secrets.push(value);
      if (value !== '' && !(key === 'password' && isCryptHash(value))) {
        diagnostics.push(
          at(
            `Keep it out of git: \`${key}: { env: HARVGEN_${key.toUpperCase()} }\` or \`${key}: { file: secrets/${key} }\` (and list the file in .gitignore)${key === 'password' ? ', or write a hash (`harvgen hash-password`)' : ''}.`,
            `${where} is written in plain text in the inventory`,
            'SECRET_INLINE',
            'warning',
          ),
        );
      }
      continue;
    }
    if (!holder || typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const ref = value as { env?: unknown; file?: unknown };
    const keys = Object.keys(ref);
    // Anything but exactly one string `env` or `file` is left for the schema to report.
    if (keys.length !== 1) continue;
    if (options.mode !== 'filled') {
      // The committed tree never reads a secret: it holds the marker whatever the value.
      // A file outside the repository (by its real path, when it exists) is still refused, as the deploy build would.
      if (typeof ref.file === 'string') {
        const from = locate(path)?.file;
        const file = resolve(options.cwd, from ? dirname(from) : '.', ref.file);
        // Where it is (links followed; the file itself is not read, and need not exist here).
        const real = await realpath(file).catch(() => file);
        const realRoot = await realpath(options.root).catch(() => resolve(options.root));
        const problem = isAbsolute(ref.file)
          ? 'is an absolute path (write it relative to the YAML file)'
          : !isInside(real, realRoot)
            ? `is outside ${realRoot}`
            : undefined;
        if (problem !== undefined) {
          diagnostics.push(
            at(
              `Name a file inside ${options.root}, relative to the YAML file that names it.`,
              `${where} comes from the file ${ref.file} (${file}), which ${problem}`,
              'SECRET_FILE_MISSING',
            ),
          );
        }
      }
      if (typeof ref.env === 'string' || typeof ref.file === 'string') holder[key] = UNRESOLVED;
      continue;
    }
    if (typeof ref.env === 'string') {
      fromEnv = true;
      const v = options.env[ref.env];
      if (v === undefined || v === '') {
        diagnostics.push(
          at(
            `Set it before running harvgen (\`export ${ref.env}=...\`), e.g. from your CI's secret store.`,
            `${where} comes from the environment variable ${ref.env}, which is ${v === undefined ? 'not set' : 'empty'}`,
            'SECRET_ENV_MISSING',
          ),
        );
        holder[key] = UNRESOLVED;
        continue;
      }
      holder[key] = v;
      secrets.push(v);
    } else if (typeof ref.file === 'string') {
      const from = locate(path)?.file;
      const file = resolve(options.cwd, from ? dirname(from) : '.', ref.file);
      const text = await readSecretFile(file, ref.file, options.root);
      if (text.problem !== undefined) {
        diagnostics.push(
          at(
            `Create the file (relative to the YAML file that names it, inside ${options.root}) with the ${key} as its only content.`,
            `${where} comes from the file ${ref.file} (${file}), which ${text.problem}`,
            'SECRET_FILE_MISSING',
          ),
        );
        holder[key] = UNRESOLVED;
        continue;
      }
      stamps.push(text.stamp);
      const v = text.text.replace(/\r?\n$/, '');
      holder[key] = v;
      secrets.push(v);
    }
  }
  // A token or password written under `config:` (node, defaults) is a secret too: masked in what
  // harvgen prints and written as its marker in the committed tree, and warned about like one
  // written at cluster.token.
  for (const { path, value } of configSecrets(out)) {
    secrets.push(value);
    diagnostics.push({
      code: 'SECRET_INLINE',
      severity: 'warning',
      message: `${formatPath(path)} is written in plain text in the inventory`,
      hint: 'Set the cluster secret at cluster.token / cluster.password with { env } or { file } instead of through config:.',
      path: formatPath(path),
      ...(locate(path) ?? {}),
    });
  }
  return { input: out, secrets, diagnostics, stamps, fromEnv };
}

/** The installer config keys under `config:` that hold a secret. */
const CONFIG_SECRET_KEYS: readonly (readonly string[])[] = [['token'], ['os', 'password']];

/** Every string at a secret key of a `config:` block of the inventory (defaults, nodes). */
function configSecrets(input: Record<string, unknown>): { path: InventoryPath; value: string }[] {
  const found: { path: InventoryPath; value: string }[] = [];
  const blocks: [InventoryPath, unknown][] = [[['defaults', 'config'], (input.defaults as Record<string, unknown> | undefined)?.config]];
  const nodes = input.nodes;
  if (Array.isArray(nodes)) nodes.forEach((n, i) => blocks.push([['nodes', i, 'config'], (n as Record<string, unknown> | null)?.config]));
  for (const [base, block] of blocks) {
    for (const keys of CONFIG_SECRET_KEYS) {
      let v: unknown = block;
      for (const k of keys) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
      if (typeof v === 'string' && v !== '') found.push({ path: [...base, ...keys], value: v });
    }
  }
  return found;
}

/** Replace every secret value in `text` with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (s.length > 0) out = out.split(s).join('***');
  return out;
}
