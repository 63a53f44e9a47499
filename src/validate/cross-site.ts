// Checks across the sites of one check/build: sites that share a boot server (the same host
// and port in `boot.server`) are served by one nginx server block, so each needs its own path
// prefix (or one site's /boot.ipxe would answer the other's machines), and each serves its
// release files under that prefix (a shared block cannot serve the same file location twice).
import type { Diagnostic } from '../diagnostics/types.ts';
import type { Locator } from '../load/index.ts';
import type { SiteModel } from '../model/index.ts';
import { findingToDiagnostic } from './finding.ts';
import { dnsmasqSharingDiagnostics } from './cross-site-dnsmasq.ts';
import { crossSiteFacts, factsLocator, type CrossSiteFacts } from './cross-site-facts.ts';

/** What the cross-site checks need of a compiled site: its model and locator, or their facts. */
export interface SiteForCrossCheck {
  readonly dir: string;
  readonly model?: SiteModel;
  readonly locate?: Locator;
  /** A site compiled on a worker thread carries its facts instead (src/orchestrate/pool.ts). */
  readonly facts?: CrossSiteFacts;
}

/** The facts of a site, taken from its model when it has one here. */
export function factsOf(s: SiteForCrossCheck): CrossSiteFacts | undefined {
  return s.model && s.locate ? crossSiteFacts(s.model, s.locate) : s.facts;
}

/** Diagnostics for sites that would collide on a shared boot server or a shared dnsmasq. */
export function crossSiteDiagnostics(sites: readonly SiteForCrossCheck[]): Diagnostic[] {
  return crossSiteChecks(sites.flatMap((s) => factsOf(s) ?? []));
}

/** The checks between sites, over the facts of each site with a model. */
export function crossSiteChecks(sites: readonly CrossSiteFacts[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const groups = new Map<string, CrossSiteFacts[]>();
  for (const s of sites) {
    const key = `${s.host}:${s.port}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [server, group] of groups) {
    if (group.length < 2) continue;
    // Two boot servers (failover) serve one site: each server's keepalived.conf and DHCP config are whole files.
    const withFailover = group.find((s) => s.failover);
    if (withFailover) {
      for (const s of group.filter((g) => g !== withFailover))
        out.push(
          findingToDiagnostic(
            {
              code: 'FAILOVER_UNSUPPORTED',
              message: `sites ${withFailover.site} and ${s.site} share http://${server}, and ${withFailover.site} has two boot servers (failover:): each server's keepalived.conf and DHCP config is the whole file, for one site`,
              hint: 'Give the site with `failover:` a shared address of its own (`boot.server`), or serve the other site from other servers.',
              at: ['boot', 'server'],
            },
            factsLocator(s),
          ),
        );
      continue;
    }
    const byPrefix = new Map<string, CrossSiteFacts>();
    for (const s of group) {
      const first = byPrefix.get(s.prefix);
      if (first) {
        out.push(
          findingToDiagnostic(
            {
              code: 'SITE_SERVER_CONFLICT',
              message: `sites ${first.site} and ${s.site} are both served at http://${server}${s.prefix}/: one site's boot.ipxe and scripts would answer the other's machines`,
              hint: `Give each site its own path prefix, e.g. \`boot.server: http://${server}/${s.site}\`, and on a shared server include each site's nginx/locations.conf in one server block (docs/deploy.md, "Several sites on one boot server"). A URL names one site even when the sites are served by different hosts that share this address.`,
              at: ['boot', 'server'],
            },
            factsLocator(s),
          ),
        );
        continue;
      }
      byPrefix.set(s.prefix, s);
      if (s.outside !== undefined) {
        out.push(
          findingToDiagnostic(
            {
              code: 'SITE_SHARED_ARTIFACTS',
              message: `site ${s.site} shares http://${server} with ${group
                .filter((g) => g !== s)
                .map((g) => g.site)
                .join(', ')}, but its release files (${s.outside.replace(/\/[^/]*$/, '/')}) are outside its prefix ${s.prefix}/`,
              hint: `Serve them under the prefix (\`harvester.artifacts: http://${server}${s.prefix}/artifacts/${s.release ?? '<version>'}\`) or from another server; a shared server block serves each site's files under its own prefix only.`,
              at: ['harvester', 'artifacts'],
            },
            factsLocator(s),
          ),
        );
      }
    }
  }
  out.push(...dnsmasqSharingDiagnostics(sites));
  out.push(...duplicateMacs(sites));
  return out;
}

/**
 * A boot MAC of nodes in two sites of the run: the machine is one, and two sites would boot it
 * (each DHCP answers it with its own site's script), or one of the entries names the wrong
 * machine. With a shared boot server or dnsmasq the two answers meet: an error, else a warning.
 * Reported once per pair of sites, at the later site, with at most 10 MACs named.
 */
function duplicateMacs(sites: readonly CrossSiteFacts[]): Diagnostic[] {
  const first = new Map<string, { site: CrossSiteFacts; host: string }>();
  const pairs = new Map<string, { a: CrossSiteFacts; b: CrossSiteFacts; macs: string[] }>();
  for (const s of sites)
    s.macs.forEach((mac, i) => {
      const seen = first.get(mac);
      if (!seen) {
        first.set(mac, { site: s, host: s.macOwners[i]! });
        return;
      }
      if (seen.site === s) return; // one site's own duplicates are its rules' (NODE_DUPLICATE_MAC)
      const key = `${seen.site.site}\u0000${s.site}`;
      const pair = pairs.get(key) ?? { a: seen.site, b: s, macs: [] };
      pairs.set(key, pair);
      pair.macs.push(`${mac} (${seen.host} of ${seen.site.site}, ${s.macOwners[i]} of ${s.site})`);
    });
  const out: Diagnostic[] = [];
  for (const { a, b, macs } of pairs.values()) {
    const sameServer = a.host === b.host && a.port === b.port;
    const sameDnsmasq = a.dnsmasq !== undefined && a.dnsmasq.host === b.dnsmasq?.host;
    const named = macs.slice(0, 10).join('; ') + (macs.length > 10 ? `; and ${macs.length - 10} more` : '');
    out.push(
      findingToDiagnostic(
        {
          code: 'SITE_MAC_DUPLICATE',
          ...(sameServer || sameDnsmasq ? { severity: 'error' as const } : {}),
          message: `sites ${a.site} and ${b.site} both have ${macs.length === 1 ? 'a node with the boot MAC' : `nodes with ${macs.length} boot MACs`} ${named}${
            sameDnsmasq
              ? ': their shared dnsmasq would hold two reservations for one machine'
              : sameServer
                ? `: their shared boot server would serve the machine two scripts`
                : ''
          }`,
          hint: 'A machine is one node of one site: remove it from the site it left (or correct the MAC that was copied).',
          at: ['site'],
        },
        factsLocator(b),
      ),
    );
  }
  return out;
}
