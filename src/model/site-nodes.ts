// The nodes of a site: each resolved by its kind (src/model/kinds/), the node an unknown machine
// joins as, and which node creates the cluster when none says so.
import type { NodeInput, SiteInput } from '../types/site-input.ts';
import type { Layers } from '../types/layers.ts';
import { BUILTIN_DEFAULTS as D } from './defaults.ts';
import { nodeReaders, type NodeReader } from './layers.ts';
import { resolveHarvesterNode, resolveNode, settingsSorter, type IgnoredSetting, type SiteContext } from './kinds/index.ts';
import type { SiteLevelResolve } from './cache.ts';
import type { HarvesterNode, ModelProblem, ResolvedNode } from './types.ts';

/** The nodes of a site, the node an unknown machine joins as, and what resolving them found. */
export function resolveNodes(
  input: SiteInput,
  layers: Layers,
  ctx: SiteContext,
  cached: SiteLevelResolve,
): { nodes: ResolvedNode[]; unknownJoin?: HarvesterNode; problems: ModelProblem[]; used: Set<string>; ignored: IgnoredSetting[] } {
  const reader = nodeReaders(input, layers);
  const problems: ModelProblem[] = [];
  const nodes: ResolvedNode[] = [];
  const used = new Set<string>();
  const ignored: IgnoredSetting[] = [];
  const settingsOf = settingsSorter(used, ignored);
  const resolve = cached((_n: NodeInput, _index: number, r: () => NodeReader) => resolveNode(r(), ctx));
  (input.nodes ?? []).forEach((n, index) => {
    // Made only when asked: a node the model cache keeps needs no reader (nor does its settings' sort).
    let made: NodeReader | undefined;
    const r = () => (made ??= reader(n, index));
    const node = resolve(n, index, r);
    if ('code' in node) {
      // One node without `harvester:`/`cluster:` says what the site lacks; the others add nothing.
      if (node.code !== 'CLUSTER_SECTION_MISSING' || !problems.some((p) => p.code === node.code)) problems.push(node);
      return;
    }
    settingsOf(r, node);
    nodes.push(node);
  });
  // The node an unknown machine installs as (`boot.unknown: join`): without `harvester:` and
  // `cluster:` there is none, and the boot rule says why (BOOT_UNKNOWN_JOIN_INCOMPLETE, from the input).
  if ((input.boot.unknown ?? D.boot.unknown) !== 'join') return { nodes, problems, used, ignored };
  const joinReader = reader({ role: 'join', os: 'harvester' }, -1);
  const unknownJoin = resolveHarvesterNode(joinReader, ctx);
  if ('code' in unknownJoin) return { nodes, problems, used, ignored };
  settingsOf(() => joinReader, unknownJoin);
  return { nodes, unknownJoin, problems, used, ignored };
}

/**
 * Without an explicit `role: create`, the first node that installs Harvester creates the cluster;
 * once the cluster exists (`cluster.created`), nobody does.
 */
export function firstHarvesterCreates(nodes: ResolvedNode[], inputs: readonly NodeInput[], created: boolean): ResolvedNode[] {
  // A `role` on a node of another kind is ignored (NODE_SETTING_IGNORED), here too.
  if (created || nodes.some((n) => n.boot === 'harvester' && n.role === 'create')) return nodes;
  const first = nodes.find((n): n is HarvesterNode => n.boot === 'harvester');
  if (!first || inputs[first.index]?.role !== undefined) return nodes;
  // The same creating node for the same first node (frozen, as every resolved node is): a node
  // kept across watch's rebuilds stays the same object, so what is kept per node holds for it.
  let creating = creatingNodes.get(first);
  if (!creating) creatingNodes.set(first, (creating = Object.freeze({ ...first, role: 'create' as const })));
  return nodes.map((n) => (n === first ? creating : n));
}

/** The node that creates the cluster, made from the first Harvester node when none says `role: create`. */
const creatingNodes = new WeakMap<HarvesterNode, HarvesterNode>();
