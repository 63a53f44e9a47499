// SHA-512 crypt (`$6$`), as specified by Ulrich Drepper's "Unix crypt using SHA-256 and
// SHA-512" and implemented by glibc. Node's crypto has no crypt(3), and the Harvester
// installer writes `os.password` verbatim into /etc/shadow when it starts with `$`, so
// harvgen hashes plain-text passwords itself (with a salt derived from the cluster token, so
// that builds stay byte-identical).
import { createHash, hash } from 'node:crypto';

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ROUNDS_DEFAULT = 5000;

// One-shot hashing of a concatenation is several times faster than a Hash object per
// round (5000 rounds per password).
function sha512(...parts: Buffer[]): Buffer {
  return hash('sha512', parts.length === 1 ? parts[0]! : Buffer.concat(parts), 'buffer');
}

function repeatTo(source: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += source.length) source.copy(out, i, 0, Math.min(source.length, length - i));
  return out;
}

function encode64(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let s = '';
  for (let i = 0; i < n; i++) {
    s += ALPHABET[w & 0x3f];
    w >>>= 6;
  }
  return s;
}

// Byte order of the final transposition (from the specification).
const ORDER: readonly (readonly [number, number, number])[] = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
];

/** Hash `password` with SHA-512 crypt and the given salt (at most 16 characters are used). */
export function sha512Crypt(password: string, salt: string, rounds = ROUNDS_DEFAULT): string {
  const key = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 16), 'utf8');
  const b = sha512(key, s, key);
  const aParts: Buffer[] = [key, s, repeatTo(b, key.length)];
  for (let n = key.length; n > 0; n >>= 1) aParts.push(n & 1 ? b : key);
  const a = sha512(...aParts);
  const dp = repeatTo(sha512(...Array<Buffer>(key.length).fill(key)), key.length);
  const ds = repeatTo(sha512(...Array<Buffer>(16 + a[0]!).fill(s)), s.length);
  let c = a;
  for (let i = 0; i < rounds; i++) {
    const parts: Buffer[] = [i & 1 ? dp : c];
    if (i % 3) parts.push(ds);
    if (i % 7) parts.push(dp);
    parts.push(i & 1 ? c : dp);
    c = sha512(...parts);
  }
  let out = '';
  for (const [x, y, z] of ORDER) out += encode64(c[x]!, c[y]!, c[z]!, 4);
  out += encode64(0, 0, c[63]!, 2);
  const roundsPart = rounds === ROUNDS_DEFAULT ? '' : `rounds=${rounds}$`;
  return `$6$${roundsPart}${s.toString('utf8')}$${out}`;
}

/** A crypt salt derived from stable inputs: 16 characters of the crypt alphabet. */
export function deriveSalt(...inputs: string[]): string {
  const digest = createHash('sha256')
    .update(`harvgen-salt\0${inputs.join('\0')}`)
    .digest();
  let salt = '';
  for (let i = 0; i < 16; i++) salt += ALPHABET[digest[i]! & 0x3f];
  return salt;
}

/** True for a complete crypt hash the installer accepts ($1$, $5$, $6$, $apr1$) without `:`. */
export function isCryptHash(text: string): boolean {
  return /^\$(1|5|6|apr1)\$(rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{22,86}$/.test(text);
}
