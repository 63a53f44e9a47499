// Masking by source range: the text of every value written at a secret key (`token`, `private_key`,
// `password`, at any depth of any inventory file: `cluster.token`, `config.os.password`, a
// misspelt section's `token` too) is blanked in the source texts that code frames show, whatever
// its scalar style (plain over several lines, quoted with escapes, literal, folded). Value masking
// (`redact` in secrets.ts) catches a secret wherever else it is printed; this catches the secret
// as written, which value masking cannot recognise (`"\x41bc"`, a folded block, a line of it).
//
// Two scans, whose spans are joined: the YAML parse of the text (the exact range of each value,
// also in a file with errors, as far as the parser got), and a line scan that needs no parse
// (a file whose YAML is broken near the secret). Over-masking is harmless (a code frame shows
// `***`); under-masking prints a secret.
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, visit, type Document, type Node } from 'yaml';

/** Keys whose value is a secret wherever they appear in an inventory file. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['token', 'password', 'private_key', 'file_key']);

/** The keys of a secret reference, whose values name where the secret is (not secret themselves). */
const REFERENCE_KEYS: ReadonlySet<string> = new Set(['env', 'file']);

/** What stands in for a secret in printed text. */
export const MASK = '***';

/** A span of a text: [start, end) offsets. */
export type Span = readonly [number, number];

/** Could the text hold a secret key? (A quoted key with escapes, `"tok\x65n"`, needs a backslash.) */
export function mayHoldSecretKey(text: string): boolean {
  for (const k of SECRET_KEYS) if (text.includes(k)) return true;
  return text.includes('\\');
}

/**
 * The spans of `text` that hold a value written at a secret key. For a file that parsed cleanly,
 * `clean` gives its Document: the line scan is exact for well-formed block YAML, so the Document
 * is walked only when the text has what a line scan cannot read (a flow collection, an anchor or
 * an alias, an escaped or explicit key); a file with errors is parsed here (as far as the parser
 * gets) and scanned both ways.
 */
export function secretSpans(text: string, clean?: () => Document): Span[] {
  if (!mayHoldSecretKey(text)) return [];
  const spans: Span[] = [...lineSpans(text)];
  let docs: readonly Document[] = [];
  if (clean !== undefined) {
    if (needsParse(text)) docs = [clean()];
  } else {
    try {
      const parsed = parseAllDocuments(text, { strict: false, uniqueKeys: false, prettyErrors: false });
      docs = Array.isArray(parsed) ? (parsed as Document[]) : [];
    } catch {
      docs = [];
    }
  }
  for (const doc of docs) spans.push(...docSpans(doc));
  return merge(spans, text.length);
}

/**
 * What a line scan cannot read: a flow collection (`{`, `[`: a value continued on the next line
 * inside one), an anchor or an alias (`&a`, `*a`: a secret key whose value is an alias of a
 * value written elsewhere, an alias as a key, a merge), an escaped key in quotes (`"tok\x65n"`),
 * an explicit key (`? token`). A block file without them (a node file as a fleet writes it)
 * needs no parse.
 */
function needsParse(text: string): boolean {
  return /[{[&*\\]/.test(text) || /^[ \t-]*\?(?:[ \t]|$)/m.test(text);
}

/** Spans of the values at secret keys in a parsed document. */
function docSpans(doc: Document): Span[] {
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
function lineSpans(text: string): Span[] {
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

function merge(spans: readonly Span[], length: number): Span[] {
  const sorted = spans
    .map(([a, b]) => [Math.max(0, a), Math.min(length, b)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/**
 * The text with every span blanked: on each line a span touches, its text from the first to the
 * last non-blank character becomes `***`. Lines stay lines (code frames keep their numbers) and
 * indentation stays; nothing of the value is left, not even its length.
 */
export function maskSpans(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const [a, b] of spans) {
    out += text.slice(at, a);
    out += text
      .slice(a, b)
      .split('\n')
      .map((part) => {
        const m = /^(\s*)(\S(?:.*\S)?)?(\s*)$/s.exec(part);
        return m && m[2] !== undefined ? `${m[1]}${MASK}${m[3]}` : part;
      })
      .join('\n');
    at = b;
  }
  return out + text.slice(at);
}

/**
 * The secrets as written in spans (for masking in messages that quote a file that never got as
 * far as secret resolution): each span's text and each of its lines, trimmed, without quotes.
 */
export function spanValues(text: string, spans: readonly Span[], min: number): string[] {
  const out = new Set<string>();
  const add = (s: string) => {
    const t = s.trim();
    if (t.length >= min) out.add(t);
    const unq = t.replace(/^["']|["']$/g, '');
    if (unq.length >= min) out.add(unq);
  };
  for (const [a, b] of spans) {
    const raw = text.slice(a, b);
    add(raw);
    for (const l of raw.split('\n')) add(l);
  }
  return [...out].filter((v) => v !== MASK && !/^[|>][-+0-9]*$/.test(v));
}
