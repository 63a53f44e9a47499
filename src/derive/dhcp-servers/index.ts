// The DHCP servers (one declaration per file of this folder), and a site's.
import type { SiteModel } from '../../model/index.ts';
import { DNSMASQ } from './dnsmasq.ts';
import { ISC } from './isc.ts';
import { KEA } from './kea.ts';
import type { DhcpServer } from './types.ts';
import type { DhcpServerName } from '../../types/kinds.ts';

export type { DhcpFile, DhcpFileFormat, DhcpServer } from './types.ts';

/** Every DHCP server by its name (the inventory's `dhcp.server` enum is these keys: scripts/site-schema.ts). */
export const DHCP_SERVERS: Readonly<Record<DhcpServerName, DhcpServer>> = { dnsmasq: DNSMASQ, kea: KEA, isc: ISC };

/** The site's DHCP server. A name with no declaration is a bug, never another server's config. */
export function dhcpServerOf(model: Pick<SiteModel, 'dhcp'>): DhcpServer {
  const server = Object.hasOwn(DHCP_SERVERS, model.dhcp.server) ? DHCP_SERVERS[model.dhcp.server] : undefined;
  if (!server) throw new Error(`dhcp.server ${JSON.stringify(model.dhcp.server)} has no declaration (src/derive/dhcp-servers/)`);
  return server;
}
