// `signing.private_key`: the signing key, a secret the inventory references like cluster.token
// (`{ file: path }` relative to the YAML file, inside the repository boundary, size-bounded; or
// `{ env: NAME }`). Read ONLY by a deploy build (`filled`); the committed tree is never signed
// and never reads it (a file outside the repository is still refused, as the deploy build
// would). The key text travels in a SigningKey, which never serializes or prints.
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { Locator } from '../load/locate.ts';
import { outsideProblem } from '../load/repo.ts';
import { readSecretFile, secretTooLong } from '../load/secrets.ts';
import { keyModeProblem, keyModeText } from '../load/key-mode.ts';
import type { InputStamp } from '../load/stamps.ts';
import type { SecretMode } from '../types/secret-mode.ts';

/** The private key's text, kept out of JSON and util.inspect (as MaskedValues is). */
export class SigningKey {
  readonly #text: string;
  /** Where it came from, for messages: `the file secrets/harvgen-sign` or `the environment variable NAME`. */
  readonly source: string;
  /** Where to read it again (publish's fleet state, src/publish/fleet-state.ts): the absolute path of its file, or its variable. */
  readonly ref: { readonly file: string } | { readonly env: string } | undefined;
  constructor(text: string, source: string, ref?: { readonly file: string } | { readonly env: string }) {
    this.#text = text;
    this.source = source;
    this.ref = ref;
  }
  /** The key, to hand to ssh-keygen (never to print). */
  get text(): string {
    return this.#text;
  }
  toJSON(): undefined {
    return undefined;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SigningKey(${this.source})`;
  }
}

/** What resolving `signing.private_key` gave. */
export interface KeyResolution {
  /** The key (a deploy build whose reference resolved). */
  readonly key?: SigningKey;
  readonly diagnostics: readonly Diagnostic[];
  /** The key file's stamp (taken before reading it). */
  readonly stamps: readonly InputStamp[];
  /** The key came from the environment (no stamp covers it). */
  readonly fromEnv: boolean;
  /** The variable and the key read from it (for the up-to-date check's keyed digest; never stored). */
  readonly envValue?: readonly [name: string, value: string];
  /** What to mask in printed text: each base64 line of the key and its whole body. */
  readonly masked: readonly string[];
}

/** Options: as for the other secrets. */
export interface KeyOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The repository boundary the key file must be inside. */
  readonly root: string;
  readonly mode: SecretMode;
}

const AT = ['signing', 'private_key'] as const;

/** The key's lines worth masking: its base64 body, line by line and joined (the armour lines are no secret). */
export function keyMaskValues(text: string): string[] {
  const body = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('-----'));
  return [...body, body.join('')].filter((v) => v.length >= 4);
}

/** Resolve `signing.private_key` of a loaded (not yet validated) inventory. */
export async function resolveSigningKey(input: Record<string, unknown>, locate: Locator, options: KeyOptions): Promise<KeyResolution> {
  const signing = input.signing as Record<string, unknown> | undefined;
  const ref = signing?.private_key as { env?: unknown; file?: unknown } | undefined;
  // Anything but exactly one string `env` or `file` is the schema's to report.
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref) || Object.keys(ref).length !== 1) return NO_KEY;
  const k: KeyRef = {
    at: (message, hint, code) => ({ code, severity: 'error', message, hint, path: 'signing.private_key', ...(locate([...AT]) ?? {}) }),
    fileOf: (written) => resolve(options.cwd, dirname(locate([...AT])?.file ?? '.'), written),
    fileHint: `Create it with \`ssh-keygen -t ed25519 -N '' -f <path>\`, relative to the YAML file that names it and inside ${options.root}, and keep it out of git.`,
    fileAt: locate([...AT, 'file']),
    cwd: options.cwd,
  };
  // The committed tree never reads the key; a file outside the repository is refused all the same.
  if (options.mode !== 'filled') return typeof ref.file === 'string' ? refuseOutsideKey(k, ref.file, options.root) : NO_KEY;
  const read =
    typeof ref.env === 'string'
      ? keyFromEnv(k, ref.env, options.env)
      : typeof ref.file === 'string'
        ? await keyFromFile(k, ref.file, options.root)
        : undefined;
  if (read === undefined) return NO_KEY;
  if ('failed' in read) return read.failed;
  const { text, source, stamps } = read;
  const fromEnv = typeof ref.env === 'string';
  const masked = keyMaskValues(text);
  const long = secretTooLong(text);
  if (long !== undefined) {
    const hint = 'Use an Ed25519 key (about 400 bytes: `ssh-keygen -t ed25519`), or RSA of at most 4096 bits.';
    return { ...NO_KEY, stamps, fromEnv, masked, diagnostics: [k.at(`signing.private_key (${source}) ${long}`, hint, 'SECRET_TOO_LONG')] };
  }
  const env = typeof ref.env === 'string' ? { envValue: [ref.env, text] as const } : {};
  const again = typeof ref.env === 'string' ? { env: ref.env } : stamps[0] !== undefined ? { file: stamps[0][0] } : undefined;
  return { key: new SigningKey(text, source, again), diagnostics: [], stamps, fromEnv, masked, ...env };
}

/** No key, nothing found. */
const NO_KEY: KeyResolution = { diagnostics: [], stamps: [], fromEnv: false, masked: [] };

/** How a problem with `signing.private_key` is reported, and where its file is. */
interface KeyRef {
  readonly at: (
    message: string,
    hint: string,
    code: 'SECRET_FILE_MISSING' | 'SECRET_ENV_MISSING' | 'SECRET_TOO_LONG' | 'SECRET_KEY_UNPROTECTED',
  ) => Diagnostic;
  readonly fileOf: (written: string) => string;
  readonly fileHint: string;
  /** Where `{ file }` names the key file. */
  readonly fileAt: ReturnType<Locator>;
  readonly cwd: string;
}

/** A key's text and where it came from, or the resolution that reports why there is none. */
type KeyRead = { text: string; source: string; stamps: InputStamp[] } | { failed: KeyResolution };

/** The committed tree's check of a key file: one outside the repository is refused, as the deploy build would. */
function refuseOutsideKey(k: KeyRef, file: string, root: string): KeyResolution {
  const problem = isAbsolute(file) ? 'is an absolute path (write it relative to the YAML file)' : outsideProblem(k.fileOf(file), root);
  if (problem === undefined) return NO_KEY;
  return {
    ...NO_KEY,
    diagnostics: [
      k.at(`signing.private_key comes from the file ${file} (${k.fileOf(file)}), which ${problem}`, k.fileHint, 'SECRET_FILE_MISSING'),
    ],
  };
}

/** The key from an environment variable. */
function keyFromEnv(k: KeyRef, name: string, env: KeyOptions['env']): KeyRead {
  const v = env[name];
  if (v !== undefined && v.trim() !== '') return { text: v, source: `the environment variable ${name}`, stamps: [] };
  const d = k.at(
    `signing.private_key comes from the environment variable ${name}, which is ${v === undefined ? 'not set' : 'empty'}`,
    `Set it to the private key's text before the deploy build (\`export ${name}="$(cat secrets/harvgen-sign)"\`), e.g. from your CI's secret store.`,
    'SECRET_ENV_MISSING',
  );
  return { failed: { ...NO_KEY, fromEnv: true, diagnostics: [d] } };
}

/** The key from a file inside the repository. */
async function keyFromFile(k: KeyRef, file: string, root: string): Promise<KeyRead> {
  const read = await readSecretFile(k.fileOf(file), file, root);
  if (read.problem === undefined) {
    // ssh's own rule for an SSH key (src/load/key-mode.ts): a key others may read or write is refused.
    const open = keyModeProblem(read.stat, 'ssh');
    if (open === undefined) return { text: read.text, source: `the file ${file}`, stamps: [read.stamp] };
    const t = keyModeText(open, { where: 'signing.private_key', written: file, abs: k.fileOf(file), cwd: k.cwd, kind: 'ssh' });
    return {
      failed: {
        ...NO_KEY,
        stamps: [read.stamp],
        diagnostics: [{ ...k.at(t.message, t.hint, 'SECRET_KEY_UNPROTECTED'), ...(k.fileAt ?? {}) }],
      },
    };
  }
  const d = k.at(
    `signing.private_key comes from the file ${file} (${k.fileOf(file)}), which ${read.problem}`,
    k.fileHint,
    'SECRET_FILE_MISSING',
  );
  return { failed: { ...NO_KEY, diagnostics: [d] } };
}
