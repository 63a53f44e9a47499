// The catalogue of diagnostic codes. Codes are stable: never rename one; retire it instead.
// Prefix = the stage (or the inventory section) that reports it. ARCHITECTURE.md and the
// README print this table; test/codes.test.ts checks that every code has a fixture.
import type { Severity } from './types.ts';

/**
 * What a code means to a shell script when a run fails (README "Exit codes"): `invalid` (exit 1)
 * says what was checked is wrong (the inventory, a stale tree, a server that differs); `failed`
 * (exit 2) says the job could not be done (usage, I/O, a lock, a server that did not answer, a bug).
 * A run that fails with any `failed` code exits 2, else 1.
 */
export type ExitClass = 'invalid' | 'failed';

export interface CodeInfo {
  readonly severity: Severity;
  readonly exit: ExitClass;
  readonly summary: string;
}

const c = (severity: Severity, exit: ExitClass, summary: string): CodeInfo => ({ severity, exit, summary });

/** Every code harvgen reports, with its default severity, its exit class and a one-line summary. */
export const CODES = {
  // load: finding and reading the files
  LOAD_SITE_DIR_NOT_FOUND: c('error', 'invalid', 'The site directory does not exist or is not a directory.'),
  LOAD_SITE_YAML_MISSING: c('error', 'invalid', 'The site directory has no site.yaml.'),
  LOAD_READ_FAILED: c('error', 'failed', 'A file could not be read.'),
  LOAD_CHANGED_DURING_BUILD: c(
    'error',
    'failed',
    'The inventory of a site changed between the two readings of a build of many sites; nothing was written for it.',
  ),
  LOAD_FILE_TOO_LARGE: c('error', 'invalid', 'An inventory file is larger than the limit (1 MiB).'),
  LOAD_BINARY_FILE: c('error', 'invalid', 'An inventory file contains NUL bytes (it is not text).'),
  LOAD_INVALID_UTF8: c('error', 'invalid', 'An inventory file is not valid UTF-8.'),
  LOAD_OUTSIDE_REPOSITORY: c(
    'error',
    'invalid',
    'A file or directory the site would read is outside its repository (the nearest directory with a `.git`, else the site directory alone), by its real path: through a link or `../`.',
  ),
  // yaml: parsing
  YAML_SYNTAX: c('error', 'invalid', 'The file is not valid YAML.'),
  YAML_DUPLICATE_KEY: c('error', 'invalid', 'A mapping has the same key twice.'),
  YAML_TAB_INDENT: c('error', 'invalid', 'Tabs are used for indentation.'),
  YAML_MULTI_DOCUMENT: c('error', 'invalid', 'The file holds more than one YAML document.'),
  YAML_EMPTY: c('error', 'invalid', 'The file is empty.'),
  YAML_ALIAS_LIMIT: c(
    'error',
    'invalid',
    'Aliases expand the file beyond the limit (2 MiB of keys and values, or a YAML "billion laughs" bomb), or an alias is inside the value of its own anchor.',
  ),
  YAML_TOO_MANY_KEYS: c('error', 'invalid', 'A mapping has more than 10,000 keys, or a list more than 10,000 items.'),
  YAML_NOT_A_MAP: c('error', 'invalid', 'The top level of the file is not a mapping.'),
  YAML_TAG: c(
    'error',
    'invalid',
    'A YAML tag (`!!binary`, `!!set`, `!custom`, ...), a `__proto__` key (also through an alias) or a list or mapping as a key: an inventory holds plain data only.',
  ),
  // schema: shape of the inventory
  SCHEMA_UNKNOWN_KEY: c('error', 'invalid', 'A key the inventory format does not have.'),
  SCHEMA_REQUIRED: c('error', 'invalid', 'A required key is missing.'),
  SCHEMA_TYPE: c('error', 'invalid', 'A value has the wrong type.'),
  SCHEMA_ENUM: c('error', 'invalid', 'A value is not one of the allowed choices.'),
  SCHEMA_PATTERN: c('error', 'invalid', 'A value does not have the required form.'),
  SCHEMA_RANGE: c('error', 'invalid', 'A number or list is outside the allowed range or size.'),
  SCHEMA_INVALID: c('error', 'invalid', 'A value breaks another rule of the inventory schema.'),
  // secrets
  SECRET_ENV_MISSING: c('error', 'invalid', 'A secret comes from an environment variable that is not set (or empty).'),
  SECRET_FILE_MISSING: c('error', 'invalid', 'A secret comes from a file that does not exist, cannot be read or is empty.'),
  SECRET_INLINE: c('warning', 'invalid', 'A token or plain-text password is written in the inventory (it is in git).'),
  FILE_KEY_TOO_SHORT: c('error', 'invalid', '`nginx.file_key` is shorter than 32 characters: the names it keys would be guessable.'),
  SECRET_KEY_NOT_IGNORED: c(
    'error',
    'invalid',
    'A private key file (`signing.private_key`, `publish.key` as `{ file }`) is tracked by git, or not ignored by the repository: `git add -A` would commit it. Ignore its directory in .gitignore.',
  ),
  SECRET_TOO_LONG: c(
    'error',
    'invalid',
    'A secret is longer than 4096 bytes (a token is about 100 characters; longer ones cost gigabytes to hash).',
  ),
  // signed trees (signing:)
  SIGNING_PUBLIC_KEY_INVALID: c(
    'error',
    'invalid',
    '`signing.public_key` is not one OpenSSH public key line (`ssh-ed25519`/`ssh-rsa`/`ecdsa-sha2-*`, no options or second line), or is an ECDSA key, whose signatures differ at every build.',
  ),
  SIGNING_KEY_INVALID: c(
    'error',
    'invalid',
    'Deploy build: `signing.private_key` is not a private key ssh-keygen reads without a passphrase, or `signing.public_key` is not its public half.',
  ),
  SIGNING_FAILED: c(
    'error',
    'failed',
    'ssh-keygen (Debian package openssh-client) is missing or could not sign or check a signature: the job could not be done (exit 2).',
  ),
  // fleet publishing (publish:, harvgen publish, harvgen pull; docs/fleet.md)
  PUBLISH_UNSIGNED: c(
    'error',
    'invalid',
    '`publish:` without `signing:`: the boot server serves no published tree whose signature it cannot check.',
  ),
  PUBLISH_KEY_INVALID: c('error', 'invalid', '`publish.key` is not 64 hexadecimal digits (a 256-bit key, `openssl rand -hex 32`).'),
  PUBLISH_SITE_NAME: c(
    'error',
    'invalid',
    'With `publish:`, the site name is not a registry repository name (lower-case letters and digits joined by `.`, `_`, `__` or hyphens).',
  ),
  PUBLISH_FAILED: c(
    'error',
    'failed',
    '`harvgen publish`, `export` or `import` could not reach the registry, authenticate, or write: the job could not be done (exit 2).',
  ),
  PUBLISH_RELEASE_MISSING: c(
    'error',
    'invalid',
    '`harvgen publish --releases <dir>`: a release file the site boots is missing there, or differs from what `fetch.sh` checks.',
  ),
  PUBLISH_DIRTY: c(
    'error',
    'invalid',
    '`harvgen publish`: the site directory or an input it reads (`_defaults.yaml`, `_profiles/`, a secret file) has uncommitted changes, so `<site>-<commit>` would name inputs no commit holds; commit first, or `--allow-dirty` (tagged `<site>-<commit>-dirty-<digest>`, then a warning).',
  ),
  PULL_REFUSED: c(
    'error',
    'invalid',
    '`harvgen pull` refused an artifact: a digest, the signature, the site, the sealing key or the serial did not check; the tree served before stays served.',
  ),
  PULL_FAILED: c(
    'error',
    'failed',
    '`harvgen pull` could not fetch, unpack, test or switch (registry, disk, nginx): the tree served before stays served (exit 2).',
  ),
  // network section
  NET_CIDR_INVALID: c('error', 'invalid', '`network.cidr` (or a block of `nginx.real_ip.from`) is not a valid IPv4 network.'),
  DHCP_BOOT_FILE_TOO_LONG: c('error', 'invalid', 'With `dhcp.server: kea`, a boot file URL is longer than the 127 bytes Kea accepts.'),
  DHCP_FORM_CONFLICT: c('error', 'invalid', '`dnsmasq.mode: proxy` with `dhcp.server: kea` or `isc`: proxy DHCP is a dnsmasq form.'),
  NET_IP_INVALID: c('error', 'invalid', 'A value that must be an IPv4 address is not one.'),
  NET_GATEWAY_OUTSIDE: c('error', 'invalid', 'The gateway is not a usable address of the network.'),
  NET_DHCP_RANGE_INVALID: c('error', 'invalid', '`network.dhcp_range` is malformed, reversed or outside the network.'),
  NET_DNS_INVALID: c('error', 'invalid', 'A DNS server is not an IPv4 address.'),
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
  NODE_VLAN_NAME_TOO_LONG: c('error', 'invalid', 'The tagged interface name `<nic>.<vlan>` is longer than the 15 characters Linux allows.'),
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
    'warning',
    'invalid',
    "nginx serves a node's boot ISO only to its BMC's address, and the node has no BMC address nginx can allow.",
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
  // across the sites of one run
  SITE_SERVER_CONFLICT: c('error', 'invalid', 'Two sites are served at the same boot server URL (same host, port and path prefix).'),
  SITE_SHARED_ARTIFACTS: c('error', 'invalid', 'A site on a shared boot server serves its release files outside its own path prefix.'),
  SITE_DNSMASQ_CONFLICT: c(
    'error',
    'invalid',
    'Sites that share one dnsmasq (`dnsmasq.host`) disagree on what the process holds once (TFTP root, DNS, reservation directory), on listening interfaces, or have overlapping networks.',
  ),
  // render and emit
  RENDER_PATH_ESCAPE: c('error', 'invalid', 'An output path would leave the output directory.'),
  RENDER_UNSAFE_VALUE: c('error', 'invalid', 'A value cannot be written safely in the format of its file (a validation gap: a bug).'),
  RENDER_CONFIG_TOO_LARGE: c(
    'error',
    'invalid',
    "A node's Harvester config (its merged `config:` or the file) would be larger than 1 MiB.",
  ),
  RENDER_SITE_CONFIGS_TOO_LARGE: c(
    'error',
    'invalid',
    "The Harvester configs of a site's nodes (their merged `config:`, or the files) would be larger than 64 MiB together: a large shared `config:` repeated in every node's.",
  ),
  EMIT_WRITE_FAILED: c('error', 'failed', 'The output could not be written.'),
  EMIT_DUPLICATE_SITE: c('error', 'invalid', 'Two site directories declare the same `site:` name (they would write the same output).'),
  EMIT_STALE: c('error', 'invalid', '`--check`: the output directory differs from what the inventory builds.'),
  EMIT_OUT_DIR_UNSAFE: c('error', 'failed', 'The output root is `/`, a home or system directory, or inside or above a site directory.'),
  EMIT_SYMLINK_REFUSED: c('error', 'failed', 'A path in the output directory is a symbolic link; harvgen never writes through one.'),
  EMIT_LOCKED: c('error', 'failed', 'Another harvgen is building the same output directory.'),
  EMIT_RECOVERED: c(
    'warning',
    'invalid',
    'The previous build was interrupted; this build first finished or undid it (never fails a build).',
  ),
  EMIT_INTERRUPTED: c('error', 'invalid', '`--check`/`--dry-run`: the output holds an unfinished build (a warning with --dry-run).'),
  EMIT_UNTRUSTED_PATH: c('warning', 'invalid', 'The `manifest.json` in the output names a path that is not plain; harvgen ignored it.'),
  EMIT_JOURNAL_DISCARDED: c(
    'warning',
    'invalid',
    "The journal of an interrupted build did not verify (not harvgen's shape, or a file no `manifest.json` lists) or could not be applied: deleted unapplied, reported once; the build then rewrites the tree.",
  ),
  // verify: a boot server against the deploy tree
  DISCOVER_DIR_UNSAFE: c('error', 'failed', "A site's `discovered/` is a symbolic link or not a directory: discover writes no stub there."),
  DISCOVER_CAPPED: c('warning', 'failed', 'discover wrote the most stubs one run writes; the other unknown MACs got none this run.'),
  STATUS_LOG_UNREADABLE: c('error', 'failed', 'A log given to `harvgen status` or `harvgen discover` cannot be read.'),
  STATUS_LOCKED: c('error', 'failed', 'Another `harvgen status` is reading logs into the same `--state` directory.'),
  STATUS_BMC_LOG_UNREADABLE: c(
    'error',
    'failed',
    'A BMC log given to `harvgen status --bmc-log` (what the BMC scripts append to `HARVGEN_BMC_LOG`) cannot be read.',
  ),
  VERIFY_DRIFT: c(
    'error',
    'invalid',
    '`verify`: a file the server must serve is not what was built: missing, another status, a redirect, other bytes (stale or edited), the wrong Content-Type, or a release file whose SHA-512 is not the published one.',
  ),
  VERIFY_EXPOSED: c(
    'error',
    'invalid',
    "`verify`: the server answers where it must refuse (403/404): manifest.json, dnsmasq/, nginx/, the build state, secrets, a directory listing, a redirect, a traversal path, a random name, or a node's file to an address its access rules leave out.",
  ),
  VERIFY_UNREACHABLE: c(
    'error',
    'failed',
    '`verify`: a server did not answer (refused, timed out, no route, name not found); its other checks were not made (exit 2).',
  ),
  VERIFY_NO_DEPLOY_TREE: c(
    'error',
    'failed',
    '`verify`: there is no deploy tree to compare with: no `<out>/<site>/manifest.json`, one harvgen did not write, or the committed tree (secrets as markers) (exit 2).',
  ),
  VERIFY_SIGNATURE: c(
    'error',
    'invalid',
    "`verify`: the site has a signing key, and the deploy tree's manifest.json.sig is missing or does not verify (`ssh-keygen -Y verify`) for that manifest.json: nothing of the tree is trusted, no request is made (exit 1).",
  ),
  VERIFY_FLEET_RECORD: c(
    'error',
    'failed',
    '`verify --fleet`: the fleet record cannot be used: no directory, no `<site>.json` in it, or a record that is not JSON, names another site than its file, or lacks a valid `boot_server`, `digest`, `repository`, `tag` or `sample` (that site is not checked; exit 2).',
  ),
  VERIFY_FLEET_STATE: c(
    'error',
    'invalid',
    "`verify --fleet`: the boot server does not say which artifact it serves: no `.harvgen/state.json` (not materialized by `harvgen pull`, or its nginx config lacks the state location), one that is not the materializer's, or one of another site (the record's `boot_server` points elsewhere).",
  ),
  VERIFY_FLEET_DRIFT: c(
    'error',
    'invalid',
    "`verify --fleet`: the site serves another artifact than the fleet record in git says (its state.json's `digest` is not the record's): not pulled yet, refused by the materializer, or changed by hand.",
  ),
  VERIFY_FLEET_VERDICT: c(
    'error',
    'invalid',
    "`verify --fleet`: the materializer's own verify of what the site serves failed (its state.json's last `verdict`); a warning while it has recorded no verdict yet.",
  ),
  // command line
  CLI_USAGE: c('error', 'failed', 'The command line is wrong (unknown command or option, missing argument).'),
  INTERNAL_ERROR: c('error', 'failed', 'harvgen itself failed (a bug).'),
} as const satisfies Record<string, CodeInfo>;

/** A diagnostic code from the catalogue. */
export type Code = keyof typeof CODES;
