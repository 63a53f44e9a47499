// network.ipv6 and the nodes' ip6: the IPv6 prefix, pool, DNS servers and boot server address
// are coherent; a node's ip6 is a free address of the prefix; and what cannot work over IPv6 is
// refused with the reason: a Harvester node needs IPv4 (its installer config has no IPv6 field),
// and on an IPv6-only network so does everything that writes an IPv4 address (a static address,
// an iSCSI portal, a boot ISO, the libvirt lab), as do the DHCP forms that have no DHCPv6 here.
import { DHCP_SERVERS, dhcpServerOf } from '../../derive/dhcp-servers/index.ts';
import { mediumOf } from '../../derive/media/index.ts';
import { parseIpv4 } from '../../util/ipv4.ts';
import { checkIpv6, formatIpv6, inNetwork6, parseCidr6, reservation6, type Ipv6Network } from '../../util/ipv6.ts';
import { nodeAt } from '../../model/index.ts';
import type { ResolvedNode } from '../../model/types.ts';
import type { Finding, Rule, RuleContext } from '../rule.ts';

/** Shortest and longest prefix a DHCPv6 range and router advertisement take here (dnsmasq's minimum is 64). */
const MIN_PREFIX = 64;
const MAX_PREFIX = 120;

/** `network.ipv6` itself; the nodes' ip6; what needs IPv4 where there is none. */
export const ipv6Rule: Rule = {
  name: 'ipv6',
  codes: [
    'NET_IPV6_INVALID',
    'NODE_IP6_INVALID',
    'NODE_IPV6_HARVESTER',
    'NET_IPV6_ONLY_UNSUPPORTED',
    'DHCP_IPV6_UNSUPPORTED',
    'BOOT_HTTP_IPV6_DNSMASQ',
  ],
  check(ctx) {
    const facts = checkNetwork(ctx);
    checkDhcpForms(ctx);
    checkSiteNeedsIpv4(ctx);
    const seen = new Map<string, string>();
    for (const node of ctx.model.nodes) {
      checkNodeIp6(ctx, node, facts, seen);
      checkNodeNeedsIpv4(ctx, node);
    }
    checkHarvesterUrls(ctx);
    if (ctx.model.unknownJoin && !ctx.model.network.ipv4) {
      ctx.report({
        code: 'NODE_IPV6_HARVESTER',
        message: 'unknown machines install Harvester (`boot.unknown: join`) on an IPv6-only network',
        hint: "Harvester's installer config has no IPv6 fields (through v1.9): give the network IPv4 (`cidr`, `gateway`, `dns`, `dhcp_range`) or set `boot.unknown: wait`.",
        at: ['boot', 'unknown'],
      });
    }
  },
};

/** The host of a URL is an IPv6 address (in brackets). */
function ipv6Host(url: string | undefined): boolean {
  if (url === undefined) return false;
  try {
    return new URL(url).hostname.startsWith('[');
  } catch {
    return false;
  }
}

/** Harvester installs over IPv4: the URLs its installer fetches cannot name an IPv6 address. */
function checkHarvesterUrls({ input, model, report }: RuleContext): void {
  if (!model.network.ipv4) return; // an IPv6-only network refuses every Harvester node itself
  if (!model.unknownJoin && !model.nodes.some((n) => n.boot === 'harvester')) return;
  const urls: [string | undefined, Finding['at']][] = [
    [input.boot.server, ['boot', 'server']],
    [input.harvester?.artifacts, ['harvester', 'artifacts']],
    [input.harvester?.iso_url, ['harvester', 'iso_url']],
  ];
  for (const [url, at] of urls) {
    if (!ipv6Host(url)) continue;
    report({
      code: 'NODE_IPV6_HARVESTER',
      message: `${at!.join('.')} ${url} names an IPv6 address, which the Harvester nodes' installer cannot reach`,
      hint: "Harvester's installer config has no IPv6 fields (through v1.9): it fetches its files over IPv4. Name the server by its IPv4 address (and give `network.ipv6.server` for IPv6 clients), or by a name with A and AAAA records.",
      at,
    });
  }
}

/** What the node checks use: the prefix and the pool, when they parse. */
interface Ipv6Facts {
  readonly net?: Ipv6Network;
  readonly start?: bigint;
  readonly end?: bigint;
  readonly server?: bigint;
}

/** One IPv6 address value: canonical, else a finding with the canonical spelling. */
function address6(
  text: string,
  where: string,
  at: Finding['at'],
  report: RuleContext['report'],
  code: Finding['code'],
): bigint | undefined {
  const { value, canonical } = checkIpv6(text);
  if (value !== undefined) return value;
  report({
    code,
    message: `${where} "${text}" ${canonical !== undefined ? 'is not written in the canonical form' : 'is not an IPv6 address'}`,
    hint:
      canonical !== undefined
        ? `Write \`${canonical}\`: lower case, leading zeros dropped, the longest run of zero groups as \`::\` (one spelling per address, as the generated files compare them).`
        : 'Write an IPv6 address such as `fd00:10::20`, without a zone (`%eth0`) or an embedded IPv4 address.',
    at,
  });
  return undefined;
}

/** `network.ipv6`: prefix, range, DNS, server. */
function checkNetwork(ctx: RuleContext): Ipv6Facts {
  const { input, report } = ctx;
  const v6 = input.network.ipv6;
  if (!v6) return {};
  const code = 'NET_IPV6_INVALID';
  const { net, problem } = parseCidr6(v6.prefix);
  if (!net) {
    report({
      code,
      message: `network.ipv6.prefix "${v6.prefix}" ${problem}`,
      hint: 'Write the network as `<address>/<length>`, e.g. `fd00:10::/64`.',
      at: ['network', 'ipv6', 'prefix'],
    });
  } else if (net.prefix < MIN_PREFIX || net.prefix > MAX_PREFIX) {
    report({
      code,
      message: `network.ipv6.prefix ${v6.prefix} has a length of ${net.prefix}, outside ${MIN_PREFIX}-${MAX_PREFIX}`,
      hint: `Give the prefix of the segment the machines boot on (a /${MIN_PREFIX} as a rule): dnsmasq serves no DHCPv6 range on a shorter one.`,
      at: ['network', 'ipv6', 'prefix'],
    });
  }
  const inside = net && net.prefix >= MIN_PREFIX && net.prefix <= MAX_PREFIX ? net : undefined;
  const m = /^\s*([^-\s]+)\s*-\s*([^-\s]+)\s*$/.exec(v6.dhcp_range);
  const rangeAt = ['network', 'ipv6', 'dhcp_range'] as const;
  let start: bigint | undefined;
  let end: bigint | undefined;
  if (!m) {
    report({
      code,
      message: `network.ipv6.dhcp_range "${v6.dhcp_range}" is not \`first-last\``,
      hint: 'Write it as e.g. `fd00:10::1000-fd00:10::1fff`.',
      at: rangeAt,
    });
  } else {
    start = address6(m[1]!, 'the first address of network.ipv6.dhcp_range', rangeAt, report, code);
    end = address6(m[2]!, 'the last address of network.ipv6.dhcp_range', rangeAt, report, code);
    if (start !== undefined && end !== undefined && start > end) {
      report({
        code,
        message: `network.ipv6.dhcp_range starts after it ends (${m[1]} > ${m[2]})`,
        hint: 'Swap the two addresses.',
        at: rangeAt,
      });
      start = end = undefined;
    } else if (start !== undefined && end !== undefined && inside && (!inNetwork6(start, inside) || !inNetwork6(end, inside))) {
      report({
        code,
        message: `network.ipv6.dhcp_range ${v6.dhcp_range} is not inside network.ipv6.prefix ${v6.prefix}`,
        hint: 'Give a pool of the prefix the machines boot on.',
        at: rangeAt,
      });
    }
  }
  (v6.dns ?? []).forEach((d, i) => address6(d, `network.ipv6.dns[${i}]`, ['network', 'ipv6', 'dns', i], report, code));
  const server = checkServer(ctx, inside, start, end);
  return {
    ...(inside ? { net: inside } : {}),
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end } : {}),
    ...(server !== undefined ? { server } : {}),
  };
}

/** The boot server's IPv6 address: given or boot.server's host, inside the prefix (firmware reaches it with no router). */
function checkServer(
  { input, model, report }: RuleContext,
  net: Ipv6Network | undefined,
  start: bigint | undefined,
  end: bigint | undefined,
): bigint | undefined {
  const v6 = input.network.ipv6!;
  const code = 'NET_IPV6_INVALID';
  const host = model.boot.host.replace(/^\[|\]$/g, '');
  // An IPv4 boot.server on an IPv6-only network: said once, whether network.ipv6.server is given or not.
  if (!model.network.ipv4 && parseIpv4(host) !== undefined) {
    report({
      code,
      message: `boot.server ${model.boot.server} names an IPv4 address, which machines on an IPv6-only network cannot reach`,
      hint: `Name the boot server by its IPv6 address, e.g. \`server: http://[${v6.server ?? 'fd00:10::1'}]\`.`,
      at: ['boot', 'server'],
    });
    if (v6.server === undefined) return undefined;
  } else if (v6.server === undefined && model.network.ipv6?.server === '') {
    report({
      code,
      message: `network.ipv6 has no \`server\`, and boot.server ${model.boot.server} does not name an IPv6 address`,
      hint: "Add `server:` to network.ipv6, the boot server's IPv6 address on this network (DHCPv6 sends firmware `tftp://[<server>]/...`, which has no DNS).",
      at: ['network', 'ipv6'],
    });
    return undefined;
  }
  const text = v6.server ?? host;
  const at = v6.server !== undefined ? (['network', 'ipv6', 'server'] as const) : (['boot', 'server'] as const);
  const server = address6(text, v6.server !== undefined ? 'network.ipv6.server' : "boot.server's host", at, report, code);
  if (server !== undefined && net && !inNetwork6(server, net)) {
    report({
      code,
      message: `the boot server's IPv6 address ${text} is outside network.ipv6.prefix ${v6.prefix}`,
      hint: 'Give its address on the segment the machines boot on: firmware fetches iPXE from it before any route exists.',
      at,
    });
  }
  if (server !== undefined && start !== undefined && end !== undefined && server >= start && server <= end) {
    report({
      code,
      message: `the boot server's IPv6 address ${text} lies inside the DHCPv6 pool ${v6.dhcp_range}`,
      hint: "Move the pool or the server apart: DHCPv6 could give the server's address to a machine.",
      at,
    });
  }
  return server;
}

/** The DHCP forms that answer DHCPv6 here: dnsmasq (not as a proxy) and Kea (with an interface). */
function checkDhcpForms({ input, model, report }: RuleContext): void {
  if (!model.network.ipv6) return;
  const code = 'DHCP_IPV6_UNSUPPORTED';
  const server = dhcpServerOf(model);
  if (server.ipv6 === 'no') {
    const able = Object.values(DHCP_SERVERS).filter((s) => s.ipv6 !== 'no');
    report({
      code,
      message: `network.ipv6 with \`dhcp.server: ${server.name}\`: harvgen writes no ${server.title} DHCPv6 config`,
      hint: `Use ${able.map((s) => `\`dhcp.server: ${s.name}\``).join(' or ')} (DHCPv6), or remove network.ipv6.`,
      at: input.dhcp?.server !== undefined ? ['dhcp', 'server'] : ['network', 'ipv6'],
    });
  }
  if (server.proxy && model.dnsmasq.mode === 'proxy') {
    report({
      code,
      message: 'network.ipv6 with `dnsmasq.mode: proxy`: a proxy answers DHCPv4 PXE only',
      hint: 'Let this dnsmasq be the DHCP server of the network (`dnsmasq.mode: server`), or remove network.ipv6.',
      at: ['dnsmasq', 'mode'],
    });
  }
  if (server.ipv6 === 'named' && (model.dnsmasq.interface === undefined || model.dnsmasq.interface.includes('*'))) {
    report({
      code,
      message: `network.ipv6 with \`dhcp.server: ${server.name}\` needs the interface ${server.title} serves it on`,
      hint: `Set \`dnsmasq.interface\` to the interface's name (e.g. \`eth1\`): ${server.title} picks a directly connected DHCPv6 client's subnet by the interface its request came in on (the client's own address is link-local).`,
      at: input.dnsmasq?.interface !== undefined ? ['dnsmasq', 'interface'] : ['dhcp', 'server'],
    });
  }
  if (model.nginx.fileKey !== undefined) {
    report({
      code,
      message: 'network.ipv6 with `nginx.file_key`: DHCPv6 would send every iPXE the entry script, which cannot name keyed scripts',
      hint: 'Remove `nginx.file_key` or network.ipv6.',
      at: ['nginx', 'file_key'],
    });
  }
  if (model.boot.httpBoot && server.ipv6 !== 'no' && !server.httpBootV6) {
    const able = Object.values(DHCP_SERVERS).filter((s) => s.httpBootV6);
    report({
      code: 'BOOT_HTTP_IPV6_DNSMASQ',
      message: `UEFI HTTP boot over IPv6 gets no answer from ${server.title} (\`boot.http_boot\` with network.ipv6)`,
      hint: `UEFI firmware takes an HTTP boot offer over IPv6 only with its vendor class echoed under enterprise number 343, which ${server.title} cannot send. Such machines boot over IPv4, or by PXE over IPv6; use ${able.map((s) => `\`dhcp.server: ${s.name}\``).join(' or ')} for HTTP boot over IPv6.`,
      at: ['boot', 'http_boot'],
    });
  }
}

/** Site settings that write an IPv4 address, on an IPv6-only network. */
function checkSiteNeedsIpv4({ input, model, report }: RuleContext): void {
  if (model.network.ipv4 || !model.network.ipv6) return;
  const refuse = (what: string, at: Finding['at']) =>
    report({
      code: 'NET_IPV6_ONLY_UNSUPPORTED',
      message: `${what} on an IPv6-only network (no \`network.cidr\`)`,
      hint: 'It needs IPv4: give the network its IPv4 keys (`cidr`, `gateway`, `dns`, `dhcp_range`) too, or remove it.',
      at,
    });
  if (input.lab !== undefined || model.outputs.lab)
    refuse('the libvirt lab files (its network is IPv4)', input.lab !== undefined ? ['lab'] : ['outputs', 'lab']);
  if (input.cluster !== undefined) refuse('`cluster:` (its VIP is IPv4)', ['cluster']);
}

/** A node's ip6: canonical, inside the prefix, outside the pool, not the server's, unique; Harvester nodes have none. */
function checkNodeIp6({ input, report }: RuleContext, node: ResolvedNode, facts: Ipv6Facts, seen: Map<string, string>): void {
  if (node.ip6 === undefined) return;
  const at = ['nodes', node.index, 'ip6'];
  const code = 'NODE_IP6_INVALID';
  if (!input.network.ipv6) {
    report({
      code,
      node: node.hostname,
      message: `node ${node.hostname} has an ip6 but the network has no IPv6`,
      hint: 'Add `network.ipv6` (its prefix and DHCPv6 pool), or remove `ip6`.',
      at,
    });
    return;
  }
  if (node.boot === 'harvester') {
    report({
      code: 'NODE_IPV6_HARVESTER',
      node: node.hostname,
      message: `Harvester node ${node.hostname} has an ip6`,
      hint: "Harvester's installer config has no IPv6 fields (through v1.9): the node installs and runs over IPv4 (`ip`). Remove `ip6`.",
      at,
    });
    return;
  }
  const ip6 = address6(node.ip6, `ip6 of node ${node.hostname}`, at, report, code);
  const block = ip6 !== undefined ? reservation6(node.ip6) : undefined;
  if (ip6 === undefined || !block) return;
  // The reservation is the /126 block around ip6 (one address per boot stage): all of it must be free.
  const span = `the reservation ${block.cidr} (the /126 around ip6 ${node.ip6}) of node ${node.hostname}`;
  const bad = (message: string, hint: string) => report({ code, node: node.hostname, message, hint, at });
  const v6 = input.network.ipv6;
  if (facts.net && !inNetwork6(ip6, facts.net))
    bad(`ip6 ${node.ip6} of node ${node.hostname} is outside network.ipv6.prefix ${v6.prefix}`, 'Give the node an address of the prefix.');
  else if (facts.net && block.first === facts.net.address)
    bad(
      `${span} holds the prefix's own address ${formatIpv6(facts.net.address)} (the subnet-router anycast address)`,
      'Give the node an address past the first four of the prefix.',
    );
  else if (facts.start !== undefined && facts.end !== undefined && block.first <= facts.end && block.last >= facts.start)
    bad(
      `${span} overlaps the DHCPv6 pool ${v6.dhcp_range}`,
      'Use an address whose /126 block lies outside the pool: DHCPv6 could give those addresses to other machines.',
    );
  else if (facts.server !== undefined && facts.server >= block.first && facts.server <= block.last)
    bad(`${span} holds the boot server's address`, "Give the node an address whose /126 block does not hold the server's.");
  const other = seen.get(block.cidr);
  if (other !== undefined)
    bad(`${span} is also node ${other}'s`, 'Give each node an address of its own /126 block (4 addresses apart, e.g. ::10, ::14, ::18).');
  else seen.set(block.cidr, node.hostname);
}

/** On an IPv6-only network: a node setting that writes an IPv4 address, and every Harvester node. */
function checkNodeNeedsIpv4({ model, report }: RuleContext, node: ResolvedNode): void {
  if (model.network.ipv4 || !model.network.ipv6) return;
  if (node.boot === 'harvester') {
    report({
      code: 'NODE_IPV6_HARVESTER',
      node: node.hostname,
      message: `Harvester node ${node.hostname} is on an IPv6-only network`,
      hint: "Harvester's installer config has no IPv6 fields (through v1.9: one IPv4 address, mask and gateway), so it cannot install here. Give the network IPv4 (`cidr`, `gateway`, `dns`, `dhcp_range`): a dual-stack site installs Harvester over IPv4 and boots other nodes over both.",
      at: ['nodes', node.index],
    });
    return;
  }
  const refuse = (what: string, at: Finding['at']) =>
    report({
      code: 'NET_IPV6_ONLY_UNSUPPORTED',
      node: node.hostname,
      message: `node ${node.hostname}: ${what} on an IPv6-only network (no \`network.cidr\`)`,
      hint: 'It needs IPv4. On an IPv6-only network a node gets its address from DHCPv6 (give it an `ip6` to reserve one).',
      at,
    });
  if (node.ip !== undefined) refuse('`ip` is an IPv4 address', ['nodes', node.index, 'ip']);
  if (node.method === 'static') refuse('`method: static` sets an IPv4 address', nodeAt(node, 'method'));
  if (node.boot === 'iscsi') refuse('an iSCSI portal (`iscsi.server`) is IPv4', nodeAt(node, 'iscsi.server'));
  if (!mediumOf(node).ipv6)
    refuse(`a ${mediumOf(node).image?.title ?? 'boot medium'} (\`medium: ${node.medium}\`) sets an IPv4 address`, nodeAt(node, 'medium'));
  if (node.arch === 'arm64') refuse('arm64 firmware gets no iPXE over DHCPv6 (harvgen answers x86-64 UEFI there)', nodeAt(node, 'arch'));
}
