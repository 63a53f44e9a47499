// The DHCP files' renderers, one per format a DHCP server declaration names
// (src/derive/dhcp-servers/): a server's config is its declaration's `files`, each rendered here.
import type { DhcpFileFormat } from '../derive/dhcp-servers/index.ts';
import type { SiteModel } from '../model/index.ts';
import { renderDhcpd } from './dhcpd.ts';
import { renderDnsmasq, renderDnsmasqGlobal } from './dnsmasq.ts';
import { renderKea, renderKea6 } from './kea.ts';

/** Each DHCP file format's renderer. */
export const DHCP_RENDERERS: Readonly<Record<DhcpFileFormat, (model: SiteModel) => string>> = {
  dnsmasq: renderDnsmasq,
  'dnsmasq-global': renderDnsmasqGlobal,
  kea4: renderKea,
  kea6: renderKea6,
  dhcpd: renderDhcpd,
};
