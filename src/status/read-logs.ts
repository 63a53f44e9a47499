// Reading whole access logs (a run without `--state`): every log streamed from its first line and
// merged by time into the caller's tally, one request at a time (src/status/stream.ts).
import { closeSync } from 'node:fs';
import { MAX_LOG_BYTES, type LogCounts, type LogRequest } from './log.ts';
import { mergeByTime, openLogFile, requestBatches, type LineCounts, type LogFile } from './stream.ts';

/** Why a log could not be read, as the report prints it. */
export const problemOf = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/** Open every log; those that cannot be opened are `unreadable`. */
export async function openAll(
  files: readonly string[],
  max: number,
  unreadable: { file: string; problem: string }[],
  known?: Parameters<typeof openLogFile>[2],
): Promise<LogFile[]> {
  const opened: LogFile[] = [];
  for (const file of files) {
    try {
      opened.push(await openLogFile(file, max, known));
    } catch (e) {
      unreadable.push({ file, problem: problemOf(e) });
    }
  }
  return opened;
}

/**
 * Stream every log (gzip by its magic bytes, whatever the name) into `each`, in time order, only
 * requests at or after `since`. Memory does not grow with the logs.
 */
export async function streamLogs(
  files: readonly string[],
  each: (r: LogRequest) => void,
  since?: number,
  maxBytes = MAX_LOG_BYTES,
): Promise<LogCounts> {
  const unreadable: { file: string; problem: string }[] = [];
  const opened = await openAll(files, maxBytes, unreadable);
  const counts: LineCounts[] = opened.map(() => ({ skipped: 0, long: 0, consumed: 0 }));
  let requests = 0;
  try {
    const keep = (r: LogRequest) => since === undefined || r.time >= since;
    const batches = opened.map((f, k) =>
      requestBatches(f, { from: 0, max: maxBytes, last: 'parse', keep, tag: (n) => `${f.file}:${n}` }, counts[k]!),
    );
    requests = await mergeCounted(opened, batches, each, unreadable);
  } finally {
    for (const f of opened) closeSync(f.fd);
  }
  const sum = (k: 'skipped' | 'long') => counts.reduce((n, c) => n + c[k], 0);
  return { requests, skipped: sum('skipped'), long: sum('long'), unreadable };
}

/** Every request of the logs, in time order (tests and small logs: this one keeps them all). */
export async function readLogs(
  files: readonly string[],
  since?: number,
  maxBytes = MAX_LOG_BYTES,
): Promise<LogCounts & { list: LogRequest[] }> {
  const list: LogRequest[] = [];
  const counts = await streamLogs(files, (r) => list.push(r), since, maxBytes);
  return { ...counts, list };
}

/**
 * Merge the logs' requests by time into `each` (mergeByTime); a log whose read fails is named in
 * `unreadable`. Returns how many requests were passed on.
 */
export async function mergeCounted(
  files: readonly { readonly file: string }[],
  batches: readonly AsyncIterator<LogRequest[]>[],
  each: (r: LogRequest) => void,
  unreadable: { file: string; problem: string }[],
): Promise<number> {
  let requests = 0;
  await mergeByTime(
    batches,
    (r) => {
      requests++;
      each(r);
    },
    (k, e) => unreadable.push({ file: files[k]!.file, problem: problemOf(e) }),
  );
  return requests;
}
