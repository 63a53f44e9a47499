/**
 * Why harvgen refuses corpus mutations that the installer's own code accepts (over-strict cases of
 * test/real/installer-corpus.test.ts). Every over-strict outcome must match an entry here, and
 * every entry must match at least one: an entry that matches nothing is stale and fails the test.
 *
 * - `policy`: harvgen's choice of one spelling, typed values or the inventory's shape; the value
 *   does nothing the other spelling would not, or nothing at all.
 * - `later`: the install (or the cluster) fails after the part of the installer the oracle runs;
 *   `why` names the failure. Where the oracle itself says so (a warning), `warns` matches it.
 * A plain bug has no kind here: it is fixed instead.
 */
export interface OverStrictReason {
  /** Matches corpus mutation ids (installer-corpus.ts). */
  id: RegExp;
  /** Only at these corpus releases (all when absent). */
  releases?: readonly string[];
  kind: 'policy' | 'later';
  why: string;
  /** A warning the installer's code gives for the value, which the oracle prints. */
  warns?: RegExp;
}

/** Releases before a key exists. */
const BEFORE_1_5 = ['v1.4.3'];
const BEFORE_1_6 = ['v1.4.3', 'v1.5.2'];
const BEFORE_1_9 = ['v1.4.3', 'v1.5.2', 'v1.6.1', 'v1.7.1', 'v1.8.1'];
const FROM_1_8 = ['v1.8.1', 'v1.9.0'];
const UNREAD = "the release's installer does not read the key: the setting would do nothing, without a word (HARVESTER_KEY_TOO_NEW)";

export const OVER_STRICT: readonly OverStrictReason[] = [
  // disks
  {
    id: /^install\.data_disk .*="\/dev\/disk\/by-id\/os"$/,
    kind: 'policy',
    why: 'a data disk equal to the install disk: the installer clears it, so the setting does nothing; harvgen asks to remove it',
  },
  { id: /^install\.data_disk .*=""$/, kind: 'policy', why: 'an empty data disk is no data disk: leave the key out' },
  { id: /^install\.wipe_(disks_list|all_disks) /, releases: BEFORE_1_5, kind: 'policy', why: UNREAD },
  {
    id: /^install\.wipe_disks_list .*=\["\/dev\/vdb\/"\]$/,
    kind: 'policy',
    why: 'one spelling of a device path (INSTALLER_DEVICE_PATH, as for the install disk); the wipe itself runs in harv-install, which the oracle does not run',
  },
  {
    id: /^install\.wipe_disks_list .*=\[("vdb"|""|"\/dev\/vdc"," \/dev\/vdd")\]$/,
    kind: 'policy',
    why: 'a wipe-list entry is a device path under /dev/; what harv-install (not run by the oracle) does with anything else is not shown',
  },
  {
    id: /^install\.wipe_disks_list .*=\["\/dev\/disk\/by-id\/os"\]$/,
    kind: 'policy',
    why: 'the install disk in the wipe list: it is formatted anyway (NODE_WIPE_LIST_HAS_DEVICE)',
  },
  // mode and role
  {
    id: /^install\.mode config:="(install|upgrade)"$/,
    kind: 'policy',
    why: 'harvgen installs nodes that create or join a cluster; `install` (no cluster, finished at the console) and `upgrade` are modes it does not drive',
  },
  {
    id: /^install\.role field harvester_role=""$/,
    kind: 'policy',
    why: 'an empty field is no field: leave `harvester_role` out for the default role',
  },
  // console
  {
    id: /^install\.tty field install\.tty=(" tty1"|"tty1 "|"tty 1"|"")$/,
    kind: 'policy',
    why: 'the inventory field takes a console name (`tty1`, `ttyS0,115200n8`); under `config:` any text the installer takes passes, with a warning for a space',
  },
  // VIP
  {
    id: /^install\.vip_mode site cluster\.vip_mode="(DHCP|Static| static|none|dhcpp|)" \(n1\)$/,
    kind: 'policy',
    why: 'the inventory field takes `static` or `dhcp`, in lower case; under `config:` the installer lower-cases it and harvgen reads it the same way',
  },
  {
    id: /^install\.vip site cluster\.vip="(10\.0\.1\.10|10\.0\.0\.0)"( \(n1\))?$/,
    kind: 'later',
    why: 'a VIP that is not a host address of the management network: the nodes and clients there cannot reach the cluster at it (CLUSTER_VIP_OUTSIDE_NETWORK)',
  },
  {
    id: /^install\.vip_hw_addr (site cluster\.vip_hw_addr|config:)="02:00:00:00:00:00:00:01"( \(n1\))?$/,
    kind: 'later',
    why: 'an 8-byte (EUI-64) address: the VIP MAC goes on a macvlan interface, and Linux refuses any but a 6-byte Ethernet address there (shown in test/real/installer-oracle.test.ts)',
  },
  {
    id: /^install\.vip_hw_addr (site cluster\.vip_hw_addr|config:)="(zz:54:00:00:00:aa|52-54-00-00-00-aa|5254\.0000\.00aa|)"( \(n1\))?$/,
    kind: 'policy',
    why: 'one spelling of a MAC (colon-separated hex), checked whatever the VIP mode; the installer parses it only in DHCP mode',
  },
  // management network
  {
    id: /^install\.management_interface\.method field method="(DHCP|Static)"$/,
    kind: 'policy',
    why: 'the inventory field takes `dhcp` or `static` in lower case; under `config:` any case passes, as the installer lower-cases it',
  },
  {
    id: /^install\.management_interface\.(subnet_mask field netmask="255\.255\.255\.255"|gateway field gateway="10\.0\.1\.1")$/,
    kind: 'later',
    why: "the gateway is outside the node's subnet: the installed system has no route to it (the installer's checkDefaultRoute and its network set-up are not run by the oracle) (NODE_GATEWAY_OUTSIDE)",
  },
  {
    id: /^install\.management_interface\.subnet_mask (field netmask|config:)="255\.0\.255\.0"$/,
    kind: 'policy',
    why: 'a netmask with holes is no prefix length: harvgen needs the network to check addresses and write DHCP reservations',
  },
  {
    id: /^install\.management_interface\.bond_options (field bond|config:)=\{"(mode":"(bogus|ACTIVE-BACKUP)"|miimon":"100")\}$/,
    kind: 'policy',
    why: "typed values: a bond mode in the kernel's own spelling (NetworkManager brings the bond up after the oracle's part) and `miimon` as a number",
  },
  {
    id: /^install\.management_interface\.(mtu field mtu|mtu config:|vlan_id field vlan|vlan_id config:)="(1500|10)"$/,
    releases: FROM_1_8,
    kind: 'policy',
    why: 'typed values: a number as a number (from v1.8 the installer converts text to a number; before v1.8 it refuses it, and so does harvgen)',
  },
  {
    id: /^scheme_version config:="1"$/,
    releases: FROM_1_8,
    kind: 'policy',
    why: 'typed values: a number as a number (before v1.8 the installer refuses text here)',
  },
  {
    id: /^install\.management_interface\.interfaces (field interfaces|config:)=\[\{"name":"enp1s0","(mac|hwAddr)":"zz:54:00:00:00:02"\}\]$/,
    kind: 'policy',
    why: "a MAC is hex: the installer does not parse the MAC of a NIC it finds by name, and what the installed system's NetworkManager makes of it runs after the oracle",
  },
  // hostname
  {
    id: /^os\.hostname field hostname="n2\.example\.com"$/,
    kind: 'later',
    why: 'a fully qualified hostname breaks the install later: the node joins etcd under a second name (harvester/harvester#7312)',
  },
  {
    id: /^os\.hostname (field hostname|config:)="a{64}"$/,
    kind: 'later',
    why: "the hostname is the node's `kubernetes.io/hostname` label, whose value Kubernetes limits to 63 characters",
  },
  // DNS, NTP, credentials
  {
    id: /^os\.dns_nameservers (field dns|config:)=\[("dns\.example\.com"|" 10\.0\.0\.1"|"10\.0\.0\.300")\]$/,
    kind: 'policy',
    why: 'a DNS server is an IP address (NetworkManager takes addresses; it sets up the installed network after the oracle); the installer does not check it',
  },
  {
    id: /^os\.dns_nameservers (field dns|config:)=\["(2001:db8::1|fe80::1)"\]$/,
    releases: ['v1.7.1', 'v1.8.1', 'v1.9.0'],
    kind: 'later',
    why: "from v1.7 the installer writes the DNS servers into the management bridge's IPv4 NetworkManager settings, where NetworkManager drops an IPv6 one (test/real/installer-oracle.test.ts runs nmcli on the installer's own profile) (INSTALLER_DNS_UNUSED)",
  },
  {
    id: /^os\.dns_nameservers site network\.dns=\["2001:db8::1"\]$/,
    kind: 'later',
    why: "network.dns is also the DHCP servers' DNS option (DHCPv4's, IPv4 addresses only); a node's own `dns` takes IPv6 servers",
  },
  {
    id: /^os\.dns_nameservers site network\.dns=\["dns\.example\.com"\]$/,
    kind: 'policy',
    why: 'a DNS server is an IP address (and network.dns is the DHCP option)',
  },
  {
    id: /^os\.(ntp_servers site cluster\.ntp|ntp_servers config:|ssh_authorized_keys site cluster\.ssh_authorized_keys|ssh_authorized_keys config:)=\[""\]$/,
    kind: 'policy',
    why: 'an empty entry says nothing: leave it out',
  },
  // server_url, sizes, ISO
  {
    id: /^server_url config:="10\.0\.0\.10"$/,
    kind: 'policy',
    why: 'one spelling: `https://<VIP or name>:443`, which harvgen writes itself; the installer adds the scheme and port',
  },
  {
    id: /^install\.persistent_partition_size (field install\.persistent_partition_size|config:)=""$/,
    kind: 'policy',
    why: 'an empty size is no size: leave the key out for the default',
  },
  {
    id: /^install\.iso_url field install\.iso_url="(http|ftp|relative)/,
    kind: 'policy',
    why: 'the field takes only `local`; the ISO URL comes from `harvester.artifacts` or `harvester.iso_url`, or a node key under `config:`',
  },
  {
    id: /^install\.iso_url (field install\.iso_url|config:)="local"$/,
    releases: BEFORE_1_9,
    kind: 'later',
    why: 'before v1.9 the installer takes `local` for a file path and finds none when harv-install (not run by the oracle) downloads the ISO (MEDIA_ISO_LOCAL_INVALID)',
  },
  {
    id: /^install\.iso_url (field install\.iso_url|config:)="local"$/,
    releases: ['v1.9.0'],
    kind: 'later',
    why: 'a node that boots from the network has no device labelled COS_LIVE (only a BMC-mounted Harvester ISO beside a boot ISO is one): the installer stops after it has written the disk (MEDIA_ISO_LOCAL_INVALID)',
  },
  {
    id: /^install\.iso_url config:="relative\.iso"$/,
    kind: 'policy',
    why: 'an ISO URL is an http(s), ftp or tftp URL; harv-install (not run by the oracle) downloads it',
  },
  // cluster networks
  { id: /^install\.cluster_(pod_cidr|service_cidr|dns) /, releases: BEFORE_1_5, kind: 'policy', why: UNREAD },
  {
    id: /^install\.cluster_(pod_cidr|service_cidr) (site cluster\.(pod|service)_cidr|config:)="(10\.52\.0\.0|10\.52\.0\.0\/33|fe80::\/64|10\.52\.1\.0\/16|10\.53\.0\.0\/33)" \(n1\)$/,
    kind: 'policy',
    why: 'a cluster network is an IPv4 network in CIDR form without host bits; the installer hands it to RKE2 (after the oracle) unchecked',
  },
  {
    id: /^install\.cluster_service_cidr site cluster\.service_cidr="10\.53\.0\.0\/16" \(n1\)$/,
    kind: 'later',
    why: "the cluster's DNS default (10.53.0.10, Harvester's) lies outside that service network: set `cluster_dns` in it (CLUSTER_DNS_OUTSIDE_SERVICE_CIDR)",
  },
  {
    id: /^install\.cluster_dns (site cluster\.cluster_dns|config:)="10\.53\.0\.300" \(n1\)$/,
    kind: 'policy',
    why: 'the cluster DNS is an IPv4 address; the installer hands it to RKE2 (after the oracle) unchecked',
  },
  // OS keys
  {
    id: /^os\.(modules config:=\[("bad module"|"")\]|after_install_chroot_commands config:=\[""\])$/,
    kind: 'policy',
    why: 'a kernel module name is one word, and an empty command says nothing',
  },
  {
    id: /^os\.(sysctls config:=\{"kernel\.panic":10\}|environment config:=\{"COUNT":1\})$/,
    kind: 'policy',
    why: "typed values: sysctl and environment values as text, the installer's documented type",
  },
  // webhooks
  {
    id: /^install\.webhooks config:=\[\{"event":"(started","method":"GET"|STARTED","url"|STARTED","method":"GET","url":"http:\/\/10\.0\.0\.1\/\{\{\.Nope")/,
    kind: 'later',
    why: "the installer cannot prepare the webhook and drops every webhook of the node, harvgen's install reports included (INSTALLER_WEBHOOK_INVALID)",
    warns: /^Invalid webhook/,
  },
  // SANs, cordoned, automatic
  { id: /^sans /, releases: BEFORE_1_6, kind: 'policy', why: UNREAD },
  { id: /^sans (site cluster\.sans|config:)=\[""\] \(n1\)$/, kind: 'policy', why: 'an empty entry says nothing: leave it out' },
  { id: /^install\.cordoned /, releases: BEFORE_1_9, kind: 'policy', why: UNREAD },
  {
    id: /^install\.automatic config:=(false|"false")$/,
    kind: 'policy',
    why: 'the automatic install is switched on the kernel command line, which harvgen writes; in the file the key only says what the line says',
  },
];

/** The entry that explains an over-strict outcome, or undefined. */
export function overStrictReason(id: string, release: string): OverStrictReason | undefined {
  return OVER_STRICT.find((r) => r.id.test(id) && (r.releases === undefined || r.releases.includes(release)));
}
