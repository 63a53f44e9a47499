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
import { blockPlain, endOfLine, flow, giveUp, indentOf, isItem, keyAt, quoted, skipSpaces, type Inline } from './fast-inline.ts';

/**
 * Characters the fast path reads: printable ASCII, line feeds and most non-ASCII text. Not tabs
 * (an error in indentation, and trimmed like spaces elsewhere), other control characters, the BOM,
 * Unicode spaces and line separators (whether the library trims or breaks on them is not worth
 * knowing here), nor surrogates (a lone one is an error).
 */
const OUTSIDE =
  /[^\n\x20-\x7e\u00a1-\u167f\u1681-\u1fff\u200b-\u2027\u202a-\u202e\u2030-\u205e\u2060-\u2fff\u3001-\ud7ff\ue000-\ufefe\uff00-\ufffd]/;

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
