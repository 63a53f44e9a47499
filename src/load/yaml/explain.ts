// YAML errors in plain words. The yaml library says what its grammar could not accept, often at
// the value before the real mistake ("Nested mappings are not allowed in compact mappings" at
// `1.2.3.4` for a key indented too far on the next line). Each of its errors is explained from
// the text: a scan of the lines (indentation levels, `key: value`, `- ` items; layout.ts) finds
// the line that breaks the layout near the error and says how; the library's own token tree finds
// the quote or bracket that is never closed (unclosed.ts); the Document finds the first of two
// equal keys (scan.ts). Only the library decides that a file is wrong: the scan explains, it
// never adds an error.
import type { LineCounter, YAMLError } from 'yaml';
import type { Diagnostic } from '../../diagnostics/types.ts';
import { layoutAnomalies, type Anomaly } from './layout.ts';
import { code, nextContentLine, previousContentLine, splitLine } from './lines.ts';
import type { FirstKey } from './scan.ts';
import { lastBefore, unclosedTokens, type Unclosed } from './unclosed.ts';

/** Makes a diagnostic in the file at an offset (to an end offset): parse.ts's `err`. */
export type ErrAt = (code: string, message: string, hint: string, offset?: number, end?: number) => Diagnostic;

/** What explaining one file's errors needs: its text and lines, positions, and the diagnostics made so far. */
interface Explainer {
  readonly text: string;
  readonly lines: readonly string[];
  readonly lineCounter: LineCounter;
  readonly firsts: ReadonlyMap<YAMLError, FirstKey>;
  readonly errAt: ErrAt;
  /** The diagnostics that explain an error (the others carry the library's own words). */
  readonly explained: WeakSet<Diagnostic>;
  /** Computed on first use: the layout anomalies and the unclosed quotes and brackets. */
  anomalies?: Anomaly[];
  open?: Unclosed[];
}

/**
 * The library's errors of one file as diagnostics in plain words, at most one a line and none for
 * what only follows from an earlier mistake; `firsts` gives the first of each duplicate key (scan.ts).
 */
export function explainYamlErrors(
  text: string,
  errors: readonly YAMLError[],
  firsts: ReadonlyMap<YAMLError, FirstKey>,
  lineCounter: LineCounter,
  errAt: ErrAt,
): Diagnostic[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const x: Explainer = { text, lines, lineCounter, firsts, errAt, explained: new WeakSet() };
  const out: Diagnostic[] = [];
  const unexplained: Diagnostic[] = [];
  const seen = new Set<number>();
  for (const e of errors) {
    const d = explainOne(x, e);
    if (!x.explained.has(d)) unexplained.push(d);
    else if (!seen.has(d.line!)) {
      // Several errors of the library about one mistake: one diagnostic per line.
      seen.add(d.line!);
      out.push(d);
    }
  }
  // After one mistake the library often rejects every line that follows; those errors say
  // nothing more. Keep the explained ones, or else the first error. Two equal keys after a
  // broken line may only be equal because the lines between them lost their indentation.
  const broken = out.reduce((m, d) => (d.code === 'YAML_SYNTAX' ? Math.min(m, d.line!) : m), Infinity);
  const kept = out.filter((d) => d.code !== 'YAML_DUPLICATE_KEY' || d.line! < broken);
  return kept.length > 0 ? kept : unexplained.slice(0, 1);
}

/** An explained diagnostic at an offset (to an end offset). */
function err(x: Explainer, code: string, message: string, hint: string, offset?: number, end?: number): Diagnostic {
  const d = x.errAt(code, message, hint, offset, end);
  x.explained.add(d);
  return d;
}

/** The offset where 1-based `line` starts (the end of the text past its last line). */
function lineStart(x: Explainer, line: number): number {
  return x.lineCounter.lineStarts[line - 1] ?? x.text.length;
}

/** The offset of a 1-based line and column, not past the end of the text. */
function offsetOf(x: Explainer, line: number, col: number): number {
  return Math.min(lineStart(x, line) + col - 1, x.text.length);
}

/** One library error explained: by its code, its unclosed quote or bracket, the layout, or a value to quote; else in its own words. */
function explainOne(x: Explainer, e: YAMLError): Diagnostic {
  const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return (
    explainByCode(x, e, message) ??
    explainUnclosed(x, e, message) ??
    explainLayout(x, e) ??
    needsQuotes(x, e) ??
    inLibraryWords(x, e, message)
  );
}

/** Errors whose library code (or message) says exactly what is wrong: nesting too deep, a tab, a duplicate key. */
function explainByCode(x: Explainer, e: YAMLError, message: string): Diagnostic | undefined {
  const [start, end] = e.pos;
  if (/maximum call stack/i.test(message)) {
    return err(
      x,
      'YAML_SYNTAX',
      'the lists and mappings here are nested too deeply to read (hundreds of levels)',
      'An inventory nests a few levels deep: write the value as a flatter list or mapping.',
      start,
      start + 1,
    );
  }
  if (e.code === 'TAB_AS_INDENT') {
    return err(
      x,
      'YAML_TAB_INDENT',
      'this line is indented with a tab',
      'Indent with spaces; YAML does not allow tabs for indentation.',
      start,
      start + 1,
    );
  }
  if (e.code !== 'DUPLICATE_KEY') return undefined;
  const first = x.firsts.get(e);
  const name = first ? `\`${first.key}\`` : 'this key';
  return err(
    x,
    'YAML_DUPLICATE_KEY',
    `the key ${name} appears twice in this mapping${first ? ` (first on line ${x.lineCounter.linePos(first.offset).line})` : ''}`,
    'Remove or rename one of the two keys; YAML keeps only one of them.',
    start,
    first ? start + first.length : end,
  );
}

/** A quote or a flow bracket the library found never closed, at the token that opened it. */
function explainUnclosed(x: Explainer, e: YAMLError, message: string): Diagnostic | undefined {
  const [start, end] = e.pos;
  if (/closing .?quote/i.test(message)) {
    x.open ??= unclosedTokens(x.text);
    const q = lastBefore(x.open, Math.max(end, start + 1), (u) => u.kind === 'quote');
    if (q) {
      const p = x.lineCounter.linePos(q.offset);
      const own = x.lines[p.line - 1]!;
      const example = /^[^"'#]*$/.test(own.slice(p.col)) ? ` on this line: \`${own.trim()}${q.open}\`` : '';
      return err(
        x,
        'YAML_SYNTAX',
        `this quoted string is never closed: the closing \`${q.open}\` is missing`,
        `Add the closing \`${q.open}\`${example}. A quoted string runs on, over line ends, until its closing quote.`,
        q.offset,
        lineStart(x, p.line) + own.length,
      );
    }
  }
  const flow = /end with an? ([\]}])/.exec(message);
  if (!flow) return undefined;
  x.open ??= unclosedTokens(x.text);
  const f = lastBefore(x.open, start, (u) => u.kind === 'flow' && u.close === flow[1]);
  return f ? unclosedFlow(x, f, start) : undefined;
}

/** The line near the error that breaks the indentation layout (layout.ts), if any. */
function explainLayout(x: Explainer, e: YAMLError): Diagnostic | undefined {
  const { lines, lineCounter } = x;
  const from = lineCounter.linePos(e.pos[0]);
  x.anomalies ??= layoutAnomalies(lines);
  // The library often stops at the value before the mistake: look as far as the next line.
  const last = nextContentLine(lines, Math.max(lineCounter.linePos(e.pos[1]).line, from.line) + 1);
  // A line that lacks its colon is found wrong only at the line after it.
  const before = previousContentLine(lines, from.line);
  const a = x.anomalies.find((y) => y.line >= from.line && y.line <= last) ?? x.anomalies.find((y) => y.line === before);
  if (!a) return undefined;
  return err(
    x,
    'YAML_SYNTAX',
    a.message,
    a.hint,
    offsetOf(x, a.line, a.col),
    a.endCol !== undefined ? offsetOf(x, a.line, a.endCol) : undefined,
  );
}

/**
 * Not explained: the library's words, at the first character of the line when it points at the
 * indentation (or past the end of the file).
 */
function inLibraryWords(x: Explainer, e: YAMLError, message: string): Diagnostic {
  const { lines } = x;
  const start = e.pos[0];
  const from = x.lineCounter.linePos(start);
  let offset = start;
  const own = lines[from.line - 1];
  if (own === undefined || own.trim() === '') {
    const prev = previousContentLine(lines, from.line);
    if (prev > 0) offset = lineStart(x, prev) + lines[prev - 1]!.trimEnd().length;
  } else if (from.col <= own.length - own.trimStart().length) {
    offset = lineStart(x, from.line) + own.length - own.trimStart().length;
  }
  return x.errAt(
    'YAML_SYNTAX',
    `the YAML is not valid here: ${message.charAt(0).toLowerCase()}${message.slice(1)}`,
    'Check the indentation and the `key: value` form of this line and the one above it.',
    offset,
  );
}

/** A plain value YAML cannot take as it is: `note: a: b` (a second `: `), `@x`, `` `x ``. */
function needsQuotes(x: Explainer, e: YAMLError): Diagnostic | undefined {
  if (e.code !== 'BLOCK_AS_IMPLICIT_KEY' && e.code !== 'BAD_SCALAR_START') return undefined;
  const { line, col } = x.lineCounter.linePos(e.pos[0]);
  const own = x.lines[line - 1] ?? '';
  const parts = splitLine(own, own.length - own.trimStart().length);
  const value = parts.value.trim().replace(/\s+#.*$/, '');
  if (parts.key === undefined || value === '' || /^["'[{|>]/.test(value)) return undefined;
  const quoted = value.includes('"') ? `'${value.replace(/'/g, "''")}'` : `"${value}"`;
  const hint = `Quote the value: ${code(`${parts.key}: ${quoted}`)}.`;
  if (e.code === 'BAD_SCALAR_START') {
    return err(x, 'YAML_SYNTAX', `a value cannot start with \`${value[0]}\` unless it is quoted`, hint, lineStart(x, line) + col - 1);
  }
  const colon = own.indexOf(': ', col - 1);
  if (colon < 0) return undefined;
  return err(
    x,
    'YAML_SYNTAX',
    `the value of ${code(parts.key)} holds \`: \`, which YAML reads as the start of another key`,
    hint,
    lineStart(x, line) + colon,
    lineStart(x, line) + colon + 1,
  );
}

/** A flow list or mapping not closed before `cut` (or before the end of the file). */
function unclosedFlow(x: Explainer, f: Unclosed, cut: number): Diagnostic {
  const { lines, lineCounter } = x;
  const what = f.open === '[' ? 'list' : 'mapping';
  const p = lineCounter.linePos(f.offset);
  const own = lines[p.line - 1]!;
  const cutAt = lineCounter.linePos(cut);
  const cutLine = lines[cutAt.line - 1];
  const oneLine = nextContentLine(lines, p.line + 1) === cutAt.line && /^[^"'#[\]{}]*$/.test(own.slice(p.col));
  const example = oneLine ? ` at the end of line ${p.line}: \`${own.trim()}${f.close}\`` : '';
  if (cutLine === undefined || cutLine.trim() === '' || cut >= x.text.length) {
    // The file ends inside the collection: point at the bracket that opened it.
    return err(
      x,
      'YAML_SYNTAX',
      `this \`${f.open}\` is never closed: the file ends before its \`${f.close}\``,
      `Add the missing \`${f.close}\`${example}.`,
      f.offset,
      f.offset + 1,
    );
  }
  const indent = cutLine.length - cutLine.trimStart().length;
  return err(
    x,
    'YAML_SYNTAX',
    `the ${what} opened with \`${f.open}\` on line ${p.line} is not closed before this line`,
    `Add the missing \`${f.close}\`${example}. A ${what} that goes on over several lines must indent them more than its key.`,
    lineStart(x, cutAt.line) + indent,
  );
}
