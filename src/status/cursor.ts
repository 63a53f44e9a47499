// Reading access logs incrementally (`status --state`): a cursor per log file says how far it was
// read and what it held, so that a rerun reads only the bytes appended since. A log file is
// known by its content, not only by its name: a cursor keeps the file's device and inode and the
// SHA-256 of its first bytes (up to 4 KiB). On the next run
// - the file with the same inode and the same first bytes is read on from the cursor's offset
//   (`access.log` renamed to `access.log.1` is finished so);
// - the same inode with other first bytes was truncated or reused: read from 0;
// - a file with another inode but the same first bytes is the same log copied (rsync's rename, a
//   copy to the center) or compressed (`access.log.1` -> `access.log.2.gz`): read on from the
//   offset of the log it holds;
// - any other file is new: read from 0.
// A gzipped file never changes: one already read (same inode and size) is not even unpacked.
// Only whole lines are consumed from a plain file (nginx may be writing the last one).
import { createHash } from 'node:crypto';
import { closeSync, readSync } from 'node:fs';
import { gunzipLog, MAX_LOG_BYTES, openLog, parseLine, type LogRequest } from './log.ts';

/** How far one log file was read. */
export interface LogCursor {
  readonly dev: number;
  readonly ino: number;
  readonly gz: boolean;
  /** For a gzipped file: its size on disk (a gzipped log is never appended to). */
  readonly size: number;
  /** Bytes of content consumed (after unpacking, for a gzipped file): whole lines only. */
  readonly offset: number;
  /** How many first bytes `head` covers (at most HEAD_BYTES, at most `offset`). */
  readonly headLen: number;
  /** SHA-256 (hex) of the first `headLen` bytes of content. */
  readonly head: string;
  /** The file's name when last read (shown, never trusted). */
  readonly file: string;
}

export const HEAD_BYTES = 4096;
/** Cursors of files no longer there kept (a compressed copy of them may still come). */
const KEEP_GONE = 32;
const CHUNK = 1 << 20;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What an incremental read gave. */
export interface IncrementalRead {
  /** The new requests, in time order (stable across the files in the order given). */
  readonly requests: LogRequest[];
  readonly skipped: number;
  readonly unreadable: { file: string; problem: string }[];
  /** The cursors to save (only worth saving when nothing was unreadable). */
  readonly cursors: LogCursor[];
  /** Bytes of log read (after unpacking). */
  readonly bytes: number;
}

interface Opened {
  readonly file: string;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly gz: boolean;
  /** The content (gzipped files: unpacked whole), or the descriptor (plain files). */
  readonly content?: Buffer;
  readonly fd?: number;
}

function readAt(fd: number, pos: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got === len ? b : b.subarray(0, got);
}

/** The content's first `len` bytes. */
function headOf(o: Opened, len: number): Buffer {
  return o.content ? o.content.subarray(0, len) : readAt(o.fd!, 0, len);
}

const contentLength = (o: Opened) => (o.content ? o.content.length : o.size);

/** Does the content of `o` start with what cursor `c` saw? (A cursor that saw nothing matches no content.) */
function sameStart(o: Opened, c: LogCursor): boolean {
  return c.headLen > 0 && contentLength(o) >= c.offset && sha(headOf(o, c.headLen)) === c.head;
}

/**
 * Read what is new in `files` since `saved` (undefined: everything). Lines that are not requests
 * are counted in `skipped`; requests before `since` are left out.
 */
export function readIncremental(
  files: readonly string[],
  saved: readonly LogCursor[] = [],
  since?: number,
  maxBytes = MAX_LOG_BYTES,
): IncrementalRead {
  const unreadable: { file: string; problem: string }[] = [];
  const opened: Opened[] = [];
  const cursors: LogCursor[] = [];
  const requests: LogRequest[] = [];
  const claimed = new Set<LogCursor>();
  let skipped = 0;
  let bytes = 0;
  try {
    for (const file of files) {
      let fd: number | undefined;
      try {
        // Not blocking on a FIFO, a regular file only, bounded (openLog).
        const st = openLog(file, maxBytes);
        fd = st.fd;
        const magic = readAt(fd, 0, 2);
        const gz = magic.length === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
        const base = { file, dev: st.dev, ino: st.ino, size: st.size, gz };
        if (gz) {
          // Already read (same inode, same size): not unpacked again.
          const known = saved.find((c) => c.gz && c.dev === st.dev && c.ino === st.ino && c.size === st.size);
          if (known) {
            closeSync(fd);
            claimed.add(known);
            cursors.push({ ...known, file });
            continue;
          }
          const content = gunzipLog(readAt(fd, 0, st.size), maxBytes);
          closeSync(fd);
          opened.push({ ...base, content });
        } else opened.push({ ...base, fd });
      } catch (e) {
        if (fd !== undefined) closeSync(fd);
        unreadable.push({ file, problem: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
      }
    }
    const fresh = opened;
    // First by inode (a renamed log), then by content (a copy, a compressed one), in the order given.
    const startOf = new Map<Opened, LogCursor | undefined>();
    for (const o of fresh) {
      const c = saved.find((x) => !claimed.has(x) && !x.gz && !o.gz && x.dev === o.dev && x.ino === o.ino && sameStart(o, x));
      if (c) {
        claimed.add(c);
        startOf.set(o, c);
      }
    }
    for (const o of fresh) {
      if (startOf.has(o)) continue;
      const c = saved.find((x) => !claimed.has(x) && sameStart(o, x));
      if (c) claimed.add(c);
      startOf.set(o, c);
    }
    for (const o of fresh) {
      const from = startOf.get(o)?.offset ?? 0;
      const { consumed, skipped: s } = readLines(o, from, (r) => {
        if (since === undefined || r.time >= since) requests.push(r);
      });
      skipped += s;
      bytes += consumed - from;
      const headLen = Math.min(HEAD_BYTES, consumed);
      cursors.push({
        dev: o.dev,
        ino: o.ino,
        gz: o.gz,
        size: o.size,
        offset: consumed,
        headLen,
        head: sha(headOf(o, headLen)),
        file: o.file,
      });
    }
    // Plain logs no longer there are remembered a while: their compressed copy may come later.
    const gone = saved.filter((c) => !claimed.has(c) && !c.gz && !cursors.some((x) => x.dev === c.dev && x.ino === c.ino));
    cursors.push(...gone.slice(0, KEEP_GONE));
  } finally {
    for (const o of opened) if (o.fd !== undefined) closeSync(o.fd);
  }
  requests.sort((a, b) => a.time - b.time);
  return { requests, skipped, unreadable, cursors, bytes };
}

/** Parse the lines of `o` from `from`: whole lines only for a plain file; returns the offset after the last one consumed. */
function readLines(o: Opened, from: number, each: (r: LogRequest) => void): { consumed: number; skipped: number } {
  let skipped = 0;
  let lineNo = 0;
  const one = (line: string) => {
    lineNo++;
    if (line === '') return;
    const r = parseLine(line, `${o.file}:+${lineNo}`);
    if (!r) skipped++;
    else each(r);
  };
  if (o.content) {
    const text = o.content.subarray(from).toString('utf8');
    for (const line of text.split('\n')) one(line);
    return { consumed: o.content.length, skipped };
  }
  let pos = from;
  let rest: Buffer = Buffer.alloc(0);
  while (pos < o.size) {
    const chunk = readAt(o.fd!, pos, Math.min(CHUNK, o.size - pos));
    if (chunk.length === 0) break;
    pos += chunk.length;
    const buf: Buffer = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    const last = buf.lastIndexOf(10);
    if (last < 0) {
      rest = buf;
      continue;
    }
    for (const line of buf.subarray(0, last).toString('utf8').split('\n')) one(line);
    rest = buf.subarray(last + 1);
  }
  // A last line without its newline is left for the next run (nginx may be writing it).
  return { consumed: pos - rest.length, skipped };
}
