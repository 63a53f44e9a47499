/** A plain HTTP GET that never follows redirects and keeps the exact body bytes. */
import http from 'node:http';
import net from 'node:net';

/** One response. */
export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** GET http://host:port<path> with a Host header of choice (5 s limit). */
export function httpGet(o: { host: string; port: number; path: string; hostHeader?: string }): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: o.host,
        port: o.port,
        path: o.path,
        method: 'GET',
        agent: false,
        headers: { Host: o.hostHeader ?? o.host, 'User-Agent': 'harvgen-real-test' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${o.path}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}
