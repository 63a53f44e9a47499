// Sealing: how a file that holds a secret travels through a registry (docs/fleet.md, "No secret
// in the registry"; the format: docs/dev/fleet-format.md). Each site has its own 256-bit key; the
// publisher and that site's boot server hold it, the registry never does. A sealed blob is
// AES-256-GCM over the gzip of a one-line JSON header (the file's path and mode: keyed names are
// secret too) and the file's bytes. The nonce is synthetic: an HMAC of the plaintext under a
// second key, so the same file under the same key gives the same blob (an unchanged file is never
// uploaded again) and two blobs are equal only when their plaintexts are. Another site's key, or
// a changed byte, fails the tag.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

const MAGIC = Buffer.from('HGS1', 'ascii');
/** A pack: several small files of one node part sealed together (fewer blobs, fewer requests). */
const PACK_MAGIC = Buffer.from('HGP1', 'ascii');
const NONCE = 12;
const ZERO = Buffer.from([0]);
const TAG = 16;
/** The largest plaintext unsealed (a node config is a few KiB; manifest.json of 10,000 nodes a few MiB). */
const MAX_PLAIN = 256 * 1024 * 1024;

/** A site's sealing keys, derived once from `publish.key`. */
export class SealKey {
  readonly #enc: Buffer;
  readonly #nonce: Buffer;
  readonly #aad: Buffer;
  readonly #packAad: Buffer;

  /** `hex`: 64 hexadecimal digits; `site`: bound into every blob, so a blob of one site never opens as another's. */
  constructor(hex: string, site: string) {
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new SealError('the publishing key is not 64 hexadecimal digits');
    const ikm = Buffer.from(hex, 'hex');
    this.#enc = Buffer.from(hkdfSync('sha256', ikm, 'harvgen-publish-v1', 'enc', 32));
    this.#nonce = Buffer.from(hkdfSync('sha256', ikm, 'harvgen-publish-v1', 'nonce', 32));
    this.#aad = Buffer.from(`harvgen-sealed-v1\0${site}`, 'utf8');
    // Another associated data for packs: a single file's blob never opens as a pack, nor a pack as one.
    this.#packAad = Buffer.from(`harvgen-pack-v1\0${site}`, 'utf8');
  }

  /** The sealed blob of one file. */
  seal(path: string, mode: number, contents: Uint8Array): Buffer {
    const header = Buffer.from(`${JSON.stringify({ mode, path })}\n`, 'utf8');
    return this.#close(MAGIC, this.#aad, Buffer.concat([header, contents]));
  }

  /**
   * The sealed blob of several files (a node part's small files): each a one-line JSON header
   * (mode, path, size) and its bytes, in the order given.
   */
  sealPack(files: readonly SealedFile[]): Buffer {
    const pieces: Buffer[] = [];
    for (const f of files) {
      pieces.push(Buffer.from(`${JSON.stringify({ mode: f.mode, path: f.path, size: f.contents.length })}\n`, 'utf8'));
      pieces.push(Buffer.from(f.contents.buffer, f.contents.byteOffset, f.contents.byteLength));
    }
    return this.#close(PACK_MAGIC, this.#packAad, Buffer.concat(pieces));
  }

  #close(magic: Buffer, aad: Buffer, raw: Buffer): Buffer {
    const plain = gzipSync(raw, { level: 9 });
    // The nonce covers the associated data (the kind, file or pack, and the site): a pack and a
    // file, or two sites given one key by mistake, never share a nonce for another input.
    const nonce = createHmac('sha256', this.#nonce).update(aad).update(ZERO).update(plain).digest().subarray(0, NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.#enc, nonce);
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([magic, nonce, body, cipher.getAuthTag()]);
  }

  #open(blob: Uint8Array, magic: Buffer, aad: Buffer, maxPlain: number, what: string): Buffer {
    const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    if (b.length < magic.length + NONCE + TAG || !b.subarray(0, magic.length).equals(magic)) throw new SealError(`is not ${what}`);
    const nonce = b.subarray(magic.length, magic.length + NONCE);
    const decipher = createDecipheriv('aes-256-gcm', this.#enc, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(b.subarray(b.length - TAG));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(b.subarray(magic.length + NONCE, b.length - TAG)), decipher.final()]);
    } catch {
      throw new SealError("does not open with this site's publishing key (another site's blob, another key, or changed bytes)");
    }
    try {
      return gunzipSync(plain, { maxOutputLength: Math.max(1, maxPlain) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new SealError(`opens to more than ${maxPlain} bytes`);
      throw new SealError(`opens, but its content is not ${what}`);
    }
  }

  /** The file a sealed blob holds; SealError when it is not one of this site's under this key. */
  unseal(blob: Uint8Array): SealedFile & { contents: Buffer } {
    const raw = this.#open(blob, MAGIC, this.#aad, MAX_PLAIN, 'a sealed harvgen file');
    const nl = raw.indexOf(0x0a);
    const header = nl > 0 ? parseHeader(raw.subarray(0, nl).toString('utf8'), false) : undefined;
    if (!header) throw new SealError('opens, but its header is not a path and a mode');
    return { path: header.path, mode: header.mode, contents: raw.subarray(nl + 1) };
  }

  /**
   * The files a sealed pack holds, unpacked to at most `maxPlain` bytes (headers included);
   * SealError when it is not one of this site's packs under this key, or not whole.
   */
  unsealPack(blob: Uint8Array, maxPlain = MAX_PLAIN): (SealedFile & { contents: Buffer })[] {
    const raw = this.#open(blob, PACK_MAGIC, this.#packAad, maxPlain, 'a sealed harvgen pack');
    const files: (SealedFile & { contents: Buffer })[] = [];
    let at = 0;
    while (at < raw.length) {
      const nl = raw.indexOf(0x0a, at);
      const header = nl > at && nl - at <= MAX_HEADER ? parseHeader(raw.subarray(at, nl).toString('utf8'), true) : undefined;
      if (!header || header.size === undefined || nl + 1 + header.size > raw.length)
        throw new SealError(`opens, but its entry ${files.length + 1} is not a path, a mode and a size within the pack`);
      files.push({ path: header.path, mode: header.mode, contents: raw.subarray(nl + 1, nl + 1 + header.size) });
      at = nl + 1 + header.size;
    }
    return files;
  }
}

/** One file in a sealed blob or pack. */
export interface SealedFile {
  readonly path: string;
  readonly mode: number;
  readonly contents: Uint8Array;
}

/** The longest header of a pack's entry (a path of 4096 bytes, its mode and size). */
const MAX_HEADER = 4096 + 64;

function parseHeader(text: string, sized: boolean): { path: string; mode: number; size?: number } | undefined {
  try {
    const h = JSON.parse(text) as { path?: unknown; mode?: unknown; size?: unknown };
    if (typeof h.path !== 'string' || (h.mode !== 0o644 && h.mode !== 0o755)) return undefined;
    if (!sized) return { path: h.path, mode: h.mode };
    if (typeof h.size !== 'number' || !Number.isSafeInteger(h.size) || h.size < 0) return undefined;
    return { path: h.path, mode: h.mode, size: h.size };
  } catch {
    return undefined;
  }
}

/** A blob that cannot be unsealed, or a key that cannot seal. */
export class SealError extends Error {}
