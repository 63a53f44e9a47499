/**
 * Registry credentials and TLS trust, found where `docker login`, `podman login` and
 * `skopeo login` put them; never from a command-line value.
 *
 * Credentials, first match wins:
 * 1. `HARVGEN_REGISTRY_USERNAME` + `HARVGEN_REGISTRY_PASSWORD` (both set);
 * 2. the auth files, in order: `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
 *    `$HOME/.config/containers/auth.json`, `$DOCKER_CONFIG/config.json` (else
 *    `$HOME/.docker/config.json`). In each file: `credHelpers[key]`, then `auths[key]` (`auth`:
 *    base64 `user:password`, or `username` + `password`), then `credsStore`; the keys tried are
 *    `host[:port]/repository`, its parent paths, then `host[:port]` (also written with
 *    `https://`), so a per-repository login (podman's, Harbor robot accounts) beats the host's.
 *
 * A credential helper is run as `docker-credential-<name> get` with the server on stdin; the
 * password only ever travels through its stdout.
 *
 * TLS trust: the system CAs plus `*.crt` of `<dir>/<host:port>/` for dir in
 * `/etc/containers/certs.d` and `/etc/docker/certs.d` (or only `certDir` itself when given, the
 * layout of skopeo's `--cert-dir`), and a client certificate `*.cert` + `*.key` found there.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { rootCertificates } from 'node:tls';

/** A user name and password, and where they came from (never the password in that text). */
export interface Credentials {
  readonly username: string;
  readonly password: string;
  /** Human-readable source, e.g. `/root/.docker/config.json (auths["reg:5000"])`. */
  readonly source: string;
}

/** Result of a credential lookup. */
export interface CredentialLookup {
  readonly credentials?: Credentials;
  /** Every source looked at, in order, for error messages ("tried: ..."). */
  readonly tried: readonly string[];
}

/** Where and how to look. */
export interface CredentialOptions {
  /** Environment (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Repository below the registry, to match per-repository entries. */
  readonly repository?: string;
  /** Bound of a credential helper run (default 15 s). */
  readonly helperTimeoutMs?: number;
}

/** An auth file that cannot be used (bad JSON, bad base64, a failing helper). */
export class AuthError extends Error {
  override name = 'AuthError';
}

/** The auth files to read, in order (existing or not). */
export function authFilePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const home = env.HOME;
  if (env.REGISTRY_AUTH_FILE) out.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) out.push(path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  if (home) out.push(path.join(home, '.config', 'containers', 'auth.json'));
  if (env.DOCKER_CONFIG) out.push(path.join(env.DOCKER_CONFIG, 'config.json'));
  else if (home) out.push(path.join(home, '.docker', 'config.json'));
  return out;
}

/** The keys an auth file may use for this registry and repository, most specific first. */
export function authKeys(registry: string, repository?: string): string[] {
  const keys: string[] = [];
  if (repository) {
    const parts = repository.split('/');
    for (let n = parts.length; n >= 1; n--) keys.push(`${registry}/${parts.slice(0, n).join('/')}`);
  }
  keys.push(registry);
  return keys;
}

/** Normalize an auth file key: drop `http(s)://` and a trailing `/` or `/v1/`, `/v2/`. */
function normalizeKey(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/v[12]\/?$/, '')
    .replace(/\/+$/, '');
}

interface AuthFile {
  auths?: Record<string, { auth?: unknown; username?: unknown; password?: unknown; identitytoken?: unknown }>;
  credHelpers?: Record<string, unknown>;
  credsStore?: unknown;
}

/**
 * Find the credentials for `registry` (`host[:port]`). Returns none (with what was tried) when
 * no source has any; throws AuthError for a file or helper that is broken.
 */
export async function findCredentials(registry: string, options: CredentialOptions = {}): Promise<CredentialLookup> {
  const env = options.env ?? process.env;
  const tried: string[] = [];
  const user = env.HARVGEN_REGISTRY_USERNAME;
  const pass = env.HARVGEN_REGISTRY_PASSWORD;
  tried.push('HARVGEN_REGISTRY_USERNAME/HARVGEN_REGISTRY_PASSWORD');
  if (user && pass)
    return { credentials: { username: user, password: pass, source: 'HARVGEN_REGISTRY_USERNAME/HARVGEN_REGISTRY_PASSWORD' }, tried };
  const keys = authKeys(registry, options.repository);
  for (const file of authFilePaths(env)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new AuthError(`cannot read the registry auth file ${file}: ${code ?? String(err)}`);
    }
    tried.push(file);
    let doc: AuthFile;
    try {
      doc = JSON.parse(text) as AuthFile;
    } catch (err) {
      throw new AuthError(`the registry auth file ${file} is not valid JSON: ${(err as Error).message}`);
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
      throw new AuthError(`the registry auth file ${file} is not a JSON object`);
    const found = await fromFile(doc, file, keys, registry, options.helperTimeoutMs ?? 15_000, env);
    if (found) return { credentials: found, tried };
  }
  return { tried };
}

function entryFor<T>(map: Record<string, T> | undefined, key: string): [string, T] | undefined {
  if (!map || typeof map !== 'object') return undefined;
  for (const [k, v] of Object.entries(map)) if (normalizeKey(k) === key) return [k, v];
  return undefined;
}

async function fromFile(
  doc: AuthFile,
  file: string,
  keys: readonly string[],
  registry: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<Credentials | undefined> {
  for (const key of keys) {
    const helper = entryFor(doc.credHelpers, key);
    if (helper) {
      if (typeof helper[1] !== 'string') throw new AuthError(`${file}: credHelpers["${helper[0]}"] is not a string`);
      const got = await runHelper(helper[1], registry, timeoutMs, env, `${file} (credHelpers["${helper[0]}"])`);
      if (got) return got;
    }
    const entry = entryFor(doc.auths, key);
    if (entry) {
      const got = decodeEntry(entry[1], `${file} (auths["${entry[0]}"])`);
      if (got) return got;
    }
  }
  if (doc.credsStore !== undefined) {
    if (typeof doc.credsStore !== 'string') throw new AuthError(`${file}: credsStore is not a string`);
    return runHelper(doc.credsStore, registry, timeoutMs, env, `${file} (credsStore "${doc.credsStore}")`);
  }
  return undefined;
}

function decodeEntry(entry: unknown, source: string): Credentials | undefined {
  if (entry === null || typeof entry !== 'object') throw new AuthError(`${source} is not an object`);
  const e = entry as { auth?: unknown; username?: unknown; password?: unknown };
  if (typeof e.auth === 'string' && e.auth !== '') {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0 || !/^[A-Za-z0-9+/=\s]+$/.test(e.auth)) throw new AuthError(`${source}: "auth" is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  if (typeof e.username === 'string' && typeof e.password === 'string' && e.username !== '')
    return { username: e.username, password: e.password, source };
  return undefined;
}

/** `docker-credential-<name> get`, the server on stdin; undefined when it has none. */
async function runHelper(
  name: string,
  registry: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
  source: string,
): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new AuthError(`${source}: "${name}" is not a credential helper name`);
  const program = `docker-credential-${name}`;
  const r = await new Promise<{ code: number | null; out: string; err: string; spawnError?: string; timedOut: boolean }>((resolve) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, out, err, spawnError: (e as NodeJS.ErrnoException).code ?? e.message, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, timedOut });
    });
    child.stdin.end(registry);
  });
  if (r.spawnError === 'ENOENT') throw new AuthError(`${source}: the credential helper ${program} is not installed (not on PATH)`);
  if (r.spawnError) throw new AuthError(`${source}: cannot run ${program}: ${r.spawnError}`);
  if (r.timedOut) throw new AuthError(`${source}: ${program} did not answer within ${timeoutMs} ms`);
  if (r.code !== 0) {
    // The protocol's "no credentials" answer.
    if (/credentials not found/i.test(r.out + r.err)) return undefined;
    throw new AuthError(`${source}: ${program} get failed (exit ${r.code}): ${firstLine(r.err || r.out)}`);
  }
  let doc: { Username?: unknown; Secret?: unknown };
  try {
    doc = JSON.parse(r.out) as typeof doc;
  } catch {
    throw new AuthError(`${source}: ${program} get did not print JSON`);
  }
  if (typeof doc.Username !== 'string' || typeof doc.Secret !== 'string')
    throw new AuthError(`${source}: ${program} get printed no Username and Secret`);
  return { username: doc.Username, password: doc.Secret, source };
}

function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim() !== '') ?? '').slice(0, 200);
}

/** The TLS material for one registry. */
export interface Trust {
  /** CA certificates to trust (system CAs included), or undefined for Node's defaults. */
  readonly ca?: readonly string[];
  /** Client certificate and key (PEM), when a certs.d directory holds a pair. */
  readonly cert?: string;
  readonly key?: string;
  /** The directories looked in, for error messages. */
  readonly dirs: readonly string[];
  /** The files used. */
  readonly files: readonly string[];
}

/** Options of trustFor. */
export interface TrustOptions {
  /** A directory of `*.crt` (and `*.cert`/`*.key`) used instead of the certs.d directories. */
  readonly certDir?: string;
  /** The certs.d roots (default `/etc/containers/certs.d`, `/etc/docker/certs.d`). */
  readonly certsRoots?: readonly string[];
}

/** The certs.d roots read by default. */
export const CERTS_ROOTS: readonly string[] = ['/etc/containers/certs.d', '/etc/docker/certs.d'];

/** The TLS trust for `registry` (`host[:port]`). */
export function trustFor(registry: string, options: TrustOptions = {}): Trust {
  const dirs = options.certDir !== undefined ? [options.certDir] : (options.certsRoots ?? CERTS_ROOTS).map((r) => path.join(r, registry));
  const cas: string[] = [];
  const files: string[] = [];
  let cert: string | undefined;
  let key: string | undefined;
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const full = path.join(dir, name);
      if (name.endsWith('.crt')) {
        cas.push(readFileSync(full, 'utf8'));
        files.push(full);
      } else if (name.endsWith('.cert') && cert === undefined) {
        const keyFile = path.join(dir, `${name.slice(0, -'.cert'.length)}.key`);
        try {
          key = readFileSync(keyFile, 'utf8');
        } catch {
          throw new AuthError(`client certificate ${full} has no key ${keyFile}`);
        }
        cert = readFileSync(full, 'utf8');
        files.push(full, keyFile);
      }
    }
  }
  return {
    ...(cas.length > 0 ? { ca: [...rootCertificates, ...cas] } : {}),
    ...(cert !== undefined ? { cert, key } : {}),
    dirs,
    files,
  };
}
