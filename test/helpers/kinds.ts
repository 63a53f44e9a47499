// Narrowing a resolved node to the kind a test expects, failing the test when it is another.
import type { HarvesterNode, ResolvedNode } from '../../src/model/index.ts';

/** The node as a Harvester node; throws (failing the test) when it boots something else. */
export function harvester(node: ResolvedNode | undefined): HarvesterNode {
  if (node?.boot !== 'harvester') throw new Error(`expected a Harvester node, got ${node ? `a ${node.boot} node` : 'none'}`);
  return node;
}
