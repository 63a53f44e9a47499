// YAML parsing with positions. Every file is parsed into a yaml Document and a plain JS value;
// YAML errors become diagnostics with file:line:col. The Document of a clean file is dropped and
// parsed again on demand for positions (lazySourceFile).
import { LineCounter, Parser, parseAllDocuments, isMap, isScalar, visit, type Document, type YAMLError } from 'yaml';
import type { Diagnostic } from '../diagnostics/types.ts';

/** Aliases beyond this many make the file an alias bomb. */
const MAX_ALIAS_COUNT = 100;

/** A parsed inventory file. */
export interface SourceFile {
  /** Path as shown in diagnostics. */
  readonly path: string;
  readonly absPath: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

/** Parse one file; `value` is present only when the file parsed cleanly into a mapping. */
export function parseYamlFile(
  text: string,
  path: string,
  absPath: string,
): { file?: SourceFile; value?: Record<string, unknown>; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, strict: true, prettyErrors: false });
  const at = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const err = (code: string, message: string, hint: string, offset = 0, end?: number): Diagnostic => {
    const start = at(offset);
    const stop = end !== undefined && end > offset ? at(end) : undefined;
    return { code, severity: 'error', message, hint, file: path, ...start, ...(stop ? { endLine: stop.line, endCol: stop.col } : {}) };
  };
  if (!Array.isArray(docs) || docs.length === 0) {
    // parseAllDocuments returns an EmptyStream for input with no documents.
    return {
      diagnostics: [err('YAML_EMPTY', `${path} is empty`, 'Write the inventory as a YAML mapping (see the README for the format).')],
    };
  }
  const errors = docs.flatMap((doc) => doc.errors);
  const diagnostics = errors.length > 0 ? explainYamlErrors(text, docs, errors, lineCounter, err) : [];
  if (diagnostics.length > 0) return { diagnostics };
  if (docs.length > 1) {
    const second = docs[1]!;
    return {
      diagnostics: [
        err(
          'YAML_MULTI_DOCUMENT',
          `${path} holds ${docs.length} YAML documents; harvgen reads exactly one per file`,
          'Remove the `---` separator, or move each node into its own file under nodes/.',
          second.range[0],
        ),
      ],
    };
  }
  const doc = docs[0]!;
  const file: SourceFile = { path, absPath, text, doc, lineCounter };
  if (doc.contents === null) {
    return {
      diagnostics: [err('YAML_EMPTY', `${path} has no content`, 'Write the inventory as a YAML mapping (see the README for the format).')],
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    const msg = (e as Error).message;
    if (/alias/i.test(msg)) {
      return {
        diagnostics: [
          err(
            'YAML_ALIAS_LIMIT',
            `${path}: aliases expand to too many nodes (limit ${MAX_ALIAS_COUNT} alias uses)`,
            'Remove the nested aliases; an inventory never needs more than a few.',
          ),
        ],
      };
    }
    return { diagnostics: [err('YAML_SYNTAX', `${path}: ${msg}`, 'Fix the YAML at this position.')] };
  }
  if (!isMap(doc.contents) || value === null || typeof value !== 'object' || Array.isArray(value)) {
    const r = doc.contents.range;
    const kind = Array.isArray(value) ? 'a list' : value === null ? 'null' : `a ${typeof value}`;
    return {
      file,
      diagnostics: [
        err(
          'YAML_NOT_A_MAP',
          `the top level of ${path} is ${kind}, not a mapping`,
          'An inventory file is a YAML mapping of `key: value` lines (see the README).',
          r[0],
          r[1],
        ),
      ],
    };
  }
  // Only plain data: strings, numbers, booleans, null, lists and mappings. An explicit tag
  // (!!binary, !!set, !!omap, !custom) makes values the rest of harvgen does not expect, and a
  // `__proto__` key would set an object's prototype instead of a property.
  const odd: Diagnostic[] = [];
  visit(doc, {
    Node(_key, node) {
      const tag = (node as { tag?: string }).tag;
      if (tag !== undefined && !PLAIN_TAGS.has(tag) && node.range) {
        odd.push(
          err(
            'YAML_TAG',
            `the YAML tag ${tag.replace('tag:yaml.org,2002:', '!!')} is not allowed in an inventory`,
            'Write the value as a plain string, number, boolean, list or mapping, without a `!` tag.',
            node.range[0],
            node.range[1],
          ),
        );
        return visit.SKIP;
      }
      return undefined;
    },
    Pair(_key, pair) {
      if (isScalar(pair.key) && pair.key.value === '__proto__' && pair.key.range) {
        odd.push(
          err(
            'YAML_TAG',
            'the key `__proto__` is not allowed in an inventory',
            'Remove or rename the key.',
            pair.key.range[0],
            pair.key.range[1],
          ),
        );
      }
    },
  });
  if (odd.length > 0) return { file, diagnostics: odd };
  // A clean file keeps only its text: the Document (a node with a range for every value) is
  // parsed again when a position is first asked for (a diagnostic, explain). 10,000 node files
  // kept as Documents held about 60 MB of a 10,000-node build's peak.
  return { file: lazySourceFile(path, absPath, text), value: value as Record<string, unknown>, diagnostics: [] };
}

/** A SourceFile whose Document and LineCounter are parsed on first use (the text parsed cleanly once). */
function lazySourceFile(path: string, absPath: string, text: string): SourceFile {
  let parsed: { doc: Document.Parsed; lineCounter: LineCounter } | undefined;
  const parse = () => {
    if (parsed) return parsed;
    const lineCounter = new LineCounter();
    const doc = parseAllDocuments(text, { lineCounter, uniqueKeys: true, strict: true, prettyErrors: false }) as Document.Parsed[];
    parsed = { doc: doc[0]!, lineCounter };
    return parsed;
  };
  return {
    path,
    absPath,
    text,
    get doc() {
      return parse().doc;
    },
    get lineCounter() {
      return parse().lineCounter;
    },
  };
}

/** Tags that only restate what a plain value already is. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].flatMap((t) => [`tag:yaml.org,2002:${t}`, `!!${t}`]));

// ---------------------------------------------------------------------------------------------
// YAML errors in plain words. The yaml library says what its grammar could not accept, often at
// the value before the real mistake ("Nested mappings are not allowed in compact mappings" at
// `1.2.3.4` for a key indented too far on the next line). Each of its errors is explained from
// the text: a scan of the lines (indentation levels, `key: value`, `- ` items) finds the line
// that breaks the layout near the error and says how; the library's own token tree finds the
// quote or bracket that is never closed; the Document finds the first of two equal keys.
// Only the library decides that a file is wrong: the scan explains, it never adds an error.

type ErrAt = (code: string, message: string, hint: string, offset?: number, end?: number) => Diagnostic;

/** One line that breaks the layout of the lines above it. */
interface Anomaly {
  readonly line: number;
  readonly col: number;
  readonly endCol?: number;
  readonly message: string;
  readonly hint: string;
  /** The column the line most likely belongs at: the scan goes on as if it were there. */
  readonly target?: number;
}

function explainYamlErrors(
  text: string,
  docs: readonly Document.Parsed[],
  errors: readonly YAMLError[],
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
  const broken = Math.min(...out.filter((d) => d.code === 'YAML_SYNTAX').map((d) => d.line!));
  const kept = out.filter((d) => d.code !== 'YAML_DUPLICATE_KEY' || d.line! < broken);
  return kept.length > 0 ? kept : unexplained.slice(0, 1);

  function explainOne(e: YAMLError): Diagnostic {
    const [start, end] = e.pos;
    const from = lineCounter.linePos(start);
    const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
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
      const first = firstOfDuplicate(docs, start);
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

/** A quote or flow bracket the yaml library's token tree never saw closed. */
interface Unclosed {
  readonly kind: 'quote' | 'flow';
  readonly offset: number;
  readonly open: string;
  readonly close: string;
}

/** Quoted scalars and flow collections without their closing character, in source order. */
function unclosedTokens(text: string): Unclosed[] {
  const found: Unclosed[] = [];
  const todo: unknown[] = [...new Parser().parse(text)];
  while (todo.length > 0) {
    const t = todo.pop();
    if (t === null || typeof t !== 'object') continue;
    if (Array.isArray(t)) {
      todo.push(...t);
      continue;
    }
    const tok = t as { type?: string; offset?: number; source?: string; start?: { source?: string; offset?: number }; end?: unknown };
    if ((tok.type === 'double-quoted-scalar' || tok.type === 'single-quoted-scalar') && typeof tok.source === 'string') {
      if (!quoteClosed(tok.source)) found.push({ kind: 'quote', offset: tok.offset!, open: tok.source[0]!, close: tok.source[0]! });
    } else if (tok.type === 'flow-collection' && tok.start && Array.isArray(tok.end)) {
      const closed = (tok.end as { type?: string }[]).some((x) => x.type === 'flow-seq-end' || x.type === 'flow-map-end');
      const open = tok.start.source ?? '[';
      if (!closed) found.push({ kind: 'flow', offset: tok.start.offset ?? tok.offset!, open, close: open === '{' ? '}' : ']' });
    }
    for (const v of Object.values(t)) if (v !== null && typeof v === 'object') todo.push(v);
  }
  return found.sort((a, b) => a.offset - b.offset);
}

/** The last of `list` (sorted by offset) before `bound` that `ok` accepts. */
function lastBefore(list: readonly Unclosed[], bound: number, ok: (u: Unclosed) => boolean): Unclosed | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.offset < bound) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1; i >= 0; i--) if (ok(list[i]!)) return list[i];
  return undefined;
}

function quoteClosed(source: string): boolean {
  const q = source[0];
  const body = source.slice(1);
  if (q === "'") return (/'*$/.exec(body)![0].length & 1) === 1;
  if (!body.endsWith('"')) return false;
  return (/\\*$/.exec(body.slice(0, -1))![0].length & 1) === 0;
}

/** The first of two equal keys: the pair whose key starts at `offset` and the earlier one. */
function firstOfDuplicate(docs: readonly Document.Parsed[], offset: number): { key: string; offset: number; length: number } | undefined {
  let found: { key: string; offset: number; length: number } | undefined;
  for (const doc of docs) {
    visit(doc, {
      Map(_k, map) {
        const pairs = map.items.filter((p) => isScalar(p.key) && p.key.range);
        const second = pairs.find((p) => (p.key as { range: [number, number] }).range[0] === offset);
        if (!second || !isScalar(second.key)) return undefined;
        const name = String(second.key.value);
        const first = pairs.find((p) => p !== second && isScalar(p.key) && String(p.key.value) === name);
        const r = second.key.range!;
        if (first && isScalar(first.key)) found = { key: name, offset: first.key.range![0], length: r[1] - r[0] };
        return visit.BREAK;
      },
    });
    if (found) break;
  }
  return found;
}

function isContent(line: string | undefined): boolean {
  const t = line?.trim();
  return t !== undefined && t !== '' && !t.startsWith('#');
}

/** The first line at or after `line` with content (not blank, not a comment). */
function nextContentLine(lines: readonly string[], line: number): number {
  for (let n = line; n <= lines.length; n++) if (isContent(lines[n - 1])) return n;
  return lines.length;
}

function previousContentLine(lines: readonly string[], line: number): number {
  for (let n = line - 1; n >= 1; n--) if (isContent(lines[n - 1])) return n;
  return 0;
}

/** An open indentation level: a mapping (keys at `col`) or a list (`-` at `col`). */
interface Level {
  readonly col: number;
  readonly kind: 'map' | 'seq';
  /** The line that opened the level. */
  readonly line: number;
  /** Items of a list so far. */
  items?: number;
  key?: string;
  /** A plain line without `key:` that opened this level: a key missing its colon, unless the block ends here. */
  bare?: { readonly line: number; readonly body: string; readonly col: number };
}

/** The last line's value: `open` (nothing after `key:` or `- `), a plain `scalar`, or `closed` (quoted, flow, block). */
interface Prev {
  readonly kind: 'open' | 'scalar' | 'closed';
  /** Column of the key (or `-`) that owns the value. */
  readonly col: number;
  readonly isKey: boolean;
  readonly key?: string;
  readonly value: string;
  readonly line: number;
  /** The line's content after its indentation and `- `, and where that starts. */
  readonly body: string;
  readonly bodyCol: number;
}

/** One line, split into its `- ` indicators, key and value. */
interface LineParts {
  readonly dashes: number[];
  /** Column where the content after the indentation and the dashes starts. */
  readonly bodyCol: number;
  readonly body: string;
  readonly key?: string;
  readonly value: string;
}

function splitLine(raw: string, indent: number): LineParts {
  let p = indent;
  const dashes: number[] = [];
  while (raw[p] === '-' && (p + 1 === raw.length || raw[p + 1] === ' ' || raw[p + 1] === '\t')) {
    dashes.push(p + 1);
    p++;
    while (raw[p] === ' ' || raw[p] === '\t') p++;
  }
  // Anchors and tags before a key (`&base key: v`) are not part of it.
  const props = /^(?:[&!]\S*[ \t]+)*/.exec(raw.slice(p))![0];
  const body = raw.slice(p + props.length);
  const k = keyOf(body);
  return {
    dashes,
    bodyCol: p + props.length + 1,
    body,
    ...(k ? { key: k.name } : {}),
    value: k ? body.slice(k.valueAt) : body,
  };
}

/** The key of a `key: value` line (plain or quoted), or nothing. */
function keyOf(body: string): { name: string; valueAt: number } | undefined {
  const q = body[0];
  if (q === '"' || q === "'") {
    let j = 1;
    while (j < body.length) {
      if (q === '"' && body[j] === '\\') j += 2;
      else if (body[j] === q && q === "'" && body[j + 1] === "'") j += 2;
      else if (body[j] === q) break;
      else j++;
    }
    if (j >= body.length) return undefined;
    let k = j + 1;
    while (body[k] === ' ' || body[k] === '\t') k++;
    return body[k] === ':' && /^(?:\s|$)/.test(body.slice(k + 1, k + 2)) ? { name: body.slice(0, j + 1), valueAt: k + 1 } : undefined;
  }
  if (/^[[\]{},#&*!|>%@`]/.test(body) || /^[?:-](?:\s|$)/.test(body)) return undefined;
  for (let j = 0; j < body.length; j++) {
    if (body[j] === '#' && j > 0 && /\s/.test(body[j - 1]!)) return undefined;
    if (body[j] === ':' && (j + 1 === body.length || body[j + 1] === ' ' || body[j + 1] === '\t')) {
      const name = body.slice(0, j).trimEnd();
      return name ? { name, valueAt: j + 1 } : undefined;
    }
  }
  return undefined;
}

/** Flow brackets and quotes still open after a piece of text. */
interface FlowState {
  depth: number;
  quote: '' | '"' | "'";
}

/** Feed one line to a flow collection or quoted scalar; true when it is closed by the end of the line. */
function feed(state: FlowState, s: string): boolean {
  for (let j = 0; j < s.length; j++) {
    const ch = s[j]!;
    if (state.quote === '"') {
      if (ch === '\\') j++;
      else if (ch === '"') state.quote = '';
    } else if (state.quote === "'") {
      if (ch === "'" && s[j + 1] === "'") j++;
      else if (ch === "'") state.quote = '';
    } else if (ch === '#' && (j === 0 || /\s/.test(s[j - 1]!))) {
      break;
    } else if ((ch === '"' || ch === "'") && (j === 0 || /[\s[{,:]/.test(s[j - 1]!))) {
      state.quote = ch;
    } else if (ch === '[' || ch === '{') {
      state.depth++;
    } else if ((ch === ']' || ch === '}') && state.depth > 0) {
      state.depth--;
      if (state.depth === 0 && state.quote === '') return true;
    }
  }
  return state.depth === 0 && state.quote === '';
}

const code = (s: string) => `\`${s.length > 40 ? s.slice(0, 40) + '…' : s}\``;

/**
 * Every line that breaks the indentation layout of the lines above it. Block scalars, quoted
 * strings and flow collections over several lines are skipped; lines indented with tabs are the
 * tab error's.
 */
function layoutAnomalies(lines: readonly string[]): Anomaly[] {
  const out: Anomaly[] = [];
  let stack: Level[] = [];
  const start: Prev = { kind: 'open', col: 0, isKey: false, value: '', line: 0, body: '', bodyCol: 1 };
  let prev = start;
  let skip: { kind: 'block'; col: number } | { kind: 'flow'; state: FlowState } | undefined;
  let lastLine = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const n = i + 1;
    const indent = raw.length - raw.trimStart().length;
    if (skip?.kind === 'block') {
      if (raw.trim() === '' || indent + 1 > skip.col) continue;
      skip = undefined;
    } else if (skip?.kind === 'flow') {
      if (feed(skip.state, raw)) skip = undefined;
      continue;
    }
    if (!isContent(raw) || raw.startsWith('%')) continue;
    if (/^(?:---|\.\.\.)(?:\s|$)/.test(raw)) {
      stack = [];
      prev = { ...start, line: n };
      continue;
    }
    if (/^ *\t/.test(raw)) continue;
    const c = indent + 1;
    const parts = splitLine(raw, indent);
    const isDash = parts.dashes.length > 0;
    const word = isDash ? '-' : (parts.key ?? /^\S*/.exec(parts.body)![0]);
    const span = { line: n, col: c, endCol: c + Math.max(1, word.length) };
    let anomaly: Anomaly | undefined;
    const popped: Level[] = [];
    while (stack.length > 0 && stack[stack.length - 1]!.col > c) popped.push(stack.pop()!);
    let top = stack[stack.length - 1];
    if (top && top.col === c) {
      if (isDash && top.kind === 'map') {
        // `key:` then `- item` at the key's own column is a list under that key; after a key
        // with a value it is a list item in the middle of the mapping.
        if (top.bare) anomaly = missingColon(top.bare);
        else if (!(prev.kind === 'open' && prev.isKey && prev.col === c)) {
          anomaly = {
            ...span,
            message: `a list item (\`- \`) in the middle of a mapping: the lines above it at this column are \`key: value\` lines${top.key ? ` (${code(top.key)})` : ''}`,
            hint: `Remove the \`- \`${parts.key ? ` to make ${code(parts.key)} a key like ${top.key ? code(top.key) : 'the others'}` : ''}. A list needs a key of its own: \`name:\` on the line above it and the \`- \` items under it.`,
          };
        }
      } else if (!isDash) {
        const below = stack[stack.length - 2];
        if (top.kind === 'seq' && below?.kind === 'map' && below.col === c) {
          // A list at its key's column ends at the next key of that mapping.
          stack.pop();
          top = below;
        }
        if (top.kind === 'seq' && stack.length === 1 && top.items === 1) {
          // The file starts with one `- ` item and goes on with keys: the `- ` is the mistake.
          const item = popped.filter((l) => l.kind === 'map').pop();
          anomaly = {
            line: top.line,
            col: top.col,
            endCol: top.col + 1,
            message: 'a list item (`- `) among the top-level keys: the lines after it at this column are `key: value` lines',
            hint: `Remove the \`- \`${item?.key ? ` to make ${code(item.key)} a top-level key like ${code(word)}` : ''}; the top level of an inventory file is a mapping.`,
          };
        } else if (top.kind === 'seq') {
          const item = popped.filter((l) => l.kind === 'map').pop();
          anomaly = {
            ...span,
            message: item?.key
              ? `this line is indented less than the key above it (${code(item.key)} at column ${item.col}): it lines up with the \`-\` of the list (column ${c}), not with the keys of the list item`
              : `a line without \`- \` in the middle of a list (the \`-\` of the items above it are at column ${c})`,
            hint: !item?.key
              ? `Start it with \`- \` like the other items of the list.`
              : top.items === 1
                ? `Remove the \`- \` on line ${top.line} if ${below?.key ? code(below.key) : 'it'} holds keys, not a list; or indent ${code(word)} to column ${item.col} to put it in the list item with ${code(item.key)}.`
                : `Indent ${code(word)} to column ${item.col} to put it in the list item with ${code(item.key)}, or start it with \`- \` to make it a new list item.`,
          };
        } else if (top.bare) anomaly = missingColon(top.bare);
        else if (parts.key === undefined) anomaly = missingColon({ line: n, body: parts.body, col: parts.bodyCol });
      }
    } else if (popped.length > 0) {
      anomaly = misaligned(span, parts, word, popped, top);
    } else if (top && prev.kind !== 'open') {
      // Deeper than the line above, whose key or `-` already has a value on its line.
      if (prev.kind === 'scalar' && !isDash && parts.key === undefined) continue; // a plain value going on over lines
      if (top.bare && top.bare.line === prev.line) anomaly = missingColon(top.bare);
      else if (!prev.isKey && prev.kind === 'scalar' && c === prev.bodyCol && /^[A-Za-z_][\w.-]*(?:[ \t]+[^\s#]|:\S)/.test(prev.body)) {
        // `- hostname hv-1` and then `  mac: ...` under it: the item's first key lacks its colon.
        anomaly = missingColon({ line: prev.line, body: prev.body, col: prev.bodyCol });
      } else anomaly = indentedMore(span, word, prev);
    }
    // A line right after a wrong one is judged against it: say nothing about it.
    if (anomaly && out[out.length - 1]?.line !== lastLine) out.push(anomaly);
    lastLine = n;

    // Take this line's levels in (a misplaced line where it most likely belongs, so that the
    // lines after it are not all reported too).
    const shift = anomaly?.target !== undefined ? anomaly.target - c : 0;
    while (stack.length > 0 && stack[stack.length - 1]!.col > c + shift) stack.pop();
    for (const d of parts.dashes) {
      const t = stack[stack.length - 1];
      if (t && t.col === d + shift && t.kind === 'seq') t.items = (t.items ?? 0) + 1;
      else stack.push({ col: d + shift, kind: 'seq', line: n, items: 1 });
    }
    const value = parts.value.trim().replace(/^(?:[&!]\S*\s*)*/, '');
    const t = stack[stack.length - 1];
    if (parts.key !== undefined) {
      if (t && t.col === parts.bodyCol + shift && t.kind === 'map') {
        t.key = parts.key;
        delete t.bare;
      } else stack.push({ col: parts.bodyCol + shift, kind: 'map', line: n, key: parts.key });
    } else if (!isDash && !(t && t.col === c + shift) && /^[^[{"'|>*#]/.test(value)) {
      stack.push({ col: c + shift, kind: 'map', line: n, bare: { line: n, body: parts.body, col: parts.bodyCol } });
    }
    const owner = parts.key !== undefined ? parts.bodyCol : isDash ? parts.dashes[parts.dashes.length - 1]! : c;
    let kind: Prev['kind'] = 'scalar';
    if (value === '' || value.startsWith('#')) kind = 'open';
    else if (value[0] === '|' || value[0] === '>') {
      kind = 'closed';
      skip = { kind: 'block', col: owner };
    } else if (/^["'[{]/.test(value)) {
      kind = 'closed';
      const state: FlowState = { depth: 0, quote: '' };
      if (!feed(state, value)) skip = { kind: 'flow', state };
    } else if (value[0] === '*') kind = 'closed';
    prev = {
      kind,
      col: owner,
      isKey: parts.key !== undefined,
      ...(parts.key !== undefined ? { key: parts.key } : {}),
      value,
      line: n,
      body: parts.body,
      bodyCol: parts.bodyCol,
    };
  }
  return out;
}

/** A line in a mapping without `key: value`: a missing colon, or a colon without the space after it. */
function missingColon(bare: { line: number; body: string; col: number }): Anomaly {
  const word = /^\S*/.exec(bare.body)![0];
  const rest = bare.body
    .slice(word.length)
    .trim()
    .replace(/\s+#.*$/, '');
  const colon = word.indexOf(':');
  if (colon > 0 && colon < word.length - 1) {
    const fixed = `${word.slice(0, colon + 1)} ${word.slice(colon + 1)}${rest ? ` ${rest}` : ''}`;
    return {
      line: bare.line,
      col: bare.col + colon + 1,
      message: `no space after the \`:\` in ${code(word)}: YAML reads it as one string, not as a key and its value`,
      hint: `Put a space after the colon: ${code(fixed)}.`,
    };
  }
  return {
    line: bare.line,
    col: bare.col + word.length,
    message: `missing \`:\` after the key ${code(word)}?`,
    hint: `Write ${code(`${word}:${rest ? ` ${rest}` : ''}`)}: a key is followed by a colon and a space, like the other keys of this mapping.`,
  };
}

/** A line deeper than the line above, whose key (or `-`) already has its value. */
function indentedMore(span: { line: number; col: number; endCol: number }, word: string, prev: Prev): Anomaly {
  const shown = prev.value.replace(/\s+#.*$/, '');
  if (prev.isKey && prev.key !== undefined) {
    return {
      ...span,
      message: `this line is indented more than the key above it (${code(prev.key)} on line ${prev.line})`,
      hint: `Indent ${code(word)} to column ${prev.col} like ${code(prev.key)} to make it the next key. ${code(prev.key)} already has a value (${code(shown)}), so nothing can be nested under it.`,
    };
  }
  return {
    ...span,
    message: `this line is indented more than the list item above it (line ${prev.line})`,
    hint: `Line it up with the lines above it; the item above already has its value (${code(shown)}), so nothing can be nested under it.`,
  };
}

/** A line whose indentation matches none of the levels it could belong to. */
function misaligned(
  span: { line: number; col: number; endCol: number },
  parts: LineParts,
  word: string,
  popped: readonly Level[],
  below: Level | undefined,
): Anomaly {
  const levels = below ? [...popped, below] : [...popped];
  if (parts.dashes.length > 0) {
    const seq = levels.filter((l) => l.kind === 'seq').sort((a, b) => Math.abs(a.col - span.col) - Math.abs(b.col - span.col))[0];
    if (seq) {
      return {
        ...span,
        message: `this list item is not lined up with the items above it: their \`-\` is at column ${seq.col}, this one at column ${span.col}`,
        hint: `Move the \`-\` to column ${seq.col}, like the other items of the list.`,
        target: seq.col,
      };
    }
  }
  const above = popped[popped.length - 1]!;
  if (!below && above.kind === 'map' && above.key) {
    const first = popped[0]!.kind === 'map' ? popped[popped.length - 1]! : above;
    return {
      ...span,
      message: `this line is indented less than ${code(first.key ?? above.key)} on line ${first.line}, the first key of the file: the top-level keys must all start at the same column`,
      hint: `Start every top-level key at column ${span.col}: ${code(first.key ?? above.key)} on line ${first.line} is indented by ${first.col - 1}.`,
    };
  }
  const name = (l: Level) => (l.kind === 'map' && l.key ? `the key ${code(l.key)}` : 'the `-` of the list item');
  const inner = popped.filter((l) => l.kind === 'map' && l.key).pop();
  const outer = below?.kind === 'map' && below.key ? below : undefined;
  const options = [
    ...(inner ? [`to column ${inner.col} to put it next to ${code(inner.key!)}`] : []),
    ...(outer ? [`to column ${outer.col} to put it next to ${code(outer.key!)}`] : []),
  ];
  return {
    ...span,
    message: `this line is indented less than ${name(above)} above it (column ${above.col})${below ? ` but more than ${name(below)} (column ${below.col})` : ''}, so it belongs to neither`,
    hint: options.length > 0 ? `Indent ${code(word)} ${options.join(', or ')}.` : 'Line it up with the lines it belongs with.',
  };
}
