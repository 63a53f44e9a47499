// Secrets out of git: `cluster.token` and `cluster.password` may be `{ env: NAME }` or
// `{ file: path }` (relative to the YAML file that says it). They are resolved here, after
// loading and before validation, so every later stage sees plain strings. A missing variable or
// file is a positioned error naming it (never an empty token); a plain-text secret in the YAML
// is a warning. The resolved values are returned so that every printed output can be redacted.
import { existsSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { isInside } from './files.ts';
import { stampOf, type InputStamp } from './stamps.ts';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { isCryptHash } from '../util/sha512-crypt.ts';
import type { InventoryPath, Locator } from './locate.ts';

/** The inventory fields that may hold a secret reference. */
export const SECRET_FIELDS: readonly InventoryPath[] = [
  ['cluster', 'token'],
  ['cluster', 'password'],
];

/** Stands in for a secret that could not be resolved, so validation still reports everything else. */
const UNRESOLVED = 'unresolved-secret';

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
  return { input: out, secrets, diagnostics, stamps, fromEnv };
}

/** Replace every secret value in `text` with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (s.length > 0) out = out.split(s).join('***');
  return out;
}
