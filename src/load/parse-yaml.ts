// YAML parsing with positions. Every file is parsed into a yaml Document and a plain JS value;
// YAML errors become diagnostics with file:line:col. The Document of a clean file is dropped and
// parsed again on demand for positions (lazySourceFile).
import {
  LineCounter,
  Parser,
  parseAllDocuments,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  visit,
  YAMLParseError,
  type Alias,
  type Document,
  type Node,
  type YAMLError,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import type { Diagnostic } from '../diagnostics/types.ts';

/**
 * The yaml library's alias bomb guard: an anchor's uses times the aliases nested in its value
 * may not pass this (a "billion laughs" file stops here before it is expanded).
 */
const MAX_ALIAS_COUNT = 100;

/**
 * How much a file may stand for with every alias expanded, counted as the characters of each key
 * and value as written, at least one per value, plus one per mapping, list and `key: value` pair.
 * A file without aliases counts less than 1.5 times its length, and a file may hold 1 MiB
 * (LOAD_FILE_TOO_LARGE): so no file written out in full comes near 2 MiB, and aliases, a
 * shorthand for repeating what is written, cannot make a file stand for more than a file could
 * hold. Without it, 99 aliases of a 950 KB `config:` value passed the library's guard (each use
 * counts once) and made every node's config 94 MB.
 */
export const MAX_EXPANDED_SIZE = 2 * 1024 * 1024;

/**
 * Keys one mapping, and items one list, may have. Inventory mappings are written by hand: the
 * node settings have a few dozen keys, the free-form maps of `config:` (`os.sysctls`,
 * `os.labels`, `os.environment`) hold tens, and the longest lists (`nodes:` written in site.yaml,
 * `ssh_authorized_keys`) hold a cluster's worth. 10,000 leaves room for generated inventories
 * while bounding the work each node does with a mapping or list (merged over its layers, checked
 * against the installer schema, written out; 200,000 `kernel_args` overflowed the stack).
 */
export const MAX_MAP_KEYS = 10_000;

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
  // Keys are compared by scanDocument in one pass: the library's `uniqueKeys` compares each key
  // with every key before it (a mapping of 20,000 keys took 14 s).
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: false, strict: true, prettyErrors: false });
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
  const scans = docs.map(scanDocument);
  const duplicates = scans.flatMap((s) => s.duplicates).sort((a, b) => a.error.pos[0] - b.error.pos[0]);
  const errors = withDuplicates(
    docs.flatMap((doc) => doc.errors),
    duplicates.map((d) => d.error),
  );
  const firsts = new Map(duplicates.map((d) => [d.error, d.first] as const));
  const diagnostics = errors.length > 0 ? explainYamlErrors(text, errors, firsts, lineCounter, err) : [];
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
  const scan = scans[0]!;
  const file: SourceFile = { path, absPath, text, doc, lineCounter };
  if (doc.contents === null) {
    return {
      diagnostics: [err('YAML_EMPTY', `${path} has no content`, 'Write the inventory as a YAML mapping (see the README for the format).')],
    };
  }
  if (scan.crowded.length > 0 || scan.collectionKeys.length > 0) {
    const n = (x: number) => x.toLocaleString('en-US');
    return {
      file,
      diagnostics: [
        ...scan.crowded.map(({ collection, entries, at }) => {
          const r = at?.range ?? collection.range!;
          const opened = lineCounter.linePos(collection.range![0]).line;
          return isMap(collection)
            ? err(
                'YAML_TOO_MANY_KEYS',
                `the mapping that starts on line ${opened} has ${n(entries)} keys; a mapping may have at most ${n(MAX_MAP_KEYS)} (this is key ${n(MAX_MAP_KEYS + 1)})`,
                'No inventory setting needs this many keys (the free-form maps of `config:`, such as `os.sysctls` or `os.labels`, hold tens): remove the keys that are not needed. The limit bounds the work every node does with a mapping.',
                r[0],
                r[1],
              )
            : err(
                'YAML_TOO_MANY_KEYS',
                `the list that starts on line ${opened} has ${n(entries)} items; a list may have at most ${n(MAX_MAP_KEYS)} (this is item ${n(MAX_MAP_KEYS + 1)})`,
                'No inventory setting needs this many items: remove the items that are not needed (a fleet keeps one node per file under nodes/). The limit bounds the work every node does with a list.',
                r[0],
                r[1],
              );
        }),
        ...scan.collectionKeys.map((key) =>
          err(
            'YAML_TAG',
            `a ${isSeq(key) || (isAlias(key) && isSeq(scan.aliases.get(key))) ? 'list' : 'mapping'} as a key (\`? \` or an alias of one) is not allowed in an inventory`,
            'Write the key as a plain string; an inventory holds plain data only.',
            key.range![0],
            key.range![1],
          ),
        ),
      ],
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
  const expansion = overExpanded(doc, scan.aliases);
  if (expansion) {
    const { alias, target, size } = expansion;
    const r = alias.range!;
    const defined = target.range ? ` (line ${lineCounter.linePos(target.range[0]).line})` : '';
    return {
      file,
      diagnostics: [
        size === Infinity
          ? err(
              'YAML_ALIAS_LIMIT',
              `the alias \`*${alias.source}\` is inside the value of its own anchor \`&${alias.source}\`${defined}: it would repeat itself without end`,
              'An alias repeats a value written before it and complete: point it at another anchor, or write the value out.',
              r[0],
              r[1],
            )
          : err(
              'YAML_ALIAS_LIMIT',
              `aliases expand ${path} to more than ${formatSize(MAX_EXPANDED_SIZE)} of keys and values at this alias (each \`*${alias.source}\` repeats the ${formatSize(size)} of \`&${alias.source}\`${defined})`,
              `An alias repeats its anchor's whole value: a file may expand to at most ${formatSize(MAX_EXPANDED_SIZE)}, twice what it may hold written out. Set a shared value once (in \`defaults:\`, a profile or sites/_defaults.yaml) instead of repeating a large one.`,
              r[0],
              r[1],
            ),
      ],
    };
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
      // Also through an alias: `*a: x` where `&a __proto__` is a key too.
      const key = isAlias(pair.key) ? scan.aliases.get(pair.key) : pair.key;
      if (isScalar(key) && key.value === '__proto__' && isNode(pair.key) && pair.key.range) {
        odd.push(
          err(
            'YAML_TAG',
            `the key \`__proto__\`${isAlias(pair.key) ? ` (the alias \`*${pair.key.source}\`)` : ''} is not allowed in an inventory`,
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
    const doc = parseAllDocuments(text, { lineCounter, uniqueKeys: false, strict: true, prettyErrors: false }) as Document.Parsed[];
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
// One pass over a Document, linear in its size: what each alias refers to, keys used twice in a
// mapping, mappings over the key limit. Then, for a file that parsed, what its aliases expand to.

/** The first of two equal keys, for the diagnostic at the second. */
interface FirstKey {
  readonly key: string;
  /** Offset of the first key. */
  readonly offset: number;
  /** Length of the second key. */
  readonly length: number;
}

interface Scan {
  /** What each alias refers to: the last node before it (in document order) with its anchor. */
  readonly aliases: ReadonlyMap<Alias, Node | undefined>;
  /** Every key written again in its mapping, as the library's DUPLICATE_KEY error, with the first use. */
  readonly duplicates: readonly { readonly error: YAMLError; readonly first: FirstKey }[];
  /** Mappings with more than MAX_MAP_KEYS keys and lists with more items, with the first key or item beyond the limit. */
  readonly crowded: readonly { readonly collection: YAMLMap | YAMLSeq; readonly entries: number; readonly at: Node | null }[];
  /** Keys that are a mapping or list (or an alias of one): JS would make a string of them. */
  readonly collectionKeys: readonly Node[];
}

function scanDocument(doc: Document.Parsed): Scan {
  const anchors = new Map<string, Node>();
  const aliases = new Map<Alias, Node | undefined>();
  const duplicates: { error: YAMLError; first: FirstKey }[] = [];
  const crowded: { collection: YAMLMap | YAMLSeq; entries: number; at: Node | null }[] = [];
  const collectionKeys: Node[] = [];
  // Pre-order, keys before values, as the library resolves aliases; a mapping is checked when it
  // is left, once the aliases among its keys are resolved.
  const stack: { node: unknown; leave?: boolean }[] = [{ node: doc.contents }];
  while (stack.length > 0) {
    const { node, leave } = stack.pop()!;
    if (leave) {
      checkKeys(node as YAMLMap);
      continue;
    }
    if (isPair(node)) {
      stack.push({ node: node.value }, { node: node.key });
    } else if (isAlias(node)) {
      aliases.set(node, anchors.get(node.source));
    } else if (isNode(node)) {
      if (node.anchor) anchors.set(node.anchor, node);
      if (isMap(node)) stack.push({ node, leave: true });
      if (isSeq(node) && node.items.length > MAX_MAP_KEYS) {
        crowded.push({ collection: node, entries: node.items.length, at: (node.items[MAX_MAP_KEYS] as Node | null) ?? null });
      }
      if (isMap(node) || isSeq(node)) for (let i = node.items.length - 1; i >= 0; i--) stack.push({ node: node.items[i] });
    }
  }
  return { aliases, duplicates, crowded, collectionKeys };

  function checkKeys(map: YAMLMap): void {
    if (map.items.length > MAX_MAP_KEYS) {
      crowded.push({ collection: map, entries: map.items.length, at: (map.items[MAX_MAP_KEYS]!.key as Node | null) ?? null });
    }
    // Keys are equal when they become the same property of the JS object: `1` and `"1"` too.
    const seen = new Map<string, Node>();
    for (const pair of map.items) {
      const key = pair.key as Node | null;
      const resolved = isAlias(key) ? aliases.get(key) : key;
      if ((isMap(resolved) || isSeq(resolved)) && key?.range) collectionKeys.push(key);
      if (!isScalar(resolved) || !key?.range) continue;
      const v = resolved.value;
      if (v !== null && typeof v === 'object') continue;
      const name = v === null ? '' : String(v);
      const first = seen.get(name);
      if (!first) {
        seen.set(name, key);
        continue;
      }
      const [start, end] = key.range;
      duplicates.push({
        error: new YAMLParseError([start, start + 1], 'DUPLICATE_KEY', 'Map keys must be unique'),
        first: { key: name, offset: first.range![0], length: end - start },
      });
    }
  }
}

/** The library's errors with the duplicate keys (sorted by offset) put in before the first error after each. */
function withDuplicates(errors: readonly YAMLError[], duplicates: readonly YAMLError[]): YAMLError[] {
  if (duplicates.length === 0) return [...errors];
  const out: YAMLError[] = [];
  let d = 0;
  for (const e of errors) {
    while (d < duplicates.length && duplicates[d]!.pos[0] <= e.pos[0]) out.push(duplicates[d++]!);
    out.push(e);
  }
  return [...out, ...duplicates.slice(d)];
}

/** A node's own share of the expanded size: a value's characters as written (at least one), else one. */
function ownSize(node: unknown): number {
  if (isScalar(node)) return node.range ? Math.max(1, node.range[1] - node.range[0]) : 1;
  return 1;
}

function childrenOf(node: unknown, aliases: ReadonlyMap<Alias, Node | undefined>): unknown[] {
  if (isPair(node)) return [node.key, node.value];
  if (isAlias(node)) return [aliases.get(node)];
  if (isMap(node) || isSeq(node)) return node.items;
  return [];
}

/**
 * The size of a node with every alias expanded (ownSize summed), remembered per node so that each
 * node is counted once however often it is used: linear in the Document. Infinity for a value
 * that contains an alias of itself.
 */
function expandedSize(root: unknown, aliases: ReadonlyMap<Alias, Node | undefined>, memo: Map<unknown, number>): number {
  const open = new Set<unknown>();
  const stack: { node: unknown; entered: boolean }[] = [{ node: root, entered: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const { node } = top;
    if (node === null || node === undefined || memo.has(node)) {
      stack.pop();
      continue;
    }
    if (!top.entered) {
      // Met again before it was finished: it is its own ancestor through an alias.
      if (open.has(node)) return Infinity;
      top.entered = true;
      open.add(node);
      for (const c of childrenOf(node, aliases)) if (c !== null && c !== undefined && !memo.has(c)) stack.push({ node: c, entered: false });
      continue;
    }
    stack.pop();
    open.delete(node);
    let size = isAlias(node) ? 0 : ownSize(node);
    for (const c of childrenOf(node, aliases)) size += c === null || c === undefined ? 0 : memo.get(c)!;
    memo.set(node, size);
  }
  return root === null || root === undefined ? 0 : memo.get(root)!;
}

/**
 * The alias at which a document, expanded, passes MAX_EXPANDED_SIZE (in document order), or the
 * first alias inside the value of its own anchor (size Infinity); undefined when neither.
 */
function overExpanded(
  doc: Document.Parsed,
  aliases: ReadonlyMap<Alias, Node | undefined>,
): { alias: Alias; target: Node; size: number } | undefined {
  if (aliases.size === 0) return undefined;
  const memo = new Map<unknown, number>();
  if (expandedSize(doc.contents, aliases, memo) <= MAX_EXPANDED_SIZE) return undefined;
  // Walk in document order, adding each alias's expansion, until the limit is passed. Every
  // cycle goes through an alias whose target is one of its ancestors (a target comes before its
  // alias), met here before any alias that leads into that cycle from outside.
  let total = 0;
  let last: { alias: Alias; target: Node; size: number } | undefined;
  const path = new Set<unknown>();
  const stack: { node: unknown; leave?: boolean }[] = [{ node: doc.contents }];
  while (stack.length > 0) {
    const { node, leave } = stack.pop()!;
    if (leave) {
      path.delete(node);
      continue;
    }
    if (node === null || node === undefined) continue;
    if (isAlias(node)) {
      const target = aliases.get(node);
      if (!target) continue;
      if (path.has(target)) return { alias: node, target, size: Infinity };
      const size = expandedSize(target, aliases, memo);
      last = { alias: node, target, size };
      total += size;
      if (total > MAX_EXPANDED_SIZE) return last;
      continue;
    }
    total += ownSize(node);
    path.add(node);
    stack.push({ node, leave: true });
    const children = childrenOf(node, aliases);
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i] });
  }
  return last;
}

/** 2 MiB, 9.4 KiB, 300 characters. */
function formatSize(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} characters`;
}

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
