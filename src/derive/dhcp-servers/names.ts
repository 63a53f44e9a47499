// The names of the DHCP servers (the inventory's `dhcp.server` values), apart from their
// declarations (types.ts) so that the model's types name them without importing the model.

/** The names of the DHCP servers: one declaration each in this folder. */
export type DhcpServerName = 'dnsmasq' | 'kea' | 'isc';
