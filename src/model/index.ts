// Stage 3, model: resolve a schema-valid inventory into the frozen SiteModel. It rejects only a
// node whose kind cannot be resolved (a Harvester node without `harvester:` or `cluster:`, an
// unknown OS profile) and reports the settings a node's kind ignores; everything else is judged by
// the rules, so values that cannot be parsed are carried through as written for them to point at.
import { swapVersion } from '../harvester/versions.ts';
import { clusterNode } from './network.ts';
import type { NodeInput, SiteInput } from '../types/site-input.ts';
import { parseCidr, parseIpv4 } from '../util/ipv4.ts';
import { normalizeMac } from '../util/mac.ts';
import { BUILTIN_DEFAULTS as D } from './defaults.ts';
import { nodeReaders, type NodeReader } from './layers.ts';
import { releaseFor, releaseTable } from './release.ts';
import { resolveHarvesterNode, resolveNode, settingsSorter, type IgnoredSetting, type SiteContext } from './kinds/index.ts';
import { ignoredProblems } from './ignored.ts';
import { siteLevel, type ModelCache, type SiteLevel, type SiteLevelResolve } from './cache.ts';
import type {
  HarvesterNode,
  ModelProblem,
  Release,
  ResolvedCluster,
  ResolvedNode,
  ResolvedOs,
  SiteFailover,
  SiteModel,
  SiteOutputs,
  SitePublish,
  SiteUpgrade,
} from './types.ts';
import type { Layers } from '../types/layers.ts';
import { factsFromDocument } from '../facts/file.ts';
import type { MeasuredFacts } from '../facts/types.ts';
import { deepFreeze } from '../util/deep-freeze.ts';
import { checkIpv6 } from '../util/ipv6.ts';
import { isAddressHost, siteNetwork } from './network.ts';

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

/** The nodes of a site, the node an unknown machine joins as, and what resolving them found. */
function resolveNodes(
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

/** `boot:` with its defaults, and the parts of `boot.server` the renderers use. */
function siteBoot(input: SiteInput, server: string, serverUrl: URL, port: number): SiteModel['boot'] {
  const b = input.boot;
  const marker = b.installed_marker;
  return {
    server,
    host: serverUrl.hostname,
    port,
    // The tree is served under the URL's path ('' or '/a/b'), so several sites can share a server.
    prefix: serverUrl.pathname.replace(/\/+$/, ''),
    firmware: b.firmware ?? D.boot.firmware,
    uefiLoader: b.uefi_loader ?? D.boot.uefiLoader,
    arm64Loader: b.arm64_loader ?? D.boot.arm64Loader,
    console: b.console ?? D.boot.console,
    kernelArgs: b.kernel_args ?? [],
    skipchecks: b.skipchecks ?? D.boot.skipchecks,
    report: b.report ?? D.boot.report,
    retries: b.retries ?? D.boot.retries,
    retryDelay: b.retry_delay ?? D.boot.retryDelay,
    unknownWait: b.unknown_wait ?? D.boot.unknownWait,
    ...(b.dhcp_retry !== undefined ? { dhcpRetry: b.dhcp_retry } : {}),
    unknown: b.unknown ?? D.boot.unknown,
    installedMarker: { volume: marker?.volume ?? D.boot.installedMarker.volume, file: marker?.file ?? D.boot.installedMarker.file },
    httpBoot: b.http_boot ?? false,
    ...(b.ipxe_binaries !== undefined ? { ipxeBinaries: b.ipxe_binaries } : {}),
    ...(b.media_loaders !== undefined ? { mediaLoaders: b.media_loaders } : {}),
    ...(b.secure_boot !== undefined ? { secureBoot: secureBootPair(b.secure_boot, b.uefi_loader) } : {}),
  };
}

/**
 * The Secure Boot shim and loader: iPXE's signed shim loads the file its own name starts with
 * (snponly-shimx64.efi -> snponly.efi): the site's UEFI loader, unless the site names another pair.
 */
function secureBootPair(
  sb: NonNullable<SiteInput['boot']['secure_boot']>,
  uefiLoader: string | undefined,
): { shim: string; loader: string } {
  const loader = sb.loader ?? uefiLoader ?? D.boot.uefiLoader;
  return { shim: sb.shim ?? `${loader.replace(/\.efi$/, '')}-shimx64.efi`, loader };
}

/** `lab:` with its defaults (named after the site). */
function siteLab(input: SiteInput): SiteModel['lab'] {
  const siteSlug = input.site.replace(/_/g, '-');
  return {
    networkName: input.lab?.network_name ?? `harvgen-${siteSlug}`,
    bridge: input.lab?.bridge ?? `hg-${siteSlug}`.slice(0, 15).replace(/-+$/, ''),
    diskDir: input.lab?.disk_dir ?? D.lab.diskDir,
    tftpRoot: input.lab?.tftp_root ?? D.lab.tftpRoot,
    hostArch: input.lab?.host_arch ?? D.lab.hostArch,
  };
}

/** `failover:` with its defaults: the first server the primary. */
function siteFailover(f: NonNullable<SiteInput['failover']>, serverUrl: URL): SiteFailover {
  return {
    interface: f.interface,
    virtualRouterId: f.virtual_router_id ?? 51,
    keaHaPort: f.kea_ha_port ?? 8001,
    keaHooksDir: f.kea_hooks_dir ?? '/usr/lib/x86_64-linux-gnu/kea/hooks',
    shared: serverUrl.hostname,
    servers: f.servers.map((s, i) => ({
      name: s.name,
      address: s.address,
      role: i === 0 ? ('primary' as const) : ('standby' as const),
      priority: i === 0 ? 150 : 100,
      ...(s.mac !== undefined ? { mac: s.mac.toLowerCase() } : {}),
    })),
  };
}

/** `nginx:` with its defaults. */
function siteNginx(input: SiteInput, serverUrl: URL, port: number): SiteModel['nginx'] {
  const n = input.nginx;
  // On a network with IPv6, nginx listens there too, unless boot.server or nginx.listen already
  // names an IPv6 address: on the server's IPv6 address when boot.server names it by IPv4, on
  // every IPv6 address (`[::]`, which nginx binds IPv6-only) when by name.
  const v6 = input.network.ipv6;
  const own6 = (n?.listen ?? serverUrl.hostname).startsWith('[');
  // A `listen` of a bare port or `*:port` (IPv4 only, to nginx) gets `[::]:port` beside it.
  const anyPort = n?.listen !== undefined ? /^(?:\*:)?([0-9]+)$/.exec(n.listen)?.[1] : undefined;
  const listen6 =
    v6 === undefined || own6
      ? undefined
      : n?.listen !== undefined
        ? anyPort !== undefined
          ? `[::]:${anyPort}`
          : undefined
        : parseIpv4(serverUrl.hostname) !== undefined && v6.server !== undefined
          ? `[${v6.server}]:${port}`
          : `[::]:${port}`;
  // nginx resolves a host name in `listen` when it starts (and fails if it cannot): a
  // name-based boot.server listens on all addresses of its port instead.
  // With failover the shared address is only sometimes this server's: nginx listens on every address of the port.
  const listen =
    n?.listen ?? (isAddressHost(serverUrl.hostname) && input.failover === undefined ? `${serverUrl.hostname}:${port}` : String(port));
  // On the boot server's address on each VLAN (network.vlans), at boot.server's port (the
  // installers there fetch boot.server's URLs with that address), unless nginx already listens
  // on every IPv4 address of that port (`listen` a port or `*:port`); never twice the same.
  const allV4 = /^(?:\*:)?([0-9]+)$/.exec(listen)?.[1] === String(port);
  const listenVlans = allV4 ? [] : [...new Set((input.network.vlans ?? []).map((v) => `${v.server}:${port}`))].filter((l) => l !== listen);
  return {
    listen,
    ...(listen6 !== undefined ? { listen6 } : {}),
    listenVlans,
    root: n?.root ?? `${D.nginx.rootBase}/${input.site}`,
    accessLog: n?.access_log ?? `${D.nginx.accessLogDir}/harvgen-${input.site}.access.log`,
    access: n?.access ?? D.nginx.access,
    // The boot server itself (its files are on its disk anyway): loopback and each of its own
    // addresses. Behind a proxy (nginx.real_ip) a request that reaches nginx without the header
    // keeps the proxy's address, which may be one of these: then only nginx.verify_from.
    verifiers: [
      ...new Set([
        ...(n?.real_ip === undefined
          ? [
              '127.0.0.0/8',
              '::1',
              ...(isAddressHost(serverUrl.hostname) ? [serverUrl.hostname.replace(/^\[|\]$/g, '')] : []),
              ...[checkIpv6(input.network.ipv6?.server ?? '').canonical ?? []].flat(),
              ...(input.network.vlans ?? []).map((v) => v.server),
              ...(input.failover?.servers.map((s) => s.address) ?? []),
            ]
          : []),
        ...(n?.verify_from ?? []),
      ]),
    ],
    ...(n?.real_ip !== undefined ? { realIp: { from: [...n.real_ip.from], header: n.real_ip.header } } : {}),
    ...(typeof n?.file_key === 'string' ? { fileKey: n.file_key } : {}),
  };
}

/** `publish:` with its defaults (docs/fleet.md). Repository names are lower case, so the site's name is lowered. */
function sitePublish(input: SiteInput): SitePublish {
  const p = input.publish!;
  const name = input.site.toLowerCase();
  return {
    registry: p.registry,
    repository: `${p.registry}/${name}`,
    pullRepository: `${p.mirror ?? p.registry}/${name}`,
    tag: input.site,
    key: typeof p.key === 'string' ? p.key : '',
    keep: p.keep ?? 5,
    stateDir: p.state_dir ?? `/var/lib/harvgen/${input.site}`,
    keyFile: p.key_file ?? `/etc/harvgen/${input.site}/publish.key`,
    publicKey: input.signing?.public_key ?? '',
    ...(p.cosign_public_key !== undefined
      ? { cosign: { key: typeof p.cosign_key === 'string' ? p.cosign_key : '', publicKey: p.cosign_public_key } }
      : {}),
  };
}

/** `dnsmasq:` with its defaults. */
function siteDnsmasq(input: SiteInput): SiteModel['dnsmasq'] {
  const d = input.dnsmasq;
  // With failover: the DHCP server listens where keepalived holds the shared address.
  const iface = d?.interface ?? input.failover?.interface;
  return {
    ...(iface !== undefined ? { interface: iface } : {}),
    tftpRoot: d?.tftp_root ?? D.dnsmasq.tftpRoot,
    leaseTime: d?.lease_time ?? D.dnsmasq.leaseTime,
    dns: d?.dns ?? D.dnsmasq.dns,
    ...(d?.host !== undefined ? { host: d.host.toLowerCase() } : {}),
    hostsDir: d?.hosts_dir ?? D.dnsmasq.hostsDir,
    mode: d?.mode ?? D.dnsmasq.mode,
  };
}

/**
 * `outputs:`, the one place a family of files is switched off. A site without a `lab:` section
 * has no lab files and no forward units unless it asks for them.
 */
function siteOutputs(input: SiteInput): SiteOutputs {
  const o = input.outputs;
  const lab = o?.lab ?? input.lab !== undefined;
  return {
    lab,
    forward: o?.forward ?? input.forward?.enabled ?? lab,
    dhcp: o?.dhcp ?? true,
    nginx: o?.nginx ?? true,
    embed: o?.embed ?? true,
    oci: o?.oci ?? true,
    fetch: o?.fetch ?? true,
    bmc: o?.bmc ?? true,
  };
}

/** What every node of a site is resolved against, besides the site's input. */
function resolveSiteLevel(input: SiteInput): SiteLevel {
  const installed = installedHarvester(input.harvester);
  const siteRelease = installed ? releaseFor(installed, input.nginx, installed.version) : undefined;
  const osProfiles: Record<string, ResolvedOs> = {};
  for (const [name, p] of Object.entries(input.os_profiles ?? {})
    .filter((e): e is [string, NonNullable<(typeof e)[1]>] => e[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    osProfiles[name] = {
      name,
      kernel: p.kernel,
      initrds: p.initrds,
      params: p.params ?? [],
      ...(p.root !== undefined ? { root: p.root } : {}),
      // The config format the profile names (src/derive/configs/), none with `cloud_init: false`.
      ...(p.cloud_init === false ? {} : { configFormat: p.config_format ?? 'nocloud' }),
      cloudInit: p.cloud_init !== false && (p.config_format ?? 'nocloud') === 'nocloud',
      ...(p.shim !== undefined ? { shim: p.shim } : {}),
    };
  }
  const cluster = input.cluster ? resolveCluster(input.cluster) : undefined;
  return {
    ...(siteRelease ? { siteRelease } : {}),
    osProfiles,
    ...(cluster ? { cluster } : {}),
    ...(installed && siteRelease
      ? { harvester: { version: installed.version, release: releaseTable(installed, input.nginx, siteRelease) } }
      : {}),
  };
}

/**
 * `harvester:` as the nodes install it: after an upgrade that has run (`upgrade.done`), its target,
 * with the target in place of `version` in the artifacts and ISO URLs (as a node's
 * `harvester_version` is put in them, `releaseFor`).
 */
export function installedHarvester(h: SiteInput['harvester']): SiteInput['harvester'] {
  if (!h?.upgrade?.done) return h;
  const swap = (s: string) => swapVersion(s, h.version, h.upgrade!.to);
  return { ...h, version: h.upgrade.to, artifacts: swap(h.artifacts), ...(h.iso_url !== undefined ? { iso_url: swap(h.iso_url) } : {}) };
}

/**
 * A planned upgrade (`harvester.upgrade`, not done): its target release, from the site's release
 * table (the same object while the site-level inputs are, as a node's own release), and the
 * Version's fields.
 */
function siteUpgrade(
  input: SiteInput,
  release: (v: string, arch: 'x86_64' | 'arm64') => Release,
  arch: 'x86_64' | 'arm64',
): SiteUpgrade | undefined {
  const u = input.harvester?.upgrade;
  if (!u || u.done) return undefined;
  return {
    to: release(u.to, arch),
    isoChecksum: u.iso_checksum,
    ...(u.release_date !== undefined ? { releaseDate: u.release_date } : {}),
    apply: u.apply ?? false,
  };
}

/** The `cluster:` section with defaults applied (secret references were resolved to strings before validation). */
function resolveCluster(c: NonNullable<SiteInput['cluster']>): ResolvedCluster {
  return {
    vip: c.vip,
    vipMode: c.vip_mode ?? D.cluster.vipMode,
    ...(c.vip_hw_addr !== undefined ? { vipHwAddr: normalizeMac(c.vip_hw_addr) ?? c.vip_hw_addr } : {}),
    token: c.token as string,
    ...(c.password !== undefined ? { password: c.password as string } : {}),
    sshAuthorizedKeys: c.ssh_authorized_keys ?? [],
    ntp: c.ntp ?? [],
    ...(c.pod_cidr !== undefined ? { podCidr: c.pod_cidr } : {}),
    ...(c.service_cidr !== undefined ? { serviceCidr: c.service_cidr } : {}),
    ...(c.cluster_dns !== undefined ? { clusterDns: c.cluster_dns } : {}),
    sans: c.sans ?? [],
    created: c.created ?? false,
  };
}

/**
 * Without an explicit `role: create`, the first node that installs Harvester creates the cluster;
 * once the cluster exists (`cluster.created`), nobody does.
 */
function firstHarvesterCreates(nodes: ResolvedNode[], inputs: readonly NodeInput[], created: boolean): ResolvedNode[] {
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
