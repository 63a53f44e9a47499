/**
 * Image references and digests, per the OCI distribution spec's grammar:
 * `host[:port]/repo/path[:tag][@sha256:<hex>]`. The registry host is always explicit (no implied
 * Docker Hub): harvgen talks to the registry the user names.
 */
import { createHash } from 'node:crypto';

/** One path component of a repository name. */
export const REPO_COMPONENT_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
/** A tag. */
export const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** A SHA-256 digest, the only algorithm harvgen writes or accepts. */
export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
/** The longest repository name (host excluded) Distribution accepts. */
export const MAX_REPOSITORY_LENGTH = 255;
/**
 * A source as the materializer's state.json records it (src/pull/state.ts) and `verify --fleet`
 * reads it back: a repository (`host[:port]/path`) or a layout (`oci:`/`oci-archive:` and a path).
 */
export const SOURCE_RE = /^(?:oci(?:-archive)?:[^\0\n]{1,4096}|[A-Za-z0-9.\-\[\]:]{1,261}\/[a-z0-9._\/-]{1,255})$/;

const HOST_LABEL_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

/** A parsed reference. */
export interface ImageRef {
  /** `host[:port]` as written (the key of auth files and certs.d directories). */
  readonly registry: string;
  /** Host name or address (IPv6 without brackets). */
  readonly host: string;
  /** Port, when written. */
  readonly port?: number;
  /** Repository path below the registry, e.g. `harvgen/location_x`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** A bad reference: `message` says what is wrong and how it should look. */
export class OciRefError extends Error {
  override name = 'OciRefError';
}

/** SHA-256 digest (`sha256:<hex>`) of some bytes. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** True for a well-formed `sha256:<64 lowercase hex>`. */
export function isDigest(value: string): boolean {
  return DIGEST_RE.test(value);
}

/** The hex part of a digest, after checking its form (throws OciRefError). */
export function digestHex(digest: string): string {
  const problem = digestProblem(digest);
  if (problem) throw new OciRefError(problem);
  return digest.slice('sha256:'.length);
}

/** Why a digest is not acceptable, or undefined. */
export function digestProblem(digest: string): string | undefined {
  if (DIGEST_RE.test(digest)) return undefined;
  const algo = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):/.exec(digest)?.[1];
  if (algo && algo !== 'sha256') return `digest "${clip(digest)}": only sha256 digests are supported`;
  return `digest "${clip(digest)}" is not sha256:<64 lowercase hex digits>`;
}

/** Why `host[:port]` is not a registry address, or undefined. */
export function registryProblem(registry: string): string | undefined {
  const parsed = splitRegistry(registry);
  return typeof parsed === 'string' ? parsed : undefined;
}

/** Why a repository path is not valid, or undefined. */
export function repositoryProblem(repository: string): string | undefined {
  if (repository === '') return 'the repository path is empty';
  if (repository.length > MAX_REPOSITORY_LENGTH)
    return `the repository path is ${repository.length} characters long (at most ${MAX_REPOSITORY_LENGTH})`;
  for (const component of repository.split('/')) {
    if (component === '') return `repository "${clip(repository)}" has an empty path component`;
    if (!REPO_COMPONENT_RE.test(component))
      return `repository component "${clip(component)}" is not valid: lowercase letters and digits, separated by ".", "_", "__" or "-"`;
  }
  return undefined;
}

/** Why a tag is not valid, or undefined. */
export function tagProblem(tag: string): string | undefined {
  if (TAG_RE.test(tag)) return undefined;
  return `tag "${clip(tag)}" is not valid: 1 to 128 of letters, digits, "_", "." and "-", not starting with "." or "-"`;
}

/** Options of parseRef. */
export interface ParseRefOptions {
  /** Refuse a tag or digest (a repository reference such as `--registry host/ns`). */
  readonly repositoryOnly?: boolean;
  /** Require a tag or a digest. */
  readonly requireReference?: boolean;
}

/**
 * Parse `host[:port]/repo/path[:tag][@sha256:<hex>]`. Throws OciRefError with a message a user
 * can act on.
 */
export function parseRef(text: string, options: ParseRefOptions = {}): ImageRef {
  const fail = (why: string): never => {
    throw new OciRefError(`bad reference "${clip(text)}": ${why}`);
  };
  if (typeof text !== 'string' || text === '') fail('it is empty');
  if (/[\s\0]/.test(text) || text !== text.trim()) fail('it contains white space or control characters');
  if (/^[a-z]+:\/\//i.test(text)) fail('write it without a scheme (host[:port]/repository[:tag])');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const p = digestProblem(digest);
    if (p) fail(p);
  }
  const slash = rest.indexOf('/');
  if (slash < 0) fail('it names no repository (host[:port]/repository[:tag])');
  const registry = rest.slice(0, slash);
  let path = rest.slice(slash + 1);
  const hp = splitRegistry(registry);
  if (typeof hp === 'string') fail(hp);
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    const p = tagProblem(tag);
    if (p) fail(p);
  }
  const rp = repositoryProblem(path);
  if (rp) fail(rp);
  if (options.repositoryOnly && (tag !== undefined || digest !== undefined)) fail('a repository is expected here, without a tag or digest');
  if (options.requireReference && tag === undefined && digest === undefined) fail('it has neither a tag nor a digest');
  const { host, port } = hp as { host: string; port?: number };
  return {
    registry,
    host,
    ...(port !== undefined ? { port } : {}),
    repository: path,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** The reference as text (`registry/repository[:tag][@digest]`). */
export function formatRef(ref: Pick<ImageRef, 'registry' | 'repository' | 'tag' | 'digest'>): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

function splitRegistry(registry: string): { host: string; port?: number } | string {
  if (registry === '') return 'the registry host is empty';
  let host: string;
  let portText: string | undefined;
  if (registry.startsWith('[')) {
    const close = registry.indexOf(']');
    if (close < 0) return `registry "${clip(registry)}": unclosed "[" of an IPv6 address`;
    host = registry.slice(1, close);
    const after = registry.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return `registry "${clip(registry)}": expected ":port" after "]"`;
    if (after !== '') portText = after.slice(1);
    if (!/^[0-9a-fA-F:.]+$/.test(host) || !host.includes(':')) return `registry "${clip(registry)}": "${host}" is not an IPv6 address`;
  } else {
    const c = registry.indexOf(':');
    host = c >= 0 ? registry.slice(0, c) : registry;
    if (c >= 0) portText = registry.slice(c + 1);
    if (host.length > 253) return `registry host "${clip(host)}" is too long`;
    for (const label of host.split('.'))
      if (!HOST_LABEL_RE.test(label))
        return `registry host "${clip(host)}" is not a host name or address (letters, digits and "-" between dots)`;
  }
  if (portText === undefined) return { host };
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
    return `registry "${clip(registry)}": port "${clip(portText)}" is not a number from 1 to 65535`;
  return { host, port: Number(portText) };
}

function clip(s: string): string {
  const t = s.length > 80 ? `${s.slice(0, 77)}...` : s;
  return JSON.stringify(t).slice(1, -1);
}
