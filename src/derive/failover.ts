// Two boot servers for one site (`failover:`, docs/failover.md): what each one's files are made of.
// Both serve the same tree; keepalived (VRRP) holds the shared address (`boot.server`'s host) on
// the one whose nginx answers, and DHCP fails over as its server's declaration says
// (src/derive/dhcp-servers/: `failover`). The rule (src/validate/rules/failover.ts) and render
// (src/render/failover.ts) read the same functions.
import type { FailoverServer, SiteFailover, SiteModel } from '../model/index.ts';
import { formatIpv4, inNetwork, parseCidr, parseIpv4, type Ipv4Network } from '../util/ipv4.ts';
import { dhcpServerOf } from './dhcp-servers/index.ts';
import { LAYOUT } from './layout.ts';

/** What a problem with the failover section says, and where. */
export interface FailoverProblem {
  readonly code: 'FAILOVER_SHARED_ADDRESS' | 'FAILOVER_SERVER_ADDRESS' | 'FAILOVER_INTERFACE' | 'FAILOVER_UNSUPPORTED';
  readonly message: string;
  readonly hint: string;
  readonly at: readonly (string | number)[];
}

/** The site's failover problems (none: its files can be written). */
export function failoverProblems(model: SiteModel, nodeAddresses: readonly string[]): FailoverProblem[] {
  const f = model.failover;
  if (!f) return [];
  const use = networkUse(model, nodeAddresses);
  return [
    ...unsupportedSite(model),
    ...interfaceProblems(model, f),
    ...listenProblems(model),
    ...sharedAddressProblems(use, f),
    ...serverAddressProblems(use, f),
    ...nextServerProblems(model, f),
  ];
}

/** What the nodes' network already gives out, which a failover address must keep clear of. */
interface NetworkUse {
  readonly v4: SiteModel['network']['ipv4'];
  readonly net: Ipv4Network | undefined;
  readonly inPool: (ip: number) => boolean;
  /** Addresses the network already gives another job: the gateway, DNS servers, the cluster's VIP. */
  readonly taken: ReadonlyMap<string, string>;
  readonly nodes: ReadonlySet<string>;
}

/** The site's network, pool, reserved addresses and node addresses. */
function networkUse(model: SiteModel, nodeAddresses: readonly string[]): NetworkUse {
  const v4 = model.network.ipv4;
  const start = v4?.dhcpStart !== undefined ? parseIpv4(v4.dhcpStart) : undefined;
  const end = v4?.dhcpEnd !== undefined ? parseIpv4(v4.dhcpEnd) : undefined;
  return {
    v4,
    net: v4 ? parseCidr(v4.cidr).net : undefined,
    inPool: (ip) => start !== undefined && end !== undefined && ip >= start && ip <= end,
    taken: new Map<string, string>([
      ...(v4 ? [[v4.gateway, 'the gateway (network.gateway)'] as const] : []),
      ...(v4?.dns ?? []).map((d) => [d, 'a DNS server (network.dns)'] as const),
      ...(model.cluster ? [[model.cluster.vip, "the cluster's VIP (cluster.vip)"] as const] : []),
    ]),
    nodes: new Set(nodeAddresses),
  };
}

/** Why `ip` is no host address of the network (undefined: it is one, or the network is unknown). */
function outsideProblem({ net, v4 }: NetworkUse, ip: number): string | undefined {
  if (net === undefined) return undefined;
  if (!inNetwork(ip, net)) return `is outside network.cidr ${v4?.cidr}`;
  if (ip === net.address || ip === net.broadcast) return `is the network's ${ip === net.address ? 'network' : 'broadcast'} address`;
  return undefined;
}

/** Why `address` is not free (undefined: it is): another job's, the pool's, or a node's. */
function takenProblem({ taken, inPool, nodes, v4 }: NetworkUse, address: string, ip: number): string | undefined {
  if (taken.has(address)) return `is ${taken.get(address)}`;
  if (inPool(ip)) return `is in the DHCP pool ${v4?.dhcpStart}-${v4?.dhcpEnd}`;
  if (nodes.has(address)) return "is a node's address";
  return undefined;
}

/** A FAILOVER_UNSUPPORTED problem. */
function unsupported(message: string, hint: string, at: readonly (string | number)[]): FailoverProblem {
  return { code: 'FAILOVER_UNSUPPORTED', message, hint, at };
}

/** The site features failover has no config for yet: its DHCP server's, IPv6, VLANs. */
function unsupportedSite(model: SiteModel): FailoverProblem[] {
  const out: FailoverProblem[] = [];
  const dhcp = dhcpServerOf(model);
  if (model.outputs.dhcp && dhcp.failover === undefined)
    out.push(
      unsupported(
        `failover: harvgen writes no failover config for ${dhcp.title}`,
        'Use `dhcp.server: kea` (its high-availability hook) or `dnsmasq` (two with halves of the pool), or turn the DHCP files off (`outputs: { dhcp: false }`) and fail your DHCP over yourself.',
        ['dhcp', 'server'],
      ),
    );
  if (model.network.ipv6)
    out.push(
      unsupported(
        'failover: a site with `network.ipv6` is not supported yet (the DHCPv6 side has no failover config)',
        'Remove `failover:` or `network.ipv6`.',
        ['network', 'ipv6'],
      ),
    );
  if (model.network.vlans.length > 0)
    out.push(
      unsupported(
        'failover: a site with `network.vlans` is not supported yet (the VLAN scopes have no failover config)',
        'Remove `failover:` or `network.vlans`.',
        ['network', 'vlans'],
      ),
    );
  return out;
}

/** failover.interface is an interface name, and the one the DHCP server listens on. */
function interfaceProblems(model: SiteModel, f: SiteFailover): FailoverProblem[] {
  const out: FailoverProblem[] = [];
  // An address where the interface's name belongs (the server's own address, most likely): Linux
  // would take it for a name, and keepalived finds no such interface on either server.
  if (parseIpv4(f.interface) !== undefined)
    out.push({
      code: 'FAILOVER_INTERFACE',
      message: `failover.interface ${f.interface} is an address, not an interface name: keepalived holds the shared address on the interface of that name, which neither server has`,
      hint: "Give the name of the servers' interface on the nodes' network, the same on both (`ip -brief address` on a server lists each interface with its addresses), e.g. `interface: eno1`.",
      at: ['failover', 'interface'],
    });
  // Each server's DHCP listens where keepalived holds the shared address: failover.interface.
  const dhcpIface = model.dnsmasq.interface;
  if (model.outputs.dhcp && dhcpIface !== undefined && dhcpIface !== f.interface)
    out.push({
      code: 'FAILOVER_INTERFACE',
      message: `dnsmasq.interface ${dhcpIface} is not failover.interface ${f.interface}: each server's DHCP server listens on failover.interface, where the nodes and the shared address are`,
      hint: `Remove \`dnsmasq.interface\` (with failover: it is failover.interface), or give both the same name (\`${f.interface}\`).`,
      at: ['dnsmasq', 'interface'],
    });
  return out;
}

/** nginx listens on every address (either server may hold the shared one) at boot.server's port. */
function listenProblems(model: SiteModel): FailoverProblem[] {
  const listen = model.nginx.listen;
  const port = String(model.boot.port);
  const listenPort = /^(?:\*:)?([0-9]+)$/.exec(listen)?.[1];
  if (listenPort === undefined)
    return [
      unsupported(
        `failover: nginx.listen ${listen} names an address, which only one of the servers has at a time`,
        'Remove `nginx.listen` (nginx then listens on every address of the port), or give `*:<port>`.',
        ['nginx', 'listen'],
      ),
    ];
  if (listenPort !== port)
    return [
      unsupported(
        `failover: nginx.listen ${listen} is not boot.server's port ${port}: keepalived's check asks each server at boot.server's port`,
        'Remove `nginx.listen`, or give `*:<port of boot.server>`.',
        ['nginx', 'listen'],
      ),
    ];
  return [];
}

/** The shared address (boot.server's host) is a free host address of the nodes' network. */
function sharedAddressProblems(use: NetworkUse, f: SiteFailover): FailoverProblem[] {
  const problem = sharedAddressProblem(use, f);
  if (!problem) return [];
  return [
    {
      code: 'FAILOVER_SHARED_ADDRESS',
      message: problem,
      hint: "Name the boot server by an address of its own on the nodes' network, outside the pool, that neither server has: `boot.server: http://<shared address>`.",
      at: ['boot', 'server'],
    },
  ];
}

/** What is wrong with the shared address (undefined: nothing). */
function sharedAddressProblem(use: NetworkUse, f: SiteFailover): string | undefined {
  const shared = parseIpv4(f.shared);
  const of = `boot.server's host ${f.shared}`;
  if (shared === undefined || use.v4 === undefined)
    return `${of} is not an IPv4 address: with failover it is the shared address keepalived moves`;
  if (use.net !== undefined && !inNetwork(shared, use.net))
    return `${of} is outside network.cidr ${use.v4.cidr}: keepalived holds the shared address on the nodes' network`;
  const problem = outsideProblem(use, shared) ?? takenProblem(use, f.shared, shared);
  return problem === undefined ? undefined : `${of} ${problem}`;
}

/** Each server has a name and a free host address of the nodes' network of its own. */
function serverAddressProblems(use: NetworkUse, f: SiteFailover): FailoverProblem[] {
  const out: FailoverProblem[] = [];
  const seen = new Map<string, number>();
  f.servers.forEach((s, i) => {
    const problem = serverAddressProblem(use, f, s, seen);
    seen.set(s.address, i);
    const named = problem === undefined && f.servers.findIndex((o) => o.name === s.name) !== i;
    if (problem || named)
      out.push({
        code: 'FAILOVER_SERVER_ADDRESS',
        message: problem ?? `two failover servers are named ${s.name}: each server's files are in failover/<name>/`,
        hint: "Give each server its own name and its own address on the nodes' network: inside network.cidr, outside the pool, not the shared address, the gateway, a DNS server, the cluster's VIP nor a node's.",
        at: ['failover', 'servers', i, named ? 'name' : 'address'],
      });
  });
  return out;
}

/** What is wrong with one server's address (undefined: nothing), given the addresses of the servers before it. */
function serverAddressProblem(use: NetworkUse, f: SiteFailover, s: FailoverServer, seen: ReadonlyMap<string, number>): string | undefined {
  const ip = parseIpv4(s.address);
  const of = `failover server ${s.name}'s address ${s.address}`;
  if (ip === undefined) return `${of} is not an IPv4 address`;
  const outside = outsideProblem(use, ip);
  if (outside !== undefined) return `${of} ${outside}`;
  if (s.address === f.shared)
    return `${of} is the shared address (boot.server's host): keepalived moves the shared address between the servers, so each needs one of its own besides it (if ${s.address} is ${s.name}'s own, give boot.server a free address of the network as the shared one)`;
  const taken = takenProblem(use, s.address, ip);
  if (taken !== undefined) return `${of} ${taken}`;
  if (seen.has(s.address))
    return `failover servers ${f.servers[seen.get(s.address)!]!.name} and ${s.name} have the same address ${s.address}`;
  return undefined;
}

/** TFTP (firmware PXE) from one server's own address would not fail over. */
function nextServerProblems(model: SiteModel, f: SiteFailover): FailoverProblem[] {
  // A next_server that is the shared address (boot.server's host, what it is unless written) is
  // the shared address's problem, reported at boot.server when a server has it: not a second one here.
  const next = model.dhcp.nextServer;
  const owner = next !== undefined && next !== f.shared ? f.servers.find((s) => s.address === next) : undefined;
  if (!owner) return [];
  return [
    {
      code: 'FAILOVER_SHARED_ADDRESS',
      message: `dhcp.next_server ${next} is ${owner.name}'s own address: firmware PXE would get iPXE from it alone, and not at all while it is down`,
      hint: `Name the shared address (\`dhcp.next_server: ${f.shared}\`) and run the TFTP server on both servers.`,
      at: ['dhcp', 'next_server'],
    },
  ];
}

/** A server's half of the DHCP pool (the primary the lower half); undefined: no pool, or none left for it. */
export function poolOf(model: SiteModel, server: FailoverServer): { start: string; end: string } | undefined {
  const v4 = model.network.ipv4;
  const start = v4?.dhcpStart !== undefined ? parseIpv4(v4.dhcpStart) : undefined;
  const end = v4?.dhcpEnd !== undefined ? parseIpv4(v4.dhcpEnd) : undefined;
  if (start === undefined || end === undefined || end < start) return undefined;
  const half = Math.ceil((end - start + 1) / 2);
  const [a, b] = server.role === 'primary' ? [start, start + half - 1] : [start + half, end];
  return b >= a ? { start: formatIpv4(a), end: formatIpv4(b) } : undefined;
}

/** Where each server's check.sh is installed: keepalived.conf runs it from there. */
export const CHECK_SCRIPT = '/etc/keepalived/harvgen-check.sh';
/** The query parameter each server's check.sh names itself with when it asks through the shared address (`status` reads it: src/status/holders.ts). */
export const HOLDER_PARAM = 'harvgen-holder';
/**
 * `<SHA-512 list>.verified` beside a release's files: a line `<size> <name>` for each file checked
 * against the list. artifacts/fetch.sh writes it (templates/fetch.sh.eta) after `sha512sum --check`,
 * `harvgen pull` after placing the files its signed provenance gives (verifiedText); each server's
 * check.sh compares nginx's answers with it.
 */
export const VERIFIED_SUFFIX = '.verified';

/** The text of a `<list>.verified` for `files` (the list itself left out). */
export function verifiedText(files: readonly { readonly name: string; readonly size: number }[], list: string): string {
  return files
    .filter((f) => f.name !== list)
    .map((f) => `${f.size} ${f.name}\n`)
    .join('');
}

/** Where each server's notify.sh is installed (with the site's DHCP files): keepalived.conf runs it at each change of state. */
export const NOTIFY_SCRIPT = '/etc/keepalived/harvgen-notify.sh';

/** The files of each server: its keepalived.conf, its check, its nftables rules and, where its DHCP server has one, its DHCP config and the notify script that runs it only while the server can install a node. */
export function failoverFiles(
  model: SiteModel,
): { readonly path: string; readonly server: FailoverServer; readonly kind: 'keepalived' | 'check' | 'nftables' | 'notify' | 'dhcp' }[] {
  const f = model.failover;
  if (!f) return [];
  const dhcp = model.outputs.dhcp ? dhcpServerOf(model).failover : undefined;
  return f.servers.flatMap((server) => [
    { path: LAYOUT.failover(server.name, 'keepalived.conf'), server, kind: 'keepalived' as const },
    { path: LAYOUT.failover(server.name, 'check.sh'), server, kind: 'check' as const },
    { path: LAYOUT.failover(server.name, 'nftables.conf'), server, kind: 'nftables' as const },
    ...(dhcp
      ? [
          { path: LAYOUT.failover(server.name, dhcp.file), server, kind: 'dhcp' as const },
          { path: LAYOUT.failover(server.name, 'notify.sh'), server, kind: 'notify' as const },
        ]
      : []),
  ]);
}

/** The other server of the pair. */
export const peerOf = (f: SiteFailover, server: FailoverServer): FailoverServer => f.servers.find((s) => s !== server)!;

/** `address`'s origin on boot.server's scheme and port (`http://10.20.0.6:8080`). */
function originAt(model: SiteModel, address: string): string {
  const u = new URL(model.boot.server);
  return `${u.protocol}//${address}${u.port ? `:${u.port}` : ''}`;
}

/**
 * What a node's iPXE scripts try, in order, for every file of the boot server: the shared
 * address, then each server's own (origins, no path). The iPXE stage does not depend on the
 * shared address alone: when both servers hold it (they cannot hear each other) iPXE's
 * connections to it are reset, and a server that fails leaves its own address dead.
 */
export function failoverBases(model: SiteModel): { readonly shared: string; readonly servers: readonly string[] } | undefined {
  const f = model.failover;
  if (!f) return undefined;
  return { shared: originAt(model, f.shared), servers: f.servers.map((s) => originAt(model, s.address)) };
}

/** The shared address's origin as a URL may spell it (`http://10.20.0.5` and `http://10.20.0.5:80`): what a node's script writes as `${harvgen_base}`. */
export function sharedOrigins(model: SiteModel): readonly string[] {
  let found = originsOf.get(model);
  if (found) return found;
  const b = failoverBases(model);
  const u = b ? new URL(b.shared) : undefined;
  found = Object.freeze(!b || !u ? [] : u.port ? [b.shared] : [b.shared, `${b.shared}:${u.protocol === 'https:' ? 443 : 80}`]);
  originsOf.set(model, found);
  return found;
}
/** Each model's shared origins, found once (every node script of the site asks; escapers.ipxeOn keeps its pattern per list). */
const originsOf = new WeakMap<SiteModel, readonly string[]>();

/**
 * The site as one server of the pair answers DHCP for it: boot.server at the server's own
 * address (iPXE's boot file, UEFI HTTP boot's loader, keyed node scripts), and the TFTP server
 * (next-server) too where it was the shared address. A node then starts from the server whose
 * DHCP answered, whatever holds the shared address; that server answers DHCP only while its
 * check passes (notify.sh).
 */
export function serverView(model: SiteModel, server: FailoverServer): SiteModel {
  const f = model.failover!;
  const next = model.dhcp.nextServer;
  return {
    ...model,
    boot: { ...model.boot, server: `${originAt(model, server.address)}${model.boot.prefix}`, host: server.address },
    dhcp: { ...model.dhcp, ...(next === undefined || next === f.shared ? { nextServer: server.address } : {}) },
  };
}

/** Each server's own base URL: boot.server with the server's address in place of the shared one (the fleet record's `servers`). */
export function failoverUrls(model: SiteModel): string[] {
  const f = model.failover;
  if (!f) return [];
  return f.servers.map((s) => `${originAt(model, s.address)}${model.boot.prefix}`);
}
