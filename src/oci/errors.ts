/**
 * The registry client's failure (`RegistryError`, with a kind callers branch on) and what is read
 * out of a registry's error body and headers; the operations' arguments checked against the
 * reference grammar. Shared by the transport, the authentication and the
 * operations.
 */
import type http from 'node:http';
import { digestProblem, repositoryProblem, tagProblem } from './ref.ts';

/** What went wrong, for callers that branch on it. */
export type RegistryErrorKind = 'http' | 'auth' | 'tls' | 'network' | 'timeout' | 'digest' | 'size' | 'protocol';

/** A failed registry operation. The message says what to do; it never holds a credential. */
export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(
    message: string,
    readonly kind: RegistryErrorKind,
    /** The URL (never with credentials). */
    readonly url: string,
    /** HTTP status, when there was an answer. */
    readonly status?: number,
    /** The registry's error codes (`BLOB_UNKNOWN`, `DENIED`, ...). */
    readonly codes: readonly string[] = [],
  ) {
    super(message);
  }
}

/** An answer read whole. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  url: string;
}

/** One header's (first) value. */
export function header(h: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A URL as shown in messages: no user info, no query (a token service's query may hold a secret). */
export function safeUrl(url: URL): string {
  const u = new URL(url.toString());
  u.username = '';
  u.password = '';
  const keep = new URLSearchParams();
  for (const [k, v] of u.searchParams)
    if (k === 'digest' || k === 'mount' || k === 'from' || k === 'scope' || k === 'service' || k === 'n' || k === 'last') keep.append(k, v);
  u.search = keep.toString();
  return u.toString();
}

/** The error codes of a distribution-API error body. */
export function errorCodes(body: Buffer): string[] {
  return errorEntries(body)
    .map((e) => e.code)
    .filter((c): c is string => typeof c === 'string');
}

/** `CODE: message` of each error of a distribution-API error body (at most five). */
export function registryMessages(body: Buffer): string[] {
  return errorEntries(body)
    .map((e) => `${typeof e.code === 'string' ? e.code : '?'}${typeof e.message === 'string' ? `: ${e.message.slice(0, 200)}` : ''}`)
    .slice(0, 5);
}

function errorEntries(body: Buffer): { code?: unknown; message?: unknown }[] {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: unknown };
    return Array.isArray(doc.errors)
      ? (doc.errors as { code?: unknown; message?: unknown }[]).filter((e) => e && typeof e === 'object')
      : [];
  } catch {
    return [];
  }
}

/** A repository name, a digest, a tag or digest: a RegistryError 'protocol' unless well formed. */
export function checkRepo(repo: string): void {
  const p = repositoryProblem(repo);
  if (p) throw new RegistryError(p, 'protocol', repo);
}
export function checkDigest(digest: string): void {
  const p = digestProblem(digest);
  if (p) throw new RegistryError(p, 'protocol', digest);
}
export function checkReference(reference: string): void {
  const p = reference.includes(':') ? digestProblem(reference) : tagProblem(reference);
  if (p) throw new RegistryError(p, 'protocol', reference);
}
