// What is computed from the site's model and one node, kept across compiles of one site (watch):
// reused for the same node object while the rest of the site's model is unchanged (its keeper
// empties the memo when that changes). Nodes are frozen, and the model cache (src/model/cache.ts)
// hands back the same object for an unchanged node. Used for the per-node parts of the site-wide
// files (src/render/fragments.ts) and the per-node findings of the rules (src/validate/rule.ts).
import type { ResolvedNode } from './types.ts';

/**
 * `compute(node)`, or what it returned for the same node last time (under `name`), when
 * `holds` (if given) says that value still does: a part that depends on the node's place among
 * the others as well (embed.ipxe numbers its static MACs across the site). `parts` is where a
 * kept memo keeps its values (absent: nothing is kept).
 */
export type NodeMemo = (<T>(name: string, node: ResolvedNode, compute: (node: ResolvedNode) => T, holds?: (kept: T) => boolean) => T) & {
  readonly parts?: NodeParts;
};

/**
 * The values a memo keeps: one WeakMap per name, keyed by node object, and the last list that
 * `memoEach` made under each name. Emptied whole (`clear`) when the rest of the site changes.
 */
export class NodeParts extends Map<string, WeakMap<ResolvedNode, unknown>> {
  /** The last list of each name, with the items (nodes) it was made for, in order. */
  readonly lists = new Map<string, { readonly items: readonly ResolvedNode[]; readonly values: readonly unknown[] }>();
  /** What a rule across nodes keeps of its last run, by its name (src/validate/rules/unique-nodes.ts). */
  readonly state = new Map<string, unknown>();

  override clear(): void {
    super.clear();
    this.lists.clear();
    this.state.clear();
  }
}

/** No memo: compute every time (a compile without watch's cache). */
export const computeAlways: NodeMemo = (_name, node, compute) => compute(node);

/** A NodeMemo over `parts` (one WeakMap per part name). */
export function nodeMemo(parts: NodeParts): NodeMemo {
  const memo = <T>(name: string, node: ResolvedNode, compute: (node: ResolvedNode) => T, holds?: (kept: T) => boolean): T => {
    let byNode = parts.get(name);
    if (!byNode) parts.set(name, (byNode = new WeakMap()));
    // One lookup when a value is kept (about 150,000 a rebuild of 10,000 nodes); `has` only for a kept undefined.
    const kept = byNode.get(node) as T | undefined;
    if ((kept !== undefined || byNode.has(node)) && (!holds || holds(kept as T))) return kept as T;
    const value = compute(node);
    byNode.set(node, value);
    return value;
  };
  return Object.assign(memo, { parts });
}

/**
 * `compute(node)` for each of `nodes` in order, as a list. Under a kept memo the list is kept too,
 * under `name` with the nodes it was made for: a list asked for the same node objects at the same
 * places is the very array of last time, and where some nodes changed only theirs are computed (no
 * lookup for each unchanged one: a WeakMap lookup per node costs a rebuild of 10,000 nodes about
 * 1.5 ms a list). A value `same` as the one it replaces is left as it was, and the array is new
 * only when a value changed: a caller that keeps what it made of a list by its array (a text, an
 * index, a flattened list) takes it again while the array is the same. Nodes are frozen, so the
 * same object is the same node.
 */
export function memoEach<T>(
  memo: NodeMemo,
  name: string,
  nodes: readonly ResolvedNode[],
  compute: (node: ResolvedNode) => T,
  same?: (a: T, b: T) => boolean,
): readonly T[] {
  const parts = memo.parts;
  if (!parts) return nodes.map((node) => compute(node));
  const kept = parts.lists.get(name);
  let values: readonly T[];
  if (kept !== undefined && kept.items.length === nodes.length) {
    const old = kept.items;
    const last = kept.values as readonly T[];
    let changed: T[] | undefined;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      if (old[i] === node) continue;
      const value = memo(name, node, compute);
      if (value === last[i] || (same !== undefined && same(value, last[i]!))) continue;
      (changed ??= last.slice())[i] = value;
    }
    values = changed ?? last;
  } else values = nodes.map((node) => memo(name, node, compute));
  parts.lists.set(name, { items: nodes, values });
  return values;
}
