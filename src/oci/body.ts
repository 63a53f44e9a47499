/**
 * Reading a registry's answer: whole into memory, bounded (`readBody`), or as a stream that checks
 * a blob's SHA-256, its limit and its size as it flows (`checkedStream`). A body that ends before
 * its Content-Length (or the blob's size) is "cut short", one that goes past the limit "larger
 * than" it, each with the numbers. A deadline the transport enforces arrives here as the answer's
 * error (a RegistryError) and is passed on as it is.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { Readable } from 'node:stream';
import { header, RegistryError } from './errors.ts';

/** An answer that ended early (the registry or the network dropped it), with what arrived. */
function cutShort(res: http.IncomingMessage, n: number, url: string, err: Error): RegistryError {
  if (err instanceof RegistryError) return err;
  const declared = header(res.headers, 'content-length');
  const of = declared !== undefined ? ` of ${declared}` : '';
  const why = err.message === 'aborted' ? '' : ` (${(err as NodeJS.ErrnoException).code ?? err.message})`;
  return new RegistryError(`the answer of ${url} was cut short after ${n}${of} bytes${why}`, 'network', url, res.statusCode);
}

/** Read a whole answer, at most `max` bytes. */
export async function readBody(res: http.IncomingMessage, max: number, url = ''): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of res) {
      n += (c as Buffer).length;
      if (n > max) {
        res.destroy();
        throw new RegistryError(`the answer of ${url} is larger than ${max} bytes; refused`, 'size', url, res.statusCode);
      }
      chunks.push(c as Buffer);
    }
  } catch (e) {
    throw cutShort(res, n, url, e as Error);
  }
  return Buffer.concat(chunks);
}

/**
 * A stream of `res` that fails unless the bytes hash to `digest` and fit the bounds: no more than
 * `max` bytes, exactly `size` when given. The stream errors with a RegistryError instead of ending
 * when the bytes are wrong, so a consumer that commits only on 'end' never keeps bad bytes.
 */
export function checkedStream(res: http.IncomingMessage, digest: string, max: number, size: number | undefined, url: string): Readable {
  const hash = createHash('sha256');
  let n = 0;
  let started = false;
  let settled = false;
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
  const fail = (err: RegistryError): void => {
    if (settled) return;
    settled = true;
    // The verdict first: destroying the answer makes it report an abort of its own.
    out.destroy(err);
    res.destroy();
  };
  const larger = (): RegistryError =>
    new RegistryError(
      `blob ${digest} (${url}) is larger than ${size !== undefined && size <= max ? `its ${size} bytes` : `the ${max} bytes allowed`} ` +
        `(${n} bytes received so far); refused`,
      'size',
      url,
      200,
    );
  const start = (): void => {
    res.on('data', (c: Buffer) => {
      if (settled) return;
      n += c.length;
      if (n > max || (size !== undefined && n > size)) return fail(larger());
      hash.update(c);
      if (!out.push(c)) res.pause();
    });
    res.on('end', () => {
      if (settled) return;
      const got = `sha256:${hash.digest('hex')}`;
      if (size !== undefined && n < size)
        return fail(new RegistryError(`blob ${digest} (${url}) was cut short: ${n} of its ${size} bytes; refused`, 'size', url, 200));
      if (got !== digest)
        return fail(new RegistryError(`blob ${digest} (${url}): the registry sent bytes that hash to ${got}; refused`, 'digest', url, 200));
      settled = true;
      out.push(null);
    });
    res.on('error', (err) => fail(cutShort(res, n, url, err)));
    res.on('close', () => {
      if (!res.complete) fail(cutShort(res, n, url, new Error('aborted')));
    });
  };
  return out;
}
