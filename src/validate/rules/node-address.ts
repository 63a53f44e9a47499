// nodes: a node's address must fit the management network, stay out of the dynamic DHCP
// pool (dnsmasq could hand it to another machine), and static nodes need full addressing.
// A problem already reported for a node's IP or netmask is the cause of any gateway mismatch
// that follows from it, so the gateway check is skipped for that node (no cascade).
import { formatIpv4, inNetwork, maskToPrefix, parseCidr, parseIpv4, prefixToMask, type Ipv4Network } from '../../util/ipv4.ts';
import { nodeAt, scopeOf } from '../../model/index.ts';
import { checkIpv6, parseIpv6 } from '../../util/ipv6.ts';
import type { ResolvedNode, SiteModel } from '../../model/types.ts';
import { installerTakesAddress } from '../../derive/harvester/cmdline.ts';
import { imageOf } from '../../derive/media/index.ts';
import type { SiteInput } from '../../types/site-input.ts';
import { eachNode, type Rule, type RuleContext } from '../rule.ts';

/** The site-wide facts every node's address is checked against. */
interface AddressFacts {
  readonly input: SiteInput;
  /** The network's text as written, its pool's, its gateway's, and where it is set (`network.cidr`, `network.vlans[k].cidr`). */
  readonly cidrText: string;
  readonly rangeText: string;
  readonly gwText: string;
  readonly where: string;
  readonly net: Ipv4Network | undefined;
  readonly gw: number | undefined;
  /** The boot server's address on the network, where known (a VLAN scope's `server`). */
  readonly server?: number;
  readonly start: number | undefined;
  readonly end: number | undefined;
  readonly model: SiteModel;
  readonly report: RuleContext['report'];
}

/** Node IPs inside the network, not reserved, not in the DHCP pool; static nodes complete. */
export const nodeAddressRule: Rule = {
  name: 'node-address',
  codes: [
    'NET_IP_INVALID',
    'NODE_IP_OUTSIDE_NETWORK',
    'NODE_IP_RESERVED',
    'NODE_IP_IN_DHCP_RANGE',
    'NODE_STATIC_WITHOUT_IP',
    'NODE_STATIC_WITHOUT_DNS',
    'NODE_NETMASK_INVALID',
    'NODE_GATEWAY_OUTSIDE',
  ],
  check(ctx) {
    const { input, model } = ctx;
    // An IPv6-only network: the ipv6 rule refuses every node setting that needs IPv4.
    const v4 = model.network.ipv4;
    if (!v4) return;
    const facts: AddressFacts = {
      input,
      cidrText: v4.cidr,
      rangeText: v4.dhcpStart !== undefined ? `${v4.dhcpStart}-${v4.dhcpEnd}` : '',
      gwText: v4.gateway,
      where: 'network.cidr',
      net: parseCidr(v4.cidr).net,
      gw: parseIpv4(v4.gateway),
      start: v4.dhcpStart !== undefined ? parseIpv4(v4.dhcpStart) : undefined,
      end: v4.dhcpEnd !== undefined ? parseIpv4(v4.dhcpEnd) : undefined,
      model,
      report: ctx.report,
    };
    // A node on a VLAN scope (network.vlans) is judged against the scope's network.
    const scopes = new Map<number, AddressFacts>(
      model.network.vlans.map((v, k) => [
        v.id,
        {
          ...facts,
          cidrText: v.cidr,
          rangeText: v.dhcpStart !== undefined ? `${v.dhcpStart}-${v.dhcpEnd}` : '',
          gwText: v.gateway,
          where: `network.vlans[${k}].cidr, VLAN ${v.id}`,
          net: parseCidr(v.cidr).net,
          gw: parseIpv4(v.gateway),
          server: parseIpv4(v.server),
          start: v.dhcpStart !== undefined ? parseIpv4(v.dhcpStart) : undefined,
          end: v.dhcpEnd !== undefined ? parseIpv4(v.dhcpEnd) : undefined,
        },
      ]),
    );
    // A node's findings read only the node, its own input and site-level values: kept per node in watch.
    eachNode(ctx, 'node-address', (node, report) => {
      const scope = scopeOf(model, node);
      const own = (scope ? scopes.get(scope.id) : undefined) ?? facts;
      checkNodeAddress(report === own.report ? own : { ...own, report }, node);
    });
  },
};

/** Every address check of one node, in the order the diagnostics read best. */
function checkNodeAddress(facts: AddressFacts, node: ResolvedNode): void {
  const name = node.hostname || `nodes[${node.index}]`;
  checkStaticComplete(facts, node, name);
  checkNodeResolvers(facts, node, name);
  const maskOk = checkNetmask(facts, node, name);
  if (node.ip === undefined) return;
  const ip = parseIpv4(node.ip);
  if (ip === undefined) {
    facts.report({
      code: 'NET_IP_INVALID',
      message: `ip "${node.ip}" of node ${name} is not an IPv4 address`,
      hint: 'Write a dotted quad such as 192.168.122.11 (dnsmasq would read anything else as a host name).',
      at: nodeAt(node, 'ip'),
    });
    return;
  }
  const ipOk = checkIpPlacement(facts, node, name, ip);
  // The gateway is judged from the node's IP and mask: with either already reported, a
  // gateway mismatch is a consequence, not a second problem.
  if (ipOk && maskOk) checkStaticGateway(facts, node, name, ip);
}

/** A static node needs an IP and DNS servers (the installer refuses it otherwise). */
function checkStaticComplete({ report }: AddressFacts, node: ResolvedNode, name: string): void {
  if (node.method !== 'static') return;
  if (node.ip === undefined) {
    report({
      code: 'NODE_STATIC_WITHOUT_IP',
      message: `node ${name} has \`method: static\` but no \`ip\``,
      // A node that boots from an image gets no DHCP (MEDIA_NEEDS_STATIC): `method: dhcp` is no way out there.
      hint: imageOf(node)
        ? `Add \`ip:\` to the node: it boots from its ${imageOf(node)!.title} (medium: ${node.medium}), which gets no DHCP, so it needs its static address.`
        : 'Add `ip:` to the node, or use `method: dhcp`.',
      node: node.hostname,
      at: nodeAt(node, 'method'),
    });
  }
  if (node.dns.length === 0) {
    report({
      code: 'NODE_STATIC_WITHOUT_DNS',
      message: `node ${name} is statically addressed but has no DNS servers`,
      hint: 'The installer refuses static addressing without `dns_nameservers`: set `dns:` on the node or in `network.dns`.',
      node: node.hostname,
      at: nodeAt(node, 'dns'),
    });
  }
}

/** The node's own gateway and DNS servers are IPv4 (they land on static kernel lines and DHCP-less configs). */
function checkNodeResolvers({ report }: AddressFacts, node: ResolvedNode, name: string): void {
  if (node.sources.gateway && parseIpv4(node.gateway) === undefined) {
    report({
      code: 'NET_IP_INVALID',
      message: `gateway "${node.gateway}" of node ${name} is not an IPv4 address`,
      hint: 'Write a dotted quad such as 192.168.122.1.',
      node: node.hostname,
      at: nodeAt(node, 'gateway'),
    });
  }
  const dnsAt = node.sources.dns;
  if (!dnsAt) return;
  node.dns.forEach((d, k) => {
    // IPv6 too: the installer takes both into the installed system's network (its initrd uses the IPv4 ones).
    if (parseIpv4(d) !== undefined || parseIpv6(d) !== undefined) return;
    const { canonical } = checkIpv6(d);
    report({
      code: 'NET_IP_INVALID',
      message: `DNS server "${d}" of node ${name} is not an IPv4 or IPv6 address${canonical !== undefined ? ' in canonical form' : ''}`,
      hint:
        canonical !== undefined
          ? `Write \`${canonical}\`.`
          : 'Write a dotted quad such as 192.168.122.1, or an IPv6 address such as 2001:db8::53.',
      node: node.hostname,
      at: [...dnsAt, k],
    });
  });
}

/** `prefix` and `netmask` are exclusive and a netmask is contiguous; false when the mask was reported. */
function checkNetmask({ input, report }: AddressFacts, node: ResolvedNode, name: string): boolean {
  const input_ = input.nodes?.[node.index];
  let ok = true;
  if (input_?.prefix !== undefined && input_.netmask !== undefined) {
    report({
      code: 'NODE_NETMASK_INVALID',
      message: `node ${name} sets both \`prefix\` and \`netmask\``,
      hint: 'Keep one of them.',
      at: ['nodes', node.index, 'netmask'],
      target: 'key',
    });
    ok = false;
  }
  const maskIn = input_?.netmask ?? (input_?.prefix === undefined ? input.defaults?.netmask : undefined);
  if (maskIn === undefined) return ok;
  const mask = parseIpv4(maskIn);
  if (mask !== undefined && maskToPrefix(mask) !== undefined) return ok;
  report({
    code: 'NODE_NETMASK_INVALID',
    message: `netmask "${maskIn}" of node ${name} is not a contiguous IPv4 netmask`,
    hint: 'Write e.g. 255.255.255.0, or use `prefix: 24`.',
    node: node.hostname,
    at: nodeAt(node, 'netmask'),
  });
  return false;
}

/** The IP is a host address of the network, not the gateway, not in the DHCP pool; false when it is outside the network. */
function checkIpPlacement(facts: AddressFacts, node: ResolvedNode, name: string, ip: number): boolean {
  const { net, gw, start, end, report } = facts;
  const at = nodeAt(node, 'ip');
  if (net && !inNetwork(ip, net)) {
    // An address of another VLAN scope than the node's is the VLAN rule's (NODE_VLAN_SCOPE_MISMATCH).
    if (
      facts.model.network.vlans.some((v) => {
        const n = parseCidr(v.cidr).net;
        return n !== undefined && inNetwork(ip, n);
      })
    )
      return false;
    report({
      code: 'NODE_IP_OUTSIDE_NETWORK',
      message: `ip ${node.ip} of node ${name} is outside network ${facts.cidrText} (${facts.where})`,
      hint: outsideNetworkHint(facts, net),
      at,
    });
    return false;
  }
  if (net && (ip === net.address || ip === net.broadcast)) {
    report({
      code: 'NODE_IP_RESERVED',
      message: `ip ${node.ip} of node ${name} is the ${ip === net.address ? 'network' : 'broadcast'} address of ${facts.cidrText}`,
      hint: 'Pick a host address.',
      at,
    });
  } else if (facts.server !== undefined && ip === facts.server) {
    report({
      code: 'NODE_IP_RESERVED',
      message: `ip ${node.ip} of node ${name} is the boot server's address on its VLAN (${facts.where.replace(/\.cidr, /, '.server, ')})`,
      hint: 'Pick an address that no other device uses.',
      at,
    });
  } else if (ip === gw) {
    report({
      code: 'NODE_IP_RESERVED',
      message: `ip ${node.ip} of node ${name} is the gateway address`,
      hint: 'Pick an address that no other device uses.',
      at,
    });
  } else if (start !== undefined && end !== undefined && ip >= start && ip <= end) {
    report({
      code: 'NODE_IP_IN_DHCP_RANGE',
      message: `ip ${node.ip} of node ${name} lies inside the dynamic DHCP range ${facts.rangeText}`,
      hint: 'Move the node IP out of the range (or shrink the range): the DHCP server may hand it to another machine.',
      at,
    });
  }
  return true;
}

/** The hint for an IP outside `network.cidr`: the subnet's host range, what to avoid in it, and the other fix. */
function outsideNetworkHint({ cidrText, gwText, rangeText, where, gw, start, end }: AddressFacts, net: Ipv4Network): string {
  const avoid = [
    gw !== undefined && inNetwork(gw, net) ? `the gateway ${gwText}` : undefined,
    start !== undefined && end !== undefined ? `the DHCP range ${rangeText}` : undefined,
  ].filter((s) => s !== undefined);
  if (where !== 'network.cidr')
    return `Use a free address of VLAN ${where.replace(/^.*VLAN /, '')}'s subnet ${cidrText} (${formatIpv4(net.address + 1)} to ${formatIpv4(net.broadcast - 1)}${avoid.length > 0 ? `, not ${avoid.join(' or ')}` : ''}): the node's \`vlan\` puts it there.`;
  return (
    `Use a free address of the subnet ${cidrText} (${formatIpv4(net.address + 1)} to ${formatIpv4(net.broadcast - 1)}` +
    `${avoid.length > 0 ? `, not ${avoid.join(' or ')}` : ''}); ` +
    'if the node really is on another subnet, fix `network.cidr` instead (every node shares the one management network).'
  );
}

/** A static node's gateway lies in the subnet its IP and prefix make (a DHCP node's too where its installer takes them from its kernel line: `network.dhcp_servers: several`). */
function checkStaticGateway({ net, gw, model, report }: AddressFacts, node: ResolvedNode, name: string, ip: number): void {
  if (!installerTakesAddress(model, node)) return;
  // A gateway taken from `network.gateway` that the network rule already reports (not a host
  // of `network.cidr`) would be reported again for every static node.
  const siteGatewayReported = net !== undefined && gw !== undefined && (!inNetwork(gw, net) || gw === net.address || gw === net.broadcast);
  if (!node.sources.gateway && siteGatewayReported) return;
  const gwNode = parseIpv4(node.gateway);
  const mask = prefixToMask(node.prefix);
  if (gwNode === undefined || (gwNode & mask) >>> 0 === (ip & mask) >>> 0) return;
  report({
    code: 'NODE_GATEWAY_OUTSIDE',
    message: `gateway ${node.gateway} of node ${name} is not in its subnet ${formatIpv4((ip & mask) >>> 0)}/${node.prefix}`,
    hint: 'Fix the gateway or the prefix/netmask.',
    node: node.hostname,
    at: nodeAt(node, 'gateway'),
  });
}
