// `harvgen hash-password`: a SHA-512 crypt hash ($6$, 5000 rounds, random 16-character salt) of
// a password read from stdin, for `cluster.password` (harvgen passes complete hashes through).
// On a terminal it prompts on stderr and does not echo; from a pipe it reads everything and
// drops one trailing newline. The password itself is never printed. Ctrl-C at the prompt (which
// the terminal in raw mode hands over as a byte, not a signal) or an abort (SIGINT or SIGTERM
// while reading from a pipe, see the CLI) stops it without a hash: `interrupted`. A password
// longer than harvgen's limit for secrets (MAX_SECRET_BYTES, 4 KiB) is refused with a clear
// error as soon as the input passes it: stdin is not read further (`cat /dev/zero | harvgen
// hash-password` ends at once) and nothing is hashed (the hash's cost grows with the square of
// the length).
import { randomBytes } from 'node:crypto';
import { MAX_SECRET_BYTES } from '../load/secrets.ts';
import { sha512Crypt } from '../util/sha512-crypt.ts';

/** Stands for input that went past MAX_SECRET_BYTES. */
const TOO_LONG = Symbol('too long');

const SALT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random crypt salt of `length` characters. */
export function randomSalt(length = 16): string {
  return [...randomBytes(length)].map((b) => SALT_ALPHABET[b & 63]).join('');
}

interface Input extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
}

/** What reading and hashing gave: the hash, a problem, or an interruption (Ctrl-C, an abort). */
export type HashResult = { readonly hash: string } | { readonly error: string } | { readonly interrupted: true };

/** Read the password (prompting without echo on a terminal) and hash it; `signal` aborts the read. */
export async function hashPasswordFromStdin(
  stdin: Input,
  prompt: { write(s: string): unknown },
  signal?: AbortSignal,
): Promise<HashResult> {
  if (signal?.aborted) return { interrupted: true };
  const password = stdin.isTTY && stdin.setRawMode ? await readHidden(stdin, prompt, signal) : await readAll(stdin, signal);
  if (password === undefined) return { interrupted: true };
  if (password === TOO_LONG || Buffer.byteLength(password, 'utf8') > MAX_SECRET_BYTES) {
    return {
      error: `the password is longer than ${MAX_SECRET_BYTES} bytes, harvgen's limit for a secret (a password of a few dozen characters is plenty; longer ones cost seconds and gigabytes to hash)`,
    };
  }
  if (password === '') return { error: 'no password on stdin (pipe one in, or type it at the prompt)' };
  return { hash: sha512Crypt(password, randomSalt()) };
}

/** Everything on stdin (one trailing newline dropped); undefined when aborted first; TOO_LONG past the limit. */
function readAll(stdin: Input, signal?: AbortSignal): Promise<string | undefined | typeof TOO_LONG> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (v: string | undefined | typeof TOO_LONG) => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      stdin.removeListener('error', onError);
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onData = (c: Buffer | string) => {
      const b = Buffer.from(c);
      size += b.length;
      // The limit plus a trailing CR LF: anything longer is refused without reading on.
      if (size > MAX_SECRET_BYTES + 2) {
        stop();
        done(TOO_LONG);
        return;
      }
      chunks.push(b);
    };
    const onEnd = () =>
      done(
        Buffer.concat(chunks)
          .toString('utf8')
          .replace(/\r?\n$/, ''),
      );
    const onError = (e: Error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(e);
    };
    // Stop reading: a pipe that stays open (or never ends) must not keep the process alive.
    const stop = () => {
      stdin.pause();
      (stdin as { destroy?: () => void }).destroy?.();
    };
    const onAbort = () => {
      stop();
      done(undefined);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onError);
    stdin.resume();
  });
}

function readHidden(
  stdin: Input,
  prompt: { write(s: string): unknown },
  signal?: AbortSignal,
): Promise<string | undefined | typeof TOO_LONG> {
  prompt.write('Password: ');
  stdin.setRawMode!(true);
  stdin.resume();
  let text = '';
  return new Promise((resolve) => {
    const finish = (v: string | undefined | typeof TOO_LONG) => {
      stdin.setRawMode!(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      signal?.removeEventListener('abort', onAbort);
      prompt.write('\n');
      resolve(v);
    };
    const onAbort = () => finish(undefined);
    const onData = (d: Buffer | string) => {
      for (const ch of d.toString()) {
        if (ch === '\r' || ch === '\n') return finish(text);
        // Ctrl-C: raw mode delivers it as a byte, not as SIGINT.
        if (ch === '\u0003') return finish(undefined);
        // Ctrl-D: the end of the input, as on a line in cooked mode.
        if (ch === '\u0004') return finish(text);
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
        if (text.length > MAX_SECRET_BYTES) return finish(TOO_LONG);
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    stdin.on('data', onData);
  });
}
