// What the checks between sites (cross-site.ts, cross-site-dnsmasq.ts) need of one site, taken
// where its model and locator live: a small plain value that can cross from a worker thread
// (src/orchestrate/pool.ts, positions resolved) to the main thread, where the checks run over every site
// of the run. A serial build takes the same facts in process (with the site's locator, which
// parses for a position only when a check reports one), so that the checks see the same values
// either way.
import { dhcpServerOf } from '../derive/dhcp-servers/index.ts';
import type { Locator, SourceLocation } from '../load/index.ts';
import type { SiteModel } from '../model/index.ts';
import { DNSMASQ_GLOBAL_KEYS, dnsmasqGlobals, type DnsmasqGlobals } from '../derive/dnsmasq-globals.ts';
import { servedArtifacts } from '../model/served-releases.ts';
import { PLACEHOLDER_MAC } from '../util/init-placeholders.ts';

/** Where one inventory path was written, and whether it exists. */
interface Position {
  readonly path: string;
  readonly at?: SourceLocation;
  readonly has: boolean;
}

/** One site as the checks between sites see it. */
export interface CrossSiteFacts {
  readonly site: string;
  /** `boot.server`'s host, port and path prefix. */
  readonly host: string;
  readonly port: number;
  readonly prefix: string;
  /** The site's release version, as written. */
  readonly release?: string;
  /** Each boot MAC of the site's nodes (lowercase, colons), and its node's hostname at the same index. */
  readonly macs: readonly string[];
  readonly macOwners: readonly string[];
  /** The first release file the site serves outside its prefix (its location). */
  readonly outside?: string;
  /** `failover:`: two boot servers of the site's own (their keepalived.conf and DHCP config are whole files). */
  readonly failover?: true;
  /** The site's dnsmasq when it is a shared one (`dnsmasq.host`, DHCP by dnsmasq). */
  readonly dnsmasq?: {
    readonly host: string;
    readonly interface?: string;
    readonly cidr: string;
    /** `network.ipv6.prefix`, when the site has IPv6. */
    readonly cidr6?: string;
    /** The networks of `network.vlans` (each a range of the same dnsmasq). */
    readonly vlans?: readonly string[];
    readonly globals: DnsmasqGlobals;
  };
  /**
   * Every position the checks may point at, resolved (what crosses from a worker thread); a site
   * checked in process keeps its locator instead, which parses a file for a position only when a
   * check reports one (a clean file keeps no YAML Document: README "Speed II").
   */
  readonly positions?: readonly Position[];
  /** In process: the site's own locator (never sent to another thread). */
  readonly locate?: Locator;
}

/** The inventory paths the checks between sites point at. */
const PATHS: readonly (readonly string[])[] = [
  ['site'], // EMIT_DUPLICATE_SITE (src/orchestrate/check.ts)
  ['boot', 'server'],
  ['harvester', 'artifacts'],
  ['dnsmasq'],
  ['network', 'cidr'],
  ['network', 'ipv6', 'prefix'],
  ['network', 'vlans'],
  ...Object.values(DNSMASQ_GLOBAL_KEYS).map((k) => ['dnsmasq', k]),
];

/**
 * The facts of a site with a model: with `resolve`, its positions resolved (to send to another
 * thread), else its locator kept.
 */
export function crossSiteFacts(model: SiteModel, locate: Locator, resolve = false): CrossSiteFacts {
  const prefix = model.boot.prefix;
  let outside: string | undefined;
  try {
    outside = servedArtifacts(model).find((a) => prefix !== '' && !a.location.startsWith(`${prefix}/`))?.location;
  } catch {
    // A model with errors may not get that far; the site has its own errors to show.
    outside = undefined;
  }
  const shared = model.dnsmasq.host !== undefined && dhcpServerOf(model).sharedHost;
  const macs: string[] = [];
  const macOwners: string[] = [];
  for (const n of model.nodes)
    for (const mac of n.macs) {
      // `harvgen init`'s placeholders are the same in every new site, and reported as such.
      if (PLACEHOLDER_MAC.test(mac)) continue;
      macs.push(mac);
      macOwners.push(n.hostname);
    }
  return {
    site: model.site,
    ...(model.failover ? { failover: true as const } : {}),
    macs,
    macOwners,
    host: model.boot.host,
    port: model.boot.port,
    prefix,
    ...(model.release ? { release: model.release.version.raw } : {}),
    ...(outside !== undefined ? { outside } : {}),
    ...(shared
      ? {
          dnsmasq: {
            host: model.dnsmasq.host!,
            ...(model.dnsmasq.interface !== undefined ? { interface: model.dnsmasq.interface } : {}),
            // IPv4 networks are compared (an IPv6-only site's is empty: not compared).
            cidr: model.network.ipv4?.cidr ?? '',
            ...(model.network.ipv6 ? { cidr6: model.network.ipv6.cidr } : {}),
            ...(model.network.vlans.length > 0 ? { vlans: model.network.vlans.map((v) => v.cidr) } : {}),
            globals: dnsmasqGlobals(model),
          },
        }
      : {}),
    ...(resolve
      ? {
          positions: PATHS.map((p) => {
            // A copy: the locator's own location object keeps the site's files alive (what
            // `writtenText` reads), and a site held light must not (src/orchestrate/held.ts).
            const at = locate([...p], 'value');
            return { path: p.join('.'), ...(at ? { at: { ...at } } : {}), has: locate.has([...p]) };
          }),
        }
      : { locate }),
  };
}

/** The site's locator, or one that answers from the facts' positions (and only for those paths). */
export function factsLocator(facts: CrossSiteFacts): Locator {
  if (facts.locate) return facts.locate;
  const byPath = new Map((facts.positions ?? []).map((p) => [p.path, p]));
  const find = (path: readonly (string | number)[]) => {
    const p = byPath.get(path.join('.'));
    if (!p) throw new Error(`cross-site facts hold no position for ${path.join('.')}`);
    return p;
  };
  return Object.assign((path: readonly (string | number)[]) => find(path).at, {
    has: (path: readonly (string | number)[]) => find(path).has,
  });
}
