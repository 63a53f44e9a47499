// The codes of the inventory's network section and of its nodes (in the order of the reference;
// src/diagnostics/catalogue/inventory.ts joins them with the others).
import { c, type CodeInfo } from './info.ts';

/** The network section and the nodes. */
export const NETWORK_NODE_CODES = {
  // network section
  NET_CIDR_INVALID: c('error', 'invalid', '`network.cidr` (or a block of `nginx.real_ip.from`) is not a valid IPv4 network.'),
  DHCP_BOOT_FILE_TOO_LONG: c(
    'error',
    'invalid',
    "A boot file URL is longer than the site's DHCP server accepts (with `dhcp.server: kea`, 127 bytes).",
  ),
  DHCP_FORM_CONFLICT: c('error', 'invalid', '`dnsmasq.mode: proxy` with `dhcp.server: kea` or `isc`: proxy DHCP is a dnsmasq form.'),
  NET_IP_INVALID: c('error', 'invalid', 'A value that must be an IPv4 address is not one.'),
  NET_GATEWAY_OUTSIDE: c('error', 'invalid', 'The gateway is not a usable address of the network.'),
  NET_DHCP_RANGE_INVALID: c('error', 'invalid', '`network.dhcp_range` is malformed, reversed or outside the network.'),
  NET_DHCP_RANGE_REQUIRED: c(
    'error',
    'invalid',
    'A machine leases an address on the network (a network-booting node without `ip`, a node on a VLAN, `boot.unknown: join`), and `network.dhcp_range` gives no pool.',
  ),
  NET_DNS_INVALID: c('error', 'invalid', 'A DNS server is not an IPv4 address.'),
  NET_IPV6_INVALID: c(
    'error',
    'invalid',
    '`network.ipv6` is malformed: a prefix, pool, DNS server or boot server address that is not a canonical IPv6 address of the prefix, or a boot server no IPv6 machine can reach.',
  ),
  NET_IPV6_ONLY_UNSUPPORTED: c('error', 'invalid', 'A setting that writes an IPv4 address on an IPv6-only network (no `network.cidr`).'),
  NODE_IP6_INVALID: c(
    'error',
    'invalid',
    "A node's `ip6` is malformed, outside the IPv6 prefix, in the DHCPv6 pool, taken, or on a network without IPv6.",
  ),
  NODE_IPV6_HARVESTER: c(
    'error',
    'invalid',
    'A Harvester node with an `ip6` or on an IPv6-only network: the installer config has no IPv6 fields (through v1.9).',
  ),
  DHCP_IPV6_UNSUPPORTED: c(
    'error',
    'invalid',
    '`network.ipv6` with a DHCP form that serves no DHCPv6 here: ISC dhcpd, a dnsmasq proxy, Kea without an interface, or keyed script names.',
  ),
  BOOT_SERVER_LOOPBACK: c(
    'warning',
    'invalid',
    "`boot.server`'s host is a loopback address (127.0.0.0/8, ::1, localhost), which no machine reaches the boot server at.",
  ),
  BOOT_HTTP_IPV6_DNSMASQ: c(
    'warning',
    'invalid',
    'UEFI HTTP boot over IPv6 gets no answer from dnsmasq, which cannot echo the vendor class it needs.',
  ),
  NET_NEXT_SERVER_MISSING: c(
    'error',
    'invalid',
    '`dhcp.server` is `kea` or `isc`, and neither `dhcp.next_server` nor the host of `boot.server` is the address of a TFTP server.',
  ),
  // nodes
  NODE_HOSTNAME_MISSING: c('error', 'invalid', 'A node has no hostname.'),
  NODE_HOSTNAME_INVALID: c('error', 'invalid', 'A hostname is not a lowercase DNS-1123 label.'),
  NODE_DUPLICATE_HOSTNAME: c('error', 'invalid', 'Two nodes have the same hostname.'),
  NODE_MAC_MISSING: c('error', 'invalid', 'A node has no MAC address to boot from.'),
  NODE_MAC_INVALID: c('error', 'invalid', 'A MAC address is malformed or multicast.'),
  NODE_DUPLICATE_MAC: c('error', 'invalid', 'Two nodes (or NICs) have the same MAC after normalization.'),
  NODE_MAC_AND_MACS: c('error', 'invalid', 'A node sets both `mac` and `macs`.'),
  NODE_DUPLICATE_IP: c('error', 'invalid', 'Two nodes have the same IP address.'),
  NODE_IP_OUTSIDE_NETWORK: c('error', 'invalid', 'A node IP is outside `network.cidr`.'),
  NODE_IP_RESERVED: c('error', 'invalid', 'A node IP is the network, broadcast or gateway address.'),
  NODE_IP_IN_DHCP_RANGE: c('error', 'invalid', 'A node IP lies inside the dynamic DHCP range.'),
  NODE_IP_NOT_RESERVED: c(
    'warning',
    'invalid',
    "With `dnsmasq.mode: proxy` harvgen reserves no address: a DHCP node with `ip` (or the VIP of `vip_mode: dhcp`) needs a reservation on the network's DHCP server.",
  ),
  NGINX_VERIFY_FROM_NODES: c(
    'error',
    'invalid',
    "`nginx.verify_from` holds a node's address or part of a DHCP pool: every node's config (the cluster token, the password hash) would be served to it.",
  ),
  NODE_FILES_OPEN_TO_POOL: c(
    'warning',
    'invalid',
    'A node without `ip` leases a pool address, so the generated nginx serves its Harvester config or cloud-init seed to every address of the DHCP pool (`nginx.access: nodes`).',
  ),
  NODE_STATIC_WITHOUT_IP: c('error', 'invalid', 'A node with `method: static` has no `ip`.'),
  NODE_STATIC_WITHOUT_DNS: c('error', 'invalid', 'A statically addressed node has no DNS servers.'),
  NODE_NETMASK_INVALID: c('error', 'invalid', 'A static netmask is not a contiguous IPv4 mask, or both prefix and netmask are set.'),
  NODE_GATEWAY_OUTSIDE: c('error', 'invalid', "A static node's gateway is not inside its subnet."),
  NODE_MTU_RANGE: c('error', 'invalid', 'The MTU is outside 576-9000.'),
  NODE_VLAN_RANGE: c('error', 'invalid', 'The VLAN ID is outside 1-4094.'),
  NODE_IP_NEEDED: c(
    'error',
    'invalid',
    'A Harvester node on a network with several DHCP servers (`network.dhcp_servers: several`) has no `ip` for its installer to take.',
  ),
  BOOT_UNKNOWN_JOIN_DHCP: c(
    'warning',
    'invalid',
    'Unknown machines joining ask DHCP in their installer on a network with several DHCP servers.',
  ),
  NET_VLAN_INVALID: c(
    'error',
    'invalid',
    'A VLAN of `network.vlans` is malformed: its network, gateway, boot server address or pool is not inside it, it overlaps the native network or another VLAN, its ID or interface is listed twice, or the site cannot serve it (IPv6-only, a proxy dnsmasq, the VIP by DHCP).',
  ),
  NODE_VLAN_NO_SCOPE: c(
    'error',
    'invalid',
    "A node's `vlan` names no VLAN of `network.vlans`: its installer would tag a VLAN on which no DHCP scope and no boot server answer.",
  ),
  NODE_VLAN_SCOPE_MISMATCH: c(
    'error',
    'invalid',
    "A node's address and VLAN disagree with `network.vlans`: an `ip` of one VLAN's network on a node of another VLAN (or of none), or a node on a VLAN whose installer cannot tag it (a boot NIC no interface names, a boot ISO).",
  ),
  UPGRADE_HOP_UNSUPPORTED: c(
    'error',
    'invalid',
    "Harvester refuses the upgrade `harvester.upgrade` asks: a downgrade, a target whose minimum upgradable release is newer than `harvester.version`, or from a release candidate to another release (Harvester's version guard, which runs only after the cluster downloaded the ISO).",
  ),
  UPGRADE_TARGET_INSTALLED: c(
    'error',
    'invalid',
    '`harvester.upgrade.to` is the release `harvester.version` says the cluster runs, and the upgrade is not recorded done: applied, it would run a whole rolling upgrade (every node drained and rebooted) to the same release.',
  ),
  UPGRADE_TARGET_UNKNOWN: c(
    'warning',
    'invalid',
    "harvgen does not know the minimum upgradable release of the upgrade target: only a downgrade and a release candidate's hop are checked.",
  ),
  UPGRADE_NODE_CORDONED: c(
    'error',
    'invalid',
    'A node installs cordoned (`install.cordoned`) while the cluster is to be upgraded: Harvester refuses to start an upgrade while any node is cordoned.',
  ),
  UPGRADE_NODE_RELEASE_PINNED: c(
    'error',
    'invalid',
    "A node's own `harvester_version` differs from the upgrade's target: installed later, it would join the upgraded cluster with another release.",
  ),
  CLUSTER_NETWORKS_SPLIT: c(
    'warning',
    'invalid',
    "A Harvester node installs on another management network (a VLAN of `network.vlans`, or the native one) than the create node: it could never hold the cluster's VIP, which moves between nodes on one network.",
  ),
  DHCP_KEA_VLAN_PARENT: c(
    'warning',
    'invalid',
    "Kea listens on an interface and on a VLAN interface over it: Kea before 3.1.7 also reads the VLAN's requests on the parent, and may answer them from the wrong subnet.",
  ),
  NODE_VLAN_INSTALLER_UNTAGGED: c(
    'warning',
    'invalid',
    'A node on a VLAN boots from a NIC no interface names: its installer runs untagged, only the installed system tags the VLAN.',
  ),
  NODE_NIC_EMPTY: c('error', 'invalid', 'An interface has neither `name` nor `mac`.'),
  NODE_BOOT_MAC_NOT_BONDED: c(
    'warning',
    'invalid',
    "A Harvester node's boot MAC is the MAC of none of its `interfaces` (the management bond), all of which name a MAC: the installed node does not use the NIC it booted from, and its DHCP reservation is not on the bond.",
  ),
  NODE_SETTING_IGNORED: c(
    'warning',
    'invalid',
    "A setting no node reads: one its node's kind ignores (`kernel_args`, `mtu`, `install` on an OS profile or iSCSI node; `cloud_init` on a Harvester node), or an installer `boot.*` setting in a site without Harvester nodes.",
  ),
  NODE_REINSTALL_NEEDS_ONCE: c(
    'error',
    'invalid',
    '`reinstall` on a node whose `state` is not `install-once`: only an install-once script probes the disk for the marker of its generation.',
  ),
  NODE_REINSTALL_BIOS: c(
    'error',
    'invalid',
    "`reinstall` on a node that boots BIOS: iPXE reads no file from a disk there (only `sanboot`'s bootable first sector), so it cannot see the marker of a generation.",
  ),
  NODE_DEVICE_MISSING: c('error', 'invalid', 'A node has no install device.'),
  NODE_DATA_DISK_IS_DEVICE: c('error', 'invalid', '`install.data_disk` is the install device.'),
  NODE_DISK_SELECTOR_UNMEASURED: c(
    'error',
    'invalid',
    '`install.device` or `install.data_disk` names a disk by what it is, and no facts of the machine name its disks as its kernel does (no facts file, or facts from the BMC): take a dump on the machine (`harvgen facts --script`, `--dump`).',
  ),
  NODE_DISK_SELECTOR_NO_MATCH: c(
    'error',
    'invalid',
    "A disk selector (`serial`, `wwn`, `model`, `min_gib`, `max_gib`) matches none of the disks measured of the node's machine; the message lists them.",
  ),
  NODE_DISK_SELECTOR_SEVERAL: c(
    'error',
    'invalid',
    "A disk selector matches several of the machine's disks; harvgen does not guess which one the installer should take.",
  ),
  NODE_DISK_SELECTOR_NO_PATH: c(
    'error',
    'invalid',
    'The disk a selector matches has no `/dev/disk/by-id/` name (a virtual disk without a serial): only its kernel name, which can change between boots.',
  ),
  NODE_DEVICE_UNSTABLE: c('warning', 'invalid', 'An install disk uses an unstable `/dev/sdX` name.'),
  NODE_PLACEHOLDER: c(
    'warning',
    'invalid',
    'A boot MAC or install disk is still the placeholder `harvgen init` wrote for a bare-metal node (`02:00:00:00:00:0N`, `/dev/disk/by-id/REPLACE-with-the-install-disk`).',
  ),
  NODE_WITNESS_DATA_DISK: c(
    'warning',
    'invalid',
    'A witness node sets a data disk or partition size: used as on any node before v1.6, ignored from v1.6 (a data disk under `config:` is still formatted).',
  ),
  NODE_WIPE_LIST_HAS_DEVICE: c('error', 'invalid', '`install.wipe_disks_list` contains the install or data disk.'),
  NODE_KERNEL_ARG_RESERVED: c(
    'error',
    'invalid',
    'A kernel argument sets something harvgen writes itself (`ip=`, `BOOTIF=`, `root=`, `harvester.install.config_url=`, ...).',
  ),
  NODE_PROFILE_UNKNOWN: c('error', 'invalid', 'A `profile:` names no file in `sites/_profiles/`.'),
  NODE_PROFILE_CYCLE: c('error', 'invalid', 'Profiles name each other in a loop.'),
  NODE_PROFILE_CHAIN_TOO_LONG: c('error', 'invalid', 'A chain of profiles that build on each other is more than 16 deep.'),
  NODE_CMDLINE_TOO_LONG: c('error', 'invalid', "A node's installer kernel command line is longer than the kernel keeps (2047 bytes)."),
} as const satisfies Record<string, CodeInfo>;
