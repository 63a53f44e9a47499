// Reading nginx access logs (the default `combined` format, which the generated server blocks
// use): plain, rotated and gzipped files, from one or several boot servers, merged in time order.
import { closeSync } from 'node:fs';
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

/** What reading the logs gave besides the requests. */
export interface LogCounts {
  /** Requests read (at or after `since`). */
  readonly requests: number;
  /** Lines that are not in the combined format (counted, not fatal: a log may hold other servers' formats). */
  readonly skipped: number;
  /** Lines longer than MAX_LINE_BYTES (counted, skipped, not fatal). */
  readonly long: number;
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

/** The longest reported value kept (a query parameter: what unknown.ipxe reports, an event's address); longer ones are cut. */
export const MAX_REPORTED_CHARS = 256;

/** A reported value as status prints and keeps it: printable, at most MAX_REPORTED_CHARS, a cut one marked. */
export function reportedValue(v: string): string {
  const p = printable(v.length > MAX_REPORTED_CHARS * 4 ? v.slice(0, MAX_REPORTED_CHARS * 4) : v);
  return v.length <= MAX_REPORTED_CHARS ? p : `${p.slice(0, MAX_REPORTED_CHARS)}...[cut: ${v.length} characters]`;
}

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
    for (const [k, v] of new URLSearchParams(target.slice(q + 1))) if (!(k in query)) query[k] = reportedValue(v);
  }
  const agent = m[14]; // nginx logs a missing header as `-`
  return { ip: m[1]!, time, method: m[11]!, path, query, status: Number(m[13]), ...(agent && agent !== '-' ? { agent } : {}), from };
}

/**
 * The most of one log (as written, and unpacked) status reads. Logs are streamed, so memory does
 * not grow with them; the bound is on the time a run takes (4 GiB: minutes of parsing, not hours).
 */
export const MAX_LOG_BYTES = 4 * 1024 * 1024 * 1024;

/** The longest line parsed (nginx's own request line is at most 8 KiB by default); a longer one is counted and skipped. */
export const MAX_LINE_BYTES = 64 * 1024;

/** A log that cannot be read, with a code the report prints (`ENOTREG`, `EFBIG`, or the system's). */
export function logError(code: string, message: string): Error & { code: string } {
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
