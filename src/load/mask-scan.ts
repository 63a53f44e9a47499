// The two scans that find the values written at secret keys in an inventory file's text (mask.ts
// joins their spans): the YAML parse of the text (docSpans: the exact range of each value, also in
// a file with errors, as far as the parser got), and a line scan that needs no parse (lineSpans: a
// file whose YAML is broken near the secret).
import { isAlias, isMap, isPair, isScalar, isSeq, visit, type Document, type Node } from 'yaml';

/** Keys whose value is a secret wherever they appear in an inventory file. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['token', 'password', 'private_key', 'file_key']);

/** The keys of a secret reference, whose values name where the secret is (not secret themselves). */
const REFERENCE_KEYS: ReadonlySet<string> = new Set(['env', 'file']);

/** A span of a text: [start, end) offsets. */
export type Span = readonly [number, number];

/** Spans of the values at secret keys in a parsed document. */
export function docSpans(doc: Document): Span[] {
  const out: Span[] = [];
  const addNode = (node: unknown, depth = 0): void => {
    if (depth > 20) return;
    if (isScalar(node) && node.range) out.push([node.range[0], node.range[1]]);
    else if (isAlias(node)) {
      // The alias and the node of its anchor, written elsewhere (`description: &t >-` over
      // several lines, then `token: *t`): its whole source range is blanked.
      if (node.range) out.push([node.range[0], node.range[1]]);
      try {
        addNode(node.resolve(doc), depth + 1);
      } catch {
        // An alias that does not resolve in a broken document: its own text is masked.
      }
    } else if (isSeq(node)) for (const item of node.items) addNode(item, depth + 1);
    else if (isMap(node)) {
      // A mapping: a reference names a variable or a file (`{ env: NAME }`, `{ file: path }`),
      // which is no secret; the value of any other key in it may be one.
      for (const item of node.items) {
        const k = isScalar(item.key) ? String(item.key.value) : undefined;
        if (k === undefined || !REFERENCE_KEYS.has(k)) addNode(item.value, depth + 1);
      }
    }
  };
  try {
    visit(doc, {
      Pair(_k, pair) {
        if (!isPair(pair)) return;
        const key = pair.key as Node | null;
        const name = isScalar(key) ? String(key.value) : isAlias(key) ? aliasName(doc, key) : undefined;
        if (name === undefined || !SECRET_KEYS.has(name)) return;
        addNode(pair.value);
      },
    });
  } catch {
    // A document too broken to walk: the line scan still applies.
  }
  return out;
}

function aliasName(doc: Document, key: Node): string | undefined {
  try {
    const target = isAlias(key) ? key.resolve(doc) : undefined;
    return isScalar(target) ? String(target.value) : undefined;
  } catch {
    return undefined;
  }
}

/** A text by lines: where each starts and ends, and the walks the masker makes over them. */
class Lines {
  readonly starts = [0];
  constructor(readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** Where line `n` ends (its line break, or the end of the text). */
  end(n: number): number {
    return n + 1 < this.starts.length ? this.starts[n + 1]! - 1 : this.text.length;
  }

  /** The text of line `n`, without its line break. */
  raw(n: number): string {
    return this.text.slice(this.starts[n]!, this.end(n));
  }

  /** The first line from `n` on that is not blank and not indented more than `col` (the end of a continued value). */
  continuation(n: number, col: number): number {
    let last = n;
    for (let k = n; k < this.starts.length; k++) {
      const raw = this.raw(k);
      if (raw.trim() === '') continue;
      if (raw.length - raw.trimStart().length <= col) break;
      last = k + 1;
    }
    return last;
  }

  /** The last line before `n` that is neither blank nor a comment, its comment cut off. */
  prevLine(n: number): string {
    for (let k = n - 1; k >= 0; k--) {
      const raw = this.raw(k)
        .replace(/(?:^|[ \t])#.*$/, '')
        .trim();
      if (raw !== '') return raw;
    }
    return '';
  }

  /** The lines from `n` on that continue a plain scalar in a flow collection. */
  flowLines(n: number): Span[] {
    const text = this.text;
    const spans: Span[] = [];
    for (let k = n; k < this.starts.length; k++) {
      const e = this.end(k);
      const raw = this.raw(k);
      const t = raw.trim();
      if (t === '') continue;
      if (t.startsWith('#') || BLOCK_KEY.test(t)) break;
      const from = this.starts[k]! + raw.length - raw.trimStart().length;
      let j = from;
      while (j < e && !/[,}\]]/.test(text[j]!) && !(/[#:]/.test(text[j]!) && /\s/.test(text[text[j] === '#' ? j - 1 : j + 1] ?? ' '))) j++;
      spans.push([from, j]);
      if (j < e) break;
    }
    return spans;
  }
}

/** Where a secret key's value starts: its line, the key's column, the value's offset, the line's end. */
interface ValueAt {
  readonly line: number;
  readonly keyCol: number;
  readonly v: number;
  readonly eol: number;
  /** The key is in a flow mapping (after `{` or `,` on its line). */
  readonly inFlow: boolean;
}

/**
 * Spans found line by line: after `token:` / `password:` (a block key, a list item's key, a key
 * in a flow mapping, quoted or not), the value in whatever style, with the lines that continue it
 * (more indented than the key, or inside an open quote).
 */
export function lineSpans(text: string): Span[] {
  const lines = new Lines(text);
  const out: Span[] = [];
  const keys = [...SECRET_KEYS].join('|');
  const re = new RegExp(`(^|[\\s{,\\[])(["']?)(${keys})\\2[ \\t]*:`, 'gm');
  for (const m of text.matchAll(re)) {
    // A plain key needs a space or the end of the line after its colon (`token:x` is one plain
    // string); a quoted one does not (`{"token":"x"}`).
    const after = text[(m.index ?? 0) + m[0].length];
    if (m[2] === '' && after !== undefined && !/[ \t\r\n]/.test(after)) continue;
    const keyAt = (m.index ?? 0) + m[1]!.length;
    const line = lineOf(lines.starts, keyAt);
    const eol = lines.end(line);
    const at: ValueAt = {
      line,
      keyCol: keyAt - lines.starts[line]!,
      v: valueStart(text, (m.index ?? 0) + m[0].length, eol),
      eol,
      // A key after `{` or `,` on its line is in a flow mapping, where a plain value also ends at `,` `}` `]`.
      inFlow: /[{,][ \t]*$/.test(text.slice(lines.starts[line]!, keyAt)),
    };
    out.push(...valueSpans(lines, at));
  }
  return out;
}

/** The first character of a value after its key's colon: past blanks, anchors and tags (`&a`, `!!binary`), which belong to it. */
function valueStart(text: string, from: number, eol: number): number {
  let v = from;
  while (v < eol && (text[v] === ' ' || text[v] === '\t')) v++;
  while (v < eol && (text[v] === '&' || text[v] === '!')) {
    while (v < eol && !/\s/.test(text[v]!)) v++;
    while (v < eol && (text[v] === ' ' || text[v] === '\t')) v++;
  }
  return v;
}

/** The spans of one secret key's value, by its style. */
function valueSpans(lines: Lines, at: ValueAt): Span[] {
  const text = lines.text;
  const { line, keyCol, v, eol } = at;
  const ch = text[v];
  if (v >= eol || ch === '#') return belowSpans(lines, line, keyCol);
  if (ch === '{') return flowMappingSpans(text, v);
  if (ch === '"' || ch === "'") return [[v, closingQuote(text, v)]];
  if (ch === '[') return [[v, closingBracket(text, v)]];
  if (ch === '|' || ch === '>') return [[v, lines.end(lines.continuation(line + 1, keyCol) - 1)]];
  return plainSpans(lines, at);
}

/**
 * A value on the lines below its key: a block scalar never starts there, so it is a list, a
 * mapping (a reference: left alone) or a plain scalar over several lines.
 */
function belowSpans(lines: Lines, line: number, keyCol: number): Span[] {
  const below = lines.continuation(line + 1, keyCol);
  if (below <= line + 1) return [];
  if (!BLOCK_KEY.test(lines.raw(line + 1).trim())) return [[lines.starts[line + 1]!, lines.end(below - 1)]];
  // A mapping: every line but those of a reference's `env:` / `file:` key.
  const out: Span[] = [];
  let keep = false;
  for (let k = line + 1; k < below; k++) {
    const raw = lines.raw(k);
    const km = BLOCK_KEY.exec(raw.trim());
    if (km) keep = REFERENCE_KEYS.has(km[1]!);
    if (!keep)
      out.push(km ? [lines.starts[k]! + raw.indexOf(':', raw.indexOf(km[1]!)) + 1, lines.end(k)] : [lines.starts[k]!, lines.end(k)]);
  }
  return out;
}

/** A flow mapping value: the values of its keys but a reference's `env` / `file`. */
function flowMappingSpans(text: string, v: number): Span[] {
  const out: Span[] = [];
  const close = closingBracket(text, v);
  const inner = text.slice(v + 1, close - 1);
  for (const pm of inner.matchAll(/(["']?)([\w-]+)\1[ \t]*:[ \t]*("(?:[^"\\]|\\.)*"?|'(?:[^']|'')*'?|[^,}]*)/g)) {
    if (REFERENCE_KEYS.has(pm[2]!)) continue;
    const at = v + 1 + (pm.index ?? 0) + pm[0].length - pm[3]!.length;
    out.push([at, at + pm[3]!.length]);
  }
  return out;
}

/**
 * A plain scalar: to a comment or the end of the line (in a flow mapping also `,` `}` `]`), then
 * the more indented lines that continue it: up to a `key: value` line, which a plain scalar
 * cannot hold (a key indented too far after it is a mistake to show, not a secret).
 */
function plainSpans(lines: Lines, { line, keyCol, v, eol, inFlow }: ValueAt): Span[] {
  const text = lines.text;
  let end = v;
  while (end < eol && !(inFlow && /[,}\]]/.test(text[end]!)) && !(text[end] === '#' && /\s/.test(text[end - 1] ?? ' '))) end++;
  const out: Span[] = [[v, end]];
  // In a flow collection a plain scalar goes on over the next lines, whatever their indentation
  // (`{ vip: 10.0.0.10, token: FIRST` then `SECOND }`), to a `,` `}` `]` or a comment. A key
  // first on its line may be in one too (the line before ends in `{` `[` `,`): both readings
  // are masked.
  const flowBefore = !inFlow && line > 0 && FLOW_OPEN.test(lines.prevLine(line));
  if (end === eol && (inFlow || (flowBefore && !/[,}\]]/.test(text.slice(v, eol))))) out.push(...lines.flowLines(line + 1));
  if (inFlow) return out;
  const below = lines.continuation(line + 1, keyCol);
  for (let k = line + 1; k < below; k++) {
    if (BLOCK_KEY.test(lines.raw(k).trim())) break;
    out.push([lines.starts[k]!, lines.end(k)]);
  }
  return out;
}

/** A line that opens or goes on with a flow collection (its comment cut off, trimmed). */
const FLOW_OPEN = /[{[,]$/;

/** A `key:` at the start of a (trimmed) line; the key in group 1. */
const BLOCK_KEY = /^["']?([\w-]+)["']?[ \t]*:(?:\s|$)/;

function lineOf(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The offset after the quote that closes the one at `at` (the end of the text if none does). */
function closingQuote(text: string, at: number): number {
  const q = text[at];
  for (let j = at + 1; j < text.length; j++) {
    if (q === '"' && text[j] === '\\') j++;
    else if (q === "'" && text[j] === "'" && text[j + 1] === "'") j++;
    else if (text[j] === q) return j + 1;
  }
  return text.length;
}

/** The offset after the bracket that closes the one at `at` (quotes inside respected). */
function closingBracket(text: string, at: number): number {
  let depth = 0;
  for (let j = at; j < text.length; j++) {
    const ch = text[j];
    if (ch === '"' || ch === "'") j = closingQuote(text, j) - 1;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return text.length;
}
