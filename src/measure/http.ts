// One Redfish GET, bounded: Basic credentials, no redirect followed, a body of at most
// `maxBytes` (read no further), JSON only, an idle and a whole-request time limit and the run's
// AbortSignal. Node's own http/https.
import http from 'node:http';
import https from 'node:https';

/** Options of the GETs of one run. */
export interface RedfishHttpOptions {
  readonly user: string;
  readonly password: string;
  /** Skip TLS verification (`bmc.insecure`). */
  readonly insecure: boolean;
  /** The most bytes one answer may hold (default 1 MiB). */
  readonly maxBytes?: number;
  /** Time limit of one request, answer included (default 30 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Bytes the whole walk may still read (shared by its requests): a walk's parsed answers are kept until it ends. */
  readonly budget?: { left: number };
}

/** A request that failed: no answer, a status other than 200, a body too large or not JSON. */
export class RedfishError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/** GET `url` and parse its JSON object. */
export function getJson(url: URL, o: RedfishHttpOptions): Promise<Record<string, unknown>> {
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const shown = url.href;
  const tls = url.protocol === 'https:';
  const auth = `Basic ${Buffer.from(`${o.user}:${o.password}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: RedfishError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new RedfishError(`no whole answer within ${timeoutMs / 1000} s`, shown)), timeoutMs);
    const req = (tls ? https : http).request(
      url,
      {
        method: 'GET',
        headers: { Accept: 'application/json', 'OData-Version': '4.0', Authorization: auth, 'User-Agent': 'harvgen-facts' },
        agent: false,
        ...(tls ? { rejectUnauthorized: !o.insecure } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          const why =
            status === 401 || status === 403
              ? 'the BMC refused the credentials'
              : status >= 300 && status < 400
                ? `a redirect to ${String(res.headers.location ?? '?').slice(0, 200)}, not followed`
                : status >= 500
                  ? 'the BMC failed to answer (a server error)'
                  : status === 404 || status === 410
                    ? 'the BMC has no such resource'
                    : 'not the resource asked for';
          return fail(new RedfishError(`HTTP ${status}: ${why}`, shown, status));
        }
        const length = Number(res.headers['content-length'] ?? NaN);
        if (length > maxBytes)
          return fail(new RedfishError(`the answer announces ${length} bytes, more than the ${maxBytes} allowed`, shown));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) return fail(new RedfishError(`the answer is larger than the ${maxBytes} bytes allowed`, shown));
          if (o.budget && (o.budget.left -= c.length) < 0)
            return fail(new RedfishError('the BMC sent more than harvgen reads of one machine', shown));
          chunks.push(c);
        });
        res.on('error', (e) => fail(new RedfishError(`the answer was cut short (${e.message})`, shown)));
        res.on('end', () => {
          if (settled) return;
          let value: unknown;
          try {
            value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return fail(new RedfishError('the answer is not JSON', shown, status));
          }
          if (value === null || typeof value !== 'object' || Array.isArray(value))
            return fail(new RedfishError('the answer is not a JSON object', shown, status));
          settled = true;
          clearTimeout(timer);
          resolve(value as Record<string, unknown>);
        });
      },
    );
    req.on('error', (e) => fail(new RedfishError(o.signal?.aborted ? stoppedBecause(o.signal.reason) : e.message, shown)));
    req.end();
  });
}

/** Why a walk was stopped, in words (an AbortSignal.timeout's reason prints as a DOMException). */
function stoppedBecause(reason: unknown): string {
  if (reason instanceof Error && reason.name === 'TimeoutError')
    return "the machine's time ran out (--timeout): its BMC answered too slowly";
  return `stopped: ${reason instanceof Error ? reason.message : String(reason ?? 'aborted')}`;
}
