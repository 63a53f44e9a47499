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
  return out;
}
