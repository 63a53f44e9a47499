// YAML parsing with positions. Every file is parsed into a yaml Document and a plain JS value;
// YAML errors become diagnostics with file:line:col. The Document of a clean file is dropped and
// parsed again on demand for positions (lazySourceFile).
import { LineCounter, parseAllDocuments, isMap, isScalar, visit, type Document } from 'yaml';
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

const YAML_CODES: Record<string, string> = {
  DUPLICATE_KEY: 'YAML_DUPLICATE_KEY',
  TAB_AS_INDENT: 'YAML_TAB_INDENT',
};

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
  const diagnostics: Diagnostic[] = [];
  for (const doc of docs) {
    for (const e of doc.errors) {
      const code = YAML_CODES[e.code] ?? 'YAML_SYNTAX';
      const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      const hint =
        code === 'YAML_DUPLICATE_KEY'
          ? 'Remove or rename one of the two keys; YAML keeps only one of them.'
          : code === 'YAML_TAB_INDENT'
            ? 'Indent with spaces; YAML does not allow tabs for indentation.'
            : 'Fix the YAML syntax at this position.';
      diagnostics.push(err(code, message, hint, e.pos[0], e.pos[1]));
    }
  }
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
