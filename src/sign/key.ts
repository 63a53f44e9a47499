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
import type { InputStamp } from '../load/stamps.ts';
import type { SecretMode } from '../types/secret-mode.ts';

/** The private key's text, kept out of JSON and util.inspect (as MaskedValues is). */
export class SigningKey {
  readonly #text: string;
  /** Where it came from, for messages: `the file secrets/harvgen-sign` or `the environment variable NAME`. */
  readonly source: string;
  constructor(text: string, source: string) {
    this.#text = text;
    this.source = source;
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
  const none: KeyResolution = { diagnostics: [], stamps: [], fromEnv: false, masked: [] };
  const signing = input.signing as Record<string, unknown> | undefined;
  const ref = signing?.private_key as { env?: unknown; file?: unknown } | undefined;
  // Anything but exactly one string `env` or `file` is the schema's to report.
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref) || Object.keys(ref).length !== 1) return none;
  const at = (message: string, hint: string, code: 'SECRET_FILE_MISSING' | 'SECRET_ENV_MISSING' | 'SECRET_TOO_LONG'): Diagnostic => ({
    code,
    severity: 'error',
    message,
    hint,
    path: 'signing.private_key',
    ...(locate([...AT]) ?? {}),
  });
  const fileOf = (written: string) => resolve(options.cwd, dirname(locate([...AT])?.file ?? '.'), written);
  const fileHint = `Create it with \`ssh-keygen -t ed25519 -N '' -f <path>\`, relative to the YAML file that names it and inside ${options.root}, and keep it out of git.`;
  if (options.mode !== 'filled') {
    // The committed tree never reads the key; a file outside the repository is refused all the same.
    if (typeof ref.file !== 'string') return none;
    const problem = isAbsolute(ref.file)
      ? 'is an absolute path (write it relative to the YAML file)'
      : outsideProblem(fileOf(ref.file), options.root);
    if (problem === undefined) return none;
    const d = at(
      `signing.private_key comes from the file ${ref.file} (${fileOf(ref.file)}), which ${problem}`,
      fileHint,
      'SECRET_FILE_MISSING',
    );
    return { ...none, diagnostics: [d] };
  }
  let text: string;
  let source: string;
  const stamps: InputStamp[] = [];
  if (typeof ref.env === 'string') {
    const v = options.env[ref.env];
    if (v === undefined || v.trim() === '')
      return {
        ...none,
        fromEnv: true,
        diagnostics: [
          at(
            `signing.private_key comes from the environment variable ${ref.env}, which is ${v === undefined ? 'not set' : 'empty'}`,
            `Set it to the private key's text before the deploy build (\`export ${ref.env}="$(cat secrets/harvgen-sign)"\`), e.g. from your CI's secret store.`,
            'SECRET_ENV_MISSING',
          ),
        ],
      };
    text = v;
    source = `the environment variable ${ref.env}`;
  } else if (typeof ref.file === 'string') {
    const read = await readSecretFile(fileOf(ref.file), ref.file, options.root);
    if (read.problem !== undefined)
      return {
        ...none,
        diagnostics: [
          at(
            `signing.private_key comes from the file ${ref.file} (${fileOf(ref.file)}), which ${read.problem}`,
            fileHint,
            'SECRET_FILE_MISSING',
          ),
        ],
      };
    stamps.push(read.stamp);
    text = read.text;
    source = `the file ${ref.file}`;
  } else return none;
  const masked = keyMaskValues(text);
  const long = secretTooLong(text);
  if (long !== undefined)
    return {
      ...none,
      stamps,
      fromEnv: typeof ref.env === 'string',
      masked,
      diagnostics: [
        at(
          `signing.private_key (${source}) ${long}`,
          'Use an Ed25519 key (about 400 bytes: `ssh-keygen -t ed25519`), or RSA of at most 4096 bits.',
          'SECRET_TOO_LONG',
        ),
      ],
    };
  const env = typeof ref.env === 'string' ? { envValue: [ref.env, text] as const } : {};
  return { key: new SigningKey(text, source), diagnostics: [], stamps, fromEnv: typeof ref.env === 'string', masked, ...env };
}
