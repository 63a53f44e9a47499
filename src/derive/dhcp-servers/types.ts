// The DHCP servers harvgen writes a config for (`dhcp.server`), declared once each (one file per
// server in this folder, listed in DHCP_SERVERS). Everything that differs between them reads the
// declaration: the model (`dhcp.server` values), the rules (what each can serve: IPv6, proxy DHCP,
// a TFTP server of its own, the longest boot file name), render (its files, by their formats in
// src/render/dhcp-servers.ts), explain (the file holding a node's reservation) and the build's
// next steps. ARCHITECTURE.md "Adding a DHCP server" is the recipe. A name no declaration has
// cannot reach render: the schema's enum is the declarations' names, and `dhcpServerOf` throws.
import type { SiteModel } from '../../model/index.ts';
import type { DhcpServerName } from '../../types/kinds.ts';

/** The formats of the DHCP files render knows how to write (src/render/dhcp-servers.ts, one renderer each). */
export type DhcpFileFormat = 'dnsmasq' | 'dnsmasq-global' | 'kea4' | 'kea6' | 'dhcpd';

/** One file a DHCP server's config is made of: where it goes, and its format. */
export interface DhcpFile {
  readonly path: string;
  readonly format: DhcpFileFormat;
}

/** One DHCP server. */
export interface DhcpServer {
  readonly name: DhcpServerName;
  /** What it is called in messages: "Kea". */
  readonly title: string;
  /** For the inventory reference: what harvgen writes for it. */
  readonly description: string;
  /** The site files of its config (the per-node reservation files of `hostFiles` apart). */
  files(model: SiteModel): readonly DhcpFile[];
  /** The site's file that names the nodes' reservations (explain). */
  reservations(model: SiteModel): string;
  /** One reservation file per node (dnsmasq's `dhcp-hostsdir`), unless it runs as a proxy. */
  readonly hostFiles: boolean;
  /** It is its own TFTP server (firmware PXE gets iPXE from it); else `dhcp.next_server` names one. */
  readonly tftp: boolean;
  /** It can answer network boot only, beside another DHCP server (`dnsmasq.mode: proxy`). */
  readonly proxy: boolean;
  /**
   * DHCPv6: `no`, harvgen writes none for it; `any`, on the boot server's interfaces; `named`, on a
   * named interface only (`dnsmasq.interface`, no wildcard: Kea picks a link-local client's subnet
   * by the interface).
   */
  readonly ipv6: 'no' | 'any' | 'named';
  /** It sends a UEFI HTTP boot offer over IPv6 (the vendor class under enterprise number 343). */
  readonly httpBootV6: boolean;
  /** The longest boot file name it accepts (the BOOTP file field), when it refuses more. */
  readonly bootFileMax?: number;
  /**
   * It may answer a VLAN's request on the VLAN's parent interface from the parent's subnet when it
   * listens on both (Kea before 3.1.7): the rules warn of a VLAN interface under its interface.
   */
  readonly vlanOnParent: boolean;
  /** One process may serve several sites (`dnsmasq.host`: `harvgen status --cross-site` reads it). */
  readonly sharedHost: boolean;
  /**
   * With `failover:` (two boot servers): the file each server runs instead of the site's
   * (`failover/<server>/<file>`), its format, and how two of it share the network; undefined:
   * harvgen writes no failover config for it (FAILOVER_UNSUPPORTED).
   */
  readonly failover?: {
    readonly file: string;
    readonly format: 'dnsmasq' | 'kea4';
    readonly how: string;
    /** Its systemd unit on Debian, which each server's notify.sh stops while the server cannot install a node. */
    readonly unit: string;
  };
  /** The operator's step after a build, for the file it names: "merge into Kea kea/harvgen.json". */
  readonly nextStep: { readonly file: string; readonly verb: string };
}
