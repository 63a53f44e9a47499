// The settings of a site's dnsmasq that every site sharing one dnsmasq must agree on: read by
// `dnsmasq/global.conf` (render/dnsmasq.ts) and by the checks between sites.
import type { SiteModel } from '../model/index.ts';

/** The settings `dnsmasq/global.conf` is made of; sites that share one dnsmasq must agree on each. */
export interface DnsmasqGlobals {
  readonly dns: boolean;
  readonly tftpRoot: string;
  readonly hostsDir: string;
}

/** Where each global setting is written in the inventory (`dnsmasq.<key>`), for diagnostics. */
export const DNSMASQ_GLOBAL_KEYS: Readonly<Record<keyof DnsmasqGlobals, string>> = {
  dns: 'dns',
  tftpRoot: 'tftp_root',
  hostsDir: 'hosts_dir',
};

/** The global settings of the site's dnsmasq. */
export function dnsmasqGlobals(model: SiteModel): DnsmasqGlobals {
  return { dns: model.dnsmasq.dns, tftpRoot: model.dnsmasq.tftpRoot, hostsDir: model.dnsmasq.hostsDir };
}
