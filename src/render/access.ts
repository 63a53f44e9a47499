// Who may fetch which file (`nginx.access: nodes`, the default): a file that holds a secret or one
// node's data (a Harvester config, a NoCloud seed, the join config of unknown machines) is served
// only to the addresses that fetch it, by the generated nginx (`allow`/`deny all`) and listed with
// them in manifest.json (`files[].allow`). Everything else stays open to the network. Under
// `nginx.access: open` only the configs and seeds of the nodes that boot from an image keep their
// rules (`nodeFilesBound`): the image, which names them, goes to a BMC.
import type { ResolvedNode, SiteModel, VlanScope } from '../model/index.ts';
import { scopeOf } from '../model/index.ts';
import { computeAlways, memoEach, type NodeMemo } from '../model/memo.ts';
import { parseIpv4, rangeToCidrs } from '../util/ipv4.ts';
import { parseIpv6, rangeToCidrs6, reservation6 } from '../util/ipv6.ts';
import { DIRS, LAYOUT } from '../derive/layout.ts';
import { configFilePath, mediumPath } from '../derive/file-names.ts';
import { imageOf, mediumAllow } from '../derive/media/index.ts';
import { servedOverIpv6 } from '../derive/dhcp-boot.ts';
import { formatOfPath, servedConfigs } from '../derive/configs/index.ts';
import { sameItems } from '../util/same-items.ts';

/** A served file and the addresses or CIDR blocks nginx serves it to (403 to any other). */
export interface ProtectedFile {
  readonly path: string;
  readonly allow: readonly string[];
}

/** An IPv4 pool `first`-`last` as the fewest CIDR blocks that hold exactly its addresses (none without one). */
function rangeAllow(first: string | undefined, last: string | undefined): string[] {
  const start = first !== undefined ? parseIpv4(first) : undefined;
  const end = last !== undefined ? parseIpv4(last) : undefined;
  return start === undefined || end === undefined ? [] : rangeToCidrs(start, end);
}

/** The IPv4 DHCP pool (`network.dhcp_range`). */
export function poolAllow(model: SiteModel): string[] {
  return rangeAllow(model.network.ipv4?.dhcpStart, model.network.ipv4?.dhcpEnd);
}

/** The pool of a VLAN scope (none without `dhcp_range`). */
export function scopePoolAllow(scope: VlanScope): string[] {
  return rangeAllow(scope.dhcpStart, scope.dhcpEnd);
}

/** The DHCPv6 pool (`network.ipv6.dhcp_range`), the same way. */
export function pool6Allow(model: SiteModel): string[] {
  const v6 = model.network.ipv6;
  const start = v6 ? parseIpv6(v6.dhcpStart) : undefined;
  const end = v6 ? parseIpv6(v6.dhcpEnd) : undefined;
  return start === undefined || end === undefined ? [] : rangeToCidrs6(start, end);
}

/** Both pools: what an unknown machine may come from. */
export function poolsAllow(model: SiteModel): string[] {
  return [...poolAllow(model), ...pool6Allow(model)];
}

/**
 * The addresses a node fetches its files from, on each address family of the network: its `ip`
 * (a static address, or the DHCP reservation of all its boot MACs), else any address of the pool
 * (NODE_FILES_OPEN_TO_POOL); on IPv6 (`servedOverIpv6`) the reservation around its `ip6` (the
 * /126 block: each boot stage asks DHCPv6 as a client of its own), else the DHCPv6 pool.
 */
export function nodeAllow(model: SiteModel, node: ResolvedNode): string[] {
  // A node on a VLAN scope (network.vlans) fetches from the VLAN: without `ip`, from its pool.
  const scope = scopeOf(model, node);
  const pool = scope ? scopePoolAllow(scope) : poolAllow(model);
  return [
    ...(model.network.ipv4 ? (node.ip !== undefined ? [node.ip] : pool) : []),
    ...(servedOverIpv6(model, node) ? (node.ip6 !== undefined ? [reservation6(node.ip6)?.cidr ?? node.ip6] : pool6Allow(model)) : []),
  ];
}

/**
 * Whether nginx serves a node's configs and seeds to its addresses only (`nodeAllow`): always under
 * `nginx.access: nodes`; under `open`, for a node that boots from an image (`medium: iso`, `usb`).
 * Its image names its scripts (the shared one every sharing node's), each script names its config,
 * and the image goes to its BMC, which fetches it from an address that is no node's, and its URL to
 * whoever reads the BMC's virtual media: served to all, the configs would be too. The node itself
 * fetches them from its static address (a medium without DHCP needs `method: static` and `ip`),
 * which the inventory gives. Its image, its scripts and the release files stay open.
 */
export function nodeFilesBound(model: SiteModel, node: ResolvedNode): boolean {
  return model.nginx.access === 'nodes' || imageOf(node) !== undefined;
}

/** Who may fetch each node's files, by the list of each node's own (under watch's memo; site-level values do not change while that list is kept). */
const ownersKept = new WeakMap<readonly unknown[], Map<string, readonly string[]>>();

/** True for a path of the tree that holds a secret or one node's data (served to its fetchers only). */
export function holdsNodeData(path: string): boolean {
  return formatOfPath(path) !== undefined || path.startsWith(`${DIRS.unknown}/`) || path.startsWith(`${DIRS.media}/`);
}

/**
 * The protected files among the served paths, each with who may fetch it. Under `nginx.access:
 * open`, only the configs and seeds of the nodes `nodeFilesBound` keeps (the images, the join config
 * and every other node's files are served to all). A served path that holds node data but has no
 * owner here gets an empty list under `nodes` (refused to everyone), so a new kind of file is never
 * served to all by mistake.
 */
export function protectedFiles(model: SiteModel, served: readonly string[], memo: NodeMemo = computeAlways): ProtectedFile[] {
  const open = model.nginx.access === 'open';
  // Each node's config paths with its addresses, kept per node (watch), and the map of them all
  // kept with the list of them (the same list while no node's changed: memoEach).
  const ownOf = (node: ResolvedNode) => {
    if (!nodeFilesBound(model, node)) return UNBOUND;
    const allow = nodeAllow(model, node);
    const paths: string[] = [];
    for (const { format, owners: of } of servedConfigs(node)) for (const o of of) paths.push(configFilePath(model, format, o));
    // Under `open` an image is served to all (its BMC may fetch from any address).
    const path = open ? undefined : mediumPath(model, node);
    const medium = path !== undefined ? { path, allow: mediumAllow(node) } : undefined;
    return { allow, paths, medium };
  };
  // An entry with the same addresses and paths as the one it replaces leaves the list as it was.
  const owns = memoEach(
    memo,
    'access',
    model.nodes,
    ownOf,
    (a, b) =>
      sameItems(a.allow, b.allow) &&
      sameItems(a.paths, b.paths) &&
      a.medium?.path === b.medium?.path &&
      sameItems(a.medium?.allow ?? [], b.medium?.allow ?? []),
  );
  let owners = ownersKept.get(owns);
  if (!owners) {
    owners = new Map<string, readonly string[]>();
    // A shared image is every sharing node's BMC's to fetch: the union, gathered once (not copied per node).
    const media = new Map<string, Set<string>>();
    for (const own of owns) {
      for (const path of own.paths) owners.set(path, own.allow);
      if (!own.medium) continue;
      let allow = media.get(own.medium.path);
      if (!allow) media.set(own.medium.path, (allow = new Set()));
      for (const a of own.medium.allow) allow.add(a);
    }
    for (const [path, allow] of media) owners.set(path, [...allow]);
    // An unknown machine joins Harvester, over IPv4 only.
    if (model.unknownJoin && !open) owners.set(LAYOUT.unknownJoinConfig, poolAllow(model));
    if (memo !== computeAlways) ownersKept.set(owns, owners);
  }
  // Under `open` with no image in the site, nothing (the served paths are not walked).
  if (open && owners.size === 0) return NONE;
  // Under watch's memo the list of last time, while the owners and the served paths are the same
  // (the same array: nginx's text and manifest.json's entries are kept by it).
  const state = memo.parts?.state;
  const last = state?.get(KEPT) as KeptProtected | undefined;
  if (last && last.owners === owners && sameItems(last.served, served)) return last.files;
  const ownersOf = (path: string) => owners.get(path) ?? owners.get(path.slice(0, path.lastIndexOf('/') + 1));
  // Under `open` the files of the nodes it keeps, by their owners; every other file is served to all.
  const files = (open ? served.filter((path) => ownersOf(path) !== undefined) : served.filter(holdsNodeData)).map((path) => ({
    path,
    allow: ownersOf(path) ?? [],
  }));
  state?.set(KEPT, { owners, served, files });
  return files;
}

/** No protected file (one array: what is kept by it stays). */
const NONE: ProtectedFile[] = [];

/** A node whose files nginx serves to all (`nginx.access: open`, no image). */
const UNBOUND: {
  readonly allow: readonly string[];
  readonly paths: readonly string[];
  readonly medium?: { path: string; allow: string[] };
} = {
  allow: [],
  paths: [],
};

/** Where protectedFiles keeps its last list (NodeParts.state). */
const KEPT = 'access:protected';

/** What protectedFiles keeps: the owners and served paths it was made from, and the list. */
interface KeptProtected {
  readonly owners: ReadonlyMap<string, readonly string[]>;
  readonly served: readonly string[];
  readonly files: ProtectedFile[];
}
