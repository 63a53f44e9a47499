// Reading nginx access logs (the default `combined` format, which the generated server blocks
// use): plain, rotated and gzipped files, from one or several boot servers, merged in time order.
import { closeSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { openRegular, printable } from './bmc-log.ts';

/** One request of an access log. */
export interface LogRequest {
  /** The client address nginx saw (after `real_ip`, when configured). */
  readonly ip: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly method: string;
  /** The path, without the query. */
  readonly path: string;
  /** The query's parameters (decoded); empty without one. */
  readonly query: Readonly<Record<string, string>>;
  readonly status: number;
  /** The User-Agent header (`$http_user_agent`; absent when the line has none or `-`). Anyone may send any. */
  readonly agent?: string;
  /** Which log file and line it came from (`file:line`). */
  readonly from: string;
}

/** What reading the logs gave: the requests in time order, and the lines that are no request. */
export interface ReadLogs {
  readonly requests: readonly LogRequest[];
  /** Lines that are not in the combined format (counted, not fatal: a log may hold other servers' formats). */
  readonly skipped: number;
  /** Files that could not be read, with why. */
  readonly unreadable: readonly { file: string; problem: string }[];
}

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

// $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
// (nginx writes a `"` inside a value as \x22, so a quoted field holds none)
const LINE =
  /^(\S+) \S+ \S+ \[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\] "([A-Z]+) (\S+)(?: [^"]*)?" (\d{3}) \S+(?: "[^"]*" "([^"]*)")?/;

/** Parse one line of a combined-format log (undefined: not such a line). */
export function parseLine(line: string, from: string): LogRequest | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const month = MONTHS[m[3]!];
  if (month === undefined) return undefined;
  const offset = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) * 60_000;
  const time = Date.UTC(Number(m[4]), month, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7])) - offset;
  const target = m[12]!;
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    path = rawPath;
  }
  const query: Record<string, string> = {};
  if (q >= 0) {
    // Anyone may send these: no control character or bidirectional override reaches what status prints or
    // its JSON holds (a terminal escape, a forged line, text shown in another order).
    for (const [k, v] of new URLSearchParams(target.slice(q + 1))) if (!(k in query)) query[k] = printable(v);
  }
  const agent = m[14]; // nginx logs a missing header as `-`
  return { ip: m[1]!, time, method: m[11]!, path, query, status: Number(m[13]), ...(agent && agent !== '-' ? { agent } : {}), from };
}

/**
 * The most of a log (as written, and unpacked) status reads: a boot server's logs are what anyone
 * on its network sent, and a log is read whole into one string (V8's longest is about 512 MiB).
 */
export const MAX_LOG_BYTES = 256 * 1024 * 1024;

/** A log that cannot be read, with a code the report prints (`ENOTREG`, `EFBIG`, or the system's). */
function logError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** Open a log to read (openRegular: no FIFO, device or link to one), at most `max` bytes. The caller closes `fd`. */
export function openLog(file: string, max: number): { fd: number; size: number; dev: number; ino: number } {
  const { fd, st } = openRegular(file);
  if (st.size > max) {
    closeSync(fd);
    throw logError('EFBIG', `larger than ${max} bytes`);
  }
  return { fd, size: st.size, dev: st.dev, ino: st.ino };
}

/** A gzip log unpacked, at most `max` bytes (a small file can unpack to gigabytes). */
export function gunzipLog(bytes: Uint8Array, max: number): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: max });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw logError('EFBIG', `unpacks to more than ${max} bytes`);
    throw e;
  }
}

/** The whole of a log opened by openLog, unpacked when it is gzip (by its magic bytes, whatever the name). */
function readLog(file: string, max: number): string {
  const { fd, size } = openLog(file, max);
  try {
    const bytes = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, bytes, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    const read = bytes.subarray(0, got);
    return (read[0] === 0x1f && read[1] === 0x8b ? gunzipLog(read, max) : read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Read every log (gzip by its magic bytes, whatever the name), keep requests at or after `since`, sorted by time (stable). */
export function readLogs(files: readonly string[], since?: number, maxBytes = MAX_LOG_BYTES): ReadLogs {
  const requests: LogRequest[] = [];
  const unreadable: { file: string; problem: string }[] = [];
  let skipped = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readLog(file, maxBytes);
    } catch (e) {
      unreadable.push({ file, problem: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
      continue;
    }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === '') continue;
      const r = parseLine(line, `${file}:${i + 1}`);
      if (!r) skipped++;
      else if (since === undefined || r.time >= since) requests.push(r);
    }
  }
  requests.sort((a, b) => a.time - b.time);
  return { requests, skipped, unreadable };
}

/** `--since`: an ISO 8601 time, or a duration back from `now` (`90m`, `12h`, `7d`). Undefined: not one. */
export function parseSince(text: string, now: number): number | undefined {
  const d = /^(\d+)([smhdw])$/.exec(text);
  if (d) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[d[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(d[1]) * unit * 1000;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}
