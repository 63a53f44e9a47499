// Resolved nodes kept across compiles of one site (watch): a node is resolved again only when its
// own input or something site-wide changed. A node's resolution reads nothing but its own input,
// its index (the paths in `sources`), the site's input without its node list (network, defaults,
// OS profiles, cluster, harvester, nginx) and the shared layers (sites/_defaults.yaml, profiles):
// resolveNode gets no other node (src/model/kinds/). So the cache is emptied when the site-level
// key changes, and a node's entry holds while its index and input are unchanged.
import type { NodeInput, SiteInput } from '../types/site-input.ts';
import type { SiteContext } from './kinds/index.ts';
import type { ModelProblem, Release, ResolvedCluster, ResolvedNode, ResolvedOs } from './types.ts';
import type { Layers } from '../types/layers.ts';
import { keyJson } from '../util/key-json.ts';
import { NodeParts } from './memo.ts';

/** The site-level objects every node is resolved against (kept with the nodes that refer to them). */
export interface SiteLevel {
  readonly siteRelease?: Release;
  readonly osProfiles: Record<string, ResolvedOs>;
  readonly cluster?: ResolvedCluster;
  readonly harvester?: SiteContext['harvester'];
}

/** Resolves one node; `rest` is passed through (the node's reader, built once by the caller). */
type Resolve<A extends unknown[]> = (node: NodeInput, index: number, ...rest: A) => ResolvedNode | ModelProblem;

/** Wraps a node resolver so that a node is reused while its index and input are the same. */
export type SiteLevelResolve = <A extends unknown[]>(resolve: Resolve<A>) => Resolve<A>;

/** Resolved nodes of one site by index, each with the JSON of the input it was resolved from. */
export interface ModelCache {
  site?: { readonly key: string; readonly level: SiteLevel };
  readonly nodes: Map<
    number,
    {
      readonly input: string;
      /** The input object itself: a node file's parse, the same object while the file is unchanged (watch's parse cache). */
      readonly ref: NodeInput;
      readonly node: ResolvedNode | ModelProblem;
    }
  >;
  /** What the rules found per node object (src/validate/rule.ts `eachNode`), emptied with `nodes`. */
  readonly findings: NodeParts;
}

/** An empty ModelCache. */
export function modelCache(): ModelCache {
  return { nodes: new Map(), findings: new NodeParts() };
}

/**
 * The site-level objects of a site (`compute`d, or those of the cache's entries while the
 * site-level inputs are the same: else the cache is emptied), and `resolve`, which wraps a node
 * resolver so that a node is reused while its index and input are the same.
 */
export function siteLevel(
  cache: ModelCache | undefined,
  input: SiteInput,
  layers: Layers,
  compute: () => SiteLevel,
): SiteLevel & { readonly resolve: SiteLevelResolve } {
  if (!cache) return { ...compute(), resolve: <A extends unknown[]>(r: Resolve<A>) => r };
  const key = keyJson([{ ...input, nodes: undefined }, layers]);
  if (cache.site?.key !== key) {
    cache.nodes.clear();
    cache.findings.clear();
    cache.site = { key, level: compute() };
  }
  return {
    ...cache.site.level,
    resolve:
      <A extends unknown[]>(resolve: Resolve<A>): Resolve<A> =>
      (node, index, ...rest) => {
        const hit = cache.nodes.get(index);
        // The same (frozen) parse at the same index: the same input, without writing it out.
        if (hit && hit.ref === node && Object.isFrozen(node)) return hit.node;
        const json = keyJson(node);
        if (hit && hit.input === json) {
          cache.nodes.set(index, { ...hit, ref: node });
          return hit.node;
        }
        const resolved = resolve(node, index, ...rest);
        cache.nodes.set(index, { input: json, ref: node, node: resolved });
        return resolved;
      },
  };
}
