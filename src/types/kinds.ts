// The names of the kinds the inventory chooses between, on the ground floor so that the model's
// types name them without importing their declarations: each name here has one declaration
// above, which says all that differs between the kinds.

/** The names of the boot media (the inventory's `medium:` values): one declaration each in src/derive/media/. */
export type MediumName = 'network' | 'iso' | 'usb';

/** The names of the DHCP servers (the inventory's `dhcp.server` values): one declaration each in src/derive/dhcp-servers/. */
export type DhcpServerName = 'dnsmasq' | 'kea' | 'isc';
