// How the CLI prints, shared by every command: results on stdout (per-site summaries, `--json`
// documents), diagnostics and progress on stderr, the colour decision, and the two failures any
// command can end in (a usage error, an internal error). The `--json` document itself is
// src/report/envelope.ts; the exit codes are src/diagnostics/exit.ts.
import type { Diagnostic } from '../diagnostics/types.ts';
import { escapeControls, formatDiagnostics } from '../diagnostics/format.ts';
import { jsonOutput, type JsonCommand, type JsonOutput } from '../report/envelope.ts';
import { EXIT } from '../diagnostics/exit.ts';

/** Output streams (a TTY flag decides progress lines and colour). */
export interface CliIo {
  readonly out: { write(s: string): unknown; isTTY?: boolean };
  readonly err: { write(s: string): unknown; isTTY?: boolean };
  /** Where `hash-password` reads the password (default process.stdin). */
  readonly in?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
}

/** The flags every command reads when it prints (the global options). */
export interface PrintFlags {
  readonly json?: boolean;
  readonly debug?: boolean;
  readonly color?: boolean;
}

/** What a command prints with, for one run. */
export interface CliOutput {
  readonly io: CliIo;
  /** A line on stdout (a result). */
  print(s: string): void;
  /** A line on stderr (a note for the person at the terminal). */
  note(s: string): void;
  /** A `--json` document on stdout; `compact`: on one line (watch prints one per rebuild). */
  printJson(doc: JsonOutput, compact?: boolean): void;
  /** Print a usage error (as JSON under `--json`) and return its exit code. */
  usageError(message: string): number;
  /** Print an internal error (a bug; the stack trace only with --debug) and return its exit code. */
  internalError(err: Error, command: JsonCommand | null): number;
  /** The diagnostics on stderr, with code frames from `sources` (nothing when there are none). */
  report(diagnostics: readonly Diagnostic[], sources: Readonly<Record<string, string>>, flags: PrintFlags): void;
}

/** The printer of one run; `argv` decides `--json` and `--debug` for errors found before any command ran. */
export function cliOutput(argv: readonly string[], io: CliIo): CliOutput {
  const line = (stream: CliIo['out'], s: string) => stream.write(s.endsWith('\n') ? s : s + '\n');
  // Text for the terminal: a path, an argument, a value or a server's answer quoted in it cannot
  // move the cursor, recolour or reorder the screen (escapeControls, as diagnostics are printed).
  const print = (s: string) => void line(io.out, escapeControls(s));
  const note = (s: string) => void line(io.err, escapeControls(s));
  const wantsJson = argv.includes('--json');
  const debug = argv.includes('--debug');
  // JSON escapes control characters itself (a bidirectional override stays as it is: JSON carries the text).
  const printJson = (doc: JsonOutput, compact = false) => void line(io.out, compact ? JSON.stringify(doc) : JSON.stringify(doc, null, 2));
  return {
    io,
    print,
    note,
    printJson,
    usageError(message) {
      if (wantsJson) {
        const d: Diagnostic = { code: 'CLI_USAGE', severity: 'error', message, hint: 'Run `harvgen --help` for usage.' };
        printJson(jsonOutput({ command: null, ok: false, sites: [], diagnostics: [d] }));
      } else note(`harvgen: error CLI_USAGE: ${message}\nRun \`harvgen --help\` for usage.`);
      return EXIT.failed;
    },
    internalError(err, command) {
      if (wantsJson) {
        const d: Diagnostic = {
          code: 'INTERNAL_ERROR',
          severity: 'error',
          message: `harvgen failed: ${err.message} (this is a bug in harvgen)`,
          hint: 'Please report it; run with --debug for the stack trace.',
          detail: err.stack ?? String(err),
        };
        printJson(jsonOutput({ command, ok: false, sites: [], diagnostics: [d], debug }));
      } else {
        note(
          `harvgen: internal error: ${err.message} (this is a bug in harvgen)\n${debug ? `${err.stack}\n` : 'Run with --debug for the stack trace.'}`,
        );
      }
      return EXIT.failed;
    },
    report(diagnostics, sources, flags) {
      if (diagnostics.length === 0) return;
      // Already escaped, and coloured by the formatter: written as it is.
      line(io.err, formatDiagnostics(diagnostics, { color: useColor(flags.color, io.err), sources, debug: flags.debug === true }) + '\n');
    },
  };
}

/** The sources of every site, for code frames. */
export const sourcesOf = (sites: readonly { sources: Readonly<Record<string, string>> }[]) =>
  Object.assign({}, ...sites.map((s) => s.sources)) as Record<string, string>;

/**
 * Colour on a stream: `--no-color` and NO_COLOR turn it off, FORCE_COLOR turns it on (FORCE_COLOR=0
 * off) even without a terminal, otherwise only on a terminal.
 */
export function useColor(
  flag: boolean | undefined,
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  if (flag === false || (env.NO_COLOR ?? '') !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  return stream.isTTY === true;
}
