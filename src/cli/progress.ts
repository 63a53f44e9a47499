// A one-line progress indicator on a terminal (stderr) for runs longer than about a second:
// quiet runs stay quiet, and nothing is drawn into a pipe or a log file.
import { escapeControls } from '../diagnostics/format.ts';

/** Where progress goes: a terminal-like stream. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(s: string): unknown;
}

/** A running progress line. */
export interface Progress {
  /** Say what is happening now (shown once the delay has passed). */
  update(text: string): void;
  /** Erase the line (call before printing results). */
  done(): void;
}

/** Start a progress line that appears after `delayMs` (default 1000) if the run is still going. */
export function startProgress(stream: ProgressStream, delayMs = 1000): Progress {
  if (stream.isTTY !== true) return { update: () => undefined, done: () => undefined };
  let text = '';
  let shown = false;
  const draw = () => {
    shown = true;
    stream.write(`\r\u001b[K${text}`);
  };
  const timer = setTimeout(draw, delayMs);
  timer.unref?.();
  return {
    update(t: string) {
      // A site directory's name is the user's: written out where it holds a control character.
      text = escapeControls(t.length > 100 ? `${t.slice(0, 99)}…` : t);
      if (shown) draw();
    },
    done() {
      clearTimeout(timer);
      if (shown) stream.write('\r\u001b[K');
      shown = false;
    },
  };
}

/** Where a run is: the site being worked on, counted from 0 (a `ProgressEvent`). */
export interface SiteProgress {
  readonly dir: string;
  readonly index: number;
  readonly total: number;
}

/**
 * Run `job` with a progress line `harvgen: <verb> <dir> (i/n)` on `stream` (no line when `quiet`,
 * as under `--json`), erased before the results are printed, also when the job throws.
 */
export async function withProgress<T>(
  stream: ProgressStream,
  quiet: boolean,
  verb: string,
  job: (onProgress: (e: SiteProgress) => void) => Promise<T>,
): Promise<T> {
  const progress = quiet ? undefined : startProgress(stream);
  try {
    return await job((e) => progress?.update(`harvgen: ${verb} ${e.dir} (${e.index + 1}/${e.total})`));
  } finally {
    progress?.done();
  }
}
