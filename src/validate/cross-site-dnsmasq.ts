// Sites built together that name the same dnsmasq host (`dnsmasq.host`) are served by one dnsmasq process, which includes each site's harvgen.conf and
// one global.conf. What that process holds once must be the same for all of them (else the file
// read last wins and the other sites' machines lose TFTP, DNS or their reservations), every site
// must say where it listens or none (`interface=` adds up; a site without it would be heard only
// on the others' interfaces), and their networks must be apart (two ranges on one subnet: a
// machine may get the other site's tag, and its boot files).
import type { Diagnostic } from '../diagnostics/types.ts';
import { DNSMASQ_GLOBAL_KEYS, type DnsmasqGlobals } from '../derive/dnsmasq-globals.ts';
import { networksOverlap, parseCidr } from '../util/ipv4.ts';
import { parseCidr6 } from '../util/ipv6.ts';
import type { Locator } from '../load/index.ts';
import { findingToDiagnostic } from './finding.ts';
import { factsLocator, type CrossSiteFacts } from './cross-site-facts.ts';

/** A site on a shared dnsmasq, as the checks see it. */
type Located = {
  readonly site: string;
  readonly dnsmasq: NonNullable<CrossSiteFacts['dnsmasq']>;
  readonly locate: Locator;
};

const HINT_HOST = 'If the sites run on different machines, give each its own `dnsmasq.host`.';

/** SITE_DNSMASQ_CONFLICT for every pair of sites on one dnsmasq that would disturb each other. */
export function dnsmasqSharingDiagnostics(sites: readonly CrossSiteFacts[]): Diagnostic[] {
  const groups = new Map<string, Located[]>();
  for (const s of sites) {
    if (!s.dnsmasq) continue;
    const key = s.dnsmasq.host;
    groups.set(key, [...(groups.get(key) ?? []), { site: s.site, dnsmasq: s.dnsmasq, locate: factsLocator(s) }]);
  }
  const out: Diagnostic[] = [];
  for (const [host, group] of groups) {
    if (group.length < 2) continue;
    out.push(...globalsDiffer(host, group), ...listenersMissing(host, group));
    for (let i = 0; i < group.length; i++) for (const s of group.slice(i + 1)) out.push(...networksOverlapping(host, group[i]!, s));
  }
  return out;
}

/** The process-wide settings (dnsmasq/global.conf) of each site that differ from the first site's. */
function globalsDiffer(host: string, group: readonly Located[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const first = group[0]!;
  const firstGlobals = first.dnsmasq.globals;
  for (const s of group.slice(1)) {
    const globals = s.dnsmasq.globals;
    for (const k of Object.keys(DNSMASQ_GLOBAL_KEYS) as (keyof DnsmasqGlobals)[]) {
      if (globals[k] === firstGlobals[k]) continue;
      const key = DNSMASQ_GLOBAL_KEYS[k];
      // Point at the site that wrote the setting (the other one has the default).
      const at = s.locate.has(['dnsmasq', key]) || !first.locate.has(['dnsmasq', key]) ? s : first;
      out.push(
        conflict(
          at,
          ['dnsmasq', key],
          `sites ${first.site} and ${s.site} share one dnsmasq on ${host}, but their dnsmasq.${key} differ (${String(firstGlobals[k])} and ${String(globals[k])}): dnsmasq holds one for the whole process, so one site's dnsmasq/global.conf would decide for both`,
          `Give every site on ${host} the same \`dnsmasq.${key}\`, so that their dnsmasq/global.conf is one file. ${HINT_HOST}`,
        ),
      );
    }
  }
  return out;
}

/** The sites without `dnsmasq.interface` when another site of the group names one. */
function listenersMissing(host: string, group: readonly Located[]): Diagnostic[] {
  const listening = group.filter((s) => s.dnsmasq.interface !== undefined);
  if (listening.length === 0 || listening.length === group.length) return [];
  return group
    .filter((g) => g.dnsmasq.interface === undefined)
    .map((s) =>
      conflict(
        s,
        ['dnsmasq'],
        `site ${s.site} sets no dnsmasq.interface, but shares one dnsmasq on ${host} with ${listening.map((l) => `${l.site} (interface ${l.dnsmasq.interface})`).join(', ')}: with any interface= line dnsmasq listens only on the interfaces named, so ${s.site}'s machines would get no answer`,
        `Set \`dnsmasq.interface\` to the interface of ${s.site}'s network on ${host} (each site adds its own interface= line). ${HINT_HOST}`,
      ),
    );
}

/** Every IPv4 range of a site: the network's, and each VLAN's (network.vlans). */
function ranges(d: Located['dnsmasq']): { cidr: string; at: string[] }[] {
  return [{ cidr: d.cidr, at: ['network', 'cidr'] }, ...(d.vlans ?? []).map((cidr) => ({ cidr, at: ['network', 'vlans'] }))];
}

/** Two sites of a group whose IPv6 prefixes overlap, and whose IPv4 networks do (the first such pair of ranges). */
function networksOverlapping(host: string, a: Located, s: Located): Diagnostic[] {
  const out: Diagnostic[] = [];
  const a6 = a.dnsmasq.cidr6 !== undefined ? parseCidr6(a.dnsmasq.cidr6).net : undefined;
  const b6 = s.dnsmasq.cidr6 !== undefined ? parseCidr6(s.dnsmasq.cidr6).net : undefined;
  if (a6 && b6 && a6.address <= b6.last && b6.address <= a6.last) {
    out.push(
      conflict(
        s,
        ['network', 'ipv6', 'prefix'],
        `sites ${a.site} and ${s.site} share one dnsmasq on ${host} and their IPv6 prefixes overlap (${a.dnsmasq.cidr6} and ${s.dnsmasq.cidr6}): dnsmasq would pick either site's DHCPv6 range for a machine, and with it that site's boot files`,
        `Put sites that share one dnsmasq on separate networks, or give each its own \`dnsmasq.host\` (its own dnsmasq). ${HINT_HOST}`,
      ),
    );
  }
  const found = ranges(a.dnsmasq)
    .flatMap((x) => ranges(s.dnsmasq).map((y) => [x, y] as const))
    .find(([x, y]) => {
      const p = parseCidr(x.cidr).net;
      const q = parseCidr(y.cidr).net;
      return p !== undefined && q !== undefined && networksOverlap(p, q);
    });
  if (!found) return out;
  const [x, y] = found;
  out.push(
    conflict(
      s,
      y.at,
      `sites ${a.site} and ${s.site} share one dnsmasq on ${host} and their networks overlap (${x.cidr}${x.at[1] === 'vlans' ? ', a VLAN' : ''} and ${y.cidr}${y.at[1] === 'vlans' ? ', a VLAN' : ''}): dnsmasq would pick either site's range for a machine, and with it that site's router and boot files`,
      `Put sites that share one dnsmasq on separate networks, or give each its own \`dnsmasq.host\` (its own dnsmasq). ${HINT_HOST}`,
    ),
  );
  return out;
}

/** A SITE_DNSMASQ_CONFLICT at `at` of site `s`. */
function conflict(s: Located, at: string[], message: string, hint: string): Diagnostic {
  return findingToDiagnostic({ code: 'SITE_DNSMASQ_CONFLICT', message, hint, at }, s.locate);
}
