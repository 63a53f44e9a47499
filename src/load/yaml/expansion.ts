// What a parsed file's aliases expand to: the size of the document with every alias repeated in
// full, and the alias at which it passes MAX_EXPANDED_SIZE or refers to its own ancestor.
import { isAlias, isMap, isPair, isScalar, isSeq, type Alias, type Document, type Node } from 'yaml';
import { MAX_EXPANDED_SIZE } from './limits.ts';

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
export function overExpanded(
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
