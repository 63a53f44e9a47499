// YAML parsing with positions. Every file is parsed into a yaml Document and a plain JS value;
// YAML errors become diagnostics with file:line:col. The Document of a clean file is dropped and
// parsed again on demand for positions (lazySourceFile). What is found wrong is reported here, in
// the order a file is checked: syntax, one document, limits, aliases, a mapping of plain data.
import { LineCounter, parseAllDocuments, isAlias, isMap, isNode, isScalar, isSeq, visit, type Document } from 'yaml';
import type { Diagnostic } from '../../diagnostics/types.ts';
import { generalPath } from '../../util/general-path.ts';
import { explainYamlErrors } from './explain.ts';
import { overExpanded } from './expansion.ts';
import { fastParse } from './fast.ts';
import { MAX_ALIAS_COUNT, MAX_EXPANDED_SIZE, MAX_MAP_KEYS } from './limits.ts';
import { scanDocument, withDuplicates, type Scan as DocumentScan } from './scan.ts';
import { lazySourceFile, PARSE_OPTIONS, type SourceFile } from './source-file.ts';

/** What parsing one file gives: `value` only when the file parsed cleanly into a mapping. */
type ParseResult = { file?: SourceFile; value?: Record<string, unknown>; diagnostics: Diagnostic[] };

/** Makes an error diagnostic in the file at an offset (to an end offset). */
type Err = (code: string, message: string, hint: string, offset?: number, end?: number) => Diagnostic;

/** The file being parsed, once it is one document: what every later step reports with. */
interface Parsed {
  readonly path: string;
  readonly file: SourceFile;
  readonly doc: Document.Parsed;
  readonly scan: DocumentScan;
  readonly err: Err;
}

/** Parse one file; `value` is present only when the file parsed cleanly into a mapping. */
export function parseYamlFile(text: string, path: string, absPath: string): ParseResult {
  // Most inventory files (a fleet's node files above all) are plain enough for fast.ts, which
  // returns exactly the value of a clean parse or nothing. A clean file keeps only its text
  // either way (lazySourceFile), so the rest of harvgen cannot tell which path read it.
  // HARVGEN_GENERAL_PATH=1 takes the general path for every file (test/fast-path.test.ts).
  if (!generalPath()) {
    const value = fastParse(text);
    if (value !== undefined) return { file: lazySourceFile(path, absPath, text), value, diagnostics: [] };
  }
  return parseWithLibrary(text, path, absPath);
}

/** The general path: the yaml library's Document, every check, and a diagnostic for each mistake. */
export function parseWithLibrary(text: string, path: string, absPath: string): ParseResult {
  const lineCounter = new LineCounter();
  // Keys are compared by scanDocument in one pass: the library's `uniqueKeys` compares each key
  // with every key before it (a mapping of 20,000 keys took 14 s).
  const docs = parseAllDocuments(text, { lineCounter, ...PARSE_OPTIONS });
  const err = errorMaker(path, lineCounter);
  if (!Array.isArray(docs) || docs.length === 0) {
    // parseAllDocuments returns an EmptyStream for input with no documents.
    return {
      diagnostics: [err('YAML_EMPTY', `${path} is empty`, 'Write the inventory as a YAML mapping (`harvgen help inventory`).')],
    };
  }
  const scans = docs.map(scanDocument);
  const diagnostics = syntaxErrors(text, docs, scans, lineCounter, err);
  if (diagnostics.length > 0) return { diagnostics };
  if (docs.length > 1) return { diagnostics: [multiDocument(path, docs, err)] };
  const doc = docs[0]!;
  const p: Parsed = { path, file: { path, absPath, text, doc, lineCounter }, doc, scan: scans[0]!, err };
  if (doc.contents === null) {
    return {
      diagnostics: [err('YAML_EMPTY', `${path} has no content`, 'Write the inventory as a YAML mapping (`harvgen help inventory`).')],
    };
  }
  const crowded = crowdedOrKeyed(p);
  if (crowded.length > 0) return { file: p.file, diagnostics: crowded };
  return plainValue(p, text, absPath);
}

/** Diagnostics at offsets of the file, with file:line:col (and the end when given). */
function errorMaker(path: string, lineCounter: LineCounter): Err {
  const at = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, col: p.col };
  };
  return (code, message, hint, offset = 0, end) => {
    const start = at(offset);
    const stop = end !== undefined && end > offset ? at(end) : undefined;
    return { code, severity: 'error', message, hint, file: path, ...start, ...(stop ? { endLine: stop.line, endCol: stop.col } : {}) };
  };
}

/** The library's errors and the duplicate keys of every document, explained (explain.ts). */
function syntaxErrors(
  text: string,
  docs: readonly Document.Parsed[],
  scans: readonly DocumentScan[],
  lineCounter: LineCounter,
  err: Err,
): Diagnostic[] {
  const duplicates = scans.flatMap((s) => s.duplicates).sort((a, b) => a.error.pos[0] - b.error.pos[0]);
  const errors = withDuplicates(
    docs.flatMap((doc) => doc.errors),
    duplicates.map((d) => d.error),
  );
  const firsts = new Map(duplicates.map((d) => [d.error, d.first] as const));
  return errors.length > 0 ? explainYamlErrors(text, errors, firsts, lineCounter, err) : [];
}

/** A file of several documents, at the second one. */
function multiDocument(path: string, docs: readonly Document.Parsed[], err: Err): Diagnostic {
  return err(
    'YAML_MULTI_DOCUMENT',
    `${path} holds ${docs.length} YAML documents; harvgen reads exactly one per file`,
    'Remove the `---` separator, or move each node into its own file under nodes/.',
    docs[1]!.range[0],
  );
}

/** Collections over the key limit, and lists or mappings used as keys. */
function crowdedOrKeyed({ file, scan, err }: Parsed): Diagnostic[] {
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    ...scan.crowded.map(({ collection, entries, at }) => {
      const r = at?.range ?? collection.range!;
      const opened = file.lineCounter.linePos(collection.range![0]).line;
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
  ];
}
/** The plain value of a file within the limits: aliases that expand too far, a top level that is no mapping, tags and `__proto__` are reported. */
function plainValue(p: Parsed, text: string, absPath: string): ParseResult {
  const { path, file, doc, err } = p;
  const read = readValue(p);
  if ('diagnostics' in read) return read;
  const { value } = read;
  const expansion = expansionTooLarge(p);
  if (expansion) return { file, diagnostics: [expansion] };
  if (!isMap(doc.contents) || value === null || typeof value !== 'object' || Array.isArray(value)) {
    const r = doc.contents!.range;
    const kind = Array.isArray(value) ? 'a list' : value === null ? 'null' : `a ${typeof value}`;
    return {
      file,
      diagnostics: [
        err(
          'YAML_NOT_A_MAP',
          `the top level of ${path} is ${kind}, not a mapping`,
          'An inventory file is a YAML mapping of `key: value` lines (`harvgen help inventory`).',
          r[0],
          r[1],
        ),
      ],
    };
  }
  const odd = notPlainData(p);
  if (odd.length > 0) return { file, diagnostics: odd };
  // A clean file keeps only its text: the Document (a node with a range for every value) is
  // parsed again when a position is first asked for (a diagnostic, explain). 10,000 node files
  // kept as Documents held about 60 MB of a 10,000-node build's peak.
  return { file: lazySourceFile(path, absPath, text), value: value as Record<string, unknown>, diagnostics: [] };
}

/** The document as a JS value, with the library's alias limit (an error there is YAML_ALIAS_LIMIT). */
function readValue({ path, doc, err }: Parsed): { value: unknown } | { diagnostics: Diagnostic[] } {
  try {
    return { value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
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
}

/** An alias inside its own anchor, or aliases that expand the file past the size limit, at the alias. */
function expansionTooLarge({ path, file, doc, scan, err }: Parsed): Diagnostic | undefined {
  const expansion = overExpanded(doc, scan.aliases);
  if (!expansion) return undefined;
  const { alias, target, size } = expansion;
  const r = alias.range!;
  const defined = target.range ? ` (line ${file.lineCounter.linePos(target.range[0]).line})` : '';
  return size === Infinity
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
      );
}

/**
 * Only plain data: strings, numbers, booleans, null, lists and mappings. An explicit tag
 * (!!binary, !!set, !!omap, !custom) makes values the rest of harvgen does not expect, and a
 * `__proto__` key would set an object's prototype instead of a property.
 */
function notPlainData({ doc, scan, err }: Parsed): Diagnostic[] {
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
  return odd;
}

/** Tags that only restate what a plain value already is. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].flatMap((t) => [`tag:yaml.org,2002:${t}`, `!!${t}`]));

/** 2 MiB, 9.4 KiB, 300 characters. */
function formatSize(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} characters`;
}
