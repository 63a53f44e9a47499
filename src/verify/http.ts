// One HTTP GET as verify needs it: never follows a redirect, hashes the body as it streams in
// (a release ISO is never held in memory), keeps at most a few KiB of it (to recognise a
// directory listing), reads no more than the body may hold (`maxBytes`: an endless body is cut
// off), times out when the connection is idle, tells a body cut short from no answer, and reports
// the local address the server saw the request come from (what nginx's allow rules match). Node's
// own http/https only.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { verifyUserAgent } from './identity.ts';

/** What came back for one request. */
export interface Fetched {
  readonly status: number;
  /** The Location header of a redirect. */
  readonly location?: string;
  readonly contentType?: string;
  /** The Content-Length header, when there was one. */
  readonly contentLength?: number;
  /** Bytes received. */
  readonly size: number;
  /** Hex digest of the body in the algorithm asked for. */
  readonly digest: string;
  /** The first bytes of the body (at most `keep`). */
  readonly head: Buffer;
  /** The address this end of the connection had (IPv4-mapped IPv6 written as IPv4). */
  readonly localAddress?: string;
  /**
   * How the body ended when it was not whole: `over`, it holds (or its Content-Length announces)
   * more than `maxBytes` and was read no further; `short`, the connection closed before its end
   * (fewer bytes than its Content-Length, or a chunked body cut off); `long`, more bytes came than
   * its Content-Length announced. No digest then.
   */
  readonly cut?: Cut;
}

/** How a body that is not whole ended (`Fetched.cut`). */
export type Cut = 'over' | 'short' | 'long';

/** A request that got no HTTP answer (refused, reset, timed out, name not found, TLS failure). */
export class NetworkError extends Error {
  /** When this end gave up (idle timeout, the caller's signal): the bytes the server had sent by then (a drip, when not 0). */
  received?: number;
  /** The system's error code, when it gave one (`ECONNREFUSED`: nothing listens there). */
  code?: string;
}

/** Options of one GET. */
export interface GetOptions {
  readonly timeoutMs: number;
  readonly hash: 'sha256' | 'sha512';
  /** Keep this many bytes of the body (default 4096). */
  readonly keep?: number;
  /** Stop reading after `keep` bytes (probes: the status is what matters). */
  readonly headOnly?: boolean;
  /** The most bytes the body may hold: a longer one (or a Content-Length above it) is read no further (`cut: 'over'`). */
  readonly maxBytes?: number;
  /** Bind the connection to this local address. */
  readonly localAddress?: string;
  readonly agents?: Agents;
  /** Abort the request (a whole-site time limit): it fails as a NetworkError with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Keep-alive agents, one per protocol, with at most `sockets` connections each per server. */
export interface Agents {
  readonly http: http.Agent;
  readonly https: https.Agent;
  destroy(): void;
}

export function createAgents(sockets: number): Agents {
  const o = { keepAlive: true, maxSockets: sockets };
  const a = { http: new http.Agent(o), https: new https.Agent(o) };
  return { ...a, destroy: () => (a.http.destroy(), a.https.destroy()) };
}

/**
 * GET `origin` + `rawPath`. The path is sent exactly as given (no normalisation: traversal probes
 * such as `/ipxe/../manifest.json` reach the server as written).
 */
export function get(origin: URL, rawPath: string, o: GetOptions): Promise<Fetched> {
  const tls = origin.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const call = new GetCall(resolve, reject);
    const req = (tls ? https : http).request(requestOptions(origin, rawPath, o), (res) => readAnswer(res, o, call));
    call.req = req;
    if (o.signal) {
      const abort = () => call.giveUp(new NetworkError(String((o.signal!.reason as Error | undefined)?.message ?? 'aborted')));
      if (o.signal.aborted) abort();
      else o.signal.addEventListener('abort', abort, { once: true });
      req.once('close', () => o.signal!.removeEventListener('abort', abort));
    }
    req.on('socket', (socket) => {
      const count = (c: Buffer) => void (call.received += c.length);
      socket.on('data', count);
      req.once('close', () => socket.off('data', count));
    });
    req.setTimeout(o.timeoutMs, () => call.giveUp(new NetworkError(`no data for ${Math.round(o.timeoutMs / 100) / 10} s (timeout)`)));
    req.on('error', (e) => call.fail(e));
    req.end();
  });
}

/** The request as sent: the raw path, verify's headers, the agent and local address asked for. */
function requestOptions(origin: URL, rawPath: string, o: GetOptions): http.RequestOptions {
  const tls = origin.protocol === 'https:';
  return {
    protocol: origin.protocol,
    hostname: origin.hostname.replace(/^\[|\]$/g, ''),
    port: origin.port || (tls ? 443 : 80),
    path: rawPath,
    method: 'GET',
    headers: { Host: origin.host, 'User-Agent': verifyUserAgent(), Accept: '*/*' },
    agent: o.agents ? (tls ? o.agents.https : o.agents.http) : false,
    ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
  };
}

/** One GET under way: settled once, with an answer or a NetworkError. */
class GetCall {
  settled = false;
  /** Why this end gave up (idle timeout, the caller's signal): the answer then failed, it was not cut short by the server. */
  gaveUp: NetworkError | undefined;
  /** Bytes of the server's answer (head and body) so far. */
  received = 0;
  /** Settles with the answer as received so far, once its headers came. */
  answered: ((cut: Cut) => void) | undefined;
  req: http.ClientRequest | undefined;

  constructor(
    readonly resolve: (f: Fetched) => void,
    private readonly reject: (e: Error) => void,
  ) {}

  /** This end stops waiting: the request is destroyed with `e`. */
  giveUp(e: NetworkError): void {
    e.received ??= this.received;
    this.gaveUp ??= e;
    this.req!.destroy(e);
  }

  /** The request failed (unless the server did answer and only its body ran long). */
  fail(e: Error): void {
    // Bytes after the body its Content-Length announced: HTTP's parser fails, but the server did answer.
    if (this.answered && /^HPE_/.test(String((e as NodeJS.ErrnoException).code))) return this.answered('long');
    if (this.settled) return;
    this.settled = true;
    if (e instanceof NetworkError) return void this.reject(e);
    const failure = new NetworkError(networkMessage(e));
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined) failure.code = code;
    this.reject(failure);
  }
}

/** The answer's body hashed as it streams in, its first bytes kept, read no further than allowed. */
function readAnswer(res: http.IncomingMessage, o: GetOptions, call: GetCall): void {
  const keep = o.keep ?? 4096;
  const hash = createHash(o.hash);
  const chunks: Buffer[] = [];
  let kept = 0;
  let size = 0;
  const localAddress = plainAddress(res.socket?.localAddress);
  const length = res.headers['content-length'];
  const contentLength = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
  const done = (cut?: Cut | 'head') => {
    if (call.settled) return;
    call.settled = true;
    call.resolve({
      status: res.statusCode ?? 0,
      ...(res.headers.location !== undefined ? { location: res.headers.location } : {}),
      ...(res.headers['content-type'] !== undefined ? { contentType: res.headers['content-type'] } : {}),
      ...(contentLength !== undefined ? { contentLength } : {}),
      size,
      digest: cut === undefined ? hash.digest('hex') : '',
      head: Buffer.concat(chunks),
      ...(localAddress !== undefined ? { localAddress } : {}),
      ...(cut !== undefined && cut !== 'head' ? { cut } : {}),
    });
  };
  call.answered = done;
  const stop = (cut: 'over' | 'head') => {
    done(cut);
    res.destroy();
  };
  if (o.maxBytes !== undefined && contentLength !== undefined && contentLength > o.maxBytes) return stop('over');
  res.on('data', (c: Buffer) => {
    size += c.length;
    if (kept < keep) {
      chunks.push(c.subarray(0, keep - kept));
      kept += Math.min(c.length, keep - kept);
    }
    if (o.headOnly && kept >= keep) return stop('head');
    if (o.maxBytes !== undefined && size > o.maxBytes) return stop('over');
    hash.update(c);
  });
  res.on('end', () => done());
  // Headers came and the body did not end: cut short by the server (judged by the caller), unless this end gave up.
  const ended = () => (call.gaveUp ? call.fail(call.gaveUp) : done('short'));
  res.on('error', ended);
  res.on('close', () => {
    if (!res.complete) ended();
  });
}

/** `::ffff:10.0.0.1` -> `10.0.0.1`. */
export function plainAddress(a: string | undefined): string | undefined {
  return a?.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

function networkMessage(e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens there)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to the host';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'EADDRNOTAVAIL':
      return 'the local address to connect from (--source) is not an address of this machine';
    default:
      return code ? `${e.message} (${code})` : e.message;
  }
}
