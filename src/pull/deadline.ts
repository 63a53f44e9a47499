// The whole run's deadline of `harvgen pull` (`--timeout`, default 30 minutes): a registry that
// answers a byte a second must not hold the pull, and its lock, forever. A registry source gets
// the signal (the OCI client stops every request when it fires); any other source
// is wrapped so that each of its answers is given up when the signal fires, and a blob's stream is
// destroyed. Steps that change the store check the signal before they start.
import type { Readable } from 'node:stream';
import type { Source } from '../publish/sink.ts';

/** A whole pull, unless told otherwise (the pull unit's TimeoutStartSec is the same). */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

/** The run was stopped by its deadline. */
export class PullTimedOut extends Error {}

export interface Deadline {
  readonly signal: AbortSignal;
  /** Date.now() at which the run stops. */
  readonly at: number;
  readonly ms: number;
  /** Throw PullTimedOut when the deadline has passed (before a step that changes the store). */
  check(): void;
  dispose(): void;
}

/** `90s`, `30m`, `1h`, `1500ms` or plain seconds -> milliseconds; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return ms > 0 && Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** A human form of a duration for messages. */
export function showDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export function startDeadline(ms: number, outer?: AbortSignal): Deadline {
  const controller = new AbortController();
  const stop = () => controller.abort(new PullTimedOut(`harvgen pull stopped after ${showDuration(ms)} (--timeout)`));
  const timer = setTimeout(stop, ms);
  timer.unref();
  if (outer?.aborted) stop();
  outer?.addEventListener('abort', stop, { once: true });
  return {
    signal: controller.signal,
    at: Date.now() + ms,
    ms,
    check() {
      if (controller.signal.aborted) throw controller.signal.reason as Error;
    },
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', stop);
    },
  };
}

/** `p`, or a rejection with the signal's reason as soon as it fires. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A source whose every answer gives up at the signal. */
export function withDeadline(source: Source, signal: AbortSignal): Source {
  return {
    name: source.name,
    resolveTag: (tag) => abortable(source.resolveTag(tag), signal),
    getManifest: (d, max) => abortable(source.getManifest(d, max), signal),
    getBlob: (d, max) => abortable(source.getBlob(d, max), signal),
    streamBlob: async (d) => {
      const stream: Readable = await abortable(source.streamBlob(d), signal);
      const stop = () => stream.destroy(signal.reason as Error);
      signal.addEventListener('abort', stop, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', stop));
      return stream;
    },
  };
}
