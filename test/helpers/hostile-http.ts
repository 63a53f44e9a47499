// A hostile HTTP/1.1 server on loopback for tests of clients that must stay bounded (verify): per
// path, a scripted way to misbehave that Node's own http server refuses to produce (a
// Content-Length that disagrees with the body, a body that never ends, one that trickles). It
// writes raw bytes on the socket: every answer is `Connection: close`. Paths with no script get
// `fallback`'s plain answer.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** What the server does for one path. */
export type Behaviour =
  /** The body one `chunk` of bytes every `intervalMs`, with its true Content-Length: never idle, never quick. */
  | { readonly kind: 'drip'; readonly body: Buffer; readonly intervalMs: number; readonly chunk?: number; readonly type?: string }
  /** Bytes forever (until the client closes), chunked or under a huge Content-Length. */
  | { readonly kind: 'endless'; readonly contentLength?: number; readonly type?: string }
  /** `body` sent whole under a Content-Length that says `contentLength`, then the connection closed. */
  | { readonly kind: 'wrong-content-length'; readonly body: Buffer; readonly contentLength: number; readonly type?: string }
  /** `body` announced whole (its true Content-Length), `after` bytes of it sent, then the connection closed. */
  | { readonly kind: 'close-early'; readonly body: Buffer; readonly after: number; readonly type?: string; readonly chunked?: boolean };

/** A plain answer (the paths nobody scripted). */
export interface Plain {
  readonly status: number;
  readonly body: Buffer | string;
  readonly type?: string;
}

export interface HostileServer {
  readonly url: string;
  /** Requests seen, by path, in order. */
  readonly requests: string[];
  /** Bytes written for scripted paths (to show an endless body was cut off). */
  readonly sent: Map<string, number>;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = { 200: 'OK', 403: 'Forbidden', 404: 'Not Found', 400: 'Bad Request' };

function head(status: number, headers: Record<string, string | number>): string {
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? 'Status'}`, 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Start the server on 127.0.0.1 and a free port. */
export async function hostileHttp(
  script: Readonly<Record<string, Behaviour>>,
  fallback: (path: string, remoteAddress: string | undefined) => Plain,
): Promise<HostileServer> {
  const requests: string[] = [];
  const sent = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = '';
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const path = buffered.split(' ')[1] ?? '/';
      buffered = '';
      socket.removeAllListeners('data');
      requests.push(path);
      const b = script[path];
      if (b === undefined) return answer(socket, fallback(path, socket.remoteAddress?.replace(/^::ffff:/, '')));
      act(b, socket, (n) => sent.set(path, (sent.get(path) ?? 0) + n), timers);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sent,
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function answer(socket: net.Socket, p: Plain): void {
  const body = typeof p.body === 'string' ? Buffer.from(p.body) : p.body;
  socket.end(Buffer.concat([Buffer.from(head(p.status, { 'Content-Type': p.type ?? 'text/html', 'Content-Length': body.length })), body]));
}

/** Carry out one behaviour on the socket; `count` is told every body byte written. */
function act(b: Behaviour, socket: net.Socket, count: (n: number) => void, timers: Set<NodeJS.Timeout>): void {
  const type = b.type ?? 'application/octet-stream';
  const write = (bytes: Buffer) => {
    if (socket.destroyed) return false;
    count(bytes.length);
    return socket.write(bytes);
  };
  switch (b.kind) {
    case 'wrong-content-length':
      socket.write(head(200, { 'Content-Type': type, 'Content-Length': b.contentLength }));
      write(b.body);
      socket.end();
      return;
    case 'close-early':
      socket.write(
        head(
          200,
          b.chunked ? { 'Content-Type': type, 'Transfer-Encoding': 'chunked' } : { 'Content-Type': type, 'Content-Length': b.body.length },
        ),
      );
      write(
        b.chunked
          ? Buffer.concat([Buffer.from(`${b.after.toString(16)}\r\n`), b.body.subarray(0, b.after), Buffer.from('\r\n')])
          : b.body.subarray(0, b.after),
      );
      socket.end();
      return;
    case 'drip': {
      socket.write(head(200, { 'Content-Type': type, 'Content-Length': b.body.length }));
      let at = 0;
      const t = setInterval(() => {
        if (socket.destroyed || at >= b.body.length) {
          clearInterval(t);
          timers.delete(t);
          if (!socket.destroyed) socket.end();
          return;
        }
        const n = b.chunk ?? 1;
        write(b.body.subarray(at, at + n));
        at += n;
      }, b.intervalMs);
      timers.add(t);
      return;
    }
    case 'endless': {
      const chunked = b.contentLength === undefined;
      socket.write(
        head(
          200,
          chunked ? { 'Content-Type': type, 'Transfer-Encoding': 'chunked' } : { 'Content-Type': type, 'Content-Length': b.contentLength! },
        ),
      );
      const block = Buffer.alloc(64 * 1024, 0x61);
      const frame = chunked ? Buffer.concat([Buffer.from(`${block.length.toString(16)}\r\n`), block, Buffer.from('\r\n')]) : block;
      const pump = () => {
        while (!socket.destroyed && write(frame));
        if (!socket.destroyed) socket.once('drain', pump);
      };
      pump();
      return;
    }
  }
}
