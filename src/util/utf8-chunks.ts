// A text's UTF-8 bytes, in slices through one reused buffer. Hashing or writing a JS string hands
// Node the string, which it encodes into a new buffer of its own: 3-4 times the time of encoding
// into a buffer already there (measured: 39,000 texts of 300 bytes hashed, 159 against 46 ms), and
// for a large text (a 10,000-node site's 16 MB manifest.json) a fresh buffer whose page faults
// alone cost about 80 ms on these machines. Used by sha256Hex (src/render/artifact.ts), emit and
// the up-to-date records (src/cache/).
import { writeSync } from 'node:fs';

/** The buffer every text is encoded into. */
const scratch = Buffer.allocUnsafe(1 << 20);
/** UTF-16 units that always fit in `scratch` as UTF-8 (at most 3 bytes each). */
const CHUNK = Math.floor(scratch.length / 3);
let busy = false;

/**
 * Call `each` with the UTF-8 bytes of `text`, in order, in slices of at most 1 MiB that never
 * split a surrogate pair (`last` on the final one; an empty text is one empty slice). The bytes
 * are valid only during the call. A call from inside `each` encodes into a buffer of its own.
 */
export function eachUtf8Chunk(text: string, each: (bytes: Uint8Array, last: boolean) => void): void {
  if (busy) {
    each(Buffer.from(text, 'utf8'), true);
    return;
  }
  busy = true;
  try {
    if (text.length <= CHUNK) {
      each(scratch.subarray(0, scratch.write(text, 'utf8')), true);
      return;
    }
    for (let i = 0; i < text.length;) {
      let end = Math.min(text.length, i + CHUNK);
      const unit = text.charCodeAt(end - 1);
      if (end < text.length && unit >= 0xd800 && unit <= 0xdbff) end--;
      each(scratch.subarray(0, scratch.write(text.slice(i, end), 'utf8')), end === text.length);
      i = end;
    }
  } finally {
    busy = false;
  }
}

/** Write `text` as UTF-8 at the current offset of `fd`, through the reused buffer. */
export function writeText(fd: number, text: string): void {
  eachUtf8Chunk(text, (bytes) => {
    for (let off = 0; off < bytes.byteLength;) off += writeSync(fd, bytes, off, bytes.byteLength - off);
  });
}
