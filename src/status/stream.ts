// Access logs read as streams: memory does not grow with a log. A log file is opened once
// (openLog: a regular file, bounded), a gzip one (by its magic bytes) unpacked once ahead to learn
// its length and first bytes without keeping it, then its content is read in chunks from an
// offset and cut into lines (one line at most MAX_LINE_BYTES: a longer one is counted and
// skipped). Several logs are merged by time: each log is read in its own order, and the next
// request is always the earliest of the logs' next ones (a tie: the log given first).
import { closeSync, createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { readWhole } from '../util/read-fd.ts';
import { logError, MAX_LINE_BYTES, openLog, parseLine, type LogRequest } from './log.ts';

/** The first bytes of content a cursor hashes (src/status/cursor.ts). */
export const HEAD_BYTES = 4096;
const CHUNK = 256 * 1024;

/** One opened log. */
export interface LogFile {
  readonly file: string;
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  /** Its size on disk. */
  readonly size: number;
  readonly gz: boolean;
  /** Its content's length (unpacked, for a gzip file). */
  readonly length: number;
  /** Its content's first bytes (at most HEAD_BYTES). */
  readonly head: Buffer;
  /** A gzip file the caller already read (`known`): not unpacked, no length nor head. */
  readonly known?: true;
}

/** Counts of one read, updated as it goes. */
export interface LineCounts {
  skipped: number;
  long: number;
  /** Content offset after the last line consumed. */
  consumed: number;
}

/** The raw bytes of an open file from `start` (the descriptor stays open). */
function rawStream(f: { fd: number; size: number }, start: number): Readable {
  // `end` is inclusive: an empty range reads nothing.
  return createReadStream('', { fd: f.fd, start, end: Math.max(start, f.size) - 1, autoClose: false, highWaterMark: CHUNK });
}

/** The content of `f` from offset `from`, in chunks: at most `max` bytes unpacked. */
async function* content(f: { fd: number; size: number; gz: boolean }, from: number, max: number): AsyncGenerator<Buffer> {
  if (!f.gz) {
    if (from < f.size) yield* rawStream(f, from) as AsyncIterable<Buffer>;
    return;
  }
  const out = pipeline(rawStream(f, 0), createGunzip({ chunkSize: CHUNK }), () => {});
  let pos = 0;
  for await (const chunk of out as AsyncIterable<Buffer>) {
    pos += chunk.length;
    if (pos > max) {
      out.destroy();
      throw logError('EFBIG', `unpacks to more than ${max} bytes`);
    }
    if (pos <= from) continue;
    yield pos - chunk.length < from ? chunk.subarray(from - (pos - chunk.length)) : chunk;
  }
}

/**
 * Open a log: its identity, content length and first bytes (a gzip file unpacked once, not kept,
 * unless `known` says it was read already). The caller closes `fd`.
 */
export async function openLogFile(
  file: string,
  max: number,
  known?: (f: { dev: number; ino: number; size: number }) => boolean,
): Promise<LogFile> {
  const st = openLog(file, max);
  try {
    const magic = readWhole(st.fd, 2);
    const gz = magic.length === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    const base = { file, fd: st.fd, dev: st.dev, ino: st.ino, size: st.size, gz };
    if (!gz) return { ...base, length: st.size, head: readWhole(st.fd, Math.min(HEAD_BYTES, st.size)) };
    if (known?.(base)) return { ...base, length: 0, head: Buffer.alloc(0), known: true };
    let length = 0;
    const heads: Buffer[] = [];
    for await (const chunk of content(base, 0, max)) {
      if (length < HEAD_BYTES) heads.push(Buffer.from(chunk.subarray(0, HEAD_BYTES - length)));
      length += chunk.length;
    }
    return { ...base, length, head: Buffer.concat(heads) };
  } catch (e) {
    closeSync(st.fd);
    throw e;
  }
}

/** How a read treats a last line without its newline: parsed, or left for the next run (nginx may be writing it). */
export type LastLine = 'parse' | 'leave';

/**
 * The requests of `f` from content offset `from`, a batch per chunk read; `keep` says which
 * requests to yield (`--since`). `counts` is updated as lines are read.
 */
export async function* requestBatches(
  f: LogFile,
  o: { from: number; max: number; last: LastLine; keep: (r: LogRequest) => boolean; tag: (line: number) => string },
  counts: LineCounts,
): AsyncGenerator<LogRequest[]> {
  let lineNo = 0;
  let rest: Buffer | undefined;
  let dropping = false;
  let pos = o.from;
  counts.consumed = o.from;
  const parse = (text: string, out: LogRequest[]) => {
    for (const line of text.split('\n')) {
      lineNo++;
      if (line === '') continue;
      if (line.length > MAX_LINE_BYTES) {
        counts.long++;
        continue;
      }
      const r = parseLine(line, o.tag(lineNo));
      if (!r) counts.skipped++;
      else if (o.keep(r)) out.push(r);
    }
  };
  for await (const chunk of content(f, o.from, o.max)) {
    const at = pos;
    pos += chunk.length;
    const nl = chunk.lastIndexOf(10);
    if (nl < 0) {
      if (dropping) continue;
      rest = rest ? Buffer.concat([rest, chunk]) : Buffer.from(chunk);
      if (rest.length > MAX_LINE_BYTES) [rest, dropping] = [undefined, true];
      continue;
    }
    let start = 0;
    if (dropping) {
      // The end of an over-long line.
      start = chunk.indexOf(10) + 1;
      lineNo++;
      counts.long++;
      dropping = false;
    }
    const out: LogRequest[] = [];
    if (start <= nl) {
      const part = chunk.subarray(start, nl);
      parse((rest ? Buffer.concat([rest, part]) : part).toString('utf8'), out);
    }
    rest = undefined;
    counts.consumed = at + nl + 1;
    const tail = chunk.subarray(nl + 1);
    if (tail.length > MAX_LINE_BYTES) dropping = true;
    else if (tail.length > 0) rest = Buffer.from(tail);
    if (out.length > 0) yield out;
  }
  if (o.last === 'leave') return;
  const out: LogRequest[] = [];
  if (dropping) counts.long++;
  else if (rest) parse(rest.toString('utf8'), out);
  counts.consumed = pos;
  if (out.length > 0) yield out;
}

/** One log's requests as the merge reads them. */
interface Head {
  readonly it: AsyncIterator<LogRequest[]>;
  batch: LogRequest[];
  i: number;
  done: boolean;
}

/**
 * Merge the logs' requests by time into `each`. A log whose read fails is ended there and its
 * error passed to `failed` (by its index).
 */
export async function mergeByTime(
  logs: readonly AsyncIterator<LogRequest[]>[],
  each: (r: LogRequest) => void,
  failed: (index: number, e: unknown) => void,
): Promise<void> {
  const heads: Head[] = logs.map((it) => ({ it, batch: [], i: 0, done: false }));
  const fill = async (h: Head, index: number) => {
    while (!h.done && h.i >= h.batch.length) {
      try {
        const n = await h.it.next();
        if (n.done) h.done = true;
        else [h.batch, h.i] = [n.value, 0];
      } catch (e) {
        h.done = true;
        failed(index, e);
      }
    }
  };
  for (let k = 0; k < heads.length; k++) await fill(heads[k]!, k);
  for (;;) {
    // The log with the earliest next request, and the time up to which it may run alone.
    let best = -1;
    let next = Infinity;
    for (let k = 0; k < heads.length; k++) {
      const h = heads[k]!;
      if (h.done) continue;
      const t = h.batch[h.i]!.time;
      if (best < 0 || t < heads[best]!.batch[heads[best]!.i]!.time) {
        if (best >= 0) next = Math.min(next, heads[best]!.batch[heads[best]!.i]!.time);
        best = k;
      } else next = Math.min(next, t);
    }
    if (best < 0) return;
    const h = heads[best]!;
    // Up to the others' next time (a tie goes to the log given first).
    do {
      each(h.batch[h.i]!);
      h.i++;
      if (h.i >= h.batch.length) await fill(h, best);
    } while (!h.done && (h.batch[h.i]!.time < next || (h.batch[h.i]!.time === next && !tieBefore(heads, best, next))));
  }
}

/** Does a log given before `k` have its next request at `time`? */
function tieBefore(heads: readonly Head[], k: number, time: number): boolean {
  for (let j = 0; j < k; j++) {
    const h = heads[j]!;
    if (!h.done && h.batch[h.i]!.time === time) return true;
  }
  return false;
}
