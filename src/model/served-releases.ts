// The Harvester releases a site installs, and which of their files the site's own nginx serves
// (a fact the rules between sites, fetch.sh, the manifest and the nginx config share).
import type { HarvesterNode, Release, ResolvedNode, SiteModel } from './types.ts';

/** The release's files are on the boot server (`harvester.artifacts` has its origin), so this nginx serves them. */
export function servesRelease(model: SiteModel, r: Release): boolean {
  const base = new URL(r.artifacts.base);
  const port = base.port ? Number(base.port) : 80;
  return base.protocol === 'http:' && base.hostname === model.boot.host && port === model.boot.port;
}

/**
 * Release files nginx serves for this site: those whose URL has the boot server's origin. Each
 * gets an exact location aliased to its file, so no directory can be listed or redirected.
 */
export function servedArtifacts(model: SiteModel): { location: string; file: string }[] {
  return releases(model).flatMap((r) => {
    const a = r.artifacts;
    if (!servesRelease(model, r)) return [];
    const path = new URL(a.base).pathname.replace(/\/+$/, '');
    return [a.kernelName, a.initrdName, a.rootfsName, a.isoName, a.checksumName, ...(releaseShim(model, r) ? [a.shimName] : [])].map(
      (name) => ({
        location: `${path}/${name}`,
        file: `${r.artifactsDir}/${name}`,
      }),
    );
  });
}

/** The release's SUSE shim is served (and fetched) when the site boots x86-64 machines with Secure Boot. */
export function releaseShim(model: SiteModel, r: Release): boolean {
  return model.boot.secureBoot !== undefined && model.boot.firmware === 'uefi' && r.arch === 'x86_64';
}

/** Each model's releases and installers, computed once (a model is frozen; several files and rules ask). */
const releasesOf = new WeakMap<SiteModel, readonly Release[]>();
const installersOf = new WeakMap<SiteModel, readonly HarvesterNode[]>();

/**
 * The last model's nodes and what was found of them (its nodes held weakly: a build of many sites
 * keeps no other site alive). A model of as many nodes, most of them the same (frozen) objects at
 * the same places, as watch's rebuilds make, is answered from it: only the nodes that are other
 * objects are looked at (a filter of 10,000 nodes of several shapes cost a rebuild some 4 ms, and
 * the releases of them some 3 more).
 */
interface LastInstallers {
  readonly nodes: WeakRef<readonly ResolvedNode[]>;
  readonly unknownJoin: HarvesterNode | undefined;
  readonly siteRelease: Release | undefined;
  /** Each node's place in `installers`, -1 for a node that installs no Harvester. */
  readonly at: Int32Array;
  readonly installers: readonly HarvesterNode[];
  /** The releases last found, and the installers they were found for. */
  releases?: { readonly of: readonly HarvesterNode[]; readonly list: readonly Release[]; readonly upgrade: Release | undefined };
}

let last: LastInstallers | undefined;

/**
 * Every release the site's Harvester nodes install (and unknown machines joining), the site's
 * first, then others by version. Generic OS and iSCSI nodes install none.
 */
export function releases(model: SiteModel): readonly Release[] {
  let found = releasesOf.get(model);
  if (found) return found;
  const all = installers(model);
  // The last list, while each installer that changed installs the very release it replaced (and
  // the site's release is the same object: installers() starts afresh otherwise).
  const kept = last?.installers === all ? last.releases : undefined;
  const upgrade = model.upgrade?.to;
  found = kept && kept.upgrade === upgrade && sameReleases(kept.of, all) ? kept.list : releasesFrom(model, all);
  releasesOf.set(model, found);
  if (last?.installers === all) last.releases = { of: all, list: found, upgrade };
  return found;
}

/** Whether two lists of installers install the same release at each place (by object). */
function sameReleases(a: readonly HarvesterNode[], b: readonly HarvesterNode[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && a[i]!.release !== b[i]!.release) return false;
  return true;
}

function releasesFrom(model: SiteModel, all: readonly HarvesterNode[]): readonly Release[] {
  const key = (r: Release) => `${r.version.raw}/${r.arch}`;
  // One entry per release, then in version order. Nodes share their site's objects: the distinct
  // objects first (no key made per node), then one per key, the first object met keeping it.
  const objects = new Set<Release>();
  let site: Release | undefined;
  for (const n of all) {
    if (n.release === model.release) site = n.release;
    objects.add(n.release);
  }
  const distinct = new Map<string, Release>();
  for (const r of objects) if (!distinct.has(key(r))) distinct.set(key(r), r);
  const out = new Map<string, Release>();
  if (site) out.set(key(site), site);
  for (const r of [...distinct.values()].sort((a, b) => (key(a) < key(b) ? -1 : 1))) {
    if (!out.has(key(r))) out.set(key(r), r);
  }
  // A planned upgrade's target: served beside them (its ISO for the cluster, its files for the
  // nodes installed once it has run), fetched and published with them.
  if (model.upgrade && !out.has(key(model.upgrade.to))) out.set(key(model.upgrade.to), model.upgrade.to);
  return Object.freeze([...out.values()]);
}

/** The site's Harvester nodes, and the node unknown machines join as (`boot.unknown: join`). */
export function installers(model: SiteModel): readonly HarvesterNode[] {
  let found = installersOf.get(model);
  if (found) return found;
  found = patchedInstallers(model) ?? freshInstallers(model);
  installersOf.set(model, found);
  return found;
}

/** The last model's installers with the nodes that changed put at their places, when the same nodes install Harvester. */
function patchedInstallers(model: SiteModel): readonly HarvesterNode[] | undefined {
  const before = last?.nodes.deref();
  if (!last || !before || before.length !== model.nodes.length) return undefined;
  if (last.unknownJoin !== model.unknownJoin || last.siteRelease !== model.release) return undefined;
  let list = last.installers;
  let copy: HarvesterNode[] | undefined;
  for (let i = 0; i < before.length; i++) {
    const node = model.nodes[i]!;
    if (before[i] === node) continue;
    const at = last.at[i]!;
    if (at >= 0 !== (node.boot === 'harvester')) return undefined;
    if (at >= 0) (copy ??= list.slice())[at] = node as HarvesterNode;
  }
  if (copy) list = Object.freeze(copy);
  last = { ...last, nodes: new WeakRef(model.nodes), installers: list };
  return list;
}

function freshInstallers(model: SiteModel): readonly HarvesterNode[] {
  const at = new Int32Array(model.nodes.length).fill(-1);
  const nodes: HarvesterNode[] = [];
  model.nodes.forEach((n, i) => {
    if (n.boot !== 'harvester') return;
    at[i] = nodes.length;
    nodes.push(n);
  });
  if (model.unknownJoin) nodes.push(model.unknownJoin);
  const found = Object.freeze(nodes);
  last = { nodes: new WeakRef(model.nodes), unknownJoin: model.unknownJoin, siteRelease: model.release, at, installers: found };
  return found;
}
