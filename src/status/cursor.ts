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
import { closeSync } from 'node:fs';
import { MAX_LOG_BYTES, type LogRequest } from './log.ts';
import { mergeCounted, openAll } from './read-logs.ts';
import { HEAD_BYTES, requestBatches, type LineCounts, type LogFile } from './stream.ts';

export { HEAD_BYTES } from './stream.ts';

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

/** Cursors of files no longer there kept (a compressed copy of them may still come). */
const KEEP_GONE = 32;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What an incremental read gave. */
export interface IncrementalRead {
  /** How many new requests were passed on. */
  readonly requests: number;
  readonly skipped: number;
  /** Lines longer than MAX_LINE_BYTES (counted, skipped). */
  readonly long: number;
  readonly unreadable: { file: string; problem: string }[];
  /** The cursors to save (only worth saving when nothing was unreadable). */
  readonly cursors: LogCursor[];
  /** Bytes of log read (after unpacking). */
  readonly bytes: number;
}

/** Does the content of `o` start with what cursor `c` saw? (A cursor that saw nothing matches no content.) */
function sameStart(o: LogFile, c: LogCursor): boolean {
  return c.headLen > 0 && o.length >= c.offset && c.headLen <= o.head.length && sha(o.head.subarray(0, c.headLen)) === c.head;
}

/** Which saved cursor each fresh log reads on from: first by inode (a renamed log), then by content (a copy, a compressed one). */
function match(fresh: readonly LogFile[], saved: readonly LogCursor[], claimed: Set<LogCursor>): Map<LogFile, LogCursor | undefined> {
  const startOf = new Map<LogFile, LogCursor | undefined>();
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
  return startOf;
}

/**
 * Stream what is new in `files` since `saved` (undefined: everything) into `each`, in time order.
 * Lines that are not requests are counted in `skipped`; requests before `since` are left out.
 */
export async function streamIncremental(
  files: readonly string[],
  each: (r: LogRequest) => void,
  saved: readonly LogCursor[] = [],
  since?: number,
  maxBytes = MAX_LOG_BYTES,
): Promise<IncrementalRead> {
  const unreadable: { file: string; problem: string }[] = [];
  const cursors: LogCursor[] = [];
  const claimed = new Set<LogCursor>();
  const fresh: LogFile[] = [];
  let opened: LogFile[] = [];
  let requests = 0;
  try {
    // Not blocking on a FIFO, a regular file only, bounded (openLog); a gzip file unpacked once to know its length.
    // A gzip file already read (same inode, same size) is not unpacked again.
    const knownOf = (o: { dev: number; ino: number; size: number }) =>
      saved.find((c) => c.gz && c.dev === o.dev && c.ino === o.ino && c.size === o.size);
    opened = await openAll(files, maxBytes, unreadable, (o) => knownOf(o) !== undefined);
    for (const o of opened) {
      const known = o.known ? knownOf(o) : undefined;
      if (!known) fresh.push(o);
      else {
        claimed.add(known);
        cursors.push({ ...known, file: o.file });
      }
    }
    const startOf = match(fresh, saved, claimed);
    const counts: LineCounts[] = fresh.map((o) => ({ skipped: 0, long: 0, consumed: startOf.get(o)?.offset ?? 0 }));
    const keep = (r: LogRequest) => since === undefined || r.time >= since;
    const batches = fresh.map((o, k) =>
      requestBatches(
        o,
        { from: counts[k]!.consumed, max: maxBytes, last: o.gz ? 'parse' : 'leave', keep, tag: (n) => `${o.file}:+${n}` },
        counts[k]!,
      ),
    );
    requests += await mergeCounted(fresh, batches, each, unreadable);
    let bytes = 0;
    fresh.forEach((o, k) => {
      const from = startOf.get(o)?.offset ?? 0;
      const consumed = counts[k]!.consumed;
      bytes += consumed - from;
      const headLen = Math.min(HEAD_BYTES, consumed, o.head.length);
      cursors.push({
        dev: o.dev,
        ino: o.ino,
        gz: o.gz,
        size: o.size,
        offset: consumed,
        headLen,
        head: sha(o.head.subarray(0, headLen)),
        file: o.file,
      });
    });
    // Plain logs no longer there are remembered a while: their compressed copy may come later.
    const gone = saved.filter((c) => !claimed.has(c) && !c.gz && !cursors.some((x) => x.dev === c.dev && x.ino === c.ino));
    cursors.push(...gone.slice(0, KEEP_GONE));
    const sum = (key: 'skipped' | 'long') => counts.reduce((n, c) => n + c[key], 0);
    return { requests, skipped: sum('skipped'), long: sum('long'), unreadable, cursors, bytes };
  } finally {
    for (const o of opened) closeSync(o.fd);
  }
}

/** What is new in `files`, every request kept (tests and small logs). */
export async function readIncremental(
  files: readonly string[],
  saved: readonly LogCursor[] = [],
  since?: number,
  maxBytes = MAX_LOG_BYTES,
): Promise<IncrementalRead & { list: LogRequest[] }> {
  const list: LogRequest[] = [];
  const read = await streamIncremental(files, (r) => list.push(r), saved, since, maxBytes);
  return { ...read, list };
}
