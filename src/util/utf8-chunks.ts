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

/**
 * Like eachUtf8Chunk for the concatenation of `parts`, without ever making it one string: parts
 * are encoded one after another into the buffer, a long one in slices. A JS string of megabytes
 * costs its page faults when it is built and again when it is flattened (about 8 ms a megabyte on
 * these machines): manifest.json is kept as its parts for that. A surrogate pair must not be
 * split between two parts (JSON.stringify's texts, whole values, never do).
 */
export function eachUtf8ChunkOf(parts: readonly string[], each: (bytes: Uint8Array, last: boolean) => void): void {
  if (busy) {
    each(Buffer.from(parts.join(''), 'utf8'), true);
    return;
  }
  busy = true;
  try {
    let used = 0;
    for (const part of parts) {
      for (let i = 0; i < part.length;) {
        let room = Math.floor((scratch.length - used) / 3);
        // Not room for the rest, and little left: a new slice rather than a sliver.
        if (room < part.length - i && room < 4096) {
          each(scratch.subarray(0, used), false);
          used = 0;
          room = CHUNK;
        }
        let end = Math.min(part.length, i + room);
        const unit = part.charCodeAt(end - 1);
        if (end < part.length && unit >= 0xd800 && unit <= 0xdbff) end--;
        used += scratch.write(i === 0 && end === part.length ? part : part.slice(i, end), used, 'utf8');
        i = end;
      }
    }
    each(scratch.subarray(0, used), true);
  } finally {
    busy = false;
  }
}

/** Write `text` (or the concatenation of its parts) as UTF-8 at the current offset of `fd`, through the reused buffer. */
export function writeText(fd: number, text: string | readonly string[]): void {
  const write = (bytes: Uint8Array) => {
    for (let off = 0; off < bytes.byteLength;) off += writeSync(fd, bytes, off, bytes.byteLength - off);
  };
  if (typeof text === 'string') eachUtf8Chunk(text, write);
  else eachUtf8ChunkOf(text, write);
}
