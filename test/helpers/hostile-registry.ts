// A scriptable OCI registry for tests of the client and of pull/publish: node's http or https on a
// loopback address and a free port. Without a script it is a small honest registry (`GET /v2/`,
// blobs and manifests put in with `blob()` / `manifest()`, HEAD and GET, 404 otherwise); each
// route can be given a hostile behaviour instead (`on()`): a body dripped a few bytes at a time,
// an endless body, a body shorter than its Content-Length, other bytes than the digest names, a
// redirect, a Bearer challenge whose realm is anywhere, an answer that never comes. Every request
// is recorded with its headers (`requests`), so a test can prove what was, or was not, sent.
//
// TLS: `tls: true` serves HTTPS with a self-signed certificate for 127.0.0.1 made once per process
// by openssl; `certDir` holds it as `ca.crt` (the client's `certDir` option).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { tempDir } from './tmp.ts';

/** What a route answers. */
export type Behaviour =
  /** These bytes (status 200 unless given; Content-Length the body's unless `headers` say). */
  | { readonly kind: 'bytes'; readonly body: Uint8Array | string; readonly status?: number; readonly headers?: Record<string, string> }
  /** `body` a `step` bytes every `everyMs` ms (Content-Length the whole body's). */
  | { readonly kind: 'drip'; readonly body: Uint8Array | string; readonly everyMs: number; readonly step?: number }
  /** Chunks of `chunk` bytes (default 64 KiB) for as long as the client reads; no Content-Length. */
  | { readonly kind: 'endless'; readonly chunk?: number }
  /** A Content-Length of `declared` bytes, then `body` (fewer), then the connection closed. */
  | { readonly kind: 'short'; readonly body: Uint8Array | string; readonly declared: number }
  /** A redirect to `to` (status 307 unless given). */
  | { readonly kind: 'redirect'; readonly to: string; readonly status?: number }
  /** 401 with `WWW-Authenticate: Bearer realm="<realm>"...`, unless the request carries `accept` as Authorization. */
  | {
      readonly kind: 'bearer';
      readonly realm: string;
      readonly service?: string;
      readonly scope?: string;
      /** The Authorization that passes (then the route's next behaviour: the honest registry). */
      readonly accept?: string;
    }
  /** A token service: `{"token": <token>}` to every request. */
  | { readonly kind: 'token'; readonly token: string }
  /** Headers sent, then nothing, ever (until the client leaves or the server closes). */
  | { readonly kind: 'hang' }
  /** Anything else. */
  | { readonly kind: 'custom'; readonly handle: (req: http.IncomingMessage, res: http.ServerResponse) => void };

/** One request as the server received it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface HostileRegistryOptions {
  /** Serve HTTPS (self-signed for 127.0.0.1). */
  readonly tls?: boolean;
  /** The loopback address to listen on (default 127.0.0.1; 127.0.0.2 is "another host"). */
  readonly address?: string;
}

export interface HostileRegistry {
  /** `address:port`, the client's `registry` option. */
  readonly host: string;
  /** `http(s)://address:port`. */
  readonly url: string;
  /** With `tls`: a directory holding the certificate as `ca.crt` (the client's `certDir`). */
  readonly certDir: string | undefined;
  /** Every request received, in order. */
  readonly requests: SeenRequest[];
  /** Store a blob in `repo` (served honestly unless a route says otherwise); returns its digest. */
  blob(repo: string, bytes: Uint8Array | string): string;
  /** Store a manifest under a reference (tag or digest) and its digest; returns the digest. */
  manifest(repo: string, reference: string, mediaType: string, bytes: Uint8Array | string): string;
  /** Answer requests whose path (without query) equals `path` or matches it, any method unless given, with `behaviour`. Later routes win. */
  on(path: string | RegExp, behaviour: Behaviour, method?: string): void;
  /** Forget every route (stored blobs and manifests stay). */
  clearRoutes(): void;
  close(): Promise<void>;
}

/** `sha256:<hex>` of bytes. */
export function digestOf(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

interface Route {
  readonly path: string | RegExp;
  readonly behaviour: Behaviour;
  readonly method: string | undefined;
}

export async function startHostileRegistry(options: HostileRegistryOptions = {}): Promise<HostileRegistry> {
  const address = options.address ?? '127.0.0.1';
  const requests: SeenRequest[] = [];
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { mediaType: string; bytes: Buffer }>();
  let routes: Route[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const honest = (req: http.IncomingMessage, res: http.ServerResponse, pathname: string): void => {
    if (pathname === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const b = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(pathname);
    const found = b ? blobs.get(`${b[1]}@${b[2]}`) : undefined;
    if (found) return void sendBytes(req, res, found, 200, { 'docker-content-digest': b![2]! });
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(pathname);
    const man = m ? manifests.get(`${m[1]}@${m[2]}`) : undefined;
    if (man)
      return void sendBytes(req, res, man.bytes, 200, { 'content-type': man.mediaType, 'docker-content-digest': digestOf(man.bytes) });
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND","message":"not here"}]}');
  };

  const behave = (req: http.IncomingMessage, res: http.ServerResponse, b: Behaviour, next: () => void): void => {
    switch (b.kind) {
      case 'bytes':
        return void sendBytes(req, res, Buffer.from(b.body), b.status ?? 200, b.headers ?? {});
      case 'drip': {
        const body = Buffer.from(b.body);
        const step = b.step ?? 1;
        res.writeHead(200, { 'content-length': String(body.length) });
        let at = 0;
        const t = setInterval(() => {
          if (res.destroyed || at >= body.length) {
            clearInterval(t);
            timers.delete(t);
            if (!res.destroyed) res.end();
            return;
          }
          res.write(body.subarray(at, at + step));
          at += step;
        }, b.everyMs);
        timers.add(t);
        return;
      }
      case 'endless': {
        const chunk = Buffer.alloc(b.chunk ?? 64 * 1024, 0x61);
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        return void pump();
      }
      case 'short':
        res.writeHead(200, { 'content-length': String(b.declared) });
        res.write(Buffer.from(b.body), () => res.socket?.destroy());
        return;
      case 'redirect':
        return void res.writeHead(b.status ?? 307, { location: b.to }).end();
      case 'bearer': {
        if (b.accept !== undefined && req.headers.authorization === b.accept) return next();
        const params = [`realm="${b.realm}"`, ...(b.service ? [`service="${b.service}"`] : []), ...(b.scope ? [`scope="${b.scope}"`] : [])];
        res.writeHead(401, { 'www-authenticate': `Bearer ${params.join(',')}`, 'content-type': 'application/json' });
        return void res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      }
      case 'token':
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: b.token }));
      case 'hang':
        res.writeHead(200, { 'content-length': '1000' });
        res.flushHeaders();
        return;
      case 'custom':
        return b.handle(req, res);
    }
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } });
    req.resume();
    req.on('end', () => {
      const pathname = new URL(req.url ?? '/', 'http://x').pathname;
      const matching = routes.filter(
        (r) =>
          (r.method === undefined || r.method === req.method) && (typeof r.path === 'string' ? r.path === pathname : r.path.test(pathname)),
      );
      const route = matching[matching.length - 1];
      if (!route) return honest(req, res, pathname);
      behave(req, res, route.behaviour, () => honest(req, res, pathname));
    });
  };

  const tls = options.tls ? selfSigned() : undefined;
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `${address}:${port}`;
  return {
    host,
    url: `${tls ? 'https' : 'http'}://${host}`,
    certDir: tls?.dir,
    requests,
    blob(repo, bytes) {
      const d = digestOf(bytes);
      blobs.set(`${repo}@${d}`, Buffer.from(bytes));
      return d;
    },
    manifest(repo, reference, mediaType, bytes) {
      const d = digestOf(bytes);
      for (const ref of [reference, d]) manifests.set(`${repo}@${ref}`, { mediaType, bytes: Buffer.from(bytes) });
      return d;
    },
    on(p, behaviour, method) {
      routes.push({ path: p, behaviour, method });
    },
    clearRoutes() {
      routes = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sendBytes(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Buffer,
  status: number,
  headers: Record<string, string>,
): void {
  res.writeHead(status, { 'content-length': String(body.length), ...headers });
  res.end(req.method === 'HEAD' ? undefined : body);
}

let cached: { cert: string; key: string; dir: string } | undefined;

/** A self-signed certificate for IP 127.0.0.1 (made once per process), and a certDir holding it. */
export function selfSigned(): { cert: string; key: string; dir: string } {
  if (cached) return cached;
  const dir = tempDir('hostile-registry-tls');
  const certFile = path.join(dir, 'ca.crt');
  const keyFile = path.join(tempDir('hostile-registry-key'), 'server.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=hostile-registry',
      '-addext',
      'subjectAltName=IP:127.0.0.1,IP:127.0.0.2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ],
    { stdio: 'pipe' },
  );
  cached = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), dir };
  return cached;
}
