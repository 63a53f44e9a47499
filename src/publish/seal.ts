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
const NONCE = 12;
const TAG = 16;
/** The largest plaintext unsealed (a node config is a few KiB; manifest.json of 10,000 nodes a few MiB). */
const MAX_PLAIN = 256 * 1024 * 1024;

/** A site's sealing keys, derived once from `publish.key`. */
export class SealKey {
  readonly #enc: Buffer;
  readonly #nonce: Buffer;
  readonly #aad: Buffer;

  /** `hex`: 64 hexadecimal digits; `site`: bound into every blob, so a blob of one site never opens as another's. */
  constructor(hex: string, site: string) {
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new SealError('the publishing key is not 64 hexadecimal digits');
    const ikm = Buffer.from(hex, 'hex');
    this.#enc = Buffer.from(hkdfSync('sha256', ikm, 'harvgen-publish-v1', 'enc', 32));
    this.#nonce = Buffer.from(hkdfSync('sha256', ikm, 'harvgen-publish-v1', 'nonce', 32));
    this.#aad = Buffer.from(`harvgen-sealed-v1\0${site}`, 'utf8');
  }

  /** The sealed blob of one file. */
  seal(path: string, mode: number, contents: Uint8Array): Buffer {
    const header = Buffer.from(`${JSON.stringify({ mode, path })}\n`, 'utf8');
    const plain = gzipSync(Buffer.concat([header, contents]), { level: 9 });
    const nonce = createHmac('sha256', this.#nonce).update(plain).digest().subarray(0, NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.#enc, nonce);
    cipher.setAAD(this.#aad);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([MAGIC, nonce, body, cipher.getAuthTag()]);
  }

  /** The file a sealed blob holds; SealError when it is not one of this site's under this key. */
  unseal(blob: Uint8Array): { path: string; mode: number; contents: Buffer } {
    const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    if (b.length < MAGIC.length + NONCE + TAG || !b.subarray(0, MAGIC.length).equals(MAGIC))
      throw new SealError('is not a sealed harvgen file');
    const nonce = b.subarray(MAGIC.length, MAGIC.length + NONCE);
    const decipher = createDecipheriv('aes-256-gcm', this.#enc, nonce);
    decipher.setAAD(this.#aad);
    decipher.setAuthTag(b.subarray(b.length - TAG));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(b.subarray(MAGIC.length + NONCE, b.length - TAG)), decipher.final()]);
    } catch {
      throw new SealError("does not open with this site's publishing key (another site's blob, another key, or changed bytes)");
    }
    let raw: Buffer;
    try {
      raw = gunzipSync(plain, { maxOutputLength: MAX_PLAIN });
    } catch {
      throw new SealError('opens, but its content is not a sealed file');
    }
    const nl = raw.indexOf(0x0a);
    const header = nl > 0 ? parseHeader(raw.subarray(0, nl).toString('utf8')) : undefined;
    if (!header) throw new SealError('opens, but its header is not a path and a mode');
    return { ...header, contents: raw.subarray(nl + 1) };
  }
}

function parseHeader(text: string): { path: string; mode: number } | undefined {
  try {
    const h = JSON.parse(text) as { path?: unknown; mode?: unknown };
    if (typeof h.path !== 'string' || (h.mode !== 0o644 && h.mode !== 0o755)) return undefined;
    return { path: h.path, mode: h.mode };
  } catch {
    return undefined;
  }
}

/** A blob that cannot be unsealed, or a key that cannot seal. */
export class SealError extends Error {}
