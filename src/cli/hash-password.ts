// `harvgen hash-password`: a SHA-512 crypt hash ($6$, 5000 rounds, random 16-character salt) of
// a password read from stdin, for `cluster.password` (harvgen passes complete hashes through).
// On a terminal it prompts on stderr and does not echo; from a pipe it reads everything and
// drops one trailing newline. The password itself is never printed.
import { randomBytes } from 'node:crypto';
import { sha512Crypt } from '../util/sha512-crypt.ts';

const SALT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random crypt salt of `length` characters. */
export function randomSalt(length = 16): string {
  return [...randomBytes(length)].map((b) => SALT_ALPHABET[b & 63]).join('');
}

interface Input extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
}

/** Read the password (prompting without echo on a terminal) and hash it. */
export async function hashPasswordFromStdin(
  stdin: Input,
  prompt: { write(s: string): unknown },
): Promise<{ hash: string } | { error: string }> {
  const password = stdin.isTTY && stdin.setRawMode ? await readHidden(stdin, prompt) : await readAll(stdin);
  if (password === undefined) return { error: 'interrupted' };
  if (password === '') return { error: 'no password on stdin (pipe one in, or type it at the prompt)' };
  return { hash: sha512Crypt(password, randomSalt()) };
}

async function readAll(stdin: Input): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function readHidden(stdin: Input, prompt: { write(s: string): unknown }): Promise<string | undefined> {
  prompt.write('Password: ');
  stdin.setRawMode!(true);
  stdin.resume();
  let text = '';
  return new Promise((resolve) => {
    const finish = (v: string | undefined) => {
      stdin.setRawMode!(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      prompt.write('\n');
      resolve(v);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(text);
        if (ch === '\u0003' || ch === '\u0004') return finish(undefined);
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
