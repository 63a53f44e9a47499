// The management network as the model holds it (`SiteModel.network`): its IPv4 side (absent on an
// IPv6-only network) and its IPv6 side, split out of `network:`; and the guard of the outputs that
// only an IPv4 network has.
import type { SiteInput } from '../types/site-input.ts';
import { formatIpv4, parseCidr, parseIpv4, prefixToMask } from '../util/ipv4.ts';
import { parseIpv6 } from '../util/ipv6.ts';
import type { Ipv4Net, SiteModel, VlanScope } from './types.ts';

/** `network:`, with the address, netmask and DHCP ranges split out. */
export function siteNetwork(
  input: SiteInput,
  cidr: ReturnType<typeof parseCidr>['net'],
  netPrefix: number,
  serverUrl: URL,
): SiteModel['network'] {
  const n = input.network;
  const range = (text: string): [string, string] => {
    const [first = '', last = ''] = text.split('-').map((s) => s.trim());
    return [first, last];
  };
  const ipv4 =
    n.cidr !== undefined && n.gateway !== undefined && n.dns !== undefined
      ? (() => {
          const [dhcpStart, dhcpEnd] = n.dhcp_range !== undefined ? range(n.dhcp_range) : [];
          return {
            cidr: n.cidr,
            address: cidr ? formatIpv4(cidr.address) : n.cidr,
            prefix: netPrefix,
            netmask: formatIpv4(prefixToMask(netPrefix)),
            gateway: n.gateway,
            dns: n.dns,
            ...(dhcpStart !== undefined && dhcpEnd !== undefined ? { dhcpStart, dhcpEnd } : {}),
          };
        })()
      : undefined;
  const v6 = n.ipv6;
  const ipv6 = v6
    ? (() => {
        const [dhcpStart, dhcpEnd] = range(v6.dhcp_range);
        const [address = '', length = ''] = v6.prefix.split('/');
        // URL hosts keep IPv6 addresses in brackets.
        const host = serverUrl.hostname.replace(/^\[|\]$/g, '');
        return {
          cidr: v6.prefix,
          address,
          prefix: Number(length),
          dhcpStart,
          dhcpEnd,
          dns: v6.dns ?? [],
          server: v6.server ?? (parseIpv6(host) !== undefined ? host : ''),
        };
      })()
    : undefined;
  const vlans = (n.vlans ?? []).map((v): VlanScope => {
    const net = parseCidr(v.cidr).net;
    const prefix = net?.prefix ?? 24;
    const [dhcpStart, dhcpEnd] = v.dhcp_range !== undefined ? range(v.dhcp_range) : [];
    return {
      id: v.id,
      cidr: v.cidr,
      address: net ? formatIpv4(net.address) : v.cidr,
      prefix,
      netmask: formatIpv4(prefixToMask(prefix)),
      gateway: v.gateway,
      dns: v.dns ?? n.dns ?? [],
      ...(dhcpStart !== undefined && dhcpEnd !== undefined ? { dhcpStart, dhcpEnd } : {}),
      server: v.server,
      interface: v.interface,
    };
  });
  return {
    ...(ipv4 ? { ipv4 } : {}),
    ...(ipv6 ? { ipv6 } : {}),
    ...(n.domain !== undefined ? { domain: n.domain } : {}),
    dhcpServers: n.dhcp_servers ?? 'one',
    vlans,
  };
}

/**
 * The IPv4 side of a network that has one: for the outputs only an IPv4 network has (the libvirt
 * lab network, ISC dhcpd, Kea's DHCPv4 file). The rules refuse those on an IPv6-only network
 * before anything is rendered, so this never fails on a valid site.
 */
export function ipv4Of(model: SiteModel): Ipv4Net {
  const v4 = model.network.ipv4;
  if (!v4) throw new Error(`site ${model.site} has no IPv4 network, which this output needs (a rule should have refused it)`);
  return v4;
}

/** A URL host that is an address (IPv4, or IPv6 in brackets) rather than a name. */
export function isAddressHost(host: string): boolean {
  return parseIpv4(host) !== undefined || (host.startsWith('[') && host.endsWith(']'));
}

/**
 * The VLAN scope (`network.vlans`) a node lives on: the one its `vlan` names; undefined for a
 * node without `vlan`, or whose `vlan` names none (NODE_VLAN_NO_SCOPE).
 */
export function scopeOf(model: SiteModel, node: { readonly vlan?: number; readonly boot?: string }): VlanScope | undefined {
  if (node.vlan === undefined || model.network.vlans.length === 0 || node.boot !== 'harvester') return undefined;
  return model.network.vlans.find((v) => v.id === node.vlan);
}

/**
 * A URL as a client on VLAN scope `scope` reaches it: one on `boot.server`'s origin names the
 * boot server's address on the VLAN (`server`), its port and path kept; any other URL as it is.
 */
export function onVlan(model: SiteModel, scope: VlanScope, url: string): string {
  const base = new URL(model.boot.server);
  const u = new URL(url);
  if (u.origin !== base.origin) return url;
  u.hostname = scope.server;
  return u.href;
}

/**
 * The VLAN scope the cluster lives on (undefined on the native network): its create node's, else
 * (the cluster exists: `cluster.created`, every node joins) its first Harvester node's, as the
 * cluster's architecture is. The VIP, the upgrade's ISO and the one-network rule all judge the
 * cluster by it.
 */
export function clusterScope(model: SiteModel): VlanScope | undefined {
  const home = clusterNode(model.nodes);
  return home ? scopeOf(model, home) : undefined;
}

/**
 * The node that stands for the cluster (its network, its architecture): its create node, else
 * (`cluster.created`, every node joins) its first Harvester node.
 */
export function clusterNode<N extends { readonly boot: string; readonly role?: string }>(nodes: readonly N[]): N | undefined {
  let first: N | undefined;
  for (const n of nodes) {
    if (n.boot !== 'harvester') continue;
    if (n.role === 'create') return n;
    first ??= n;
  }
  return first;
}

/**
 * A node's IPv4 DNS servers: the ones its installer's initrd (`nameserver=`, an IPv4 network) and
 * iPXE (`dns`) can use. Its config lists every one, IPv6 too, as the installer takes them.
 */
export function ipv4Dns(node: { readonly dns: readonly string[] }): string[] {
  return node.dns.filter((d) => parseIpv4(d) !== undefined);
}
