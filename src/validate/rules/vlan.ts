// network.vlans and the nodes on them: each VLAN scope is a network of its own (its gateway,
// boot server address and pool inside it, apart from the native network and the other scopes,
// on an interface of its own), and what the nodes say agrees with it. A node's `vlan` is what
// its iPXE script puts on the installer's kernel line (`vlan=`, `ip=` on the VLAN), what its
// config's `vlan_id` says, and which DHCP scope holds its reservation; its `ip` is what that
// scope reserves and nginx serves its config to. So, once the site declares its VLANs:
//  - a `vlan` no scope serves is refused (the installer would tag a VLAN nobody answers on);
//  - an `ip` of one scope on a node of another VLAN, or of none, is refused (its reservation
//    would be in the wrong scope, its config served to an address it never has);
//  - a node on a scope whose installer cannot tag (a boot NIC no interface names, a boot ISO)
//    is refused: it would ask for its VLAN address untagged.
import { dhcpServerOf } from '../../derive/dhcp-servers/index.ts';
import { mediumOf } from '../../derive/media/index.ts';
import { inNetwork, networksOverlap, parseCidr, parseIpv4, splitRange, unusableNetwork, type Ipv4Network } from '../../util/ipv4.ts';
import { nicNameFor } from '../../derive/harvester/cmdline.ts';
import { clusterScope, nodeAt, scopeOf } from '../../model/index.ts';
import type { ResolvedNode } from '../../model/types.ts';
import type { Rule, RuleContext } from '../rule.ts';

/** The VLAN scopes themselves; each node's VLAN and address against them. */
export const vlanRule: Rule = {
  name: 'vlan',
  codes: ['NET_VLAN_INVALID', 'NODE_VLAN_NO_SCOPE', 'NODE_VLAN_SCOPE_MISMATCH', 'CLUSTER_NETWORKS_SPLIT', 'DHCP_KEA_VLAN_PARENT'],
  check(ctx) {
    const vlans = ctx.input.network.vlans ?? [];
    if (vlans.length === 0) return;
    const nets = checkScopes(ctx);
    for (const node of ctx.model.nodes) checkNode(ctx, node, nets);
    checkOneNetwork(ctx);
  },
};

/**
 * The cluster's nodes share the create node's management network: the VIP (kube-vip) moves
 * between the nodes by ARP on one network, and Harvester promotes any node to management.
 */
function checkOneNetwork({ model, report }: RuleContext): void {
  const creator = model.nodes.find((n) => n.boot === 'harvester' && n.role === 'create');
  if (!creator) return;
  const home = clusterScope(model);
  const name = (s: typeof home) => (s ? `VLAN ${s.id} (${s.cidr})` : `the native network (${model.network.ipv4?.cidr ?? ''})`);
  // A node whose VLAN no scope serves is NODE_VLAN_NO_SCOPE's: it installs on no known network.
  const lost = (n: ResolvedNode) => n.boot === 'harvester' && n.vlan !== undefined && n.vlan > 1 && scopeOf(model, n) === undefined;
  if (lost(creator)) return;
  for (const node of model.nodes) {
    if (node.boot !== 'harvester' || node === creator || lost(node)) continue;
    const own = scopeOf(model, node);
    if (own === home) continue;
    report({
      code: 'CLUSTER_NETWORKS_SPLIT',
      message: `node ${node.hostname} installs on ${name(own)}, the create node ${creator.hostname} on ${name(home)}: the cluster's VIP moves between nodes on one network (kube-vip answers ARP for it), so ${node.hostname} could never hold it`,
      hint: `Put the cluster's nodes on one network: give ${node.hostname} the create node's \`vlan\` (and an address there), or make it a node of another cluster.`,
      node: node.hostname,
      at: nodeAt(node, 'vlan'),
    });
  }
}

/** Each scope's network (undefined where it does not parse), in order. */
function checkScopes(ctx: RuleContext): (Ipv4Network | undefined)[] {
  const vlans = ctx.input.network.vlans ?? [];
  checkSiteAllowsVlans(ctx);
  const seen: SeenScopes = { nets: [], ids: new Map(), ifaces: new Map() };
  for (let k = 0; k < vlans.length; k++) checkScope(ctx, seen, k);
  checkUnknownJoin(ctx);
  checkKeaParent(ctx);
  checkVipMode(ctx);
  return seen.nets;
}

/** What the scopes before the one being checked claimed: networks, IDs and interfaces. */
interface SeenScopes {
  readonly nets: (Ipv4Network | undefined)[];
  readonly ids: Map<number, number>;
  readonly ifaces: Map<string, number>;
}

/** A NET_VLAN_INVALID on one field of `network.vlans[k]`. */
function badScope({ report }: RuleContext, k: number, field: string, message: string, hint: string): void {
  report({ code: 'NET_VLAN_INVALID', message, hint, at: ['network', 'vlans', k, field] });
}

/** The sites that cannot have VLAN scopes: IPv6-only, a proxy DHCP, the libvirt lab. */
function checkSiteAllowsVlans({ input, model, report }: RuleContext): void {
  if (!model.network.ipv4)
    report({
      code: 'NET_VLAN_INVALID',
      message: '`network.vlans` on an IPv6-only network',
      hint: 'Machines PXE-boot on the native network over IPv4 before their installer moves to a VLAN: give the network IPv4 (`cidr`, `gateway`, `dns`, `dhcp_range`).',
      at: ['network', 'vlans'],
      target: 'key',
    });
  if (model.dnsmasq.mode === 'proxy' && dhcpServerOf(model).proxy)
    report({
      code: 'NET_VLAN_INVALID',
      message: '`network.vlans` with a proxy dnsmasq (`dnsmasq.mode: proxy`), which gives no addresses',
      hint: "The VLANs' addresses come from the server that gives this network's: remove `network.vlans` and reserve the nodes' addresses there, or let harvgen's DHCP give them (`dnsmasq.mode: full`).",
      at: ['network', 'vlans'],
      target: 'key',
    });
  if (input.lab !== undefined || model.outputs.lab)
    report({
      code: 'NET_VLAN_INVALID',
      message: '`network.vlans` with the libvirt lab (`outputs.lab`, `lab:`), whose network is one untagged segment',
      hint: 'Build the lab without `network.vlans`, or the VLAN site without the lab outputs.',
      at: ['network', 'vlans'],
      target: 'key',
    });
}

/** Scope k on its own and against the scopes before it; records what it claims in `seen`. */
function checkScope(ctx: RuleContext, seen: SeenScopes, k: number): void {
  const net = scopeNetwork(ctx, k);
  seen.nets.push(net);
  checkScopeIdentity(ctx, seen, k);
  if (net) checkScopeAddresses(ctx, seen.nets, k, net);
}

/** Scope k's network, or undefined (reported) where it does not parse or is too small. */
function scopeNetwork(ctx: RuleContext, k: number): Ipv4Network | undefined {
  const v = ctx.input.network.vlans![k]!;
  const parsed = parseCidr(v.cidr);
  const unusable = parsed.net ? unusableNetwork(parsed.net) : undefined;
  const net = parsed.net && parsed.net.prefix <= 30 && unusable === undefined ? parsed.net : undefined;
  if (!net)
    badScope(
      ctx,
      k,
      'cidr',
      `VLAN ${v.id}: cidr "${v.cidr}" ${parsed.problem ?? unusable ?? `is too small (prefix /${parsed.net?.prefix})`}`,
      "Write the VLAN's network as `a.b.c.d/prefix` (/30 or larger) of unicast addresses, e.g. `10.100.0.0/24`.",
    );
  return net;
}

/** Scope k's ID and interface are its own; its DNS servers are addresses. */
function checkScopeIdentity(ctx: RuleContext, seen: SeenScopes, k: number): void {
  const vlans = ctx.input.network.vlans!;
  const v = vlans[k]!;
  const prev = seen.ids.get(v.id);
  if (prev !== undefined)
    badScope(ctx, k, 'id', `VLAN ${v.id} is listed twice (network.vlans[${prev}] and [${k}])`, 'Give each VLAN one entry.');
  else seen.ids.set(v.id, k);
  const prevIf = seen.ifaces.get(v.interface);
  if (prevIf !== undefined || v.interface === ctx.model.dnsmasq.interface)
    badScope(
      ctx,
      k,
      'interface',
      `VLAN ${v.id}: interface ${v.interface} is also ${prevIf !== undefined ? `VLAN ${vlans[prevIf]!.id}'s` : "the native network's (`dnsmasq.interface`)"}`,
      'Each VLAN reaches the boot server on an interface of its own (e.g. `eth0.100`): the DHCP server tells its scopes apart by the interface a request comes in on.',
    );
  else seen.ifaces.set(v.interface, k);
  (v.dns ?? []).forEach((d, j) => {
    if (parseIpv4(d) === undefined)
      ctx.report({
        code: 'NET_VLAN_INVALID',
        message: `VLAN ${v.id}: DNS server "${d}" is not an IPv4 address`,
        hint: 'Write a dotted quad such as 10.100.0.53.',
        at: ['network', 'vlans', k, 'dns', j],
      });
  });
}

/** A host address of `net` (neither its network nor its broadcast address), or undefined. */
function hostIn(net: Ipv4Network, text: string): number | undefined {
  const a = parseIpv4(text);
  return a !== undefined && inNetwork(a, net) && a !== net.address && a !== net.broadcast ? a : undefined;
}

/** Scope k's gateway and server inside its network, which overlaps no other; then its pool. */
function checkScopeAddresses(ctx: RuleContext, nets: readonly (Ipv4Network | undefined)[], k: number, net: Ipv4Network): void {
  const { input } = ctx;
  const vlans = input.network.vlans!;
  const v = vlans[k]!;
  const hosts = [
    ['gateway', "Use the VLAN's router address inside its network."],
    ['server', "Use the boot server's own address on the VLAN (the address of its interface there): the installers fetch from it."],
  ] as const;
  for (const [key, hint] of hosts)
    if (hostIn(net, v[key]) === undefined) badScope(ctx, k, key, `VLAN ${v.id}: ${key} ${v[key]} is not a host address of ${v.cidr}`, hint);
  const native = input.network.cidr !== undefined ? parseCidr(input.network.cidr).net : undefined;
  if (native && networksOverlap(native, net))
    badScope(
      ctx,
      k,
      'cidr',
      `VLAN ${v.id}: ${v.cidr} overlaps the native network ${input.network.cidr}`,
      'A VLAN is a network of its own: give it a subnet apart from `network.cidr`.',
    );
  nets.slice(0, k).forEach((other, j) => {
    if (other && networksOverlap(other, net))
      badScope(
        ctx,
        k,
        'cidr',
        `VLAN ${v.id}: ${v.cidr} overlaps VLAN ${vlans[j]!.id}'s ${vlans[j]!.cidr}`,
        'Give each VLAN a subnet of its own.',
      );
  });
  if (v.dhcp_range !== undefined) checkScopePool(ctx, k, net, v.dhcp_range);
}

/** Scope k's `dhcp_range`: host addresses, in order, without the server or the gateway. */
function checkScopePool(ctx: RuleContext, k: number, net: Ipv4Network, range: string): void {
  const v = ctx.input.network.vlans![k]!;
  // The native range's form (the network rule): two addresses, nothing else.
  const m = splitRange(range);
  const start = m ? hostIn(net, m[0]) : undefined;
  const end = m ? hostIn(net, m[1]) : undefined;
  const server = hostIn(net, v.server);
  const gw = parseIpv4(v.gateway);
  if (start === undefined || end === undefined || start > end)
    badScope(
      ctx,
      k,
      'dhcp_range',
      `VLAN ${v.id}: dhcp_range "${range}" is not a range \`first-last\` of host addresses of ${v.cidr}`,
      "Write `first-last` inside the VLAN's network, e.g. `10.100.0.100-10.100.0.199`.",
    );
  else if (server !== undefined && server >= start && server <= end)
    badScope(
      ctx,
      k,
      'dhcp_range',
      `VLAN ${v.id}: the server ${v.server} lies inside dhcp_range ${range}`,
      "Keep the boot server's address out of the pool: DHCP could lease it to a machine.",
    );
  else if (gw !== undefined && gw >= start && gw <= end)
    badScope(
      ctx,
      k,
      'dhcp_range',
      `VLAN ${v.id}: dhcp_range ${range} contains the gateway ${v.gateway}`,
      'Move the range so that it excludes the gateway.',
    );
}

/** Unknown machines that would join on a VLAN scope: harvgen knows no NIC of theirs to tag. */
function checkUnknownJoin({ model, report }: RuleContext): void {
  if (model.unknownJoin && scopeOf(model, model.unknownJoin))
    report({
      code: 'NODE_VLAN_SCOPE_MISMATCH',
      message: `unknown machines join on VLAN ${model.unknownJoin.vlan} of \`network.vlans\` (\`boot.unknown: join\`, with \`vlan\` from \`defaults\`): harvgen knows no NIC name of theirs, so their installer cannot tag the VLAN and would install untagged`,
      hint: 'Give each machine a node entry (its MACs and NIC names), or set `boot.unknown: wait`.',
      at: ['boot', 'unknown'],
    });
}

/** A Kea server listening on a VLAN interface and on its parent (older Kea mixes them up). */
function checkKeaParent({ input, model, report }: RuleContext): void {
  const server = dhcpServerOf(model);
  if (!server.vlanOnParent || model.dnsmasq.interface === undefined) return;
  const parent = model.dnsmasq.interface;
  (input.network.vlans ?? []).forEach((v, k) => {
    if (!v.interface.startsWith(`${parent}.`)) return;
    report({
      code: 'DHCP_KEA_VLAN_PARENT',
      message: `Kea listens on ${parent} and on its VLAN interface ${v.interface}: Kea before 3.1.7 (Debian 12 ships 2.2) also reads VLAN ${v.id}'s requests on ${parent}, and may answer them from the native subnet`,
      hint: `Give Kea an interface per network that is no other's parent (a bridge per VLAN, e.g. \`br${v.id}\` over ${v.interface}, or a second NIC), or use Kea 3.1.7 or later, or dnsmasq.`,
      at: ['network', 'vlans', k, 'interface'],
    });
  });
}

/** `vip_mode: dhcp` with the cluster on a VLAN: harvgen reserves the VIP on the native network only. */
function checkVipMode({ model, report }: RuleContext): void {
  const home = clusterScope(model);
  if (model.cluster?.vipMode === 'dhcp' && home)
    report({
      code: 'NET_VLAN_INVALID',
      message: `\`vip_mode: dhcp\` with the cluster on VLAN ${home.id} (network.vlans): harvgen reserves the VIP on the native network only`,
      hint: "Use `vip_mode: static` (the VIP an address of the VLAN's network outside its pool), or reserve the VIP on the VLAN's DHCP server yourself.",
      at: ['cluster', 'vip_mode'],
    });
}

/** One node's `vlan` and `ip` against the scopes. */
function checkNode({ input, model, report }: RuleContext, node: ResolvedNode, nets: readonly (Ipv4Network | undefined)[]): void {
  const vlans = input.network.vlans ?? [];
  const vlan = node.boot === 'harvester' ? node.vlan : undefined;
  const tagged = vlan !== undefined && vlan > 1;
  const scope = scopeOf(model, node);
  if (tagged && !scope) {
    report({
      code: 'NODE_VLAN_NO_SCOPE',
      message: `node ${node.hostname} is on VLAN ${vlan}, which no DHCP scope of \`network.vlans\` serves (${vlans.map((v) => v.id).join(', ')}): its installer would tag VLAN ${vlan} and find no boot server there`,
      hint: `Use the ID of one of the site's VLANs, or add VLAN ${vlan} to \`network.vlans\` (its network, gateway, and the boot server's address and interface on it).`,
      node: node.hostname,
      at: nodeAt(node, 'vlan'),
    });
    return;
  }
  const ip = node.ip !== undefined ? parseIpv4(node.ip) : undefined;
  const inScope = ip !== undefined ? vlans.findIndex((_, k) => nets[k] !== undefined && inNetwork(ip, nets[k]!)) : -1;
  if (inScope >= 0 && vlans[inScope]!.id !== scope?.id) {
    const other = vlans[inScope]!;
    report({
      code: 'NODE_VLAN_SCOPE_MISMATCH',
      message: `ip ${node.ip} of node ${node.hostname} is on VLAN ${other.id}'s network ${other.cidr}, but the node is ${scope ? `on VLAN ${scope.id}` : 'not on it (it boots and installs on the native network)'}`,
      hint:
        node.boot === 'harvester'
          ? `Set \`vlan: ${other.id}\` on the node (its installer then tags VLAN ${other.id} and gets this address there), or give it an address of ${scope ? `VLAN ${scope.id}'s network ${scope.cidr}` : `the native network ${input.network.cidr ?? ''}`}.`
          : `Only Harvester nodes install on a VLAN: give the node an address of the native network ${input.network.cidr ?? ''}.`,
      node: node.hostname,
      at: nodeAt(node, 'ip'),
    });
  }
  if (!scope || node.boot !== 'harvester') return;
  const medium = mediumOf(node);
  if (!medium.tagsVlan) {
    report({
      code: 'NODE_VLAN_SCOPE_MISMATCH',
      message: `node ${node.hostname} boots from a ${medium.image?.title ?? 'medium'} on VLAN ${scope.id} of \`network.vlans\`: the image and its installer reach the boot server untagged, at boot.server, not at the VLAN's ${scope.server}`,
      hint: 'Boot it over the network (`medium: network`), or take it off the VLAN scope (remove `network.vlans`: the installed system still tags the VLAN as its config says).',
      node: node.hostname,
      at: nodeAt(node, 'medium'),
    });
    return;
  }
  if (node.ip === undefined && scope.dhcpStart === undefined)
    report({
      code: 'NODE_VLAN_SCOPE_MISMATCH',
      message: `node ${node.hostname} is on VLAN ${scope.id}, which has no pool (\`dhcp_range\`), and has no \`ip\`: its installer would get no address there`,
      hint: `Give the node an address of ${scope.cidr} (\`ip\`, reserved in the VLAN's scope), or give VLAN ${scope.id} a \`dhcp_range\`.`,
      node: node.hostname,
      at: nodeAt(node, 'vlan'),
    });
  const unnamed = node.macs.filter((mac) => nicNameFor(node, mac) === undefined);
  if (unnamed.length > 0)
    report({
      code: 'NODE_VLAN_SCOPE_MISMATCH',
      message: `node ${node.hostname} is on VLAN ${scope.id} of \`network.vlans\`, but no interface names its boot NIC ${unnamed.join(', ')}: its installer cannot tag the VLAN, and would ask for its address (${node.ip ?? 'from the VLAN'}) untagged`,
      hint: 'Name the boot NIC (`interfaces: [{ name: <nic>, mac: <boot MAC> }]`, the name the installed system gives it): the installer then brings the VLAN up on it.',
      node: node.hostname,
      at: nodeAt(node, 'vlan'),
    });
}
