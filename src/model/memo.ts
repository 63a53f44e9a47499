// What is computed from the site's model and one node, kept across compiles of one site (watch):
// reused for the same node object while the rest of the site's model is unchanged (its keeper
// empties the memo when that changes). Nodes are frozen, and the model cache (src/model/cache.ts)
// hands back the same object for an unchanged node. Used for the per-node parts of the site-wide
// files (src/render/fragments.ts) and the per-node findings of the rules (src/validate/rule.ts).
import type { ResolvedNode } from './types.ts';

/**
 * `compute(node)`, or what it returned for the same node last time (under `name`), when
 * `holds` (if given) says that value still does: a part that depends on the node's place among
 * the others as well (embed.ipxe numbers its static MACs across the site).
 */
export type NodeMemo = <T>(name: string, node: ResolvedNode, compute: (node: ResolvedNode) => T, holds?: (kept: T) => boolean) => T;

/** No memo: compute every time (a compile without watch's cache). */
export const computeAlways: NodeMemo = (_name, node, compute) => compute(node);

/** A NodeMemo over `fragments` (one WeakMap per part name). */
export function nodeMemo(fragments: Map<string, WeakMap<ResolvedNode, unknown>>): NodeMemo {
  return <T>(name: string, node: ResolvedNode, compute: (node: ResolvedNode) => T, holds?: (kept: T) => boolean): T => {
    let byNode = fragments.get(name);
    if (!byNode) fragments.set(name, (byNode = new WeakMap()));
    // One lookup when a value is kept (about 150,000 a rebuild of 10,000 nodes); `has` only for a kept undefined.
    const kept = byNode.get(node) as T | undefined;
    if ((kept !== undefined || byNode.has(node)) && (!holds || holds(kept as T))) return kept as T;
    const value = compute(node);
    byNode.set(node, value);
    return value;
  };
}
