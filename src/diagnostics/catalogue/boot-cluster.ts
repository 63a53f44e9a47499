// The codes of how machines boot, of the cluster, of the installer's own rules, of measured facts
// and of the Harvester release (in the order of the reference; src/diagnostics/catalogue/inventory.ts
// joins them with the others).
import { c, type CodeInfo } from './info.ts';

/** Boot, cluster, the installer's rules, measured facts and the Harvester version. */
export const BOOT_CLUSTER_CODES = {
  // boot: how machines enter the tree
  BOOT_IPXE_BINARY_MISSING: c(
    'error',
    'invalid',
    'A file `boot.ipxe_binaries` must provide (the loader the firmware fetches) is not there.',
  ),
  BOOT_IPXE_BINARY_INVALID: c('error', 'invalid', 'A file in `boot.ipxe_binaries` is not a regular file, too large, or not an EFI binary.'),
  BOOT_MEDIA_LOADER_MISSING: c('error', 'invalid', 'A boot program every boot ISO carries is not in `boot.media_loaders`.'),
  BOOT_MEDIA_LOADER_INVALID: c(
    'error',
    'invalid',
    'A file in `boot.media_loaders` is not a regular file, too large, empty, or not an EFI binary.',
  ),
  MEDIA_NEEDS_STATIC: c(
    'error',
    'invalid',
    'A node that boots from its own ISO (`medium: iso`) has no static address to write on it: it gets no DHCP.',
  ),
  MEDIA_NEEDS_LOADERS: c('error', 'invalid', 'A node boots from its own ISO (`medium: iso`) but the site names no `boot.media_loaders`.'),
  MEDIA_UNSUPPORTED: c('error', 'invalid', 'A node boots from its own ISO (`medium: iso`) in a way the ISO cannot boot.'),
  MEDIA_ISO_LOCAL_INVALID: c(
    'error',
    'invalid',
    '`install.iso_url: local` where the installer finds no Harvester ISO device: a release before v1.9, or a node that boots from the network.',
  ),
  MEDIA_VLAN_UNTAGGED: c(
    'warning',
    'invalid',
    "A node that boots from its own ISO is on a tagged VLAN, which the ISO's boot programs cannot tag.",
  ),
  MEDIA_BMC_REFUSED: c(
    'error',
    'invalid',
    "nginx serves a node's boot ISO only to its BMC's address, and the node's `bmc.address` is a name or an IPv6 address, which nginx cannot allow (an error: the BMC's download gets 403); with no `bmc.address` at all, a warning (the image can still reach the machine by hand).",
  ),
  BOOT_UNKNOWN_JOIN_INCOMPLETE: c(
    'error',
    'invalid',
    '`boot.unknown: join` lacks what a machine with unknown MACs needs: an install device and a management NIC name in `defaults`.',
  ),
  BOOT_SECURE_BOOT_INVALID: c('error', 'invalid', '`boot.secure_boot` on a BIOS site, or with the shim and the loader as one file.'),
  OS_PROFILE_UNKNOWN: c('error', 'invalid', 'A node names an OS profile (`os:`) that `os_profiles` does not have.'),
  OS_PARAM_RESERVED: c('error', 'invalid', 'An OS profile parameter sets what harvgen writes itself (`BOOTIF`, `initrd`, `ds`, `root`).'),
  OS_PROFILE_FILE_NOT_SERVED: c(
    'warning',
    'invalid',
    "An OS profile's kernel, initrd or shim URL is on the boot server, whose generated nginx does not serve it (404).",
  ),
  CLOUD_INIT_INVALID: c(
    'error',
    'invalid',
    'cloud-init data of a generic node is not usable: both `user_data` and `user_data_file`, or a file that is not `#cloud-config` YAML.',
  ),
  NODE_ISCSI_INVALID: c(
    'error',
    'invalid',
    'An iSCSI boot is not usable: the portal is not an address in the network, or the node also names an OS.',
  ),
  BMC_INVALID: c(
    'error',
    'invalid',
    "A node's BMC cannot be driven as written: a node's own `bmc:` without an address, a Redfish-only setting on an IPMI BMC, two nodes naming one BMC, or a node named `all` (bmc/all.sh).",
  ),
  BOOT_SECURE_BOOT_NO_SHIM: c(
    'warning',
    'invalid',
    "With `boot.secure_boot`, an OS profile has no `shim`: the firmware refuses its distribution-signed kernel without the distribution's shim.",
  ),
  BOOT_HTTP_BOOT_PROXY: c(
    'warning',
    'invalid',
    '`boot.http_boot` with `dnsmasq.mode: proxy`: a proxy DHCP server does not answer UEFI HTTP boot clients.',
  ),
  BOOT_EXIT_MAY_HANG: c(
    'warning',
    'invalid',
    'UEFI machines leave iPXE with `exit` to boot their disk, and `ipxe.efi` may never return to the firmware.',
  ),
  BSS_NODE_NOT_EXPORTED: c(
    'warning',
    'invalid',
    '`bss.export`: a node BSS cannot boot as the tree does (install-once, a command line that differs per MAC, a value BSS rewrites) is left out of bss/bootparameters.json.',
  ),
  METAL3_NODE_NOT_EXPORTED: c(
    'warning',
    'invalid',
    '`metal3.export`: a node without a BMC is left out of metal3/ (Metal3 drives machines through their BMC).',
  ),
  METAL3_HOST_INVALID: c(
    'error',
    'invalid',
    "`metal3.export`: baremetal-operator would refuse the node's BareMetalHost, or Ironic would not install on the disk the inventory names: its install disk cannot be a root device hint (a by-id link whose model and serial harvgen cannot tell apart without facts, a label or UUID), it boots with Secure Boot through an IPMI BMC, or its hostname is a UUID.",
  ),
  METAL3_ISO_OVER_IPXE: c(
    'warning',
    'invalid',
    "`metal3.export`: an IPMI node's boot ISO (`spec.image`, live-iso) is not mounted as virtual media: Ironic boots the node from its own provisioning network (its DHCP and iPXE), and iPXE boots the image from Ironic's HTTP server.",
  ),
  // cluster section
  CLUSTER_SECTION_MISSING: c('error', 'invalid', 'A node installs Harvester but the site has no `harvester:` or `cluster:` section.'),
  CLUSTER_NO_NODES: c('error', 'invalid', 'The site has no nodes.'),
  CLUSTER_NO_CREATE_NODE: c('error', 'invalid', 'No node creates the cluster (all are `role: join`).'),
  CLUSTER_MULTIPLE_CREATE_NODES: c('error', 'invalid', 'More than one node has `role: create`.'),
  CLUSTER_ALREADY_CREATED: c(
    'error',
    'invalid',
    '`cluster.created` says the cluster exists, yet a node has `role: create` (a second cluster).',
  ),
  CLUSTER_CREATE_NODE_REINSTALL: c(
    'error',
    'invalid',
    'Without `cluster.created`, the create node would install again in create mode while other nodes may hold the cluster (a reinstall generation, or `state: install` beside nodes that keep their system): a second cluster.',
  ),
  CLUSTER_VIP_OUTSIDE_NETWORK: c('error', 'invalid', 'The VIP is outside the management network or a reserved address.'),
  CLUSTER_VIP_IS_NODE_IP: c('error', 'invalid', 'The VIP equals a node IP.'),
  CLUSTER_VIP_IN_DHCP_RANGE: c('error', 'invalid', 'The VIP lies inside the dynamic DHCP range.'),
  CLUSTER_VIP_HW_ADDR: c('error', 'invalid', '`vip_mode: dhcp` without a valid `vip_hw_addr`.'),
  CLUSTER_NO_CREDENTIALS: c('error', 'invalid', 'Neither a password nor an SSH key is set.'),
  CLUSTER_PASSWORD_BAD_HASH: c('error', 'invalid', 'The password starts with `$` but is not a complete crypt hash.'),
  CLUSTER_TOKEN_CHARSET: c('error', 'invalid', 'The token has characters outside printable ASCII.'),
  CLUSTER_CIDR_INVALID: c('error', 'invalid', 'The pod or service CIDR is not a valid IPv4 network.'),
  CLUSTER_CIDR_OVERLAP: c('error', 'invalid', 'Pod, service and management networks overlap.'),
  CLUSTER_DNS_OUTSIDE_SERVICE_CIDR: c('error', 'invalid', '`cluster_dns` is not inside the service CIDR.'),
  // the installer's own rules for the release (src/harvester/installer-rules.ts)
  INSTALLER_PREFLIGHT_FAILS: c(
    'error',
    'invalid',
    "The node fails a preflight check of its release's installer (CPUs, memory, NIC speed, virtual machine, /dev/kvm, BIOS) that skipchecks does not lift.",
  ),
  INSTALLER_DEVICE_MISSING: c(
    'error',
    'invalid',
    "The machine's measured facts show no disk at the config's `install.device` (or no disk at all): the installer's device check stops the install, whatever skipchecks says.",
  ),
  INSTALLER_DEVICE_PATH: c(
    'error',
    'invalid',
    'An install disk, data disk or wipe-list entry that is not a plain device path (a trailing slash, `//`, a `.` or `..` part): the installer looks the path up as written and refuses it.',
  ),
  INSTALLER_DNS_UNUSED: c(
    'error',
    'invalid',
    "A DNS server of a node's config that its installed system would never use: from v1.7 one that is not IPv4 (the installer writes them into the management bridge's IPv4 settings, where NetworkManager drops it), before v1.7 one that is no IP address.",
  ),
  INSTALLER_NIC_INVALID: c(
    'error',
    'invalid',
    'A management interface named `lo` (the installer refuses a loopback interface) or by a name no Linux interface can have (more than 15 characters, a space, `/` or `:`): the installer finds no such interface.',
  ),
  INSTALLER_DISK_TOO_SMALL: c(
    'error',
    'invalid',
    "The install or data disk is under the installer's minimum for the release (250/180/50 GiB).",
  ),
  INSTALLER_PARTITION_SIZE: c(
    'error',
    'invalid',
    '`persistent_partition_size` is under 150Gi or does not fit the install disk (a warning where the installer shrinks it).',
  ),
  INSTALLER_FORCE_MBR: c('error', 'invalid', '`install.force_mbr` on UEFI, from v1.8, or on a disk over 2 TiB: the installer refuses it.'),
  INSTALLER_KNOWN_ISSUE: c(
    'warning',
    'invalid',
    "A release's known problem applies to the node (an 802.3ad bond with DHCP, a NIC driver), with the upstream issue.",
  ),
  INSTALLER_WEBHOOK_INVALID: c(
    'error',
    'invalid',
    "A webhook the installer cannot prepare (event, method, or a `url`/`payload` template outside the accepted subset): it would drop every webhook of the node, harvgen's install reports included.",
  ),
  INSTALLER_VALUE_READ_AS: c(
    'warning',
    'invalid',
    'An installer setting in `config:` that the installer reads otherwise than it looks: a boolean given as something else (`"no"`, `1`, `on`), read as the boolean the release makes of it (which harvgen writes; an error where that release cannot load it, a list before v1.8), or an `install.tty` with a space or empty, taken as written.',
  ),
  NODE_VLAN_CONFIG_MISMATCH: c(
    'error',
    'invalid',
    "The node's `vlan` and the `install.management_interface.vlan_id` its `config:` sets differ: the installer boots on the one and the installed system tags the other.",
  ),
  INSTALLER_SETTING_INVALID: c(
    'error',
    'invalid',
    'A `system_settings` value the installer decodes and refuses (`containerd-registry` that does not decode as a registries configuration, v1.3 and later).',
  ),
  INSTALLER_SKIPCHECKS_IGNORED: c(
    'warning',
    'invalid',
    '`skipchecks` is set for a release whose installer has none (v1.2): it is ignored.',
  ),
  INSTALLER_CORDONED_INVALID: c(
    'error',
    'invalid',
    '`install.cordoned` on the node that creates the cluster or on a witness: the v1.9 installer refuses the config and stops the install.',
  ),
  // Measured facts (`harvgen facts`)
  MEASURED_FACT_DISAGREES: c(
    'warning',
    'invalid',
    'A declared fact (`hardware:`, `boot.firmware`, `install.device`) disagrees with what was measured of the machine (`facts/<hostname>.yaml`): the installer sees the machine, and harvgen judges the measured value.',
  ),
  MEASURED_MAC_MISSING: c(
    'warning',
    'invalid',
    "A node's boot MAC or management interface NIC is none of the NICs measured on its machine: a typing error, or the facts belong to another machine.",
  ),
  MEASURED_NIC_UNTIED: c(
    'warning',
    'invalid',
    "The management interface names its NICs by kernel name only, the facts (Redfish) name none, and the machine's NICs that are up differ across the installer's 10 Gbps: harvgen cannot tell whether the preflight's NIC speed check passes.",
  ),
  MEASURED_NODE_UNKNOWN: c(
    'warning',
    'invalid',
    'A facts file names no node of the site: the node was renamed or removed, or is still to be added (`harvgen discover` writes its stub).',
  ),
  FACTS_READ_FAILED: c(
    'error',
    'failed',
    "`harvgen facts` could not read a machine's facts: its BMC refused or did not answer, sent too much, or a dump is not the collector's output.",
  ),
  // Harvester version and installer config
  HARVESTER_VERSION_UNSUPPORTED: c('error', 'invalid', 'The Harvester version is not one harvgen knows (v1.2 to v1.9).'),
  HARVESTER_KEY_TOO_NEW: c('error', 'invalid', 'A setting the chosen Harvester version does not have yet.'),
  HARVESTER_RELEASE_UNKNOWN: c(
    'warning',
    'invalid',
    'The version is in a release line harvgen knows, but no such release was published (as far as harvgen knows): the newest of its line is suggested.',
  ),
  HARVESTER_BIOS_UNSUPPORTED: c('error', 'invalid', 'Legacy BIOS boot with Harvester v1.8 or newer.'),
  HARVESTER_ARTIFACTS_NO_VERSION: c(
    'error',
    'invalid',
    "A node installs another release, but `harvester.artifacts` (or `iso_url`) does not name the site's release to substitute.",
  ),
  HARVESTER_CONFIG_INVALID: c(
    'error',
    'invalid',
    "The generated Harvester config breaks the installer's schema (usually through `config:` keys).",
  ),
} as const satisfies Record<string, CodeInfo>;
