/**
 * The ustar header codec of layout archives: a header written deterministically (mtime 0, uid and
 * gid 0, no user names; GNU base-256 for sizes of 8 GiB and more), and a header read back (its
 * checksum, size and name, PAX `path` and `size` records).
 */
import { LayoutError } from './descriptor.ts';

export const BLOCK = 512;

export function tarHeader(name: string, size: number, mode: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 100) throw new LayoutError(`tar entry name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  if (size < 8 ** 11) octal(h, 124, 12, size);
  else {
    // GNU base-256 for sizes of 8 GiB and more.
    h[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) {
      h[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  octal(h, 136, 12, 0);
  h.fill(0x20, 148, 156);
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\u000000', 257, 8, 'binary');
  // uname, gname empty; devmajor/devminor zero.
  octal(h, 329, 8, 0);
  octal(h, 337, 8, 0);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'binary');
  return h;
}

function octal(h: Buffer, at: number, len: number, value: number): void {
  h.write(`${value.toString(8).padStart(len - 1, '0')}\u0000`, at, len, 'ascii');
}

export function roundUp(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

export function cstr(h: Buffer, at: number, len: number): string {
  const b = h.subarray(at, at + len);
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? len : end).toString('utf8');
}

export function readSize(h: Buffer, file: string): number {
  if (h[124]! & 0x80) {
    let v = 0n;
    for (let i = 125; i < 136; i++) v = (v << 8n) | BigInt(h[i]!);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new LayoutError(`${file}: an entry size out of range`);
    return Number(v);
  }
  const t = cstr(h, 124, 12).trim();
  if (!/^[0-7]*$/.test(t)) throw new LayoutError(`${file}: a bad entry size`);
  return t === '' ? 0 : parseInt(t, 8);
}

export function checkChecksum(h: Buffer, file: string): void {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  const said = parseInt(cstr(h, 148, 8).trim(), 8);
  if (said !== sum) throw new LayoutError(`${file}: a tar header checksum does not match (not a tar file?)`);
}

export function parsePax(data: Buffer, file: string): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let at = 0;
  while (at < data.length) {
    const sp = data.indexOf(0x20, at);
    if (sp < 0) break;
    const len = parseInt(data.toString('ascii', at, sp), 10);
    if (!Number.isSafeInteger(len) || len <= 0 || at + len > data.length) throw new LayoutError(`${file}: a bad PAX record`);
    const rec = data.toString('utf8', sp + 1, at + len - 1);
    const eq = rec.indexOf('=');
    const k = rec.slice(0, eq);
    const v = rec.slice(eq + 1);
    if (k === 'path') out.path = v;
    if (k === 'size') out.size = Number(v);
    at += len;
  }
  return out;
}
