// What every node kind resolves the same way: identity, addressing, state, lab sizing.
import type { NodeInput, SiteInput } from '../../types/site-input.ts';
import { formatIpv4, maskToPrefix, parseCidr, parseIpv4, prefixToMask } from '../../util/ipv4.ts';
import { normalizeMac } from '../../util/mac.ts';
import { BUILTIN_DEFAULTS as D } from '../defaults.ts';
import type { NodeReader } from '../layers.ts';
import type { NodeBase, ResolvedBmc, ResolvedCluster, Release } from '../types.ts';

/** What a kind's resolver needs of the site. */
export interface SiteContext {
  readonly input: SiteInput;
  /** The prefix of `network.cidr` (24 when it cannot be parsed: the rules report it). */
  readonly netPrefix: number;
  /** The site's Harvester release and the release of another version for `arch` (absent without `harvester:`). */
  readonly harvester?: { readonly version: string; readonly release: (v: string, arch: 'x86_64' | 'arm64') => Release };
  readonly cluster?: ResolvedCluster;
  /** Generic OS profiles by name. */
  readonly osProfiles: Readonly<Record<string, import('../types.ts').ResolvedOs>>;
}

/** What a node on a VLAN scope (`network.vlans`) takes from it by default: its prefix, gateway and DNS. */
export interface ScopeDefaults {
  readonly prefix: number;
  readonly gateway: string;
  readonly dns: readonly string[];
}

/** The defaults of the VLAN scope `vlan` names (undefined without one: the network's apply). */
export function scopeDefaults(ctx: SiteContext, vlan: number | undefined): ScopeDefaults | undefined {
  const v = vlan !== undefined ? ctx.input.network.vlans?.find((s) => s.id === vlan) : undefined;
  if (!v) return undefined;
  return { prefix: parseCidr(v.cidr).net?.prefix ?? 24, gateway: v.gateway, dns: v.dns ?? ctx.input.network.dns ?? [] };
}

/**
 * The fields of NodeBase, read from the node's layers. A node on a VLAN scope (`scope`) takes its
 * prefix, gateway and DNS from it where its layers set none; other nodes from `network:`.
 */
export function resolveBase(r: NodeReader, ctx: SiteContext, scope?: ScopeDefaults): NodeBase {
  const { node, index, sources } = r;
  const macList = node.macs ?? (node.mac !== undefined ? [node.mac] : []);
  if (node.macs) sources.macs = ['nodes', index, 'macs'];
  else if (node.mac !== undefined) sources.macs = ['nodes', index, 'mac'];
  if (node.ip !== undefined) sources.ip = ['nodes', index, 'ip'];
  if (node.hostname !== undefined) sources.hostname = ['nodes', index, 'hostname'];
  const arch = r.pick('arch') ?? 'x86_64';
  const method = r.pick('method') ?? D.node.method;
  const netmaskIn = r.pick('netmask');
  const prefixIn = r.pick('prefix');
  const maskPrefix = netmaskIn !== undefined ? maskToPrefix(parseIpv4(netmaskIn) ?? -1) : undefined;
  const prefix = prefixIn ?? maskPrefix ?? scope?.prefix ?? ctx.netPrefix;
  const lab = r.mergeMap<NonNullable<NodeInput['lab']>>('lab');
  const gateway = r.pick('gateway');
  const dns = r.pick('dns');
  const bmc = resolveBmc(r.mergeMap<NonNullable<NodeInput['bmc']>>('bmc'));
  // Built by assignment, in this order: a literal with conditional spreads makes an object of a
  // map of its own for each node (src/util/shared-shape.ts), which the node's kind then extends.
  const out: Building<NodeBase> = {};
  out.arch = arch;
  out.index = index;
  out.hostname = node.hostname ?? '';
  out.macs = macList.map((m) => normalizeMac(m) ?? m);
  if (node.ip !== undefined) out.ip = node.ip;
  if (node.ip6 !== undefined) out.ip6 = node.ip6;
  out.method = method;
  out.prefix = prefix;
  out.netmask = formatIpv4(prefixToMask(Math.min(32, Math.max(0, prefix))));
  // An IPv6-only network has no IPv4 gateway or DNS (NETWORK_IPV6_ONLY refuses the nodes that need them).
  out.gateway = gateway ?? scope?.gateway ?? ctx.input.network.gateway ?? '';
  out.dns = dns ?? scope?.dns ?? ctx.input.network.dns ?? [];
  out.state = r.pick('state') ?? D.node.state;
  out.medium = r.pick('medium') ?? D.node.medium;
  out.mediumImage = r.pick('medium_image') ?? D.node.mediumImage;
  out.lab = {
    memoryMib: lab.memory_mib ?? D.node.lab.memoryMib,
    vcpus: lab.vcpus ?? D.node.lab.vcpus,
    diskGib: lab.disk_gib ?? D.node.lab.diskGib,
    dataDiskGib: lab.data_disk_gib ?? D.node.lab.dataDiskGib,
    nicModel: lab.nic_model ?? D.node.lab.nicModel,
  };
  if (bmc) out.bmc = bmc;
  out.sources = sources;
  return out as NodeBase;
}

/** An object being built field by field: each field typed as in T (checked by tsc), set in the order wanted. */
export type Building<T> = { -readonly [K in keyof T]?: T[K] };

/** The node's BMC from its merged `bmc:` map (none without an address: the rules report a node's own map without one). */
export function resolveBmc(b: Partial<NonNullable<NodeInput['bmc']>>): ResolvedBmc | undefined {
  if (b.address === undefined) return undefined;
  const type = b.type ?? 'redfish';
  // The schema admits `host`, `[v6]` and either with `:port` (value kind bmcAddress).
  const m = /^(\[[^\]]*\]|[^:]*)(?::([0-9]+))?$/.exec(b.address);
  const host = (m?.[1] ?? b.address).replace(/^\[|\]$/g, '');
  const port = m?.[2] !== undefined ? Number(m[2]) : type === 'redfish' ? 443 : 623;
  return {
    type,
    address: b.address,
    host,
    port,
    userEnv: b.user?.env ?? 'BMC_USER',
    passwordEnv: b.password?.env ?? 'BMC_PASSWORD',
    ...(b.system !== undefined ? { system: b.system } : {}),
    insecure: b.insecure ?? false,
  };
}

/**
 * The node settings only Harvester nodes read, and what a node of another kind does instead:
 * set on an OS profile or iSCSI node they are reported (NODE_SETTING_IGNORED), never dropped in
 * silence.
 */
export const HARVESTER_ONLY: Readonly<Record<string, string>> = {
  role: 'only Harvester nodes create or join the cluster',
  harvester_role: 'only Harvester nodes have a role in the cluster',
  harvester_version: 'only Harvester nodes install a Harvester release',
  install: "the installer's settings apply to Harvester nodes only",
  interfaces: 'the management interface is configured by the Harvester installer only',
  mtu: 'the management interface is configured by the Harvester installer only',
  vlan: 'the management interface is configured by the Harvester installer only',
  bond: 'the management interface is configured by the Harvester installer only',
  kernel_args: "put the OS's kernel arguments in its profile's `params`",
  config: 'the Harvester config is written for Harvester nodes only',
  hardware: "the hardware facts are checked against the Harvester installer's rules only",
  'lab.data_disk_gib': 'only a Harvester node with `install.data_disk` gets a lab data disk',
  reinstall: 'only the Harvester installer writes a generation marker; reinstall the node with `state: install` for one boot',
};
