// network: the management network itself must be coherent before anything is placed in it.
import { parseIpv6 } from '../../util/ipv6.ts';
import { formatIpv4, inNetwork, parseCidr, parseIpv4, splitRange, unusableNetwork, type Ipv4Network } from '../../util/ipv4.ts';
import { notIpv4, type Rule, type RuleContext } from '../rule.ts';
import { mediumOf } from '../../derive/media/index.ts';
import { scopeOf } from '../../model/index.ts';
import type { SiteInput } from '../../types/site-input.ts';

/** `network:` of a site with IPv4 (checked in `check`: the schema makes `cidr`, `gateway` and `dns` go together). */
const v4in = (input: SiteInput) => input.network as Required<Pick<SiteInput['network'], 'cidr' | 'gateway' | 'dns'>> & SiteInput['network'];

/** `network.cidr`, gateway, DHCP range and DNS servers. */
export const networkRule: Rule = {
  name: 'network',
  codes: [
    'NET_CIDR_INVALID',
    'NET_IP_INVALID',
    'NET_GATEWAY_OUTSIDE',
    'NET_DHCP_RANGE_INVALID',
    'NET_DHCP_RANGE_REQUIRED',
    'NET_DNS_INVALID',
  ],
  check(ctx) {
    // IPv4 is `cidr`, `gateway` and `dns`, or none (the schema): none on an IPv6-only network (the ipv6 rule).
    if (ctx.input.network.cidr === undefined) return;
    const net = checkCidr(ctx);
    const gw = checkGateway(ctx, net);
    checkDns(ctx);
    if (ctx.input.network.dhcp_range !== undefined) checkDhcpRange(ctx, { net, gw });
    else checkPoolNeeded(ctx);
  },
};

/** The most machines named in NET_DHCP_RANGE_REQUIRED's message. */
const NAMED = 5;

/**
 * Without `network.dhcp_range` the DHCP server answers reserved addresses only: a machine that
 * leases an address on the native network needs a pool. Those are a node that boots over the
 * network (a medium with DHCP) without an `ip`, a node on a VLAN scope (its firmware boots on the
 * native network first, docs/vlan.md), and an unknown machine under `boot.unknown: join`.
 */
function checkPoolNeeded({ model, report }: RuleContext): void {
  const leasing = model.nodes.filter((n) => mediumOf(n).dhcp && (n.ip === undefined || scopeOf(model, n) !== undefined));
  const why = [
    ...leasing
      .slice(0, NAMED)
      .map((n) =>
        scopeOf(model, n) !== undefined
          ? `node ${n.hostname} (on VLAN ${scopeOf(model, n)!.id}: its firmware boots on this network first)`
          : `node ${n.hostname} (no \`ip\`)`,
      ),
    ...(leasing.length > NAMED ? [`${leasing.length - NAMED} more nodes`] : []),
    ...(model.boot.unknown === 'join' ? ['unknown machines (`boot.unknown: join` installs them)'] : []),
  ];
  if (why.length === 0) return;
  report({
    code: 'NET_DHCP_RANGE_REQUIRED',
    message: `network has no \`dhcp_range\`, so its DHCP server answers reserved addresses only, yet these lease one: ${why.join(', ')}`,
    hint: "Give `network.dhcp_range` (a pool of free addresses, outside the nodes' `ip`), or give each such node an `ip` (reserved for its MAC); a site whose nodes all boot from a medium needs no pool.",
    at: ['network'],
  });
}

/** `network.cidr` is a network with room for a cluster; the network when it parses. */
function checkCidr({ input, report }: RuleContext): Ipv4Network | undefined {
  const { net, problem, networkCidr } = parseCidr(v4in(input).cidr);
  if (!net) {
    report({
      code: 'NET_CIDR_INVALID',
      message: `network.cidr "${v4in(input).cidr}" ${problem}`,
      // Only a network this rule would then take: one with room for a cluster (below).
      hint:
        networkCidr && Number(networkCidr.split('/')[1]) <= 30
          ? `Write the network address: \`cidr: ${networkCidr}\`.`
          : 'Write the network as `a.b.c.d/prefix`, e.g. `192.168.122.0/24`.',
      at: ['network', 'cidr'],
    });
  } else if (net.prefix > 30) {
    report({
      code: 'NET_CIDR_INVALID',
      message: `network.cidr ${v4in(input).cidr} is too small for a cluster (prefix /${net.prefix})`,
      hint: 'Use a network with room for the nodes, the VIP and a DHCP range (/30 or larger).',
      at: ['network', 'cidr'],
    });
  } else if (unusableNetwork(net) !== undefined) {
    report({
      code: 'NET_CIDR_INVALID',
      message: `network.cidr ${v4in(input).cidr} ${unusableNetwork(net)}`,
      hint: 'Use a network of unicast addresses, e.g. a private one (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16).',
      at: ['network', 'cidr'],
    });
    return undefined;
  }
  return net;
}

/** `network.gateway` is an IPv4 host address of the network; the gateway when it parses. */
function checkGateway({ input, report }: RuleContext, net: Ipv4Network | undefined): number | undefined {
  const gw = parseIpv4(v4in(input).gateway);
  if (gw === undefined) {
    notIpv4(report, {
      what: 'network.gateway',
      value: String(v4in(input).gateway),
      hint: 'Write a dotted quad such as 192.168.122.1.',
      at: ['network', 'gateway'],
    });
  } else if (net && (!inNetwork(gw, net) || gw === net.address || gw === net.broadcast)) {
    report({
      code: 'NET_GATEWAY_OUTSIDE',
      message: `network.gateway ${v4in(input).gateway} is not a host address of ${v4in(input).cidr}`,
      hint: `Use an address between ${formatIpv4(net.address + 1)} and ${formatIpv4(net.broadcast - 1)}.`,
      at: ['network', 'gateway'],
    });
  }
  return gw;
}

/** Every `network.dns` entry is IPv4. */
function checkDns({ input, report }: RuleContext): void {
  v4in(input).dns.forEach((d, i) => {
    if (parseIpv4(d) === undefined) {
      report({
        code: 'NET_DNS_INVALID',
        message: `network.dns[${i}] "${d}" is not an IPv4 address: network.dns is also what the DHCP servers hand out (DHCPv4's DNS option, which carries IPv4 addresses only)`,
        hint:
          parseIpv6(d) !== undefined
            ? "Give IPv6 DNS servers to the nodes (`dns:` on a node, a profile or `defaults:`, which the installer takes), or to the site's IPv6 network (`network.ipv6.dns`)."
            : 'Write a dotted quad such as 192.168.122.53.',
        at: ['network', 'dns', i],
      });
    }
  });
}

/** `network.dhcp_range` is `first-last` inside the network, within one /16, without the gateway. */
function checkDhcpRange({ input, report }: RuleContext, { net, gw }: { net: Ipv4Network | undefined; gw: number | undefined }): void {
  const m = splitRange(v4in(input).dhcp_range ?? '');
  const start = m ? parseIpv4(m[0]) : undefined;
  const end = m ? parseIpv4(m[1]) : undefined;
  const at = ['network', 'dhcp_range'] as const;
  if (start === undefined || end === undefined) {
    report({
      code: 'NET_DHCP_RANGE_INVALID',
      message: `network.dhcp_range "${v4in(input).dhcp_range}" is not \`first-last\` with two IPv4 addresses`,
      hint: 'Write it as e.g. `192.168.122.100-192.168.122.200`.',
      at,
    });
  } else if (start > end) {
    report({
      code: 'NET_DHCP_RANGE_INVALID',
      message: `network.dhcp_range starts after it ends (${m![0]} > ${m![1]})`,
      hint: 'Swap the two addresses.',
      at,
    });
  } else if (net && (!inNetwork(start, net) || !inNetwork(end, net) || start === net.address || end === net.broadcast)) {
    report({
      code: 'NET_DHCP_RANGE_INVALID',
      message: `network.dhcp_range ${v4in(input).dhcp_range} is not inside the host addresses of ${v4in(input).cidr}`,
      hint: `Keep the range between ${formatIpv4(net.address + 1)} and ${formatIpv4(net.broadcast - 1)}.`,
      at,
    });
  } else if (Math.floor(start / 65536) !== Math.floor(end / 65536)) {
    // libvirt's network checks a range's size on its last two numbers only and refuses one
    // that crosses a /16 boundary ("range ... is too large"), however few addresses it holds.
    report({
      code: 'NET_DHCP_RANGE_INVALID',
      message: `network.dhcp_range ${v4in(input).dhcp_range} crosses a /16 boundary (${m![0]} and ${m![1]} differ in their first two numbers); libvirt's lab network refuses it`,
      hint: 'Keep the first and last address within one /16, e.g. both 10.0.x.y.',
      at,
    });
  } else if (gw !== undefined && gw >= start && gw <= end) {
    report({
      code: 'NET_DHCP_RANGE_INVALID',
      message: `network.dhcp_range ${v4in(input).dhcp_range} contains the gateway ${v4in(input).gateway}`,
      hint: 'Move the range so that it excludes the gateway.',
      at,
    });
  }
}
