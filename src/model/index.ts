// Stage 3, model: resolve a schema-valid inventory into the frozen SiteModel. It rejects only a
// node whose kind cannot be resolved (a Harvester node without `harvester:` or `cluster:`, an
// unknown OS profile) and reports the settings a node's kind ignores; everything else is judged by
// the rules, so values that cannot be parsed are carried through as written for them to point at.
// Its steps: the site-level objects (site-level.ts), the nodes (site-nodes.ts), the site-wide
// sections (site-sections.ts) and the networks (network.ts).
import { clusterNode, siteNetwork } from './network.ts';
import type { SiteInput } from '../types/site-input.ts';
import { parseCidr, parseIpv4 } from '../util/ipv4.ts';
import { BUILTIN_DEFAULTS as D } from './defaults.ts';
import { ignoredProblems } from './ignored.ts';
import { siteLevel, type ModelCache } from './cache.ts';
import type { SiteContext } from './kinds/index.ts';
import type { ModelProblem, SiteModel } from './types.ts';
import type { Layers } from '../types/layers.ts';
import { factsFromDocument } from '../facts/file.ts';
import type { MeasuredFacts } from '../facts/types.ts';
import { deepFreeze } from '../util/deep-freeze.ts';
import { resolveSiteLevel, siteUpgrade } from './site-level.ts';
import { firstHarvesterCreates, resolveNodes } from './site-nodes.ts';
import { siteBoot, siteDnsmasq, siteFailover, siteLab, siteNginx, siteOutputs, sitePublish } from './site-sections.ts';

export type * from './types.ts';
export { BUILTIN_DEFAULTS } from './defaults.ts';
export { releaseFor } from './release.ts';
export { deepMerge } from './merge.ts';
export { nodeAt, profileChain } from './layers.ts';
export { IGNORED_BY_KIND } from './kinds/index.ts';
export { resolveBmc } from './kinds/common.ts';
export { nodeFirmware, kernelShim } from './boot.ts';
export { modelCache, type ModelCache } from './cache.ts';
export { clusterScope, ipv4Dns, ipv4Of, onVlan, scopeOf } from './network.ts';
export { installedHarvester } from './site-level.ts';

/**
 * A resolved site and the problems of resolving it: errors for the nodes whose kind cannot be
 * resolved (the model then holds the others: `partial`, never rendered), else the warnings for
 * the settings no node reads.
 */
export interface Resolution {
  readonly model: SiteModel;
  /** Some nodes were left out of `model.nodes` (each has an error in `problems`). */
  readonly partial: boolean;
  readonly problems: readonly ModelProblem[];
}

/**
 * Resolve the inventory into the model every renderer uses. With `cache` (watch), a node whose
 * input and site-level inputs are unchanged since the last resolution is not resolved again.
 */
export function resolveSite(input: SiteInput, layers: Layers = { profiles: {} }, cache?: ModelCache): Resolution {
  const server = input.boot.server.replace(/\/+$/, '');
  const serverUrl = new URL(server);
  const port = serverUrl.port ? Number(serverUrl.port) : 80;
  const cidr = input.network.cidr !== undefined ? parseCidr(input.network.cidr).net : undefined;
  const netPrefix = cidr?.prefix ?? 24;
  // The site-level objects nodes refer to (their release, OS profile, cluster): the same objects
  // while the site-level inputs are, so that a reused node and the model agree on them (renderers
  // compare releases by identity).
  const { siteRelease, osProfiles, cluster, harvester, resolve: cached } = siteLevel(cache, input, layers, () => resolveSiteLevel(input));
  const ctx: SiteContext = { input, netPrefix, osProfiles, ...(cluster ? { cluster } : {}), ...(harvester ? { harvester } : {}) };
  const { nodes, unknownJoin, problems, used, ignored } = resolveNodes(input, layers, ctx, cached);
  const siteNodes = firstHarvesterCreates(nodes, input.nodes ?? [], input.cluster?.created === true);
  // The upgrade's ISO is the cluster's architecture.
  const home = clusterNode(siteNodes);
  const arch = home?.boot === 'harvester' ? home.arch : 'x86_64';
  const upgrade = harvester ? siteUpgrade(input, harvester.release, arch) : undefined;
  // Kea and ISC send firmware PXE to a TFTP server by address: boot.server's host, when it is one.
  const nextServer = input.dhcp?.next_server ?? (parseIpv4(serverUrl.hostname) !== undefined ? serverUrl.hostname : undefined);
  const model: SiteModel = {
    site: input.site,
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(layers.measured && Object.keys(layers.measured).length > 0 ? { measured: measuredByHost(layers.measured) } : {}),
    ...(siteRelease ? { release: siteRelease } : {}),
    ...(upgrade ? { upgrade } : {}),
    ...(input.harvester?.upgrade?.done ? { upgradedFrom: input.harvester.version } : {}),
    boot: siteBoot(input, server, serverUrl, port),
    network: siteNetwork(input, cidr, netPrefix, serverUrl),
    ...(cluster ? { cluster } : {}),
    osProfiles,
    nodes: siteNodes,
    ...(unknownJoin ? { unknownJoin } : {}),
    lab: siteLab(input),
    nginx: siteNginx(input, serverUrl, port),
    dnsmasq: siteDnsmasq(input),
    dhcp: { server: input.dhcp?.server ?? D.dhcp.server, ...(nextServer !== undefined ? { nextServer } : {}) },
    bss: { export: input.bss?.export ?? false },
    metal3: { export: input.metal3?.export ?? false, namespace: input.metal3?.namespace ?? 'metal3' },
    ...(input.failover ? { failover: siteFailover(input.failover, serverUrl) } : {}),
    forward: {
      ports: [...(input.forward?.ports ?? D.forward.ports)].sort((a, b) => a - b),
      ...(input.forward?.listen_address !== undefined ? { listenAddress: input.forward.listen_address } : {}),
    },
    outputs: siteOutputs(input),
    ...(input.publish ? { publish: sitePublish(input) } : {}),
  };
  // With a node left out, what the rules say of the others still holds; nothing is rendered (the
  // problem is an error), and settings are not judged on a partial site.
  if (problems.length > 0) return { model: deepFreeze(model), partial: true, problems };
  return { model: deepFreeze(model), partial: false, problems: ignoredProblems(input, model, used, ignored) };
}

/** The facts files' values (valid: the layers' shape was checked before the model) as MeasuredFacts. */
function measuredByHost(raw: NonNullable<Layers['measured']>): Record<string, MeasuredFacts> {
  return Object.fromEntries(
    Object.keys(raw)
      .sort()
      .map((host) => [host, factsFromDocument(raw[host]!)]),
  );
}
