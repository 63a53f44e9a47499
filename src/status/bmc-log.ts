// The log the generated BMC scripts append to (`HARVGEN_BMC_LOG`): one line per run of a changing
// subcommand, six tab-separated fields,
//   <UTC time YYYY-MM-DDTHH:MM:SSZ> <site> <node> <subcommand> <exit status> <message>
// (docs/day-2.md, "The last BMC action"). Several sites and nodes may share one file. Anyone who
// may write the file may write anything into it: a line that is not of that shape is counted and
// skipped, a value is printed with its control characters replaced, a message is cut short, and
// the file is read through one bounded read (its newest bytes when it is larger).
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { SiteModel } from '../model/index.ts';
import type { BmcAction } from './types.ts';
import { readWhole } from '../util/read-fd.ts';

/** One line of a BMC log. */
export interface BmcLine {
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly site: string;
  readonly node: string;
  /** The subcommand (`pxe-once`, `http-boot-once`, `power-cycle`, `virtual-media`, `media-boot`, `eject`). */
  readonly action: string;
  /** The script's exit status: 0 done, 1 refused or unreachable, 2 usage or configuration, 3 accepted but not applied. */
  readonly exit: number;
  /** Control characters replaced, at most MAX_BMC_MESSAGE characters. */
  readonly message: string;
}

/** What reading BMC logs gave. */
export interface ReadBmcLogs {
  /** In file order, the files in the order given. */
  readonly lines: readonly BmcLine[];
  /** Lines not of the log's shape (counted, skipped). */
  readonly skipped: number;
  /** Files larger than MAX_BMC_LOG_BYTES, of which only the newest bytes were read. */
  readonly cut: readonly string[];
  readonly unreadable: readonly { file: string; problem: string }[];
}

/** The newest bytes of a BMC log read (about 100,000 lines of the scripts'). */
export const MAX_BMC_LOG_BYTES = 16 * 1024 * 1024;
/** A longer line is no script's (their messages are one line of text): skipped. */
export const MAX_BMC_LINE = 16 * 1024;
/** A message is printed up to this many characters. */
export const MAX_BMC_MESSAGE = 400;

const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const ACTION = /^[a-z][a-z0-9-]{0,39}$/;
const EXIT = /^\d{1,3}$/;
// C0, DEL, C1, the Unicode line and paragraph separators and the bidirectional overrides: nothing of
// the file reaches a terminal as a control.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with its control characters replaced by `?` (what status prints of anyone's values). */
export function printable(text: string): string {
  return text.replace(CONTROL, '?');
}

/** The time of a log line (ms), or undefined when it is not a real UTC time of that exact form. */
function parseTime(text: string): number | undefined {
  const m = TIME.exec(text);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  // Date.UTC rolls 2026-02-30 over to March: a time that does not round-trip is not one.
  return new Date(t).toISOString().slice(0, 19) + 'Z' === text ? t : undefined;
}

/** Parse one line (undefined: not a line of the BMC log). */
export function parseBmcLine(line: string): BmcLine | undefined {
  if (line.length > MAX_BMC_LINE) return undefined;
  const f = line.split('\t');
  if (f.length !== 6) return undefined;
  const [time, site, node, action, exit, message] = f as [string, string, string, string, string, string];
  const t = parseTime(time);
  if (t === undefined || site === '' || node === '' || !ACTION.test(action) || !EXIT.test(exit) || Number(exit) > 255) return undefined;
  const text = printable(message);
  return {
    time: t,
    site,
    node,
    action,
    exit: Number(exit),
    message: text.length > MAX_BMC_MESSAGE ? `${text.slice(0, MAX_BMC_MESSAGE - 3)}...` : text,
  };
}

/** Parse a BMC log's text: its lines in order, and how many were skipped. */
export function parseBmcLog(text: string): { lines: BmcLine[]; skipped: number } {
  const lines: BmcLine[] = [];
  let skipped = 0;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const l = parseBmcLine(line);
    if (l) lines.push(l);
    else skipped++;
  }
  return { lines, skipped };
}

/**
 * Open a file that others send (a log) to read: without blocking (a FIFO in its place, or a link
 * to one, cannot hang the read: O_NONBLOCK), and only a regular file (a link to /dev/zero or a
 * device is refused, never read: `ENOTREG`; a directory: `EISDIR`). The caller closes `fd`.
 */
export function openRegular(file: string): { fd: number; st: Stats } {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    if (!st.isFile()) throw Object.assign(new Error('not a regular file (a FIFO, a socket or a device)'), { code: 'ENOTREG' });
    return { fd, st };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * At most the last `max` bytes of a regular file (a FIFO put in its place cannot block: O_NONBLOCK),
 * whether it was cut, and whether it starts as a gzip file does.
 */
function readTail(file: string, max: number): { bytes: Buffer; cut: boolean; gz: boolean } {
  const { fd, st } = openRegular(file);
  try {
    const magic = Buffer.alloc(2);
    const gz = readSync(fd, magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    if (gz && st.size > max) throw Object.assign(new Error(`a gzip file larger than ${max} bytes`), { code: 'EFBIG' });
    const size = Math.min(st.size, max);
    const start = st.size - size;
    return { bytes: readWhole(fd, size, start), cut: start > 0, gz };
  } finally {
    closeSync(fd);
  }
}

/** Read BMC logs (plain, or gzipped by their magic bytes), each through one bounded read (`maxBytes`: tests). */
export function readBmcLogs(files: readonly string[], maxBytes = MAX_BMC_LOG_BYTES): ReadBmcLogs {
  const lines: BmcLine[] = [];
  const cut: string[] = [];
  const unreadable: { file: string; problem: string }[] = [];
  let skipped = 0;
  for (const file of files) {
    let text: string;
    try {
      const tail = readTail(file, maxBytes);
      text = (tail.gz ? gunzipSync(tail.bytes, { maxOutputLength: maxBytes }) : tail.bytes).toString('utf8');
      if (tail.cut) {
        // The first line read is most likely a part of one: dropped, not counted.
        text = text.slice(text.indexOf('\n') + 1);
        cut.push(file);
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      unreadable.push({ file, problem: err.code ?? err.message });
      continue;
    }
    const parsed = parseBmcLog(text);
    // Not push(...): a 16 MiB file holds more lines than a call takes arguments.
    for (const l of parsed.lines) lines.push(l);
    skipped += parsed.skipped;
  }
  return { lines, skipped, cut, unreadable };
}

/** The last BMC action of each node of a site, and the lines of the site that name no node of it. */
export interface SiteBmcActions {
  /** By hostname. */
  readonly actions: ReadonlyMap<string, BmcAction>;
  readonly unknownNodes: number;
}

/**
 * The newest line of each node of `model`'s site (by time; of lines of the same second, the later
 * one in file order, files in the order given). Lines of other sites are left out; lines of this
 * site that name no node of it are counted.
 */
export function lastBmcActions(model: SiteModel, lines: readonly BmcLine[]): SiteBmcActions {
  const hosts = new Set(model.nodes.map((n) => n.hostname));
  const newest = new Map<string, BmcLine>();
  let unknownNodes = 0;
  for (const l of lines) {
    if (l.site !== model.site) continue;
    if (!hosts.has(l.node)) {
      unknownNodes++;
      continue;
    }
    const had = newest.get(l.node);
    if (had === undefined || l.time >= had.time) newest.set(l.node, l);
  }
  const actions = new Map<string, BmcAction>();
  for (const [node, l] of newest)
    actions.set(node, { time: new Date(l.time).toISOString(), action: l.action, exit: l.exit, message: l.message });
  return { actions, unknownNodes };
}

/** Why a BMC log cannot be read, and what to do about it (`problem`: the error code, or the message of one without). */
export function bmcUnreadableHint(problem: string): string {
  switch (problem) {
    case 'ENOENT':
      return 'No such file: name the file HARVGEN_BMC_LOG named when the BMC scripts ran (no script has written to it yet if it is new).';
    case 'EACCES':
    case 'EPERM':
      return 'Permission denied: run status as a user who may read it, or copy it somewhere readable.';
    case 'EISDIR':
      return 'A directory: name the log file in it (--bmc-log dir/bmc.log).';
    case 'EFBIG':
      return `A gzip file larger than ${MAX_BMC_LOG_BYTES / 1024 / 1024} MiB: name the plain file (its newest ${MAX_BMC_LOG_BYTES / 1024 / 1024} MiB are read).`;
    case 'ENOTREG':
      return 'Not a regular file (a FIFO, a device): name the file the BMC scripts append to.';
    default:
      return problem.startsWith('Z_') || /gzip|unexpected end|buffer|larger|maxOutputLength/i.test(problem)
        ? `It starts like a gzip file but does not unpack to at most ${MAX_BMC_LOG_BYTES / 1024 / 1024} MiB: name a complete copy, or the plain file.`
        : 'Name the file the BMC scripts append to (HARVGEN_BMC_LOG).';
  }
}
