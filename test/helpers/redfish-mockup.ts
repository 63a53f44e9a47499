// A static Redfish service on loopback for tests of the Redfish client (`harvgen facts`): it serves
// a DMTF mockup directory (test/fixtures/redfish/<name>/, the mockup layout
// `redfish/v1/<path>/index.json`) the way a BMC does: GET only, HTTP Basic authentication on every
// resource but the service root, Redfish error bodies for 401/404/405. Paths never leave the
// mockup directory (`..`, encoded or not, is refused). Per path, a hostile behaviour can replace
// the resource (`hostile`), for tests that the client stays bounded; the path is matched without
// its query and trailing slash, after authentication (a request without credentials gets the 401).
// Every request's path (with its query, as sent) is recorded in `requests`. `tls: true` serves
// HTTPS, as a BMC does, with the self-signed certificate of test/helpers/hostile-registry.ts.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { selfSigned } from './hostile-registry.ts';

/**
 * How a path misbehaves:
 * - `huge`: a 64 MiB JSON object under its true Content-Length;
 * - `endless`: a chunked body that never ends (until the client leaves or the server closes);
 * - `hang`: the request read, then nothing, headers included;
 * - `redirect`: 302 to http://127.0.0.1:1/ (a port where nothing listens);
 * - `not-json`: 200 `application/json` whose body is not JSON;
 * - `html`: 200 `text/html`, a login page as some BMCs answer.
 */
export type HostileMode = 'huge' | 'endless' | 'hang' | 'redirect' | 'not-json' | 'html';

export interface MockupOptions {
  /** Basic auth user (default `admin`). */
  readonly user?: string;
  /** Basic auth password (default `secret`). */
  readonly password?: string;
  /** Per path (`/redfish/v1/Systems/1`), a hostile behaviour instead of the resource. */
  readonly hostile?: Readonly<Record<string, HostileMode>>;
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (the client must not verify it, or trust `selfSigned().dir`'s `ca.crt`). */
  readonly tls?: boolean;
}

export interface MockupServer {
  /** `http(s)://127.0.0.1:<port>`: the BMC's address (the service root is `${url}/redfish/v1`). */
  readonly url: string;
  /** Every request's path and query, as sent, in order. */
  readonly requests: string[];
  /** Stop the server, cutting hanging and endless answers. */
  close(): Promise<void>;
}

/** Size of the `huge` body. */
export const HUGE_BYTES = 64 * 1024 * 1024;
/** Where `redirect` sends the client. */
export const REDIRECT_TARGET = 'http://127.0.0.1:1/';

const ROOT = '/redfish/v1';
const BLOCK = 64 * 1024;

/** Serve the mockup in `dir` on 127.0.0.1 and a free port. */
export async function startMockup(dir: string, opts: MockupOptions = {}): Promise<MockupServer> {
  const base = realpathSync(dir);
  const expected = `Basic ${Buffer.from(`${opts.user ?? 'admin'}:${opts.password ?? 'secret'}`).toString('base64')}`;
  const hostile = new Map(Object.entries(opts.hostile ?? {}).map(([p, m]) => [trimSlash(p), m]));
  const requests: string[] = [];
  const handle: http.RequestListener = (req, res) => {
    requests.push(req.url ?? '');
    res.on('error', () => res.destroy());
    const rawPath = (req.url ?? '').split('?')[0]!;
    if (req.method !== 'GET')
      return error(res, 405, 'OperationNotAllowed', `${req.method} is not allowed here: GET only.`, { Allow: 'GET' });
    const rel = resourcePath(rawPath);
    if (rel === 'refused') return error(res, 400, 'GeneralError', `The path ${rawPath} is refused: it would leave the Redfish tree.`);
    const key = trimSlash(rawPath);
    if (key !== ROOT && req.headers.authorization !== expected) {
      return error(res, 401, 'ResourceAtUriUnauthorized', `Access to ${rawPath} requires valid credentials.`, {
        'WWW-Authenticate': 'Basic realm="Redfish"',
      });
    }
    const mode = hostile.get(key);
    if (mode !== undefined) return misbehave(mode, key, res);
    const file = rel === undefined ? undefined : resourceFile(base, rel);
    if (file === undefined) return error(res, 404, 'ResourceNotFound', `The resource at ${rawPath} was not found.`);
    send(res, 200, readFileSync(file), { 'Content-Type': 'application/json' });
  };
  const server = opts.tls ? https.createServer(selfSigned(), handle) : http.createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/**
 * The decoded path under `/redfish/v1` as segments (`[]` for the service root); undefined when it
 * is elsewhere (not found); `refused` when it cannot be decoded or has a `.`, `..`, empty or
 * backslash segment.
 */
function resourcePath(rawPath: string): string[] | 'refused' | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(trimSlash(rawPath));
  } catch {
    return 'refused';
  }
  if (decoded === ROOT) return [];
  if (!decoded.startsWith(`${ROOT}/`)) return decoded.includes('..') ? 'refused' : undefined;
  const segments = decoded.slice(ROOT.length + 1).split('/');
  const bad = segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0'));
  return bad ? 'refused' : segments;
}

/** `<base>/redfish/v1/<rel>/index.json` when it exists and, symbolic links resolved, lies inside `base`. */
function resourceFile(base: string, rel: readonly string[]): string | undefined {
  const file = path.join(base, 'redfish', 'v1', ...rel, 'index.json');
  if (!existsSync(file)) return undefined;
  const real = realpathSync(file);
  return real.startsWith(base + path.sep) ? real : undefined;
}

function send(res: http.ServerResponse, status: number, body: Buffer | string, headers: Record<string, string>): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'OData-Version': '4.0', 'Content-Length': bytes.length });
  res.end(bytes);
}

/** A Redfish error body (DSP0266 "Error responses") with one message of the Base registry. */
function error(res: http.ServerResponse, status: number, messageId: string, message: string, headers: Record<string, string> = {}): void {
  const body = {
    error: {
      code: `Base.1.18.${messageId}`,
      message,
      '@Message.ExtendedInfo': [
        { '@odata.type': '#Message.v1_2_0.Message', MessageId: `Base.1.18.${messageId}`, Message: message, MessageSeverity: 'Critical' },
      ],
    },
  };
  send(res, status, JSON.stringify(body, null, 4), { ...headers, 'Content-Type': 'application/json' });
}

function misbehave(mode: HostileMode, key: string, res: http.ServerResponse): void {
  switch (mode) {
    case 'huge':
      return padded(key, res, HUGE_BYTES);
    case 'endless':
      return padded(key, res, Infinity);
    case 'hang':
      return;
    case 'redirect':
      return send(res, 302, '', { Location: REDIRECT_TARGET });
    case 'not-json':
      return send(res, 200, '{"@odata.id": "' + key + '", \u0000\u00ff garbage <<<', { 'Content-Type': 'application/json' });
    case 'html':
      return send(res, 200, '<!DOCTYPE html>\n<html><head><title>BMC Login</title></head><body><form>Login</form></body></html>\n', {
        'Content-Type': 'text/html',
      });
  }
}

/**
 * `{"@odata.id": "<key>", "Padding": "aaa..."}`, `size` bytes long under its Content-Length; with
 * an Infinite size, chunked and never closed.
 */
function padded(key: string, res: http.ServerResponse, size: number): void {
  const head = Buffer.from(`{"@odata.id": ${JSON.stringify(key)}, "Padding": "`);
  const tail = Buffer.from('"}');
  const length: Record<string, number> = Number.isFinite(size) ? { 'Content-Length': size } : {};
  res.writeHead(200, { 'Content-Type': 'application/json', 'OData-Version': '4.0', ...length });
  res.write(head);
  pump(res, Buffer.alloc(BLOCK, 0x61), size - head.length - tail.length, tail);
}

/** Write `total` bytes of `block` (the last block cut), respecting backpressure, then `tail` and end; an Infinite total never ends. */
function pump(res: http.ServerResponse, block: Buffer, total: number, tail?: Buffer): void {
  let left = total;
  let closed = false;
  res.once('close', () => (closed = true));
  const go = () => {
    while (left > 0 && !closed) {
      const bytes = left >= block.length ? block : block.subarray(0, left);
      left -= bytes.length;
      if (!res.write(bytes)) return void res.once('drain', go);
    }
    if (!closed) res.end(tail);
  };
  go();
}
