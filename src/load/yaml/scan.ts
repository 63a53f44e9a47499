// One pass over a Document, linear in its size: what each alias refers to, keys used twice in a
// mapping (the yaml library's own check is quadratic), mappings and lists over the key limit, and
// keys that are collections. Findings only; parse.ts reports them.
import {
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  YAMLParseError,
  type Alias,
  type Document,
  type Node,
  type YAMLError,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import { MAX_MAP_KEYS } from './limits.ts';

/** The first of two equal keys, for the diagnostic at the second. */
export interface FirstKey {
  readonly key: string;
  /** Offset of the first key. */
  readonly offset: number;
  /** Length of the second key. */
  readonly length: number;
}

export interface Scan {
  /** What each alias refers to: the last node before it (in document order) with its anchor. */
  readonly aliases: ReadonlyMap<Alias, Node | undefined>;
  /** Every key written again in its mapping, as the library's DUPLICATE_KEY error, with the first use. */
  readonly duplicates: readonly { readonly error: YAMLError; readonly first: FirstKey }[];
  /** Mappings with more than MAX_MAP_KEYS keys and lists with more items, with the first key or item beyond the limit. */
  readonly crowded: readonly { readonly collection: YAMLMap | YAMLSeq; readonly entries: number; readonly at: Node | null }[];
  /** Keys that are a mapping or list (or an alias of one): JS would make a string of them. */
  readonly collectionKeys: readonly Node[];
}

export function scanDocument(doc: Document.Parsed): Scan {
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
export function withDuplicates(errors: readonly YAMLError[], duplicates: readonly YAMLError[]): YAMLError[] {
  if (duplicates.length === 0) return [...errors];
  const out: YAMLError[] = [];
  let d = 0;
  for (const e of errors) {
    while (d < duplicates.length && duplicates[d]!.pos[0] <= e.pos[0]) out.push(duplicates[d++]!);
    out.push(e);
  }
  return [...out, ...duplicates.slice(d)];
}
