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
  const lineStart = (line: number) => lineCounter.lineStarts[line - 1] ?? text.length;
  const offsetOf = (line: number, col: number) => Math.min(lineStart(line) + col - 1, text.length);
  const at = (a: { line: number; col: number; endCol?: number }, code: string, message: string, hint: string) =>
    err(code, message, hint, offsetOf(a.line, a.col), a.endCol !== undefined ? offsetOf(a.line, a.endCol) : undefined);
  let anomalies: Anomaly[] | undefined;
  let open: Unclosed[] | undefined;
  const explained = new WeakSet<Diagnostic>();
  const err = (code: string, message: string, hint: string, offset?: number, end?: number) => {
    const d = errAt(code, message, hint, offset, end);
    explained.add(d);
    return d;
  };
  const out: Diagnostic[] = [];
  const unexplained: Diagnostic[] = [];
  const seen = new Set<number>();
  for (const e of errors) {
    const d = explainOne(e);
    if (!explained.has(d)) unexplained.push(d);
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

  function explainOne(e: YAMLError): Diagnostic {
    const [start, end] = e.pos;
    const from = lineCounter.linePos(start);
    const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    if (/maximum call stack/i.test(message)) {
      return err(
        'YAML_SYNTAX',
        'the lists and mappings here are nested too deeply to read (hundreds of levels)',
        'An inventory nests a few levels deep: write the value as a flatter list or mapping.',
        start,
        start + 1,
      );
    }
    if (e.code === 'TAB_AS_INDENT') {
      return err(
        'YAML_TAB_INDENT',
        'this line is indented with a tab',
        'Indent with spaces; YAML does not allow tabs for indentation.',
        start,
        start + 1,
      );
    }
    if (e.code === 'DUPLICATE_KEY') {
      const first = firsts.get(e);
      const name = first ? `\`${first.key}\`` : 'this key';
      return err(
        'YAML_DUPLICATE_KEY',
        `the key ${name} appears twice in this mapping${first ? ` (first on line ${lineCounter.linePos(first.offset).line})` : ''}`,
        'Remove or rename one of the two keys; YAML keeps only one of them.',
        start,
        first ? start + first.length : end,
      );
    }
    if (/closing .?quote/i.test(message)) {
      open ??= unclosedTokens(text);
      const q = lastBefore(open, Math.max(end, start + 1), (u) => u.kind === 'quote');
      if (q) {
        const p = lineCounter.linePos(q.offset);
        const own = lines[p.line - 1]!;
        const example = /^[^"'#]*$/.test(own.slice(p.col)) ? ` on this line: \`${own.trim()}${q.open}\`` : '';
        return err(
          'YAML_SYNTAX',
          `this quoted string is never closed: the closing \`${q.open}\` is missing`,
          `Add the closing \`${q.open}\`${example}. A quoted string runs on, over line ends, until its closing quote.`,
          q.offset,
          lineStart(p.line) + own.length,
        );
      }
    }
    const flow = /end with an? ([\]}])/.exec(message);
    if (flow) {
      open ??= unclosedTokens(text);
      const f = lastBefore(open, start, (u) => u.kind === 'flow' && u.close === flow[1]);
      if (f) return unclosedFlow(f, start);
    }
    anomalies ??= layoutAnomalies(lines);
    // The library often stops at the value before the mistake: look as far as the next line.
    const last = nextContentLine(lines, Math.max(lineCounter.linePos(end).line, from.line) + 1);
    // A line that lacks its colon is found wrong only at the line after it.
    const before = previousContentLine(lines, from.line);
    const a = anomalies.find((x) => x.line >= from.line && x.line <= last) ?? anomalies.find((x) => x.line === before);
    if (a) return at(a, 'YAML_SYNTAX', a.message, a.hint);
    const quoting = needsQuotes(e, from.line, from.col);
    if (quoting) return quoting;
    // Not explained: the library's words, at the first character of the line when it points at
    // the indentation (or past the end of the file).
    let offset = start;
    const own = lines[from.line - 1];
    if (own === undefined || own.trim() === '') {
      const prev = previousContentLine(lines, from.line);
      if (prev > 0) offset = lineStart(prev) + lines[prev - 1]!.trimEnd().length;
    } else if (from.col <= own.length - own.trimStart().length) {
      offset = lineStart(from.line) + own.length - own.trimStart().length;
    }
    return errAt(
      'YAML_SYNTAX',
      `the YAML is not valid here: ${message.charAt(0).toLowerCase()}${message.slice(1)}`,
      'Check the indentation and the `key: value` form of this line and the one above it.',
      offset,
    );
  }

  /** A plain value YAML cannot take as it is: `note: a: b` (a second `: `), `@x`, `` `x ``. */
  function needsQuotes(e: YAMLError, line: number, col: number): Diagnostic | undefined {
    if (e.code !== 'BLOCK_AS_IMPLICIT_KEY' && e.code !== 'BAD_SCALAR_START') return undefined;
    const own = lines[line - 1] ?? '';
    const parts = splitLine(own, own.length - own.trimStart().length);
    const value = parts.value.trim().replace(/\s+#.*$/, '');
    if (parts.key === undefined || value === '' || /^["'[{|>]/.test(value)) return undefined;
    const quoted = value.includes('"') ? `'${value.replace(/'/g, "''")}'` : `"${value}"`;
    const hint = `Quote the value: ${code(`${parts.key}: ${quoted}`)}.`;
    if (e.code === 'BAD_SCALAR_START') {
      return err('YAML_SYNTAX', `a value cannot start with \`${value[0]}\` unless it is quoted`, hint, lineStart(line) + col - 1);
    }
    const colon = own.indexOf(': ', col - 1);
    if (colon < 0) return undefined;
    return err(
      'YAML_SYNTAX',
      `the value of ${code(parts.key)} holds \`: \`, which YAML reads as the start of another key`,
      hint,
      lineStart(line) + colon,
      lineStart(line) + colon + 1,
    );
  }

  function unclosedFlow(f: Unclosed, cut: number): Diagnostic {
    const what = f.open === '[' ? 'list' : 'mapping';
    const p = lineCounter.linePos(f.offset);
    const own = lines[p.line - 1]!;
    const cutAt = lineCounter.linePos(cut);
    const cutLine = lines[cutAt.line - 1];
    const oneLine = nextContentLine(lines, p.line + 1) === cutAt.line && /^[^"'#[\]{}]*$/.test(own.slice(p.col));
    const example = oneLine ? ` at the end of line ${p.line}: \`${own.trim()}${f.close}\`` : '';
    if (cutLine === undefined || cutLine.trim() === '' || cut >= text.length) {
      // The file ends inside the collection: point at the bracket that opened it.
      return err(
        'YAML_SYNTAX',
        `this \`${f.open}\` is never closed: the file ends before its \`${f.close}\``,
        `Add the missing \`${f.close}\`${example}.`,
        f.offset,
        f.offset + 1,
      );
    }
    const indent = cutLine.length - cutLine.trimStart().length;
    return err(
      'YAML_SYNTAX',
      `the ${what} opened with \`${f.open}\` on line ${p.line} is not closed before this line`,
      `Add the missing \`${f.close}\`${example}. A ${what} that goes on over several lines must indent them more than its key.`,
      lineStart(cutAt.line) + indent,
    );
  }
}
