// Maps a path in the merged inventory (e.g. ['nodes', 4, 'mac']) back to the file, line and
// column it came from. Nodes may come from site.yaml or from nodes/*.yaml, so each node
// index remembers its file and its path inside that file.
import { isMap, isNode, isPair, isScalar, type Node } from 'yaml';
import type { InventoryPath } from '../util/paths.ts';
import { MEASURED_LAYER, PROFILE_LAYER, REPO_LAYER } from '../types/layers.ts';
import type { SourceFile } from './yaml/source-file.ts';

/** A source position. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly endLine?: number;
  readonly endCol?: number;
}

/** `value`: the value's own range; `key`: the key of the last segment (for unknown keys). */
export type LocateTarget = 'value' | 'key';

/** Finds where a merged-inventory path was written; `has` tells whether the whole path exists. */
export interface Locator {
  (path: InventoryPath, target?: LocateTarget): SourceLocation | undefined;
  has(path: InventoryPath): boolean;
}

/** A locator for when there is no source (every lookup misses). */
export const NO_SOURCE: Locator = Object.assign(() => undefined, { has: () => false });

/** Where one merged node came from. */
export interface NodeOrigin {
  readonly file: SourceFile;
  /** Path of the node mapping inside its file ([] for nodes/*.yaml, ['nodes', i] in site.yaml). */
  readonly base: readonly (string | number)[];
}

/** The layer files a site draws on. */
export interface LayerFiles {
  readonly repo?: SourceFile;
  readonly profiles?: ReadonlyMap<string, SourceFile>;
  /** The site's facts files by hostname. */
  readonly measured?: ReadonlyMap<string, SourceFile>;
}

/** Build the locator for a site from its site.yaml and the origin of every merged node. */
export function createLocator(site: SourceFile, nodeOrigins: readonly NodeOrigin[], layers: LayerFiles = {}): Locator {
  const resolve = (path: InventoryPath): { file: SourceFile; inner: (string | number)[] } => {
    // Layers live in their own files: ['$repo', ...] is sites/_defaults.yaml,
    // ['$profiles', name, ...] is sites/_profiles/<name>.yaml.
    if (path[0] === REPO_LAYER && layers.repo) return { file: layers.repo, inner: [...path.slice(1)] };
    if (path[0] === PROFILE_LAYER && typeof path[1] === 'string' && layers.profiles?.has(path[1])) {
      return { file: layers.profiles.get(path[1])!, inner: [...path.slice(2)] };
    }
    if (path[0] === MEASURED_LAYER && typeof path[1] === 'string' && layers.measured?.has(path[1])) {
      return { file: layers.measured.get(path[1])!, inner: [...path.slice(2)] };
    }
    if (path[0] === 'nodes' && typeof path[1] === 'number' && nodeOrigins[path[1]]) {
      const origin = nodeOrigins[path[1]]!;
      return { file: origin.file, inner: [...origin.base, ...path.slice(2)] };
    }
    return { file: site, inner: [...path] };
  };
  const locate = (path: InventoryPath, target: LocateTarget = 'value') => {
    const { file, inner } = resolve(path);
    return locateIn(file, inner, target);
  };
  const has = (path: InventoryPath) => {
    const { file, inner } = resolve(path);
    let node: unknown = file.doc.contents;
    for (const seg of inner) {
      const child = childOf(node, seg);
      if (!child) return false;
      node = child.value;
    }
    return true;
  };
  return Object.assign(locate, { has });
}

/** The file each location `createLocator` gave was found in (its text, for `writtenText`). */
const located = new WeakMap<SourceLocation, SourceFile>();

/** The inventory file a location of `createLocator`'s points into. */
export function locatedIn(loc: SourceLocation): SourceFile | undefined {
  return located.get(loc);
}

function locateIn(file: SourceFile, path: (string | number)[], target: LocateTarget): SourceLocation | undefined {
  // Walk down as far as the path exists; report the deepest node found.
  let node: unknown = file.doc.contents;
  let keyNode: Node | undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    const child = childOf(node, seg);
    if (!child) break;
    if (last && target === 'key' && child.key) {
      keyNode = child.key;
    }
    node = child.value;
    if (!isNode(node)) {
      // A key without a value (`mac:`): point at the key.
      node = child.key ?? node;
      break;
    }
  }
  const target_ = keyNode ?? (isNode(node) ? node : undefined);
  if (!target_?.range) return { file: file.path, line: 1, col: 1 };
  const [start, end] = target_.range;
  const a = file.lineCounter.linePos(start);
  const b = file.lineCounter.linePos(Math.max(start, end));
  const loc = { file: file.path, line: a.line, col: a.col, endLine: b.line, endCol: b.col };
  located.set(loc, file);
  return loc;
}

/** Each mapping's pairs by key (the first of equal keys), built on first lookup: a lookup costs O(1), not a scan of the keys. */
const keyIndex = new WeakMap<object, Map<string, { key?: Node; value: unknown }>>();

function childOf(node: unknown, seg: string | number): { key?: Node; value: unknown } | undefined {
  if (isMap(node)) {
    let index = keyIndex.get(node);
    if (!index) {
      index = new Map();
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const k = String(isScalar(item.key) ? item.key.value : item.key);
        if (!index.has(k)) index.set(k, { key: isNode(item.key) ? item.key : undefined, value: item.value });
      }
      keyIndex.set(node, index);
    }
    return index.get(String(seg));
  }
  if (
    node &&
    typeof node === 'object' &&
    'items' in node &&
    Array.isArray((node as { items: unknown[] }).items) &&
    typeof seg === 'number'
  ) {
    const v = (node as { items: unknown[] }).items[seg];
    return v === undefined ? undefined : { value: v };
  }
  return undefined;
}
