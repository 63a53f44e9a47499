/**
 * The registry client's transport: one request with Node's http/https on keep-alive sockets (the
 * registry's TLS trust from auth.ts), redirects of GET/HEAD followed (HTTPS only, without the
 * Authorization header once they leave the registry, as to a storage bucket), and every limit:
 * an idle timeout, a limit on the whole request (its answer read to the end included), the run's
 * deadline and its AbortSignal. A limit that passes destroys the request and its answer with a
 * RegistryError 'timeout' naming the URL and the limit, which whoever reads the answer receives.
 */
import http from 'node:http';
import https from 'node:https';
import { trustFor, type Trust } from './auth.ts';
import { header, RegistryError, safeUrl } from './errors.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, type BlobBody, type RegistryOptions } from './options.ts';

/** Counters of one client, for reports and tests. */
export interface RegistryCounters {
  requests: number;
  bytesUploaded: number;
  blobsUploaded: number;
  blobsSkipped: number;
  blobsMounted: number;
}

/** An answer whose body is still to be read. */
export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  res: http.IncomingMessage;
}

/** An answer whose body is still to be read, and the URL it came from. */
export interface StreamAnswer extends RawAnswer {
  url: string;
}

/** A request below the registry (or at an absolute URL: a Location). */
export interface SendSpec {
  method: string;
  /** Path and query below the registry, or an absolute URL (a Location). */
  path: string;
  headers?: Record<string, string>;
  body?: BlobBody;
  /** Follow redirects (GET/HEAD). */
  follow?: boolean;
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

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class Transport {
  readonly registry: string;
  readonly base: string;
  /** `host:port` of the registry, as URLs spell it. */
  readonly host: string;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly userAgent: string;
  private readonly trust: Trust | undefined;

  constructor(
    private readonly options: RegistryOptions,
    private readonly counters: RegistryCounters,
  ) {
    this.registry = options.registry;
    this.base = `${options.insecure ? 'http' : 'https'}://${options.registry}`;
    this.host = new URL(this.base).host;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.userAgent = options.userAgent ?? 'harvgen-oci';
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

  /** A path below the registry, or an absolute URL, as a URL. */
  urlOf(pathOrUrl: string): URL {
    return pathOrUrl.startsWith('/') ? new URL(this.base + pathOrUrl) : new URL(pathOrUrl);
  }

  /** One request and its redirects (when `follow`); `authorization` goes to the registry's host only. */
  async send(spec: SendSpec, authorization: string | undefined): Promise<StreamAnswer> {
    let url = this.urlOf(spec.path);
    let auth = authorization;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...(spec.headers ?? {}) };
      if (auth && url.host === this.host) headers.authorization = auth;
      const a = await this.sendRaw(spec.method, url, headers, spec.body);
      const loc = header(a.headers, 'location');
      if (!(spec.follow && REDIRECTS.has(a.status) && loc && hop < 5)) return { ...a, url: safeUrl(url) };
      a.res.resume();
      url = new URL(loc, url);
      if (url.protocol !== 'https:' && !(this.options.insecure && url.protocol === 'http:'))
        throw new RegistryError(
          `${this.registry} redirected to ${safeUrl(url)}, which is not HTTPS; refused`,
          'protocol',
          safeUrl(url),
          a.status,
        );
      if (url.host !== this.host) auth = undefined;
    }
  }

  /** One HTTP exchange, under every limit; resolves at the answer's headers. */
  sendRaw(method: string, url: URL, headers: Record<string, string>, body: BlobBody | undefined): Promise<RawAnswer> {
    const shown = safeUrl(url);
    const limit = this.limitFor(method, shown);
    if (limit instanceof RegistryError) return Promise.reject(limit);
    this.counters.requests++;
    const mod = url.protocol === 'http:' ? http : https;
    // Redirect targets off the registry (a storage bucket) use the default agent and system CAs.
    const agent = url.host === this.host ? this.agent : undefined;
    return new Promise((resolve, reject) => {
      let response: http.IncomingMessage | undefined;
      const fail = (err: RegistryError): void => {
        req.destroy(err);
        response?.destroy(err);
      };
      // Unref'd: a request in flight keeps the process alive by its socket; an answer left unread must not.
      const timer = setTimeout(() => fail(limit.error()), limit.ms).unref();
      const onAbort = (): void => fail(this.stopped(method, shown));
      this.options.signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        clearTimeout(timer);
        this.options.signal?.removeEventListener('abort', onAbort);
      };
      const req = mod.request(url, { method, headers: { 'user-agent': this.userAgent, ...headers }, agent }, (res) => {
        response = res;
        // Whoever reads the answer sees its error; until then it must not be an uncaught one.
        res.on('error', () => undefined);
        res.on('close', done);
        res.setTimeout(this.timeoutMs, () =>
          res.destroy(new RegistryError(`${method} ${shown}: no data for ${this.timeoutMs} ms`, 'timeout', shown)),
        );
        resolve({ status: res.statusCode ?? 0, headers: res.headers, res });
      });
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(new RegistryError(`${method} ${shown}: no answer within ${this.timeoutMs} ms`, 'timeout', shown)),
      );
      req.on('error', (err) => {
        if (!response) done();
        reject(this.networkError(err, method, shown));
      });
      this.writeBody(req, body);
    });
  }

  /** The limit of a request starting now, or why it must not start. */
  private limitFor(method: string, shown: string): RegistryError | { ms: number; error: () => RegistryError } {
    if (this.options.signal?.aborted) return this.stopped(method, shown);
    const deadline = this.options.deadline;
    const left = deadline !== undefined ? deadline - Date.now() : Infinity;
    const when = deadline !== undefined ? new Date(deadline).toISOString() : '';
    if (left <= 0) return new RegistryError(`${method} ${shown}: not sent, the run's deadline (${when}) has passed`, 'timeout', shown);
    if (left < this.requestTimeoutMs)
      return {
        ms: left,
        error: () =>
          new RegistryError(`${method} ${shown}: stopped at the run's deadline (${when}), ${left} ms after it started`, 'timeout', shown),
      };
    const ms = this.requestTimeoutMs;
    return {
      ms,
      error: () =>
        new RegistryError(`${method} ${shown}: no whole answer within ${ms} ms (the limit of one request); refused`, 'timeout', shown),
    };
  }

  private stopped(method: string, shown: string): RegistryError {
    const reason: unknown = this.options.signal?.reason;
    const why = reason instanceof Error ? reason.message : reason !== undefined ? String(reason) : 'aborted';
    return new RegistryError(`${method} ${shown}: stopped (${why})`, 'timeout', shown);
  }

  private writeBody(req: http.ClientRequest, body: BlobBody | undefined): void {
    if (body === undefined) return void req.end();
    if (body instanceof Uint8Array) {
      this.counters.bytesUploaded += body.length;
      return void req.end(body);
    }
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
