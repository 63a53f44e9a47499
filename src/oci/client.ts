/**
 * A client of one OCI distribution registry (`/v2/` API): ping, blobs (exists, upload,
 * cross-repository mount, download with the digest checked while reading), manifests, tag
 * resolution and listing. Each operation is one or a few requests through `request` (below),
 * which answers a 401 through the Authenticator (challenge.ts: Basic, the Bearer token flow)
 * and sends through the Transport (transport.ts: sockets, redirects, every time limit); answers
 * are read by body.ts.
 */
import type { Readable } from 'node:stream';
import { checkedStream, readBody } from './body.ts';
import { Authenticator, pullScope as pull, pushScope as push } from './challenge.ts';
import { checkDigest, checkReference, checkRepo, errorCodes, header, registryMessages, RegistryError, type Answer } from './errors.ts';
import type { BlobBody, RegistryOptions } from './options.ts';
import { isDigest, sha256Digest } from './ref.ts';
import { Transport, type RegistryCounters, type SendSpec, type StreamAnswer } from './transport.ts';

export { parseChallenge } from './challenge.ts';
export { RegistryError, type RegistryErrorKind } from './errors.ts';
export { DEFAULT_REQUEST_TIMEOUT_MS, type BlobBody, type RegistryOptions } from './options.ts';
export type { RegistryCounters } from './transport.ts';

/** A manifest as fetched. */
export interface FetchedManifest {
  readonly mediaType: string;
  readonly digest: string;
  readonly bytes: Buffer;
}

/** Largest manifest read (4 MiB, as Distribution's default limit). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** The manifest media types harvgen reads, in order of preference. */
export const DEFAULT_ACCEPT: readonly string[] = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

interface RequestSpec extends SendSpec {
  /** The token scopes the request needs. */
  scopes: readonly string[];
  /** Largest body read into memory. */
  maxBody?: number;
}

/**
 * A client for one registry host. Create one per registry and reuse it: sockets are kept alive
 * and Bearer tokens are cached per scope. `close()` releases the sockets.
 */
export class Registry {
  readonly registry: string;
  readonly base: string;
  readonly counters: RegistryCounters = { requests: 0, bytesUploaded: 0, blobsUploaded: 0, blobsSkipped: 0, blobsMounted: 0 };
  /** Warnings so far (also given to `onWarning`): a token service on another host. */
  readonly warnings: string[] = [];
  private readonly transport: Transport;
  private readonly auth: Authenticator;

  constructor(options: RegistryOptions) {
    this.registry = options.registry;
    this.transport = new Transport(options, this.counters);
    this.base = this.transport.base;
    this.auth = new Authenticator(options, this.transport, (m) => {
      this.warnings.push(m);
      options.onWarning?.(m);
    });
  }

  /** Release the kept-alive sockets. */
  close(): void {
    this.transport.close();
  }

  /** `GET /v2/`: the registry answers (authenticating when it asks to). */
  async ping(): Promise<void> {
    const a = await this.request({ method: 'GET', path: '/v2/', scopes: [], maxBody: 64 * 1024 });
    if (a.status !== 200) throw this.httpError(a, 'ping');
  }

  /** True when the repository has the blob (HEAD). */
  async hasBlob(repo: string, digest: string): Promise<boolean> {
    checkRepo(repo);
    checkDigest(digest);
    const a = await this.request({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}`, scopes: [pull(repo)], follow: true });
    if (a.status === 200) return true;
    if (a.status === 404) return false;
    throw this.httpError(a, `blob ${digest} in ${repo}`);
  }

  /**
   * Upload a blob unless the repository has it: POST an upload, then PUT `?digest=` with the
   * whole body (monolithic). Returns what happened; counts it.
   */
  async pushBlob(
    repo: string,
    digest: string,
    body: BlobBody,
    options: { readonly unchecked?: boolean } = {},
  ): Promise<'uploaded' | 'skipped'> {
    // `unchecked`: the caller knows the repository is new; a blob it has after all is only sent again.
    if (!options.unchecked && (await this.hasBlob(repo, digest))) {
      this.counters.blobsSkipped++;
      return 'skipped';
    }
    const a = await this.request({
      method: 'POST',
      path: `/v2/${repo}/blobs/uploads/`,
      headers: { 'content-length': '0' },
      scopes: [push(repo)],
      maxBody: 64 * 1024,
    });
    if (a.status !== 202) throw this.httpError(a, `start of an upload to ${repo}`);
    await this.finishUpload(repo, digest, body, a);
    return 'uploaded';
  }

  /**
   * Mount a blob from another repository of this registry. 201: mounted. 202: the registry
   * opened an upload instead; with `body` the blob is uploaded into it ('uploaded'), without it
   * the upload is cancelled ('not-mounted'). Skips a blob the repository already has.
   */
  async mountBlob(
    repo: string,
    digest: string,
    fromRepo: string,
    body?: BlobBody | (() => Promise<BlobBody>),
  ): Promise<'mounted' | 'uploaded' | 'skipped' | 'not-mounted'> {
    checkRepo(fromRepo);
    if (await this.hasBlob(repo, digest)) {
      this.counters.blobsSkipped++;
      return 'skipped';
    }
    const a = await this.request({
      method: 'POST',
      path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepo)}`,
      headers: { 'content-length': '0' },
      scopes: [push(repo), pull(fromRepo)],
      maxBody: 64 * 1024,
    });
    if (a.status === 201) {
      this.counters.blobsMounted++;
      return 'mounted';
    }
    if (a.status !== 202) throw this.httpError(a, `mount of ${digest} from ${fromRepo} into ${repo}`);
    if (body === undefined) {
      const loc = a.headers.location;
      if (loc) await this.request({ method: 'DELETE', path: loc, scopes: [push(repo)], maxBody: 64 * 1024 }).catch(() => undefined);
      return 'not-mounted';
    }
    await this.finishUpload(repo, digest, typeof body === 'function' ? await body() : body, a);
    return 'uploaded';
  }

  private async finishUpload(repo: string, digest: string, body: BlobBody, started: Answer): Promise<void> {
    const loc = started.headers.location;
    if (!loc)
      throw new RegistryError(
        `${this.registry} opened an upload to ${repo} without a Location header`,
        'protocol',
        started.url,
        started.status,
      );
    const size = body instanceof Uint8Array ? body.length : body.size;
    const target = new URL(loc, started.url);
    target.searchParams.set('digest', digest);
    const a = await this.request({
      method: 'PUT',
      path: target.toString(),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
      scopes: [push(repo)],
      maxBody: 64 * 1024,
    });
    if (a.status !== 201) throw this.httpError(a, `upload of ${digest} to ${repo}`);
    this.counters.blobsUploaded++;
  }

  /**
   * Download a blob into memory, checking its SHA-256 while reading: a blob whose bytes do not
   * hash to `digest`, larger than `maxBytes` or than `size`, or shorter than `size`, is refused
   * (RegistryError 'digest' / 'size').
   */
  async getBlob(repo: string, digest: string, options: { maxBytes?: number; size?: number } = {}): Promise<Buffer> {
    const stream = await this.openBlob(repo, digest, options);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * A blob as a stream that checks its SHA-256 (and `maxBytes`, and `size` when given) as it
   * flows: the stream errors with a RegistryError instead of ending when the bytes are wrong, so
   * a consumer that commits only on 'end' never keeps bad bytes.
   */
  async openBlob(repo: string, digest: string, options: { maxBytes?: number; size?: number } = {}): Promise<Readable> {
    checkRepo(repo);
    checkDigest(digest);
    const a = await this.requestStream({
      method: 'GET',
      path: `/v2/${repo}/blobs/${digest}`,
      scopes: [pull(repo)],
      follow: true,
    });
    if (a.status !== 200) {
      const body = await readBody(a.res, 64 * 1024).catch(() => Buffer.alloc(0));
      throw this.httpError({ status: a.status, headers: a.headers, body, url: a.url }, `blob ${digest} of ${repo}`);
    }
    const max = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
    const declared = Number(a.headers['content-length'] ?? NaN);
    const limit = Math.min(max, options.size ?? max);
    if (Number.isFinite(declared) && declared > limit) {
      a.res.destroy();
      const than = limit === options.size ? `its ${limit} bytes` : `the ${max} bytes allowed`;
      throw new RegistryError(
        `blob ${digest} of ${repo} is larger than ${than} (its Content-Length: ${declared}); refused`,
        'size',
        a.url,
        a.status,
      );
    }
    return checkedStream(a.res, digest, max, options.size, a.url);
  }

  /** Store a manifest under a tag or its digest; returns its digest. */
  async putManifest(repo: string, reference: string, mediaType: string, bytes: Uint8Array): Promise<string> {
    checkRepo(repo);
    checkReference(reference);
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && reference !== digest)
      throw new RegistryError(
        `manifest bytes hash to ${digest}, not to the reference ${reference}`,
        'digest',
        `${this.base}/v2/${repo}/manifests/${reference}`,
      );
    const a = await this.request({
      method: 'PUT',
      path: `/v2/${repo}/manifests/${reference}`,
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      body: bytes,
      scopes: [push(repo)],
      maxBody: 64 * 1024,
    });
    if (a.status !== 201) throw this.httpError(a, `manifest ${reference} of ${repo}`);
    const said = header(a.headers, 'docker-content-digest');
    if (said && said !== digest)
      throw new RegistryError(`${this.registry} stored the manifest under ${said}, not its digest ${digest}`, 'digest', a.url, a.status);
    return digest;
  }

  /** Fetch a manifest; when `reference` is a digest the bytes must hash to it. */
  async getManifest(
    repo: string,
    reference: string,
    accept: readonly string[],
    options: { maxBytes?: number } = {},
  ): Promise<FetchedManifest> {
    checkRepo(repo);
    checkReference(reference);
    const max = options.maxBytes ?? MAX_MANIFEST_BYTES;
    const a = await this.request({
      method: 'GET',
      path: `/v2/${repo}/manifests/${reference}`,
      headers: { accept: accept.join(', ') },
      scopes: [pull(repo)],
      maxBody: max,
      follow: true,
    });
    if (a.status !== 200) throw this.httpError(a, `manifest ${reference} of ${repo}`);
    const digest = sha256Digest(a.body);
    if (isDigest(reference) && digest !== reference)
      throw new RegistryError(
        `manifest ${reference} of ${repo}: the registry sent bytes that hash to ${digest}; refused`,
        'digest',
        a.url,
        a.status,
      );
    let mediaType = (header(a.headers, 'content-type') ?? '').split(';')[0]!.trim();
    try {
      const doc = JSON.parse(a.body.toString('utf8')) as { mediaType?: unknown };
      if (typeof doc.mediaType === 'string') mediaType = doc.mediaType;
    } catch {
      throw new RegistryError(`manifest ${reference} of ${repo} is not JSON`, 'protocol', a.url, a.status);
    }
    return { mediaType, digest, bytes: a.body };
  }

  /** True when the repository has the manifest (HEAD). */
  async hasManifest(repo: string, reference: string, accept: readonly string[]): Promise<boolean> {
    checkRepo(repo);
    checkReference(reference);
    const a = await this.request({
      method: 'HEAD',
      path: `/v2/${repo}/manifests/${reference}`,
      headers: { accept: accept.join(', ') },
      scopes: [pull(repo)],
      follow: true,
    });
    if (a.status === 200) return true;
    if (a.status === 404) return false;
    throw this.httpError(a, `manifest ${reference} of ${repo}`);
  }

  /**
   * The digest a tag points at: HEAD and `Docker-Content-Digest`, else GET and hash the bytes.
   */
  async resolve(
    repo: string,
    tag: string,
    accept: readonly string[] = DEFAULT_ACCEPT,
  ): Promise<{ digest: string; mediaType: string; size: number }> {
    checkRepo(repo);
    checkReference(tag);
    const a = await this.request({
      method: 'HEAD',
      path: `/v2/${repo}/manifests/${tag}`,
      headers: { accept: accept.join(', ') },
      scopes: [pull(repo)],
      follow: true,
    });
    if (a.status !== 200) throw this.httpError(a, `tag ${tag} of ${repo}`);
    const said = header(a.headers, 'docker-content-digest');
    const size = Number(header(a.headers, 'content-length') ?? NaN);
    const mediaType = (header(a.headers, 'content-type') ?? '').split(';')[0]!.trim();
    if (said && isDigest(said) && Number.isSafeInteger(size)) return { digest: said, mediaType, size };
    const m = await this.getManifest(repo, tag, accept);
    return { digest: m.digest, mediaType: m.mediaType, size: m.bytes.length };
  }

  /** Every tag of a repository (following `Link` pagination). */
  async tags(repo: string): Promise<string[]> {
    checkRepo(repo);
    const out: string[] = [];
    let next: string | undefined = `/v2/${repo}/tags/list?n=1000`;
    for (let page = 0; next && page < 1000; page++) {
      const a = await this.request({ method: 'GET', path: next, scopes: [pull(repo)], maxBody: 16 * 1024 * 1024, follow: true });
      if (a.status === 404) return out;
      if (a.status !== 200) throw this.httpError(a, `tags of ${repo}`);
      let doc: { tags?: unknown };
      try {
        doc = JSON.parse(a.body.toString('utf8')) as typeof doc;
      } catch {
        throw new RegistryError(`the tag list of ${repo} is not JSON`, 'protocol', a.url, a.status);
      }
      if (Array.isArray(doc.tags)) for (const t of doc.tags) if (typeof t === 'string') out.push(t);
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(a.headers, 'link') ?? '');
      next = link ? new URL(link[1]!, a.url).toString() : undefined;
    }
    return out.sort();
  }

  /** Delete a manifest by digest (needs `storage.delete.enabled` on Distribution). */
  async deleteManifest(repo: string, digest: string): Promise<void> {
    checkRepo(repo);
    checkDigest(digest);
    const a = await this.request({
      method: 'DELETE',
      path: `/v2/${repo}/manifests/${digest}`,
      scopes: [`repository:${repo}:delete`],
      maxBody: 64 * 1024,
    });
    if (a.status !== 202) throw this.httpError(a, `deletion of manifest ${digest} of ${repo}`);
  }

  // --- requests ---------------------------------------------------------------------------------

  private async request(spec: RequestSpec): Promise<Answer> {
    const a = await this.requestStream(spec);
    // A HEAD answer has no body, but must still be read to its end to free the socket.
    if (spec.method === 'HEAD') a.res.resume();
    const body = spec.method === 'HEAD' ? Buffer.alloc(0) : await readBody(a.res, spec.maxBody ?? 64 * 1024, a.url);
    return { status: a.status, headers: a.headers, body, url: a.url };
  }

  /** One request with authentication (one retry after a challenge) and redirects. */
  private async requestStream(spec: RequestSpec): Promise<StreamAnswer> {
    let a = await this.transport.send(spec, this.auth.header(spec.scopes));
    if (a.status !== 401) return a;
    a.res.resume();
    a = await this.transport.send(spec, await this.auth.answer(header(a.headers, 'www-authenticate'), spec.scopes, a.url));
    if (a.status === 401) {
      const body = await readBody(a.res, 64 * 1024).catch(() => Buffer.alloc(0));
      throw this.auth.authError({ status: 401, headers: a.headers, body, url: a.url });
    }
    return a;
  }

  private httpError(a: Answer, what: string): RegistryError {
    const codes = errorCodes(a.body);
    const messages = registryMessages(a.body);
    if (a.status === 403) return this.auth.authError(a);
    let hint = '';
    if (a.status === 404) hint = ': not found (check the repository, tag or digest)';
    else if (a.status === 405) hint = ': the registry does not allow this operation (read-only, or deletion disabled)';
    else if (a.status === 429) hint = ': too many requests (the registry limits the rate; try again later)';
    else if (a.status >= 500) hint = ': the registry failed (see its logs)';
    const detail = messages.length ? ` (${messages.join('; ')})` : codes.length ? ` (${codes.join(', ')})` : '';
    return new RegistryError(`${what}: ${this.registry} answered HTTP ${a.status}${hint}${detail}`, 'http', a.url, a.status, codes);
  }
}
