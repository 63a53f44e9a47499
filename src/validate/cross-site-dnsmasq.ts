// Sites built together that name the same dnsmasq host (`dnsmasq.host`) are served by one dnsmasq process, which includes each site's harvgen.conf and
// one global.conf. What that process holds once must be the same for all of them (else the file
// read last wins and the other sites' machines lose TFTP, DNS or their reservations), every site
// must say where it listens or none (`interface=` adds up; a site without it would be heard only
// on the others' interfaces), and their networks must be apart (two ranges on one subnet: a
// machine may get the other site's tag, and its boot files).
import type { Diagnostic } from '../diagnostics/types.ts';
import type { SiteModel } from '../model/index.ts';
import { DNSMASQ_GLOBAL_KEYS, dnsmasqGlobals, type DnsmasqGlobals } from '../render/dnsmasq.ts';
import { networksOverlap, parseCidr } from '../util/ipv4.ts';
import type { Locator } from '../load/index.ts';
import { findingToDiagnostic } from './index.ts';

/** A compiled site as the cross-site checks see it (SiteForCrossCheck). */
interface SiteOnHost {
  readonly model?: SiteModel;
  readonly locate?: Locator;
}
type Located = { readonly model: SiteModel; readonly locate: Locator };

const HINT_HOST = 'If the sites run on different machines, give each its own `dnsmasq.host`.';

/** SITE_DNSMASQ_CONFLICT for every pair of sites on one dnsmasq that would disturb each other. */
export function dnsmasqSharingDiagnostics(sites: readonly SiteOnHost[]): Diagnostic[] {
  const groups = new Map<string, Located[]>();
  for (const s of sites) {
    if (!s.model || !s.locate || s.model.dnsmasq.host === undefined || s.model.dhcp.server !== 'dnsmasq') continue;
    const key = s.model.dnsmasq.host;
    groups.set(key, [...(groups.get(key) ?? []), { model: s.model, locate: s.locate }]);
  }
  const out: Diagnostic[] = [];
  for (const [host, group] of groups) {
    if (group.length < 2) continue;
    const first = group[0]!;
    const firstGlobals = dnsmasqGlobals(first.model);
    for (const s of group.slice(1)) {
      const globals = dnsmasqGlobals(s.model);
      for (const k of Object.keys(DNSMASQ_GLOBAL_KEYS) as (keyof DnsmasqGlobals)[]) {
        if (globals[k] === firstGlobals[k]) continue;
        const key = DNSMASQ_GLOBAL_KEYS[k];
        // Point at the site that wrote the setting (the other one has the default).
        const at = s.locate.has(['dnsmasq', key]) || !first.locate.has(['dnsmasq', key]) ? s : first;
        out.push(
          conflict(
            at,
            ['dnsmasq', key],
            `sites ${first.model.site} and ${s.model.site} share one dnsmasq on ${host}, but their dnsmasq.${key} differ (${String(firstGlobals[k])} and ${String(globals[k])}): dnsmasq holds one for the whole process, so one site's dnsmasq/global.conf would decide for both`,
            `Give every site on ${host} the same \`dnsmasq.${key}\`, so that their dnsmasq/global.conf is one file. ${HINT_HOST}`,
          ),
        );
      }
    }
    const listening = group.filter((s) => s.model.dnsmasq.interface !== undefined);
    if (listening.length > 0 && listening.length < group.length) {
      for (const s of group.filter((g) => g.model.dnsmasq.interface === undefined)) {
        out.push(
          conflict(
            s,
            ['dnsmasq'],
            `site ${s.model.site} sets no dnsmasq.interface, but shares one dnsmasq on ${host} with ${listening.map((l) => `${l.model.site} (interface ${l.model.dnsmasq.interface})`).join(', ')}: with any interface= line dnsmasq listens only on the interfaces named, so ${s.model.site}'s machines would get no answer`,
            `Set \`dnsmasq.interface\` to the interface of ${s.model.site}'s network on ${host} (each site adds its own interface= line). ${HINT_HOST}`,
          ),
        );
      }
    }
    for (let i = 0; i < group.length; i++) {
      for (const s of group.slice(i + 1)) {
        const a = parseCidr(group[i]!.model.network.cidr).net;
        const b = parseCidr(s.model.network.cidr).net;
        if (!a || !b || !networksOverlap(a, b)) continue;
        out.push(
          conflict(
            s,
            ['network', 'cidr'],
            `sites ${group[i]!.model.site} and ${s.model.site} share one dnsmasq on ${host} and their networks overlap (${group[i]!.model.network.cidr} and ${s.model.network.cidr}): dnsmasq would pick either site's range for a machine, and with it that site's boot files`,
            `Put sites that share one dnsmasq on separate networks, or give each its own \`dnsmasq.host\` (its own dnsmasq). ${HINT_HOST}`,
          ),
        );
      }
    }
  }
  return out;
}

function conflict(s: Located, at: string[], message: string, hint: string): Diagnostic {
  return findingToDiagnostic({ code: 'SITE_DNSMASQ_CONFLICT', message, hint, at }, s.locate);
}
