// pull.json (rendered from `publish:` into out/<site>/publish/, installed on the boot server): read
// as untrusted input and checked field by field, so a hand-edited file gets a clear message.
import { readFileSync, statSync } from 'node:fs';
import { isValueOfKind } from '../util/value-kinds.ts';
import { parsePublicKey } from '../util/ssh-public-key.ts';
import { accessOf } from '../load/key-mode.ts';

/** pull.json, checked. */
export interface PullConfig {
  readonly site: string;
  readonly repository: string;
  readonly tag: string;
  readonly publicKey: string;
  readonly keyFile: string;
  readonly stateDir: string;
  readonly root: string;
  readonly keep: number;
  readonly nginxTest: readonly string[];
  readonly nginxReload: readonly string[];
  /** Plain HTTP to the registry (a lab registry; optional `insecure: true`, what the pull unit cannot pass as a flag). */
  readonly insecure: boolean;
  /** CA certificates for the registry (optional `cert_dir`). */
  readonly certDir?: string;
}

export class PullConfigError extends Error {}

/** Read and check a pull.json. */
export function readPullConfig(file: string): PullConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new PullConfigError(`${file} is not a pull.json harvgen can read (${(e as Error).message})`);
  }
  const bad = (field: string, what: string) =>
    new PullConfigError(`${file}: \`${field}\` ${what}; install the pull.json of out/<site>/publish/ as harvgen built it`);
  const str = (k: string): string => {
    const v = raw[k];
    if (typeof v !== 'string' || v === '') throw bad(k, 'is missing or not a string');
    return v;
  };
  if (raw.format !== 1) throw bad('format', 'is not 1 (a pull.json of another harvgen version)');
  const site = str('site');
  if (!/^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/.test(site)) throw bad('site', 'is not a site name');
  const repository = str('repository');
  if (!isValueOfKind('registry', repository)) throw bad('repository', 'is not `host[:port]/name/...`');
  const tag = str('tag');
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) throw bad('tag', 'is not a registry tag');
  const publicKey = str('public_key');
  const parsed = parsePublicKey(publicKey);
  if ('problem' in parsed) throw bad('public_key', parsed.problem);
  const paths = ['key_file', 'state_dir', 'root'].map((k) => {
    const v = str(k);
    if (!isValueOfKind('path', v) || v.split('/').some((s) => s === '..')) throw bad(k, 'is not an absolute path');
    return v;
  });
  const keep = raw.keep;
  if (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 2 || keep > 100)
    throw bad('keep', 'is not a whole number from 2 to 100');
  const cmd = (k: string): string[] => {
    const v = raw[k];
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x !== ''))
      throw bad(k, 'is not a command (a list of words)');
    return v as string[];
  };
  const insecure = raw.insecure ?? false;
  if (typeof insecure !== 'boolean') throw bad('insecure', 'is not true or false');
  const certDir = raw.cert_dir;
  if (certDir !== undefined && (typeof certDir !== 'string' || !isValueOfKind('path', certDir)))
    throw bad('cert_dir', 'is not an absolute path');
  return {
    site,
    repository,
    tag,
    publicKey,
    keyFile: paths[0]!,
    stateDir: paths[1]!,
    root: paths[2]!,
    keep,
    nginxTest: cmd('nginx_test'),
    nginxReload: cmd('nginx_reload'),
    insecure,
    ...(certDir !== undefined ? { certDir } : {}),
  };
}

/** The site's publishing key from `key_file`: 64 hex digits, readable by its owner only. */
export function readKeyFile(file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new PullConfigError(`the publishing key ${file} does not exist: copy the site's key there (install -m 0600 ...)`);
  }
  if (!st.isFile()) throw new PullConfigError(`the publishing key ${file} is not a regular file`);
  // As ssh refuses a private key others may access, whoever owns it (pull runs as root).
  if ((st.mode & 0o077) !== 0)
    throw new PullConfigError(
      `the publishing key ${file} is open to others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: ${accessOf(st.mode)}): \`chmod 600 ${file}\``,
    );
  const text = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new PullConfigError(`the publishing key ${file} is not 64 hexadecimal digits`);
  return text;
}
