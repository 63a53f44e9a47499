/**
 * A client of one OCI distribution registry (`/v2/` API): ping and authentication (Basic, and the
 * Bearer token flow with a token cached per scope), blobs (exists, upload, cross-repository
 * mount, download with the digest checked while reading), manifests, tag resolution and listing.
 * Node's http/https only; keep-alive sockets; an idle timeout per request; redirects of GET/HEAD
 * followed (without the Authorization header when they leave the registry, as to a storage
 * bucket).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { findCredentials, trustFor, type Credentials, type Trust } from './auth.ts';
import { digestProblem, isDigest, repositoryProblem, sha256Digest, tagProblem } from './ref.ts';

/** Bytes to upload: in memory, or a size and a way to stream them (once per attempt). */
export type BlobBody = Uint8Array | { readonly size: number; readonly open: () => Readable | Promise<Readable> };

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

/** Counters of one client, for reports and tests. */
export interface RegistryCounters {
  requests: number;
  bytesUploaded: number;
  blobsUploaded: number;
  blobsSkipped: number;
  blobsMounted: number;
}

/** Options of a Registry client. */
export interface RegistryOptions {
  /** `host[:port]`. */
  readonly registry: string;
  /** Plain HTTP instead of HTTPS (loopback tests and labs only). */
  readonly insecure?: boolean;
  /** Credentials to use; `null` for anonymous; undefined to look them up (auth.ts). */
  readonly credentials?: Credentials | null;
  /** Environment for the credential lookup (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** A directory of CA certificates used instead of the certs.d directories. */
  readonly certDir?: string;
  /** The certs.d roots (tests). */
  readonly certsRoots?: readonly string[];
  /** Idle timeout of each request in ms (default 60 000). */
  readonly timeoutMs?: number;
  /** Sockets kept per host (default 8). */
  readonly maxSockets?: number;
  readonly userAgent?: string;
}

/** A manifest as fetched. */
export interface FetchedManifest {
  readonly mediaType: string;
  readonly digest: string;
  readonly bytes: Buffer;
}

/** Largest manifest read (4 MiB, as Distribution's default limit). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  url: string;
}

interface RequestSpec {
  method: string;
  /** Path and query below the registry, or an absolute URL (a Location). */
  path: string;
  headers?: Record<string, string>;
  body?: BlobBody;
  /** The token scopes the request needs. */
  scopes: readonly string[];
  /** Keep the body as a stream instead of reading it (GET blob). */
  stream?: boolean;
  /** Largest body read into memory. */
  maxBody?: number;
  /** Follow redirects (GET/HEAD). */
  follow?: boolean;
}

interface StreamAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  res: http.IncomingMessage;
  url: string;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * A client for one registry host. Create one per registry and reuse it: sockets are kept alive
 * and Bearer tokens are cached per scope. `close()` releases the sockets.
 */
export class Registry {
  readonly registry: string;
  readonly base: string;
  readonly counters: RegistryCounters = { requests: 0, bytesUploaded: 0, blobsUploaded: 0, blobsSkipped: 0, blobsMounted: 0 };
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly trust: Trust | undefined;
  private creds: Credentials | null | undefined;
  private credsTried: readonly string[] = [];
  private readonly tokens = new Map<string, string>();
  /** The scheme the registry asked for last (Basic sends credentials up front afterwards). */
  private basic = false;

  constructor(private readonly options: RegistryOptions) {
    this.registry = options.registry;
    this.base = `${options.insecure ? 'http' : 'https'}://${options.registry}`;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.userAgent = options.userAgent ?? 'harvgen-oci';
    this.creds = options.credentials;
    if (options.credentials !== undefined) this.credsTried = [options.credentials ? options.credentials.source : 'anonymous'];
    const maxSockets = options.maxSockets ?? 8;
    if (options.insecure) {
      this.agent = new http.Agent({ keepAlive: true, maxSockets });
    } else {
      this.trust = trustFor(options.registry, { certDir: options.certDir, certsRoots: options.certsRoots });
      this.agent = new https.Agent({
        keepAlive: true,
        maxSockets,
        ...(this.trust.ca ? { ca: [...this.trust.ca] } : {}),
        ...(this.trust.cert ? { cert: this.trust.cert, key: this.trust.key } : {}),
      });
    }
  }

  /** Release the kept-alive sockets. */
  close(): void {
    this.agent.destroy();
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
  async pushBlob(repo: string, digest: string, body: BlobBody): Promise<'uploaded' | 'skipped'> {
    if (await this.hasBlob(repo, digest)) {
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
   * hash to `digest`, or longer than `maxBytes`, is refused (RegistryError 'digest' / 'size').
   */
  async getBlob(repo: string, digest: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
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
      stream: true,
    });
    if (a.status !== 200) {
      const body = await readBody(a.res, 64 * 1024).catch(() => Buffer.alloc(0));
      throw this.httpError({ status: a.status, headers: a.headers, body, url: a.url }, `blob ${digest} of ${repo}`);
    }
    const max = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
    const declared = Number(a.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > max) {
      a.res.destroy();
      throw new RegistryError(`blob ${digest} of ${repo} is ${declared} bytes, more than the ${max} allowed`, 'size', a.url, a.status);
    }
    return checkedStream(a.res, digest, max, options.size, a.url, this.timeoutMs);
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

  // --- requests and authentication ----------------------------------------------------------

  private async request(spec: RequestSpec): Promise<Answer> {
    const a = await this.requestStream(spec);
    // A HEAD answer has no body, but must still be read to its end to free the socket.
    if (spec.method === 'HEAD') a.res.resume();
    const body = spec.method === 'HEAD' ? Buffer.alloc(0) : await readBody(a.res, spec.maxBody ?? 64 * 1024, a.url);
    return { status: a.status, headers: a.headers, body, url: a.url };
  }

  /** One request with authentication (one retry after a challenge) and redirects. */
  private async requestStream(spec: RequestSpec): Promise<StreamAnswer> {
    let a = await this.send(spec, this.authHeader(spec.scopes));
    if (a.status === 401) {
      const challenge = parseChallenge(header(a.headers, 'www-authenticate') ?? '');
      a.res.resume();
      const auth = await this.answerChallenge(challenge, spec.scopes, a.url);
      a = await this.send(spec, auth);
      if (a.status === 401) {
        const body = await readBody(a.res, 64 * 1024).catch(() => Buffer.alloc(0));
        throw this.authError({ status: 401, headers: a.headers, body, url: a.url });
      }
    }
    return a;
  }

  private authHeader(scopes: readonly string[]): string | undefined {
    const token = this.tokens.get(scopeKey(scopes));
    if (token) return `Bearer ${token}`;
    if (this.basic && this.creds) return basicHeader(this.creds);
    return undefined;
  }

  private async credentials(): Promise<Credentials | null> {
    if (this.creds !== undefined) return this.creds;
    const found = await findCredentials(this.registry, { env: this.options.env });
    this.credsTried = found.tried;
    this.creds = found.credentials ?? null;
    return this.creds;
  }

  private async answerChallenge(challenge: Challenge | undefined, scopes: readonly string[], url: string): Promise<string> {
    const creds = await this.credentials();
    if (!challenge)
      throw new RegistryError(`${this.registry} answered 401 without a WWW-Authenticate challenge (${url})`, 'auth', url, 401);
    if (challenge.scheme === 'basic') {
      if (!creds) throw this.noCredentials(url);
      this.basic = true;
      return basicHeader(creds);
    }
    if (challenge.scheme !== 'bearer')
      throw new RegistryError(
        `${this.registry} asks for "${challenge.scheme}" authentication, which harvgen does not speak (Basic and Bearer only)`,
        'auth',
        url,
        401,
      );
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`${this.registry}'s Bearer challenge names no realm`, 'auth', url, 401);
    const all = [...new Set([...scopes, ...(challenge.params.scope ? challenge.params.scope.split(' ') : [])])].sort();
    const tokenUrl = new URL(realm);
    if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
    for (const s of all) tokenUrl.searchParams.append('scope', s);
    const a = await this.sendRaw('GET', tokenUrl, creds ? { authorization: basicHeader(creds) } : {}, undefined);
    const body = await readBody(a.res, 1024 * 1024, safeUrl(tokenUrl));
    const shown = safeUrl(tokenUrl);
    if (a.status === 401 || a.status === 403) throw this.authError({ status: a.status, headers: a.headers, body, url: shown });
    if (a.status !== 200)
      throw new RegistryError(`the token service ${shown} answered ${a.status}`, 'auth', shown, a.status, errorCodes(body));
    let doc: { token?: unknown; access_token?: unknown };
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      throw new RegistryError(`the token service ${shown} did not answer JSON`, 'auth', shown, a.status);
    }
    const token = typeof doc.token === 'string' ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : undefined;
    if (!token) throw new RegistryError(`the token service ${shown} gave no token`, 'auth', shown, a.status);
    this.tokens.set(scopeKey(scopes), token);
    return `Bearer ${token}`;
  }

  private noCredentials(url: string): RegistryError {
    return new RegistryError(
      `${this.registry} asks for credentials and none were found (tried: ${this.credsTried.join(', ') || 'nothing'}). ` +
        `Log in with \`podman login ${this.registry}\`, \`skopeo login ${this.registry}\` or \`docker login ${this.registry}\`, ` +
        'or set HARVGEN_REGISTRY_USERNAME and HARVGEN_REGISTRY_PASSWORD',
      'auth',
      url,
      401,
    );
  }

  private authError(a: Answer): RegistryError {
    if (!this.creds) return this.noCredentials(a.url);
    const codes = errorCodes(a.body);
    const what = a.status === 403 ? 'refused access for' : 'did not accept';
    return new RegistryError(
      `${this.registry} ${what} the credentials of user "${this.creds.username}" from ${this.creds.source} (HTTP ${a.status}${codes.length ? ` ${codes.join(', ')}` : ''}). ` +
        `Check the password (log in again) and that this account may read and write this repository${this.credsTried.length > 1 ? ` (sources tried: ${this.credsTried.join(', ')})` : ''}`,
      'auth',
      a.url,
      a.status,
      codes,
    );
  }

  private httpError(a: Answer, what: string): RegistryError {
    const codes = errorCodes(a.body);
    const messages = registryMessages(a.body);
    if (a.status === 403) return this.authError(a);
    let hint = '';
    if (a.status === 404) hint = ': not found (check the repository, tag or digest)';
    else if (a.status === 405) hint = ': the registry does not allow this operation (read-only, or deletion disabled)';
    else if (a.status === 429) hint = ': too many requests (the registry limits the rate; try again later)';
    else if (a.status >= 500) hint = ': the registry failed (see its logs)';
    const detail = messages.length ? ` (${messages.join('; ')})` : codes.length ? ` (${codes.join(', ')})` : '';
    return new RegistryError(`${what}: ${this.registry} answered HTTP ${a.status}${hint}${detail}`, 'http', a.url, a.status, codes);
  }

  private async send(spec: RequestSpec, authorization: string | undefined): Promise<StreamAnswer> {
    let url = spec.path.startsWith('/') ? new URL(this.base + spec.path) : new URL(spec.path);
    let auth = authorization;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...(spec.headers ?? {}) };
      if (auth && url.host === new URL(this.base).host) headers.authorization = auth;
      const a = await this.sendRaw(spec.method, url, headers, spec.body);
      const loc = header(a.headers, 'location');
      if (spec.follow && [301, 302, 303, 307, 308].includes(a.status) && loc && hop < 5) {
        a.res.resume();
        url = new URL(loc, url);
        if (url.protocol !== 'https:' && !(this.options.insecure && url.protocol === 'http:'))
          throw new RegistryError(
            `${this.registry} redirected to ${safeUrl(url)}, which is not HTTPS; refused`,
            'protocol',
            safeUrl(url),
            a.status,
          );
        if (url.host !== new URL(this.base).host) auth = undefined;
        continue;
      }
      return { ...a, url: safeUrl(url) };
    }
  }

  private sendRaw(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: BlobBody | undefined,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; res: http.IncomingMessage }> {
    this.counters.requests++;
    const shown = safeUrl(url);
    const own = url.host === new URL(this.base).host;
    const mod = url.protocol === 'http:' ? http : https;
    // Redirect targets off the registry (a storage bucket) use the default agent and system CAs.
    const agent = own ? this.agent : undefined;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers: { 'user-agent': this.userAgent, ...headers }, agent }, (res) => {
        res.setTimeout(this.timeoutMs, () =>
          res.destroy(new RegistryError(`${method} ${shown}: no data for ${this.timeoutMs} ms`, 'timeout', shown)),
        );
        resolve({ status: res.statusCode ?? 0, headers: res.headers, res });
      });
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(new RegistryError(`${method} ${shown}: no answer within ${this.timeoutMs} ms`, 'timeout', shown)),
      );
      req.on('error', (err) => reject(this.networkError(err, method, shown)));
      if (body === undefined) req.end();
      else if (body instanceof Uint8Array) {
        this.counters.bytesUploaded += body.length;
        req.end(body);
      } else {
        Promise.resolve()
          .then(() => body.open())
          .then(
            (src) => {
              src.on('data', (c: Buffer) => (this.counters.bytesUploaded += c.length));
              src.on('error', (err) => req.destroy(err));
              src.pipe(req);
            },
            (err: Error) => req.destroy(err),
          );
      }
    });
  }

  private networkError(err: Error, method: string, url: string): RegistryError {
    if (err instanceof RegistryError) return err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (TLS_CODES.has(code)) {
      const dirs = this.trust?.dirs.join(' or ') ?? `/etc/containers/certs.d/${this.registry}/`;
      const detail =
        code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? `its certificate does not name ${new URL(url).hostname}`
          : `its certificate is not trusted (${code})`;
      return new RegistryError(
        `TLS to ${this.registry} failed: ${detail}. To trust a private CA, put its certificate (PEM, a file ending in .crt) in ${dirs}` +
          `${this.trust?.files.length ? ` (read: ${this.trust.files.join(', ')})` : ''}, or add it to the system CAs (update-ca-certificates)`,
        'tls',
        url,
      );
    }
    if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(err.message))
      return new RegistryError(
        `TLS to ${this.registry} failed: it does not answer TLS on this port (${err.message.split('\n')[0]})`,
        'tls',
        url,
      );
    if (code === 'ECONNREFUSED')
      return new RegistryError(`${method} ${url}: connection refused (is the registry running on ${this.registry}?)`, 'network', url);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return new RegistryError(`${method} ${url}: the host name does not resolve`, 'network', url);
    return new RegistryError(`${method} ${url}: ${code || err.message}`, 'network', url);
  }
}

/** The manifest media types harvgen reads, in order of preference. */
export const DEFAULT_ACCEPT: readonly string[] = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

function pull(repo: string): string {
  return `repository:${repo}:pull`;
}
function push(repo: string): string {
  return `repository:${repo}:pull,push`;
}
function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(' ');
}

function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

function header(h: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A URL as shown in messages: no user info, no query (a token service's query may hold a secret). */
function safeUrl(url: URL): string {
  const u = new URL(url.toString());
  u.username = '';
  u.password = '';
  const keep = new URLSearchParams();
  for (const [k, v] of u.searchParams)
    if (k === 'digest' || k === 'mount' || k === 'from' || k === 'scope' || k === 'service' || k === 'n' || k === 'last') keep.append(k, v);
  u.search = keep.toString();
  return u.toString();
}

/** Parse `Bearer realm="...",service="...",scope="..."` (or Basic). */
export function parseChallenge(value: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(value);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2]!)) !== null) {
    if (p[0] === '') break;
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

function errorCodes(body: Buffer): string[] {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown }[] };
    return (doc.errors ?? []).map((e) => e.code).filter((c): c is string => typeof c === 'string');
  } catch {
    return [];
  }
}

function registryMessages(body: Buffer): string[] {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    return (doc.errors ?? [])
      .map((e) => `${typeof e.code === 'string' ? e.code : '?'}${typeof e.message === 'string' ? `: ${e.message.slice(0, 200)}` : ''}`)
      .slice(0, 5);
  } catch {
    return [];
  }
}

async function readBody(res: http.IncomingMessage, max: number, url = ''): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > max) {
      res.destroy();
      throw new RegistryError(`the answer of ${url} is larger than ${max} bytes; refused`, 'size', url, res.statusCode);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A stream of `res` that fails unless the bytes hash to `digest` (and fit the bounds). */
function checkedStream(
  res: http.IncomingMessage,
  digest: string,
  max: number,
  size: number | undefined,
  url: string,
  _timeoutMs: number,
): Readable {
  const hash = createHash('sha256');
  let n = 0;
  let started = false;
  // Nothing flows until the consumer reads, so no byte (and no verdict) is lost before it listens.
  const out = new Readable({
    read: () => {
      if (started) {
        res.resume();
        return;
      }
      started = true;
      start();
    },
  });
  // An error before anyone listens stays on the stream (errored) instead of crashing the process.
  out.on('error', () => undefined);
  const start = (): void => {
    res.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max || (size !== undefined && n > size)) {
        res.destroy();
        out.destroy(
          new RegistryError(
            `blob ${digest} (${url}) is longer than ${size !== undefined ? `its ${size} bytes` : `the ${max} bytes allowed`}; refused`,
            'size',
            url,
            200,
          ),
        );
        return;
      }
      hash.update(c);
      if (!out.push(c)) res.pause();
    });
    res.on('end', () => {
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== digest)
        out.destroy(new RegistryError(`blob ${digest} (${url}): the registry sent bytes that hash to ${got}; refused`, 'digest', url, 200));
      else if (size !== undefined && n !== size)
        out.destroy(new RegistryError(`blob ${digest} (${url}) is ${n} bytes, not ${size}; refused`, 'size', url, 200));
      else out.push(null);
    });
    res.on('error', (err) =>
      out.destroy(err instanceof RegistryError ? err : new RegistryError(`download of ${url} failed: ${err.message}`, 'network', url)),
    );
    res.on('aborted', () => out.destroy(new RegistryError(`download of ${url} was cut short`, 'network', url)));
  };
  return out;
}

function checkRepo(repo: string): void {
  const p = repositoryProblem(repo);
  if (p) throw new RegistryError(p, 'protocol', repo);
}
function checkDigest(digest: string): void {
  const p = digestProblem(digest);
  if (p) throw new RegistryError(p, 'protocol', digest);
}
function checkReference(reference: string): void {
  const p = reference.includes(':') ? digestProblem(reference) : tagProblem(reference);
  if (p) throw new RegistryError(p, 'protocol', reference);
}
