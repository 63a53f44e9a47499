// Whose a request can be, by the address it came from. A node's verdict uses only requests from
// addresses that node can be using (`nodeAllow`: its `ip`, else the DHCP pool), so a `curl` of a
// node's script from elsewhere neither makes a node that never ran read `booting` nor hides its
// real boot. Requests from the boot server itself (loopback, or boot.server's host when it is an
// address: an operator's `curl`, verify from cron) are no machine's (`server_requests`); requests
// for a node's own file from an address it cannot be using, or for a shared boot file or a path
// status does not know from an address of no node and outside the DHCP pool, are
// `foreign_requests`. Both are counted apart, not tallied. An unknown MAC's script and reports,
// and install events (judged by their own check), may come from any address but the server's.
import { scopeOf, type ResolvedNode, type SiteModel } from '../model/index.ts';
import { addressAllowed, parseIpv4 } from '../util/ipv4.ts';
import { poolAllow } from '../render/access.ts';

/** Where a request came from, for the tally. */
export type Origin = 'server' | 'foreign' | 'counted';

/** The boot server's own addresses: loopback, boot.server's host when it is an address, its IPv6 address (`network.ipv6`), its address on each VLAN (`network.vlans`) and, with `failover:`, each server's own. */
export function serverAddresses(model: SiteModel): string[] {
  const host = model.boot.host.replace(/^\[|\]$/g, '');
  const own = parseIpv4(host) !== undefined || host.includes(':') ? [host] : [];
  const v6 = model.network.ipv6?.server;
  // And its address on each VLAN it serves (network.vlans).
  const vlans = model.network.vlans.map((v) => v.server).filter((a) => !own.includes(a));
  // With failover, each server's own address too (keepalived's check of nginx asks from there).
  const servers = (model.failover?.servers ?? []).map((s) => s.address);
  return ['127.0.0.0/8', '::1', ...own, ...(v6 && !own.includes(v6) ? [v6] : []), ...vlans, ...servers];
}

/** Judges the origin of one site's requests. */
export class Origins {
  private readonly server: readonly string[];

  /** @param allows each node's addresses (`nodeAllow`); @param pool the DHCP pool (`poolAllow`). */
  constructor(
    private readonly model: SiteModel,
    private readonly allows: ReadonlyMap<ResolvedNode, readonly string[]>,
    private readonly pool: readonly string[],
  ) {
    this.server = serverAddresses(model);
    this.nativePool = poolAllow(model);
  }

  /** The native network's DHCP pool, where a VLAN node's iPXE fetches its script. */
  private readonly nativePool: readonly string[];

  /** Per address: the boot server's, and may it be some machine's; a few thousand kept (a log has few addresses). */
  private readonly seen = new Map<string, { server: boolean; machine: boolean }>();

  private classOf(ip: string): { server: boolean; machine: boolean } {
    let c = this.seen.get(ip);
    if (c) return c;
    c = { server: addressAllowed(ip, this.server), machine: this.anyMachine(ip) };
    if (this.seen.size >= 4096) this.seen.clear();
    this.seen.set(ip, c);
    return c;
  }

  /** May `ip` be some node's, or an unknown machine's (the DHCP pool)? */
  private anyMachine(ip: string): boolean {
    if (addressAllowed(ip, this.pool)) return true;
    for (const a of this.allows.values()) if (addressAllowed(ip, a)) return true;
    return false;
  }

  /**
   * The origin of a request from `ip`: for one node's own file (`node`), that node's addresses
   * only; for what any machine may send from any address (`any`: an install event, judged by its
   * own check, an unknown MAC's script or report), anything but the server's.
   */
  of(ip: string, about: { node: ResolvedNode; script?: boolean } | 'any' | 'other'): Origin {
    const c = this.classOf(ip);
    if (c.server) return 'server';
    if (about === 'any') return 'counted';
    if (about === 'other') return c.machine ? 'counted' : 'foreign';
    if (addressAllowed(ip, this.allows.get(about.node) ?? [])) return 'counted';
    // A node on a VLAN scope network-boots on the native network (docs/vlan.md, topology A): its
    // iPXE fetches the node's script from an address of the native pool before its installer
    // moves to the VLAN.
    if (about.script === true && scopeOf(this.model, about.node) && addressAllowed(ip, this.nativePool)) return 'counted';
    return 'foreign';
  }
}
