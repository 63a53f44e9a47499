// The networks of a site: the management network's IPv4 and IPv6 sides and its tagged VLANs.

/** The IPv4 side of the management network. */
export interface Ipv4Net {
  readonly cidr: string;
  readonly address: string;
  readonly prefix: number;
  readonly netmask: string;
  readonly gateway: string;
  readonly dns: readonly string[];
  /** The dynamic pool (`dhcp_range`); absent: the DHCP server answers reserved addresses only. */
  readonly dhcpStart?: string;
  readonly dhcpEnd?: string;
}

/**
 * One tagged VLAN of `network.vlans`: a DHCP scope on the boot server's interface on it, and the
 * server's address there, from which the installers of the nodes on it (`vlan: <id>`) fetch.
 */
export interface VlanScope extends Ipv4Net {
  readonly id: number;
  readonly server: string;
  readonly interface: string;
}

/** The IPv6 side of the management network (`network.ipv6`), addresses in canonical text form. */
export interface Ipv6Net {
  /** `prefix` as written: `<address>/<length>`. */
  readonly cidr: string;
  readonly address: string;
  readonly prefix: number;
  readonly dhcpStart: string;
  readonly dhcpEnd: string;
  readonly dns: readonly string[];
  /** The boot server's IPv6 address (`server`, else boot.server's host); empty when neither (NETWORK_IPV6_SERVER). */
  readonly server: string;
}
