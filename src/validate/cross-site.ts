// Checks across the sites of one check/build: sites that share a boot server (the same host
// and port in `boot.server`) are served by one nginx server block, so each needs its own path
// prefix (or one site's /boot.ipxe would answer the other's machines), and each serves its
// release files under that prefix (a shared block cannot serve the same file location twice).
import type { Diagnostic } from '../diagnostics/types.ts';
import type { Locator } from '../load/index.ts';
import type { SiteModel } from '../model/index.ts';
import { servedArtifacts } from '../render/host-configs.ts';
import { findingToDiagnostic } from './index.ts';
import { dnsmasqSharingDiagnostics } from './cross-site-dnsmasq.ts';

/** What the cross-site checks need of a compiled site. */
export interface SiteForCrossCheck {
  readonly dir: string;
  readonly model?: SiteModel;
  readonly locate?: Locator;
}

/** Diagnostics for sites that would collide on a shared boot server or a shared dnsmasq. */
export function crossSiteDiagnostics(sites: readonly SiteForCrossCheck[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const groups = new Map<string, SiteForCrossCheck[]>();
  for (const s of sites) {
    if (!s.model || !s.locate) continue;
    const key = `${s.model.boot.host}:${s.model.boot.port}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [server, group] of groups) {
    if (group.length < 2) continue;
    const byPrefix = new Map<string, SiteForCrossCheck>();
    for (const s of group) {
      const m = s.model!;
      const first = byPrefix.get(m.boot.prefix);
      if (first) {
        out.push(
          findingToDiagnostic(
            {
              code: 'SITE_SERVER_CONFLICT',
              message: `sites ${first.model!.site} and ${m.site} are both served at http://${server}${m.boot.prefix}/: one site's boot.ipxe and scripts would answer the other's machines`,
              hint: `Give each site its own path prefix, e.g. \`boot.server: http://${server}/${m.site}\`, and on a shared server include each site's nginx/locations.conf in one server block (README, "Several sites on one boot server"). A URL names one site even when the sites are served by different hosts that share this address.`,
              at: ['boot', 'server'],
            },
            s.locate!,
          ),
        );
        continue;
      }
      byPrefix.set(m.boot.prefix, s);
      const outside = servedArtifacts(m).filter((a) => m.boot.prefix !== '' && !a.location.startsWith(`${m.boot.prefix}/`));
      if (outside.length > 0) {
        out.push(
          findingToDiagnostic(
            {
              code: 'SITE_SHARED_ARTIFACTS',
              message: `site ${m.site} shares http://${server} with ${group
                .filter((g) => g !== s)
                .map((g) => g.model!.site)
                .join(
                  ', ',
                )}, but its release files (${outside[0]!.location.replace(/\/[^/]*$/, '/')}) are outside its prefix ${m.boot.prefix}/`,
              hint: `Serve them under the prefix (\`harvester.artifacts: http://${server}${m.boot.prefix}/artifacts/${m.release?.version.raw ?? '<version>'}\`) or from another server; a shared server block serves each site's files under its own prefix only.`,
              at: ['harvester', 'artifacts'],
            },
            s.locate!,
          ),
        );
      }
    }
  }
  out.push(...dnsmasqSharingDiagnostics(sites));
  return out;
}
