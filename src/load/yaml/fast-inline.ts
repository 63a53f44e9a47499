// The fast YAML path's reading within one line (fast.ts reads the lines' block structure): keys,
// plain and quoted scalars as the core schema resolves them, one-line flow collections, and the
// way out of the fast path (`giveUp`) when a text is outside its subset or anything is unsure.
import { MAX_MAP_KEYS } from './limits.ts';

/** Thrown, and caught in fastParse, to give up: the general path decides. */
const GIVE_UP = new Error('not in the fast subset');

export function giveUp(): never {
  throw GIVE_UP;
}

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

/** Where an inline value (scalar or flow collection) ended on its line. */
export interface Inline {
  readonly value: unknown;
  readonly end: number;
}

/** A key as written at the start of a mapping entry, and the offset after its `:`. */
export interface Key {
  readonly key: string;
  readonly after: number;
}

/** Leading spaces of a line. */
export function indentOf(line: string): number {
  let i = 0;
  while (i < line.length && line.charCodeAt(i) === 0x20) i++;
  return i;
}

export function skipSpaces(line: string, i: number): number {
  while (i < line.length && line.charCodeAt(i) === 0x20) i++;
  return i;
}

/** A block list item at column `col`: `-` then a space or the end of the line. */
export function isItem(line: string, col: number): boolean {
  return line.charCodeAt(col) === 0x2d /* - */ && (col + 1 === line.length || line.charCodeAt(col + 1) === 0x20);
}

/** Only spaces, or spaces and a comment, from `i` to the end of the line. */
export function endOfLine(line: string, i: number): void {
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
export function keyAt(line: string, p: number): Key | undefined {
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
export function blockPlain(line: string, p: number): unknown {
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
export function quoted(line: string, p: number): { value: string; end: number } {
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
export function flow(line: string, p: number, depth: number): Inline {
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
