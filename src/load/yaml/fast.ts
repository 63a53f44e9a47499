// A fast path for the plain YAML that inventory files are written in. A fleet keeps one small
// file per node, and the yaml library builds a Document (a node with a range for every value)
// for each before it is turned into a plain value: for 10,000 node files that is most of the time
// spent loading them. This parser reads only the common subset (block mappings and lists, one-line
// flow collections, one-line scalars, comments) straight into plain values, and gives up on
// anything else, or anything it is not sure of, by returning undefined: parse.ts then takes the
// general path, which reports every mistake with its position. So whenever it returns a value,
// the general path would have returned the same value (same key order, same types) without a
// diagnostic; test/yaml-fast.test.ts checks that against every file of the repository and a
// fuzzer of the subset and its near-misses.
import { MAX_MAP_KEYS } from './limits.ts';

/** Thrown, and caught in fastParse, to give up: the general path decides. */
const GIVE_UP = new Error('not in the fast subset');

function giveUp(): never {
  throw GIVE_UP;
}

/**
 * Characters the fast path reads: printable ASCII, line feeds and most non-ASCII text. Not tabs
 * (an error in indentation, and trimmed like spaces elsewhere), other control characters, the BOM,
 * Unicode spaces and line separators (whether the library trims or breaks on them is not worth
 * knowing here), nor surrogates (a lone one is an error).
 */
const OUTSIDE =
  /[^\n\x20-\x7e\u00a1-\u167f\u1681-\u1fff\u200b-\u2027\u202a-\u202e\u2030-\u205e\u2060-\u2fff\u3001-\ud7ff\ue000-\ufefe\uff00-\ufffd]/;

/**
 * Characters that cannot start a plain scalar (YAML's indicators), or start something the fast
 * path leaves to the library: anchors, aliases, tags, block scalars, directives, `?` keys.
 */
const INDICATOR = new Set('-?:,[]{}#&*!|>\'"%@`');

/** Characters that end a plain scalar inside a flow collection. */
const FLOW_END = new Set(',[]{}');

/** Deeper flow nesting than this is left to the library (no inventory nests this deep on one line). */
const MAX_FLOW_DEPTH = 32;

/**
 * The longest implicit key the fast path reads: the library (strict) refuses a key of more than
 * 1024 characters before its `:`; well under that, the two cannot disagree.
 */
const MAX_KEY_LENGTH = 512;

/** Core schema forms the fast path leaves to the library: hex, octal, exponents, infinities, NaN. */
const OTHER_NUMBER =
  /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** Double-quoted escapes as the library reads them (its escapeCodes), apart from `\x`, `\u`, `\U`. */
const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
};

/**
 * The value of an inventory text in the fast subset, exactly as parseYamlFile would return it
 * for a clean file; undefined when the text is outside the subset or anything about it is unsure
 * (the caller then parses it with the yaml library).
 */
export function fastParse(text: string): Record<string, unknown> | undefined {
  if (text.includes('\r')) {
    // CRLF line ends are line ends to the library too; a lone CR is not worth knowing about.
    if (/\r(?!\n)/.test(text)) return undefined;
    text = text.replace(/\r\n/g, '\n');
  }
  if (OUTSIDE.test(text)) return undefined;
  try {
    return new Reader(text.split('\n')).document();
  } catch {
    // GIVE_UP, or a stack overflow on a deeply nested text: the general path knows what to say.
    return undefined;
  }
}

/** Where an inline value (scalar or flow collection) ended on its line. */
interface Inline {
  readonly value: unknown;
  readonly end: number;
}

/** A key as written at the start of a mapping entry, and the offset after its `:`. */
interface Key {
  readonly key: string;
  readonly after: number;
}

class Reader {
  constructor(private readonly lines: readonly string[]) {
    for (const line of lines) {
      // Document markers and directives: several documents, or a `%YAML` line.
      if (line.startsWith('---') || line.startsWith('...') || line.startsWith('%')) giveUp();
    }
  }

  /** The whole text: one block mapping at column 0 and nothing after it. */
  document(): Record<string, unknown> {
    const first = this.content(0);
    // An empty file or only comments: YAML_EMPTY on the general path.
    if (first >= this.lines.length || indentOf(this.lines[first]!) !== 0) giveUp();
    const { value, next } = this.mapping(first, 0);
    if (this.content(next) < this.lines.length) giveUp();
    return value;
  }

  /** The first line from `i` on that holds content: not blank and not only a comment. */
  private content(i: number): number {
    const { lines } = this;
    for (; i < lines.length; i++) {
      const line = lines[i]!;
      const at = indentOf(line);
      if (at < line.length && line.charCodeAt(at) !== 0x23 /* # */) return i;
    }
    return i;
  }

  /**
   * A block mapping whose first key starts at column `col` of line `i` (after a list item's `- `
   * when it is a list item's mapping); its other keys start their lines at that column. Returns
   * the mapping and the line after its last entry.
   */
  private mapping(i: number, col: number): { value: Record<string, unknown>; next: number } {
    const { lines } = this;
    const map: Record<string, unknown> = {};
    let count = 0;
    for (;;) {
      // A line with no key (a list item where a key belongs, a scalar): the library reports it.
      const k = keyAt(lines[i]!, col) ?? giveUp();
      if (Object.prototype.hasOwnProperty.call(map, k.key)) giveUp();
      if (++count > MAX_MAP_KEYS) giveUp();
      const { value, next } = this.entryValue(i, k.after, col);
      map[k.key] = value;
      i = this.content(next);
      if (i >= lines.length) return { value: map, next: i };
      const at = indentOf(lines[i]!);
      if (at < col) return { value: map, next: i };
      // More indented than the keys after a value: a scalar's continuation or an error.
      if (at > col) giveUp();
    }
  }

  /** The value after `key:` (from offset `from` of line `i`, the key at column `col`). */
  private entryValue(i: number, from: number, col: number): { value: unknown; next: number } {
    const line = this.lines[i]!;
    const p = skipSpaces(line, from);
    if (p < line.length && line.charCodeAt(p) !== 0x23 /* # */) {
      return { value: this.inlineToEnd(line, p), next: i + 1 };
    }
    // Nothing on the line: a nested block, a list at the key's own column, or null.
    const j = this.content(i + 1);
    if (j < this.lines.length) {
      const next = this.lines[j]!;
      const at = indentOf(next);
      if (at > col) return isItem(next, at) ? this.sequence(j, at) : this.mapping(j, at);
      if (at === col && isItem(next, at)) return this.sequence(j, at);
    }
    return { value: null, next: i + 1 };
  }

  /** A block list whose `-` are at column `col`, from line `i`. */
  private sequence(i: number, col: number): { value: unknown[]; next: number } {
    const { lines } = this;
    const list: unknown[] = [];
    for (;;) {
      const line = lines[i]!;
      if (list.length >= MAX_MAP_KEYS) giveUp();
      const p = skipSpaces(line, col + 1);
      if (p >= line.length || line.charCodeAt(p) === 0x23 /* # */) {
        // `-` alone: a nested block below it, or null.
        const j = this.content(i + 1);
        const at = j < lines.length ? indentOf(lines[j]!) : -1;
        if (at > col) {
          const nested = isItem(lines[j]!, at) ? this.sequence(j, at) : this.mapping(j, at);
          list.push(nested.value);
          i = nested.next;
        } else {
          list.push(null);
          i = i + 1;
        }
      } else if (isItem(line, p)) {
        // `- - x`: a list in a list on one line.
        giveUp();
      } else if (keyAt(line, p)) {
        // `- key: value`: a mapping whose keys line up with this first one.
        const nested = this.mapping(i, p);
        list.push(nested.value);
        i = nested.next;
      } else {
        list.push(this.inlineToEnd(line, p));
        i = i + 1;
      }
      i = this.content(i);
      if (i >= lines.length) return { value: list, next: i };
      const at = indentOf(lines[i]!);
      if (at < col) return { value: list, next: i };
      if (at > col) giveUp();
      // At the list's column: another item, or the end of a list that shares its key's column.
      if (!isItem(lines[i]!, col)) return { value: list, next: i };
    }
  }

  /** An inline value that must fill the rest of the line (but for a comment). */
  private inlineToEnd(line: string, p: number): unknown {
    const c = line[p]!;
    let r: Inline;
    if (c === '[' || c === '{') r = flow(line, p, 0);
    else if (c === '"' || c === "'") r = quoted(line, p);
    else return blockPlain(line, p);
    endOfLine(line, r.end);
    return r.value;
  }
}

/** Leading spaces of a line. */
function indentOf(line: string): number {
  let i = 0;
  while (i < line.length && line.charCodeAt(i) === 0x20) i++;
  return i;
}

function skipSpaces(line: string, i: number): number {
  while (i < line.length && line.charCodeAt(i) === 0x20) i++;
  return i;
}

/** A block list item at column `col`: `-` then a space or the end of the line. */
function isItem(line: string, col: number): boolean {
  return line.charCodeAt(col) === 0x2d /* - */ && (col + 1 === line.length || line.charCodeAt(col + 1) === 0x20);
}

/** Only spaces, or spaces and a comment, from `i` to the end of the line. */
function endOfLine(line: string, i: number): void {
  const p = skipSpaces(line, i);
  if (p === line.length) return;
  if (line.charCodeAt(p) === 0x23 /* # */ && p > i) return;
  giveUp();
}

/**
 * The mapping key that starts at offset `p`, with the offset after its `:`; undefined when the
 * line holds no `key:` there (a plain or quoted value). Gives up on keys that are not strings to
 * the library (`1:`, `true:`, `~:`), `__proto__` and `<<`, and on forms left to it.
 */
function keyAt(line: string, p: number): Key | undefined {
  const c = line[p]!;
  // A flow collection: a value (as a key, `[a]: b`, it fails at the end of the line check).
  if (c === '[' || c === '{') return undefined;
  let key: string;
  let colon: number;
  if (c === '"' || c === "'") {
    const q = quoted(line, p);
    colon = q.end;
    if (line.charCodeAt(colon) !== 0x3a /* : */) return undefined;
    key = q.value;
  } else {
    colon = -1;
    for (let i = p; i < line.length; i++) {
      const ch = line.charCodeAt(i);
      if (ch === 0x23 /* # */ && line.charCodeAt(i - 1) === 0x20) break;
      if (ch === 0x3a /* : */ && (i + 1 === line.length || line.charCodeAt(i + 1) === 0x20)) {
        colon = i;
        break;
      }
    }
    if (colon < 0) return undefined;
    if (INDICATOR.has(c)) giveUp();
    // `key :` is read the same by the library, but is rare enough to leave to it.
    if (line.charCodeAt(colon - 1) === 0x20) giveUp();
    const raw = line.slice(p, colon);
    const v = resolvePlain(raw);
    if (typeof v !== 'string') giveUp();
    key = v;
  }
  if (colon - p > MAX_KEY_LENGTH) giveUp();
  if (colon + 1 < line.length && line.charCodeAt(colon + 1) !== 0x20) giveUp();
  if (key === '__proto__' || key === '<<') giveUp();
  return { key, after: colon + 1 };
}

/** A plain scalar in block context from `p` to the end of the line or a comment. */
function blockPlain(line: string, p: number): unknown {
  checkPlainStart(line, p);
  let end = line.length;
  for (let i = p + 1; i < line.length; i++) {
    const ch = line.charCodeAt(i);
    if (ch === 0x23 /* # */ && line.charCodeAt(i - 1) === 0x20) {
      end = i;
      break;
    }
    // `a: b: c` is an error; `b:c` is part of the scalar.
    if (ch === 0x3a /* : */ && (i + 1 === line.length || line.charCodeAt(i + 1) === 0x20)) giveUp();
  }
  return resolvePlain(line.slice(p, end).trimEnd());
}

/** A plain scalar may not start with an indicator; `-x` may, but is left to the library unless plainly safe. */
function checkPlainStart(line: string, p: number): void {
  const c = line[p]!;
  if (!INDICATOR.has(c)) return;
  if (c === '-') {
    const n = line[p + 1];
    if (n !== undefined && n !== ' ' && !INDICATOR.has(n)) return;
  }
  giveUp();
}

/**
 * A plain scalar's value in the core schema as the library resolves it: null, booleans, decimal
 * integers and decimals; other numeric forms are left to the library, everything else is a string.
 */
function resolvePlain(s: string): unknown {
  switch (s) {
    case '':
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return null;
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
  }
  const c = s.charCodeAt(0);
  // Only a digit, a sign or a dot can start a number.
  if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
    if (INT.test(s)) {
      // Within the safe integers, so that the value is exact (the library's parseInt, as here).
      if (s.length > 15) giveUp();
      return parseInt(s, 10);
    }
    if (FLOAT.test(s)) return parseFloat(s);
    if (OTHER_NUMBER.test(s)) giveUp();
  }
  return s;
}

/** A quoted scalar on one line from `p` (at its quote), and the offset after its closing quote. */
function quoted(line: string, p: number): { value: string; end: number } {
  const q = line[p];
  let out = '';
  let i = p + 1;
  if (q === "'") {
    for (;;) {
      const close = line.indexOf("'", i);
      // No closing quote on this line: a scalar over several lines, or an error.
      if (close < 0) giveUp();
      out += line.slice(i, close);
      if (line[close + 1] === "'") {
        out += "'";
        i = close + 2;
        continue;
      }
      return { value: out, end: close + 1 };
    }
  }
  for (;;) {
    if (i >= line.length) giveUp();
    const c = line[i]!;
    if (c === '"') return { value: out, end: i + 1 };
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = line[i + 1];
    if (e === undefined) giveUp();
    const simple = ESCAPES[e];
    if (simple !== undefined && Object.prototype.hasOwnProperty.call(ESCAPES, e)) {
      out += simple;
      i += 2;
      continue;
    }
    const length = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : giveUp();
    const hex = line.slice(i + 2, i + 2 + length);
    if (hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex)) giveUp();
    const code = parseInt(hex, 16);
    if (code > 0x10ffff) giveUp();
    out += String.fromCodePoint(code);
    i += 2 + length;
  }
}

/** A flow list or mapping that opens and closes on this line, from `p` (at `[` or `{`). */
function flow(line: string, p: number, depth: number): Inline {
  if (depth > MAX_FLOW_DEPTH) giveUp();
  const close = line[p] === '[' ? ']' : '}';
  let i = skipSpaces(line, p + 1);
  if (line[i] === close) return { value: close === ']' ? [] : {}, end: i + 1 };
  if (close === ']') {
    const list: unknown[] = [];
    for (;;) {
      if (list.length >= MAX_MAP_KEYS) giveUp();
      const item = flowNode(line, i, depth);
      list.push(item.value);
      i = skipSpaces(line, item.end);
      const c = line[i];
      if (c === ']') return { value: list, end: i + 1 };
      if (c !== ',') giveUp();
      // A trailing comma (`]` cannot start an item) or the end of the line after one gives up.
      i = skipSpaces(line, i + 1);
    }
  }
  const map: Record<string, unknown> = {};
  let count = 0;
  for (;;) {
    const k = flowKey(line, i);
    if (Object.prototype.hasOwnProperty.call(map, k.key)) giveUp();
    if (++count > MAX_MAP_KEYS) giveUp();
    i = skipSpaces(line, k.after);
    // `{ a: }` and `{ a: , b: c }` hold nulls: rare, left to the library.
    const item = flowNode(line, i, depth);
    map[k.key] = item.value;
    i = skipSpaces(line, item.end);
    const c = line[i];
    if (c === '}') return { value: map, end: i + 1 };
    if (c !== ',') giveUp();
    // As in a list, a trailing comma or the end of the line gives up at the next key.
    i = skipSpaces(line, i + 1);
  }
}

/** A key in a flow mapping at `p`: plain or quoted, then `: `. */
function flowKey(line: string, p: number): Key {
  const c = line[p];
  if (c === undefined) giveUp();
  let key: string;
  let colon: number;
  if (c === '"' || c === "'") {
    const q = quoted(line, p);
    key = q.value;
    colon = q.end;
  } else {
    if (INDICATOR.has(c)) giveUp();
    colon = p;
    for (; colon < line.length; colon++) {
      const ch = line[colon]!;
      if (ch === ':' || ch === '#' || FLOW_END.has(ch)) break;
    }
    if (line[colon] !== ':' || line[colon - 1] === ' ') giveUp();
    const v = resolvePlain(line.slice(p, colon));
    if (typeof v !== 'string') giveUp();
    key = v;
  }
  if (line[colon] !== ':' || line[colon + 1] !== ' ') giveUp();
  if (colon - p > MAX_KEY_LENGTH) giveUp();
  if (key === '__proto__' || key === '<<') giveUp();
  return { key, after: colon + 1 };
}

/** A value inside a flow collection at `p`: a nested collection, a quoted or a plain scalar. */
function flowNode(line: string, p: number, depth: number): Inline {
  const c = line[p];
  if (c === undefined) giveUp();
  if (c === '[' || c === '{') return flow(line, p, depth + 1);
  if (c === '"' || c === "'") return quoted(line, p);
  checkPlainStart(line, p);
  let i = p + 1;
  for (; i < line.length; i++) {
    const ch = line[i]!;
    if (FLOW_END.has(ch)) break;
    // A comment inside a flow collection: it goes on on the next line.
    if (ch === '#' && line[i - 1] === ' ') giveUp();
    // `[a: b]` is a mapping in a list; `a:` before a flow indicator is a key.
    if (ch === ':') {
      const n = line[i + 1];
      if (n === undefined || n === ' ' || FLOW_END.has(n)) giveUp();
    }
  }
  return { value: resolvePlain(line.slice(p, i).trimEnd()), end: i };
}
