/* Generated from scripts/site-schema.ts by `npm run gen:schema`. Do not edit by hand. */

/**
 * Disk Harvester is installed on. Prefer a persistent name (`/dev/disk/by-id/...`, `/dev/disk/by-path/...`) or a selector; `/dev/sdX` names can change between boots and get a warning. Either a path under `/dev/` without control characters, or a map that names the disk by what it is (`serial`, `wwn`, `model`, `min_gib`, `max_gib`; every key given must match): harvgen finds it among the disks measured of the node's machine (`harvgen facts`, a dump) and writes its `/dev/disk/by-id/` path (docs/inventory.md, "The install disk by what it is").
 */
export type DiskSelectorInput =
  | string
  | {
      /**
       * The disk's serial number, as its facts file lists it.
       */
      serial?: string;
      /**
       * The disk's World Wide Name: 16 or 32 hexadecimal digits, optionally after `0x` or `naa.` (`eui.` for an NVMe EUI-64 or NGUID).
       */
      wwn?: string;
      /**
       * The disk model, as its facts file lists it; `*` stands for any run of characters; upper and lower case match alike.
       */
      model?: string;
      /**
       * The disk has at least this many GiB (2^30 bytes).
       */
      min_gib?: number;
      /**
       * The disk has at most this many GiB.
       */
      max_gib?: number;
    };
/**
 * Optional separate disk for VM data (Longhorn default disk). Must differ from `device`. Either a path under `/dev/` without control characters, or a map that names the disk by what it is (`serial`, `wwn`, `model`, `min_gib`, `max_gib`; every key given must match): harvgen finds it among the disks measured of the node's machine (`harvgen facts`, a dump) and writes its `/dev/disk/by-id/` path (docs/inventory.md, "The install disk by what it is").
 */
export type DiskSelectorInput1 =
  | string
  | {
      /**
       * The disk's serial number, as its facts file lists it.
       */
      serial?: string;
      /**
       * The disk's World Wide Name: 16 or 32 hexadecimal digits, optionally after `0x` or `naa.` (`eui.` for an NVMe EUI-64 or NGUID).
       */
      wwn?: string;
      /**
       * The disk model, as its facts file lists it; `*` stands for any run of characters; upper and lower case match alike.
       */
      model?: string;
      /**
       * The disk has at least this many GiB (2^30 bytes).
       */
      min_gib?: number;
      /**
       * The disk has at most this many GiB.
       */
      max_gib?: number;
    };

/**
 * One Harvester cluster at one location: `sites/<site>/site.yaml`, optionally with one file per node in `sites/<site>/nodes/*.yaml`.
 */
export interface SiteInput {
  /**
   * Editor hint; ignored by harvgen.
   */
  $schema?: string;
  /**
   * Site name: lowercase letters, digits, `_` and `-` (it names the output directory `out/<site>/`).
   */
  site: string;
  /**
   * Free text for humans.
   */
  description?: string;
  /**
   * Which Harvester release to install and where its boot artifacts are served. Required when any node installs Harvester; a site of only generic OS and iSCSI nodes has none.
   */
  harvester?: {
    /**
     * Harvester release, e.g. `v1.4.1`. Decides which config keys and boot modes are allowed.
     */
    version: string;
    /**
     * Base URL under which the release files `harvester-<version>-{vmlinuz,initrd}-amd64`, `-rootfs-amd64.squashfs` and `-amd64.iso` are served. `artifacts/fetch.sh` downloads them. Form: `http://host[:port]/path` (or https, which needs an iPXE built with TLS); the path of letters, digits and `. _ ~ + = , : @ - /` with no empty, `.` or `..` segment; no user, query, fragment, `%` escapes or whitespace; an IPv6 host in brackets.
     */
    artifacts: string;
    /**
     * Override for `install.iso_url` (default: the ISO under `artifacts`). Form: `http://`, `https://`, `ftp://` or `tftp://` `host[:port]/path`; the path of letters, digits and `. _ ~ + = , : @ - /` with no empty, `.` or `..` segment; no user, query, fragment, `%` escapes or whitespace; an IPv6 host in brackets.
     */
    iso_url?: string;
    /**
     * An upgrade of the cluster from `version` to `to` (docs/upgrade.md): the tree gets Harvester's `Version` manifest (`upgrade/version.yaml`, its ISO on this site's boot server or mirror), and with `apply` the `Upgrade` manifest and a script that applies both; the target release's files are served (and fetched, published) beside the current ones. `check` refuses a hop Harvester refuses, and nodes that would block or be left behind. Once the upgrade has run, say `done: true`: nodes then install and join with `to`.
     */
    upgrade?: {
      /**
       * The release to upgrade to, e.g. `v1.9.0`: newer than `version`, with `version` at least its minimum upgradable release.
       */
      to: string;
      /**
       * SHA-512 of the target's ISO for the cluster's architecture (its create node's), 128 lower-case hex digits: its line in the release's `harvester-<to>-amd64.sha512` (`-arm64.sha512` for an arm64 cluster; Harvester refuses any other form).
       */
      iso_checksum: string;
      /**
       * The target's release date as `YYYYMMDD` (the `Version`'s `releaseDate`, shown in Harvester's UI). Optional.
       */
      release_date?: string;
      /**
       * Also write the `Upgrade` manifest (`upgrade/upgrade.yaml`) and `upgrade/apply.sh`, which applies both with the kubeconfig in `KUBECONFIG` (never in the tree). Default false: apply `upgrade/version.yaml` yourself and start the upgrade from the UI.
       */
      apply?: boolean;
      /**
       * The upgrade has run: nodes installed or joined from now on get the `to` release (its config and files), and no manifests are written. Default false.
       */
      done?: boolean;
    };
  };
  /**
   * How machines network-boot.
   */
  boot: {
    /**
     * Base URL the generated tree is served at (iPXE and UEFI HTTP boot do not follow redirects; plain http avoids TLS trouble in the boot chain). Form: `http://host[:port]`, optionally with a path prefix of segments of letters, digits and `. _ ~ -` (not `.` or `..`; `http://10.0.0.5/location_x`, for several sites on one server); no user, query or fragment; the host is an IPv4 address, a DNS name or an IPv6 address in brackets (`http://[fd00:10::1]`), the port 1-65535.
     */
    server: string;
    /**
     * Firmware of the machines: `uefi` (default) or `bios`. BIOS is refused for Harvester v1.8+.
     */
    firmware?: 'uefi' | 'bios';
    /**
     * iPXE binary that UEFI firmware chainloads over TFTP: `snponly.efi` (default; the firmware's network stack, and it returns to the firmware on `exit`, which local disks and unknown machines use) or `ipxe.efi` (iPXE's own NIC drivers, which take the NIC from the firmware: some firmware never gets control back on `exit`, `BOOT_EXIT_MAY_HANG`).
     */
    uefi_loader?: 'ipxe.efi' | 'snponly.efi';
    /**
     * iPXE binary arm64 UEFI firmware chainloads (TFTP, or HTTP with `http_boot`), under this name in the TFTP root and the tree: `ipxe-arm64.efi` (default; iPXE's `bin-arm64-efi/ipxe.efi`) or `snp.efi` (`bin-arm64-efi/snp.efi`, the firmware's network stack). Only used when a node has `arch: arm64`.
     */
    arm64_loader?: 'ipxe-arm64.efi' | 'snp.efi';
    /**
     * Kernel consoles for the installer, e.g. `[tty1]` or `[tty1, "ttyS0,115200n8"]` (the last is primary). Default `[tty1]`.
     *
     * @minItems 1
     *
     * Items: One kernel console, e.g. `tty1` or `ttyS0,115200n8`. In a flow list quote entries with a comma (`[tty1, "ttyS0,115200n8"]`): unquoted, YAML splits them at the comma.
     */
    console?: [string, ...string[]];
    /**
     * Extra kernel arguments for every node (e.g. `nomodeset`). Arguments harvgen writes itself (`ip=`, `BOOTIF=`, `vlan=`, `ifname=`, `nameserver=`, `root=`, `initrd=`, `rd.net.dhcp.retry=`, `harvester.install.*`) are refused: set the inventory field instead.
     *
     * Items: One kernel argument. Form: one kernel argument: a single token that starts with a letter or digit, then letters, digits and `_ . , : ; = / + @ % ~ [ ] -` (no whitespace, quotes, `$`, `#`, `|`, `&`, `\` or control characters, which iPXE, the shell or the kernel would interpret).
     */
    kernel_args?: string[];
    /**
     * Add `harvester.install.skipchecks=true`: the installer's preflight checks (v1.3+: CPU threads, memory, NIC speed, virtual machine, /dev/kvm; v1.7's legacy BIOS check) and, from v1.8, its disk and partition minimums warn instead of stopping the install (needed for lab VMs). v1.2 has no such checks. Default false.
     */
    skipchecks?: boolean;
    /**
     * Nodes report what they do to the boot server, which only logs it (nginx answers 200 with an empty body), for `harvgen status` and `harvgen discover`: each Harvester config sends the installer's events (`install.webhooks`: STARTED, SUCCEEDED, FAILED, to `harvgen-events/<hostname>/<EVENT>`), and `unknown.ipxe` (`unknown: wait`) reports what iPXE knows of an unknown machine (MAC, SMBIOS UUID, serial, manufacturer, product) to `harvgen-discover`. Default true.
     */
    report?: boolean;
    /**
     * How many times the iPXE scripts try a failed fetch before giving up (default 3), the same on BIOS and UEFI. A node's script that gives up returns to the firmware, whose next step is its own: a firmware may go on to its next boot entry, or start network boot again (then the tries start over, which looks like retrying without end). From a boot medium the script never gives up (docs/install-without-pxe.md, "Retries").
     */
    retries?: number;
    /**
     * Seconds between iPXE fetch attempts (default 5).
     */
    retry_delay?: number;
    /**
     * Seconds a machine that gets no install waits in iPXE before it returns to the firmware (default 60): an unknown machine under `unknown: wait`, a machine of another arch under `unknown: join`, and the plain-name stub of a keyed site (`nginx.file_key`). The pause keeps such a machine from looping tightly through network boot.
     */
    unknown_wait?: number;
    /**
     * What a machine whose MAC is in no node gets (`unknown.ipxe`): `wait` (default) prints its MAC, waits and returns to the firmware, installing nothing; `local` boots its local disk; `join` installs Harvester on it as a joining node with a generated config (`unknown/join.yaml`) unless its disk already holds an installed system. `join` wipes `defaults.install.device` of any machine that network-boots on this segment: see docs/day-2.md, "Unknown machines".
     */
    unknown?: 'wait' | 'local' | 'join';
    /**
     * How an `install-once` node (and an unknown machine under `unknown: join`) recognises an installed system on UEFI: a file on a FAT volume with this label. Default: Harvester's EFI partition, `COS_GRUB`, and its boot loader `/EFI/BOOT/bootx64.efi`.
     */
    installed_marker?: {
      /**
       * FAT volume label of the EFI system partition the installed system creates (default `COS_GRUB`). Form: a FAT volume label: 1-11 letters, digits, `_` and `-`, not starting with `-`.
       */
      volume?: string;
      /**
       * File on that volume that only an installed system has (default `/EFI/BOOT/bootx64.efi`; FAT ignores case). Form: an absolute path inside a volume: 1-8 `/`-separated names of letters, digits and `. _ -` (a name does not start with `.`).
       */
      file?: string;
    };
    /**
     * Answer UEFI HTTP boot clients (DHCP vendor class `HTTPClient`, x86-64 UEFI) in the generated dnsmasq and libvirt network: option 60 echoed, boot file `<boot.server>/<uefi_loader>` (or the Secure Boot shim), served by the generated nginx. No TFTP needed for those clients. Default false.
     */
    http_boot?: boolean;
    /**
     * Directory on the build machine to copy the iPXE binaries from into the tree's root (e.g. `/usr/lib/ipxe`, Debian's `ipxe` package; relative paths are relative to the site directory): the UEFI loader (`uefi_loader`) on UEFI sites, `undionly.kpxe` on BIOS sites, and the Secure Boot files, which must exist; the other standard binaries when present. nginx serves them (UEFI HTTP boot); the same tree can be a TFTP root.
     */
    ipxe_binaries?: string;
    /**
     * Directory on the build machine holding the boot programs of the boot media (`medium: iso` or `usb`). A relative path is relative to the site directory (the one with `site.yaml`), also when it is written in `sites/_defaults.yaml` or a profile. By fixed names: `isolinux.bin` and `ldlinux.c32` (Debian's `isolinux` and `syslinux-common`), `ipxe.lkrn` and `ipxe.efi` (Debian 13's `ipxe`: an `ipxe.efi` that runs `autoexec.ipxe` from its medium; Debian 12's does not), and for USB images `isohdpfx.bin` (Debian's `isolinux`). They are copied unmodified into every image (docs/install-without-pxe.md).
     */
    media_loaders?: string;
    /**
     * Boot UEFI machines with Secure Boot on: the firmware loads a signed shim (TFTP or HTTP), which loads the signed iPXE stored next to it under the name the shim was built to load; the node scripts then hand the distribution-signed kernel to its own shim (iPXE's `shim` command: the release's SUSE shim, which fetch.sh takes out of the ISO). harvgen cannot sign anything: the site provides the shim and iPXE (docs/boot-modes.md, "Secure Boot"). Lab domains get Secure Boot on.
     */
    secure_boot?: {
      /**
       * File name of the signed shim the firmware loads (default `<uefi_loader>-shimx64.efi`, iPXE's signed shim, which loads the file its name starts with). Form: an EFI file name: letters, digits and `. _ -`, starting with a letter or digit and ending in `.efi` (no `/`), at most 64 characters.
       */
      shim?: string;
      /**
       * File name the shim loads next: the site's signed iPXE stored under that name (default: `uefi_loader`, what iPXE's shim loads; a distribution's shim loads `grubx64.efi`, SUSE's `grub.efi`). Form: an EFI file name: letters, digits and `. _ -`, starting with a letter or digit and ending in `.efi` (no `/`), at most 64 characters.
       */
      loader?: string;
    };
    /**
     * How often the installer's initrd retries DHCP on the boot NIC (`rd.net.dhcp.retry=<n>`; dracut's default is 1). Raise it where switch ports come up slowly (spanning tree).
     */
    dhcp_retry?: number;
  };
  /**
   * The management network the nodes boot and live on.
   */
  network: {
    /**
     * Network in CIDR form, e.g. `192.168.122.0/24`.
     */
    cidr?: string;
    /**
     * Default gateway; sent as DHCP option `router` (Harvester needs a default route). (IPv4 address, dotted quad)
     */
    gateway?: string;
    /**
     * DNS servers handed out by DHCP and used for static nodes (1 to 8: DHCP option 6 holds 63 at most, the installer a few).
     *
     * @minItems 1
     * @maxItems 8
     */
    dns?:
      | [string]
      | [string, string]
      | [string, string, string]
      | [string, string, string, string]
      | [string, string, string, string, string]
      | [string, string, string, string, string, string]
      | [string, string, string, string, string, string, string]
      | [string, string, string, string, string, string, string, string];
    /**
     * Dynamic DHCP pool `first-last`, e.g. `192.168.122.100-192.168.122.200`. Needed where a machine leases an address: a network-booting node without `ip`, any node on a VLAN (its firmware boots on this network), and `boot.unknown: join`. Without it the DHCP server answers reserved addresses only, and unknown machines get none; a site whose nodes all boot from a medium needs no pool.
     */
    dhcp_range?: string;
    /**
     * Optional DNS domain handed out by DHCP. Form: a DNS name: dot-separated labels of letters, digits and inner hyphens (at most 63 characters each, the last one with a letter), no trailing dot.
     */
    domain?: string;
    /**
     * IPv6 on this network: DHCPv6 and router advertisements from the generated dnsmasq (Kea: DHCPv6 only), nginx listening on IPv6 and per-node access by IPv6 address. Generic OS nodes boot over IPv6 (UEFI PXE or iPXE over IPv6, then HTTP); Harvester nodes install over IPv4 only (the installer config has no IPv6 fields). Without `cidr`, the network is IPv6-only (docs/ipv6.md).
     */
    ipv6?: {
      /**
       * The network's IPv6 prefix, e.g. `fd00:10::/64`: the address in canonical form (lower case, shortest), a length of 64 to 120.
       */
      prefix: string;
      /**
       * DHCPv6 pool `first-last` inside `prefix`, e.g. `fd00:10::1000-fd00:10::1fff`.
       */
      dhcp_range: string;
      /**
       * DNS servers handed out by DHCPv6 (IPv6 addresses, 1 to 8).
       *
       * @minItems 1
       * @maxItems 8
       */
      dns?:
        | [string]
        | [string, string]
        | [string, string, string]
        | [string, string, string, string]
        | [string, string, string, string, string]
        | [string, string, string, string, string, string]
        | [string, string, string, string, string, string, string]
        | [string, string, string, string, string, string, string, string];
      /**
       * The boot server's IPv6 address on this network, where firmware fetches iPXE over TFTP and iPXE its first script over HTTP (`tftp://[<server>]/...`, `http://[<server>]/boot.ipxe`). Default: the host of `boot.server` when it is an IPv6 address; needed otherwise.
       */
      server?: string;
    };
    /**
     * Tagged VLANs the boot server serves beside this network (docs/vlan.md): each a DHCP scope of its own (dnsmasq, Kea or ISC dhcpd on the VLAN's interface) and an address of the boot server on it. Machines PXE-boot on this (untagged, native) network; a Harvester node whose `vlan` names one of these installs on it: its installer tags the VLAN, takes its address there (`ip` inside the VLAN's `cidr`, reserved by MAC in the VLAN's scope) and fetches its live root and config from the VLAN's `server`. With `vlans`, every node's `vlan` must name one of them.
     *
     * @maxItems 64
     *
     * Items: One tagged VLAN and its DHCP scope.
     */
    vlans?: {
      /**
       * VLAN ID (2-4094), as the switch tags it; a node joins it with `vlan: <id>`.
       */
      id: number;
      /**
       * Network of the VLAN in CIDR form, e.g. `10.100.0.0/24`; the addresses of the nodes on it (`ip`).
       */
      cidr: string;
      /**
       * Default gateway on the VLAN; sent as DHCP option `router`, and the default `gateway` of its nodes. (IPv4 address, dotted quad)
       */
      gateway: string;
      /**
       * The boot server's address on the VLAN (its interface `interface` holds it): the installer's initrd fetches the live root and the node's config from `boot.server` with this host, and nginx listens there. (IPv4 address, dotted quad)
       */
      server: string;
      /**
       * The boot server's interface on the VLAN, e.g. `eth0.100`: the DHCP scope answers there (dnsmasq `interface=`, Kea's subnet `interface`). Form: a Linux interface name: 1-15 characters of letters, digits and `_ . @ + -`, not starting with `.`, `@`, `+` or `-` (Linux's own rule forbids `/`, `:` and whitespace; harvgen also keeps out characters the generated files would have to quote).
       */
      interface: string;
      /**
       * Dynamic pool `first-last` inside `cidr`; without it the scope gives the reserved addresses only.
       */
      dhcp_range?: string;
      /**
       * DNS servers handed out on the VLAN and used by its static nodes (1 to 8). Default: `network.dns`.
       *
       * @minItems 1
       * @maxItems 8
       */
      dns?:
        | [string]
        | [string, string]
        | [string, string, string]
        | [string, string, string, string]
        | [string, string, string, string, string]
        | [string, string, string, string, string, string]
        | [string, string, string, string, string, string, string]
        | [string, string, string, string, string, string, string, string];
    }[];
    /**
     * `one` (default) or `several`: more than one DHCP server answers on this network (a second site's, a router's). Then the initrd of each Harvester node's installer (which fetches the live root and the config) takes the node's address from its kernel line (the static `ip=` form, with the node's `ip`) instead of asking DHCP, where NetworkManager may take another server's answer, or keep a second address after the switch to the installer's root. The installer then sets up the management network as `method` says: prefer `method: static` on such a network. Every Harvester node needs an `ip`.
     */
    dhcp_servers?: 'one' | 'several';
  };
  /**
   * Cluster-wide Harvester settings. Required when any node installs Harvester.
   */
  cluster?: {
    /**
     * Virtual IP of the cluster (`install.vip`); joins use `https://<vip>:443`. (IPv4 address, dotted quad)
     */
    vip: string;
    /**
     * `static` (default) or `dhcp` (then `vip_hw_addr` is needed so the VIP is predictable).
     */
    vip_mode?: 'static' | 'dhcp';
    /**
     * MAC used to request the VIP by DHCP when `vip_mode: dhcp`.
     */
    vip_hw_addr?: string;
    /**
     * Cluster token shared by all nodes: printable ASCII only (the installer's rule). Written only into the per-node config files, never onto a kernel command line. Keep it out of git with `{ env: NAME }` (an environment variable) or `{ file: path }` (a file, relative to the YAML file that names it; one trailing newline is dropped).
     */
    token:
      | string
      | {
          /**
           * Name of the environment variable holding the value.
           */
          env?: string;
          /**
           * Path of the file holding the value, relative to this YAML file.
           */
          file?: string;
        };
    /**
     * Password of the `rancher` user: plain text (harvgen writes a SHA-512 crypt hash, never the plain text) or a full crypt hash (`$6$...`, `$5$...`, `$1$...`; `harvgen hash-password` makes one). Keep it out of git with `{ env: NAME }` (an environment variable) or `{ file: path }` (a file, relative to the YAML file that names it; one trailing newline is dropped).
     */
    password?:
      | string
      | {
          /**
           * Name of the environment variable holding the value.
           */
          env?: string;
          /**
           * Path of the file holding the value, relative to this YAML file.
           */
          file?: string;
        };
    /**
     * SSH public keys (or `github:<user>`) for the `rancher` user.
     */
    ssh_authorized_keys?: string[];
    /**
     * NTP servers (`os.ntp_servers`).
     */
    ntp?: string[];
    /**
     * Pod network CIDR (`install.cluster_pod_cidr`, Harvester v1.5+; default 10.52.0.0/16).
     */
    pod_cidr?: string;
    /**
     * Service network CIDR (`install.cluster_service_cidr`, Harvester v1.5+; default 10.53.0.0/16).
     */
    service_cidr?: string;
    /**
     * Cluster DNS service IP, inside `service_cidr` (`install.cluster_dns`, Harvester v1.5+; default 10.53.0.10). (IPv4 address, dotted quad)
     */
    cluster_dns?: string;
    /**
     * Extra TLS subject alternative names for the cluster (`sans`, Harvester v1.6+).
     */
    sans?: string[];
    /**
     * The cluster exists (its create node has installed). From then on every node, the former create node included, installs as a joining node to `https://<vip>:443`, so reinstalling a node never makes a second cluster; `role: create` is then refused. Default false.
     */
    created?: boolean;
  };
  /**
   * Named generic OS boot profiles, reused by the nodes that say `os: <name>` (a Rancher host, a jump box, storage nodes).
   */
  os_profiles?: {
    [k: string]: OsProfileInput | undefined;
  };
  defaults?: NodeDefaults;
  /**
   * The nodes of the cluster. More nodes may live in `nodes/*.yaml`, one node per file.
   */
  nodes?: NodeInput[];
  /**
   * libvirt lab settings (the generated network and domain XML).
   */
  lab?: {
    /**
     * libvirt network name (default `harvgen-<site>` with `_` turned into `-`): 1-50 letters, digits and `_ . -`, not starting with `.` or `-`.
     */
    network_name?: string;
    /**
     * Linux bridge the lab network creates (default `hg-<site>`): 1-15 letters, digits and `_ . -`, not starting with `.` or `-`.
     */
    bridge?: string;
    /**
     * Directory for the lab VM disks (default `/var/lib/libvirt/images`). Form: an absolute path of letters, digits and `. _ ~ @ + = : / -` (no whitespace, quotes, `,`, `;`, `{`, `}`, `#`, `$`, `\` or control characters).
     */
    disk_dir?: string;
    /**
     * TFTP root of the lab network holding `snponly.efi`/`undionly.kpxe` (default `/var/lib/tftpboot`). Form: an absolute path of letters, digits and `. _ ~ @ + = : / -` (no whitespace, quotes, `,`, `;`, `{`, `}`, `#`, `$`, `\` or control characters).
     */
    tftp_root?: string;
    /**
     * Architecture of the libvirt host that runs the lab domains (default `x86_64`). A node of another `arch` gets an emulated domain (`type='qemu'`, CPU model `maximum`) instead of KVM, so arm64 nodes run on an x86-64 host (slowly).
     */
    host_arch?: 'x86_64' | 'arm64';
  };
  /**
   * The generated nginx server block.
   */
  nginx?: {
    /**
     * Where nginx listens (default: the address and port of `boot.server` when its host is an IPv4 address, else all addresses on its port). Form: `address:port` with an IPv4 address, an IPv6 address in brackets (`[fd00:10::5]:80`) or `*` (all IPv4 addresses), or a bare port; port 1-65535.
     */
    listen?: string;
    /**
     * Directory on the web server the tree `out/<site>/` is copied to (default `/srv/harvgen/<site>`). Form: an absolute path of letters, digits and `. _ ~ @ + = : / -` (no whitespace, quotes, `,`, `;`, `{`, `}`, `#`, `$`, `\` or control characters).
     */
    root?: string;
    /**
     * Directory on the web server holding the release files, served under the path of `harvester.artifacts` when that URL is on `boot.server` (default `/srv/harvgen/artifacts/<version>`). Form: an absolute path of letters, digits and `. _ ~ @ + = : / -` (no whitespace, quotes, `,`, `;`, `{`, `}`, `#`, `$`, `\` or control characters).
     */
    artifacts_dir?: string;
    /**
     * Access log path (default `/var/log/nginx/harvgen-<site>.access.log`). Form: an absolute path of letters, digits and `. _ ~ @ + = : / -` (no whitespace, quotes, `,`, `;`, `{`, `}`, `#`, `$`, `\` or control characters).
     */
    access_log?: string;
    /**
     * Who may fetch the files that hold a secret or one node's data (Harvester configs, cloud-init seeds, `unknown/join.yaml`). `nodes` (default): only the node's own `ip` (a node without one: the DHCP pool; unknown machines: the DHCP pool), everyone else gets 403. `open`: every client, for a boot server behind something that already restricts who reaches it; but the config and seed of a node that boots from an image (`medium: iso`, `usb`) stay served to its own `ip` only, since the image, which a BMC fetches, names them. docs/security.md, "Threat model".
     */
    access?: 'nodes' | 'open';
    /**
     * A secret that makes the names of the files holding a secret or one node's data unguessable: each known node's iPXE scripts, Harvester config and cloud-init seed get a name with a tag keyed by it (HMAC-SHA256), and DHCP hands each boot MAC the URL of its own script. At least 32 characters (`openssl rand -hex 32`). The committed tree shows `x` in place of each tag; only the deploy tree (`--deploy`) reads the key. docs/security.md, "Threat model". Keep it out of git with `{ env: NAME }` (an environment variable) or `{ file: path }` (a file, relative to the YAML file that names it; one trailing newline is dropped).
     */
    file_key?:
      | string
      | {
          /**
           * Name of the environment variable holding the value.
           */
          env?: string;
          /**
           * Path of the file holding the value, relative to this YAML file.
           */
          file?: string;
        };
    /**
     * Hosts besides the boot server(s) that may read every file that holds a secret or one node's data, so that `harvgen verify` run there checks each node's files too (their bytes could drift unseen otherwise). The boot server itself may always: loopback, `boot.server`'s address and, with `failover:`, each server's own address (the files are on its disk anyway). Give only hosts trusted with the deploy tree.
     *
     * @minItems 1
     * @maxItems 64
     *
     * Items: Address or CIDR block of a host that runs `harvgen verify` (IPv4, e.g. `10.0.0.9` or `10.0.0.0/28`).
     */
    verify_from?: [string, ...string[]];
    /**
     * A proxy or NAT in front of nginx: the client address nginx checks is taken from `header`, for requests from `from` (nginx's realip module, `set_real_ip_from`/`real_ip_header`). Without it, every client behind the proxy looks like the proxy.
     */
    real_ip?: {
      /**
       * Addresses or CIDR blocks of the proxies whose header nginx trusts.
       *
       * @minItems 1
       * @maxItems 64
       *
       * Items: Address or CIDR block of the proxy (IPv4, e.g. `10.0.0.2` or `10.0.0.0/28`).
       */
      from: [string, ...string[]];
      /**
       * Request header holding the client address, e.g. `X-Forwarded-For` or `X-Real-IP`.
       */
      header: string;
    };
  };
  /**
   * The generated dnsmasq configuration.
   */
  dnsmasq?: {
    /**
     * Only serve DHCP on this interface (`interface=`). Form: a Linux interface name (1-15 characters of letters, digits and `_ . @ + -`), optionally ending in `*` to match several (dnsmasq wildcard).
     */
    interface?: string;
    /**
     * TFTP root holding the iPXE binaries (default `/var/lib/tftpboot`). Form: an absolute path of letters, digits and `. _ ~ @ + = : / -` (no whitespace, quotes, `,`, `;`, `{`, `}`, `#`, `$`, `\` or control characters).
     */
    tftp_root?: string;
    /**
     * DHCP lease time, e.g. `12h` (default).
     */
    lease_time?: string;
    /**
     * Leave dnsmasq's DNS server on (default true). Set false (`port=0`) when another DNS server runs on the host.
     */
    dns?: boolean;
    /**
     * The machine this site's dnsmasq runs on, as a name (e.g. `boot1`), when it serves several sites. Sites built together that name the same host share one dnsmasq: each adds its own `dnsmasq/harvgen.conf`, their `dnsmasq/global.conf` must be the same file, and their networks apart (`SITE_DNSMASQ_CONFLICT`). Default: none (a dnsmasq of its own). docs/deploy.md, "DHCP with dnsmasq".
     */
    host?: string;
    /**
     * Directory on the DHCP host that holds the reservation files of `dnsmasq/hosts/` (`dhcp-hostsdir=`; default `/etc/harvgen/dhcp-hosts`): dnsmasq reads a new or changed file there without a restart. Form: an absolute path of letters, digits and `. _ ~ @ + = : / -` (no whitespace, quotes, `,`, `;`, `{`, `}`, `#`, `$`, `\` or control characters).
     */
    hosts_dir?: string;
    /**
     * `server` (default): this dnsmasq is the network's DHCP server (addresses, reservations, boot files). `proxy`: another DHCP server gives the addresses and this dnsmasq answers only network boot (proxy DHCP, `dhcp-range=<network>,proxy`): PXE firmware gets iPXE over TFTP (`pxe-service=`), iPXE gets `boot.ipxe`. Reserve the nodes' `ip` on that other server (`NODE_IP_NOT_RESERVED`); `network.dhcp_range` is its pool. docs/deploy.md, "Proxy DHCP beside another server".
     */
    mode?: 'server' | 'proxy';
  };
  /**
   * Which DHCP server the site uses; harvgen writes its configuration (docs/deploy.md, "Choosing a DHCP form").
   */
  dhcp?: {
    /**
     * `dnsmasq` (default): `dnsmasq/harvgen.conf` (and `dnsmasq/global.conf`, once per dnsmasq), DHCP and TFTP. `kea`: a Kea DHCPv4 config, `kea/harvgen.json` (`kea-dhcp4 -t` accepts it; its `client-classes` and `subnet4` entries merge into an existing Kea), and `kea/harvgen6.json` with `network.ipv6`. `isc`: an ISC dhcpd snippet, `dhcpd/harvgen.conf`. A server that is not its own TFTP server (`kea`, `isc`) gets no dnsmasq file: TFTP (iPXE for firmware PXE) is served by a TFTP server of yours at `next_server`.
     */
    server?: 'dnsmasq' | 'kea' | 'isc';
    /**
     * With `kea` or `isc`: the TFTP server firmware PXE loads iPXE from (`next-server`, the siaddr field). Default: the host of `boot.server` when it is an address. (IPv4 address, dotted quad)
     */
    next_server?: string;
  };
  /**
   * OpenCHAMI's Boot Script Service (BSS): export the nodes it can boot as harvgen's tree does.
   */
  bss?: {
    /**
     * Write `bss/bootparameters.json`, one BSS BootParams per node that BSS can boot as the tree does (a node with several boot MACs leaves `BOOTIF=` to BSS; `BSS_NODE_NOT_EXPORTED` names the nodes left out). Default false.
     */
    export?: boolean;
  };
  /**
   * Metal3 (baremetal-operator and Ironic): a `BareMetalHost` per node with a BMC, to install through Metal3 what this inventory describes. docs/metal3.md.
   */
  metal3?: {
    /**
     * Write `metal3/<hostname>.yaml`, one `BareMetalHost` per node with a BMC (its BMC in Ironic's URL form, boot MAC, boot mode, a credentials Secret by name only, root device hint from the install disk, and the node's boot ISO as a `live-iso` image with its SHA-256), and `metal3/kustomization.yaml` listing them. `METAL3_NODE_NOT_EXPORTED` names the nodes left out; `METAL3_HOST_INVALID` what baremetal-operator would refuse. Default false.
     */
    export?: boolean;
    /**
     * The namespace of the `BareMetalHost` objects and of their credentials Secrets (default `metal3`).
     */
    namespace?: string;
  };
  /**
   * Two boot servers for the site (docs/failover.md): both serve the same tree; keepalived (VRRP) holds `boot.server`'s address, the shared address, on one that can install a node, and DHCP fails over with them (Kea's high-availability hook in hot-standby, or two dnsmasq with the same reservations and halves of the pool); each server's DHCP sends nodes to its own address, and their scripts move on to the other server when one fails. harvgen writes `failover/<server>/` for each: its keepalived.conf, check.sh and notify.sh, and its DHCP config.
   */
  failover?: {
    /**
     * The boot servers' interface on the nodes' network (the same name on both), where keepalived holds the shared address. Form: a Linux interface name: 1-15 characters of letters, digits and `_ . @ + -`, not starting with `.`, `@`, `+` or `-` (Linux's own rule forbids `/`, `:` and whitespace; harvgen also keeps out characters the generated files would have to quote).
     */
    interface: string;
    /**
     * The VRRP router id (1-255), unique among the VRRP routers on that network. Default 51.
     */
    virtual_router_id?: number;
    /**
     * With `dhcp.server: kea`: the port each Kea listens on for its peer (the HA hook's own HTTP listener). Default 8001.
     */
    kea_ha_port?: number;
    /**
     * With `dhcp.server: kea`: where the boot servers' Kea keeps its hook libraries (`libdhcp_ha.so`, `libdhcp_lease_cmds.so`). Default `/usr/lib/x86_64-linux-gnu/kea/hooks` (Debian and Ubuntu on x86-64). Form: an absolute path of letters, digits and `. _ ~ @ + = : / -` (no whitespace, quotes, `,`, `;`, `{`, `}`, `#`, `$`, `\` or control characters).
     */
    kea_hooks_dir?: string;
    /**
     * The two boot servers, the first preferred (the primary): each with a name and its own address on the network. `boot.server` names the shared address, which neither holds of its own.
     *
     * @minItems 2
     * @maxItems 2
     *
     * Items: One boot server.
     */
    servers: [
      {
        /**
         * Its name (lower-case letters, digits and hyphens): the directory of its files, `failover/<name>/`.
         */
        name: string;
        /**
         * Its own address on the network, inside `network.cidr`. (IPv4 address, dotted quad)
         */
        address: string;
        /**
         * The MAC address of its `failover.interface`, in colon form (`52:54:00:aa:bb:01`). With it, the other server's nftables rules (`failover/<name>/nftables.conf`) take VRRP adverts from this server only from this MAC too: a host that forges this server's address, but not its MAC, cannot take the shared address.
         */
        mac?: string;
      },
      {
        /**
         * Its name (lower-case letters, digits and hyphens): the directory of its files, `failover/<name>/`.
         */
        name: string;
        /**
         * Its own address on the network, inside `network.cidr`. (IPv4 address, dotted quad)
         */
        address: string;
        /**
         * The MAC address of its `failover.interface`, in colon form (`52:54:00:aa:bb:01`). With it, the other server's nftables rules (`failover/<name>/nftables.conf`) take VRRP adverts from this server only from this MAC too: a host that forges this server's address, but not its MAC, cannot take the shared address.
         */
        mac?: string;
      }
    ];
  };
  /**
   * Sign the deploy tree: `harvgen build --deploy` writes `manifest.json.sig` next to manifest.json (`ssh-keygen -Y sign`, namespace `harvgen-manifest`), and `harvgen verify` refuses a deploy tree whose signature does not verify. The committed tree is never signed and never reads the key. docs/verify.md, "Signed trees".
   */
  signing?: {
    /**
     * The private key that signs (an OpenSSH private key without a passphrase, e.g. `ssh-keygen -t ed25519 -N '' -f secrets/harvgen-sign`): a secret, read by deploy builds only, never written anywhere. `{ file: path }` (relative to this YAML file, inside the repository, at most 4096 bytes; keep it out of git) or `{ env: NAME }` (an environment variable holding the key's text).
     */
    private_key: {
      /**
       * Name of the environment variable holding the key.
       */
      env?: string;
      /**
       * Path of the file holding the key, relative to this YAML file.
       */
      file?: string;
    };
    /**
     * The public half of `private_key`, one line as in its `.pub` file: `ssh-ed25519 AAAA... comment` (or `ssh-rsa`; `ecdsa-sha2-*` keys are refused: their signatures differ at every build). No options, principal or second line. Plain data, safe to commit: verify checks the signature with it, and so can anyone (`ssh-keygen -Y verify`).
     */
    public_key: string;
  };
  /**
   * Publish the site through an OCI registry (`harvgen publish`) and materialize it on the boot server (`harvgen pull`, run by the generated `publish/` units). Needs `signing:`: the boot server serves nothing whose signature does not verify. docs/fleet.md.
   */
  publish?: {
    /**
     * The registry and namespace the site is published under; the site's repository is `<registry>/<site>`. Form: a registry and a namespace: `host[:port]/name[/name...]`, the host an IPv4 address or a DNS name, each name of lower-case letters and digits joined by `.`, `_`, `__` or `-` (no tag, no digest, no scheme).
     */
    registry: string;
    /**
     * The site's publishing key: 64 hexadecimal digits (`openssl rand -hex 32`). It seals (encrypts) every file that holds a secret before it leaves for the registry; the boot server holds the same key (`key_file`) and no other site's. Read by `harvgen publish` only. `{ file: path }` or `{ env: NAME }`; keep it out of git.
     */
    key:
      | string
      | {
          /**
           * Name of the environment variable holding the key.
           */
          env?: string;
          /**
           * Path of the file holding the key, relative to this YAML file.
           */
          file?: string;
        };
    /**
     * How many published trees the boot server keeps for `harvgen pull --rollback` (default 5; the served one and the one before it are always kept).
     */
    keep?: number;
    /**
     * Where `harvgen pull` keeps its versions and state on the boot server (default `/var/lib/harvgen/<site>`). Form: an absolute path of letters, digits and `. _ ~ @ + = : / -` (no whitespace, quotes, `,`, `;`, `{`, `}`, `#`, `$`, `\` or control characters).
     */
    state_dir?: string;
    /**
     * Where the boot server holds the publishing key (default `/etc/harvgen/<site>/publish.key`, mode 0600). Form: an absolute path of letters, digits and `. _ ~ @ + = : / -` (no whitespace, quotes, `,`, `;`, `{`, `}`, `#`, `$`, `\` or control characters).
     */
    key_file?: string;
    /**
     * The registry and namespace the boot server pulls from, when it is not `registry`: the site's own mirror of the central registry (filled with `skopeo sync`, or a registry's pull-through cache). Its pull.json then names `<mirror>/<site>`; `publish` still pushes to `registry`. The boot server checks the same signatures whichever registry it reads. docs/fleet.md, "Site mirrors". Form: a registry and a namespace: `host[:port]/name[/name...]`, the host an IPv4 address or a DNS name, each name of lower-case letters and digits joined by `.`, `_`, `__` or `-` (no tag, no digest, no scheme).
     */
    mirror?: string;
    /**
     * A cosign signing key: `publish` signs every manifest it pushes (the index, its parts, the release parts it names, the cluster side) in sigstore's tag scheme (`sha256-<digest>.sig`), so that `cosign verify --key`, Flux's `OCIRepository` (`verify.provider: cosign`), Kyverno, Harbor and podman, skopeo and CRI-O (a `sigstoreSigned` policy) can check it. An unencrypted PEM private key: Ed25519 (`openssl genpkey -algorithm ed25519 -out secrets/cosign.key`; its signatures are the same at every publish), ECDSA P-256 (`openssl ecparam -genkey -name prime256v1 -noout | openssl pkcs8 -topk8 -nocrypt -out secrets/cosign.key`) or RSA (2048 to 4096 bits). Read by `harvgen publish` only. `{ file: path }` or `{ env: NAME }`; keep it out of git. Needs `cosign_public_key`. docs/fleet.md, "Signatures other tools check".
     */
    cosign_key?:
      | string
      | {
          /**
           * Name of the environment variable holding the key.
           */
          env?: string;
          /**
           * Path of the file holding the key, relative to this YAML file.
           */
          file?: string;
        };
    /**
     * The public half of `cosign_key`, as PEM (`-----BEGIN PUBLIC KEY-----` ... `-----END PUBLIC KEY-----`; `openssl pkey -in secrets/cosign.key -pubout`). Plain data, safe to commit: the tree holds it as `publish/cosign.pub`, the file `cosign verify --key` and Flux take.
     */
    cosign_public_key?: string;
  };
  /**
   * Which families of files the tree holds, in one place: set a family to `false` when the site does not need it (its files are then neither written nor listed in manifest.json; the boot scripts, node configs and manifest.json are always written).
   */
  outputs?: {
    /**
     * The libvirt lab: `libvirt/network.xml`, a domain per node and `define.sh`. Default: true when the site has a `lab:` section, else false.
     */
    lab?: boolean;
    /**
     * The socat units that forward ports of the host to the VIP (`systemd/`). Default: `forward.enabled` when written, else the same as `lab`.
     */
    forward?: boolean;
    /**
     * The DHCP server's config of `dhcp.server` (`dnsmasq/`, `kea/harvgen.json` or `dhcpd/harvgen.conf`). Default true. Turn it off when no DHCP server of yours serves the segment: another team's server is configured by hand (reserve the nodes' `ip` there, and let it hand out iPXE's boot file as docs/deploy.md shows), or every node boots from a medium with no DHCP (`medium: iso` or `usb`). Nothing else changes: the scripts, configs and nginx are the same.
     */
    dhcp?: boolean;
    /**
     * The nginx config (`nginx/harvgen.conf` and `nginx/locations.conf`). Default true; turn it off when another web server serves the tree (it must then refuse listings and node files as the generated config does).
     */
    nginx?: boolean;
    /**
     * `embed.ipxe`, the script to build into an iPXE binary where you control no DHCP server. Default true.
     */
    embed?: boolean;
    /**
     * `oci/launch.ipxe`, the iPXE script for Oracle Cloud bare metal. Default true.
     */
    oci?: boolean;
    /**
     * `artifacts/fetch.sh`, which downloads and checks the release files (written only when a node installs Harvester). Default true.
     */
    fetch?: boolean;
    /**
     * The BMC scripts (`bmc/<host>.sh` and `bmc/all.sh`, written only for nodes with `bmc:`). Default true.
     */
    bmc?: boolean;
  };
  /**
   * socat port forwards from the host to the VIP (as systemd units), for reaching a lab cluster from outside.
   */
  forward?: {
    /**
     * Generate the units (default: true when the site has a `lab:` section). Same as `outputs.forward`, which wins when both are written.
     */
    enabled?: boolean;
    /**
     * TCP ports forwarded to the same port on the VIP (default [443, 6443]).
     *
     * @minItems 1
     */
    ports?: [number, ...number[]];
    /**
     * Host address to listen on (default: all addresses). (IPv4 address, dotted quad)
     */
    listen_address?: string;
  };
}
/**
 * A generic OS: what iPXE loads and the kernel command line.
 */
export interface OsProfileInput {
  /**
   * URL of the kernel (on the boot server or elsewhere). Form: `http://host[:port]/path` (or https, which needs an iPXE built with TLS); the path of letters, digits and `. _ ~ + = , : @ - /` with no empty, `.` or `..` segment; no user, query, fragment, `%` escapes or whitespace; an IPv6 host in brackets.
   */
  kernel: string;
  /**
   * With `boot.secure_boot`: URL of the distribution's signed shim, which iPXE's `shim` command hands the kernel to (the shim that trusts the kernel's signer, e.g. the distribution's `shimx64.efi`). Form: `http://host[:port]/path` (or https, which needs an iPXE built with TLS); the path of letters, digits and `. _ ~ + = , : @ - /` with no empty, `.` or `..` segment; no user, query, fragment, `%` escapes or whitespace; an IPv6 host in brackets.
   */
  shim?: string;
  /**
   * URLs of the initrd(s), loaded in order.
   *
   * @minItems 1
   * @maxItems 8
   *
   * Items: URL of an initrd. Form: `http://host[:port]/path` (or https, which needs an iPXE built with TLS); the path of letters, digits and `. _ ~ + = , : @ - /` with no empty, `.` or `..` segment; no user, query, fragment, `%` escapes or whitespace; an IPv6 host in brackets.
   */
  initrds:
    | [string]
    | [string, string]
    | [string, string, string]
    | [string, string, string, string]
    | [string, string, string, string, string]
    | [string, string, string, string, string, string]
    | [string, string, string, string, string, string, string]
    | [string, string, string, string, string, string, string, string];
  /**
   * Kernel parameters, e.g. `[console=ttyS0,115200, ip=dhcp, ro]`.
   *
   * Items: One kernel parameter. Form: one kernel argument: a single token that starts with a letter or digit, then letters, digits and `_ . , : ; = / + @ % ~ [ ] -` (no whitespace, quotes, `$`, `#`, `|`, `&`, `\` or control characters, which iPXE, the shell or the kernel would interpret).
   */
  params?: string[];
  /**
   * The root file system, written as `root=<value>`: `live:http://.../rootfs.squashfs` (dracut live image), `nfs:<server>:/<path>`, `/dev/...`. Form: the value of one kernel argument: a single token that starts with a letter, a digit or `/`, then letters, digits and `_ . , : ; = / + @ % ~ [ ] -` (no whitespace, quotes, `$`, `#`, `|`, `&`, `\` or control characters).
   */
  root?: string;
  /**
   * Serve the nodes a config (the format `config_format` names) and point their command line at it (default true). `false`: none, and no `config_format`.
   */
  cloud_init?: boolean;
  /**
   * The config format the nodes are served (default `nocloud`): `nocloud`, the cloud-init seed (ds=nocloud;s=<url>;dsmode=net).
   */
  config_format?: 'nocloud';
}
/**
 * Settings applied to every node unless the node sets them itself (maps are merged key by key, everything else is replaced).
 */
export interface NodeDefaults {
  /**
   * What the node boots: `harvester` (default: the Harvester installer) or the name of an entry of `os_profiles` (a generic OS: kernel, initrds, parameters, cloud-init). Harvester-only settings and rules do not apply to generic nodes.
   */
  os?: string;
  cloud_init?: CloudInitInput;
  /**
   * CPU architecture of the machine (default `x86_64`). `arm64` machines get the arm64 iPXE (`boot.arm64_loader`, DHCP client architecture 11, HTTP boot architecture 19) and, for Harvester (v1.3 and later), the release's `-arm64` files; an OS profile's URLs must be for the node's architecture.
   */
  arch?: 'x86_64' | 'arm64';
  iscsi?: IscsiInput;
  hardware?: HardwareFactsInput;
  bmc?: BmcInput;
  /**
   * The node's own Harvester release, to roll one node forward (default: `harvester.version`). Its release files are found by putting this release in place of the site's in `harvester.artifacts` (and `harvester.iso_url`), which must therefore name the site's release.
   */
  harvester_version?: string;
  /**
   * Name of a hardware profile, `sites/_profiles/<name>.yaml`, whose settings apply under this layer (docs/inventory.md, "Layers and profiles").
   */
  profile?: string;
  /**
   * Harvester node role (`install.role`, Harvester v1.3+). `default` lets Harvester promote the node.
   */
  harvester_role?: 'default' | 'management' | 'worker' | 'witness';
  install?: InstallInput;
  /**
   * NICs that form the management interface (bonded when more than one). Default: the node's boot MACs.
   *
   * @minItems 1
   */
  interfaces?: [NicInput, ...NicInput[]];
  /**
   * How the management interface gets its address on the installed system: `dhcp` (default; combine with `ip` for a DHCP reservation) or `static` (needs `ip`, a prefix/netmask, gateway and DNS).
   */
  method?: 'dhcp' | 'static';
  /**
   * Prefix length of a static address. Default: the prefix of `network.cidr`.
   */
  prefix?: number;
  /**
   * Netmask of a static address, e.g. `255.255.255.0`; alternative to `prefix`. (IPv4 address, dotted quad)
   */
  netmask?: string;
  /**
   * Default gateway of a static address. Default: `network.gateway`. (IPv4 address, dotted quad)
   */
  gateway?: string;
  /**
   * DNS servers of a static address (at most 8). Default: `network.dns`.
   *
   * @maxItems 8
   */
  dns?:
    | []
    | [string]
    | [string, string]
    | [string, string, string]
    | [string, string, string, string]
    | [string, string, string, string, string]
    | [string, string, string, string, string, string]
    | [string, string, string, string, string, string, string]
    | [string, string, string, string, string, string, string, string];
  /**
   * MTU of the management interface (576-9000 when `method` is static; the installer checks no other).
   */
  mtu?: number;
  /**
   * VLAN ID of the management network (1-4094); untagged when absent. The installer brings it up on the NIC that booted (`vlan=vlan<id>:<nic>`), with the node's address or DHCP on the VLAN alone, and the installed system tags it (`vlan_id`).
   */
  vlan?: number;
  bond?: BondInput;
  /**
   * Extra kernel arguments for this node's installer boot, appended after `boot.kernel_args`.
   *
   * Items: One kernel argument. Form: one kernel argument: a single token that starts with a letter or digit, then letters, digits and `_ . , : ; = / + @ % ~ [ ] -` (no whitespace, quotes, `$`, `#`, `|`, `&`, `\` or control characters, which iPXE, the shell or the kernel would interpret).
   */
  kernel_args?: string[];
  /**
   * Extra Harvester configuration keys, deep-merged over what harvgen generates (node over defaults). Validated against the installer's schema for `harvester.version`: unknown keys and wrong types are errors.
   */
  config?: {};
  /**
   * `install` (default): the node's iPXE script boots the Harvester installer on every network boot. `local`: the script boots the local disk, so an installed node never reinstalls even if it network-boots first. `install-once`: the script boots the local disk when it holds an installed system (BIOS: a bootable first sector; UEFI: `boot.installed_marker` on a FAT volume) and installs only when it does not.
   */
  state?: 'install' | 'local' | 'install-once';
  /**
   * How the machine reaches its boot script: `network`: network boot (PXE or UEFI HTTP boot, with DHCP; the default); `iso`: a boot ISO (`media/shared.boot.iso`, or `media/<hostname>.iso` with `medium_image: own`), which the node's BMC mounts as a virtual CD (`bmc/<hostname>.sh media-boot`); `usb`: a USB disk image (`media/shared.boot.img`, or `media/<hostname>.img` with `medium_image: own`), which the node's BMC mounts as a virtual USB stick, or which is written to a USB stick. A medium with an image sets the node's static address on its boot NIC, with no DHCP, and fetches the node's boot files from `boot.server` over HTTP; it needs `method: static`, `ip` and `boot.media_loaders` (docs/install-without-pxe.md).
   */
  medium?: 'network' | 'iso' | 'usb';
  /**
   * Which image of its medium the node boots (`medium: iso` or `usb`): `shared` (default), the site's one image of that medium, which carries the table of every node that shares it (boot MAC, address, netmask, gateway, DNS) and finds its node by the MAC of a NIC; `own`, an image of the node alone (`media/<hostname>.<ext>`), for a node whose BMC must not learn the other nodes' addresses (docs/install-without-pxe.md, "One image for many nodes").
   */
  medium_image?: 'shared' | 'own';
  /**
   * Reinstall generation of a Harvester node with `state: install-once` (UEFI only). The installed system gets a marker of its site, hostname and generation on its EFI system partition (`os.after_install_chroot_commands`), and the node's script boots the disk only when it finds the marker of this number: raise it by one to reinstall the node exactly once (docs/day-2.md, "Reinstall a node").
   */
  reinstall?: number;
  lab?: LabSizingInput;
}
/**
 * cloud-init NoCloud data of a generic OS node, served as `cloud-init/<mac>/user-data`, `meta-data` and `vendor-data` (the kernel gets `ds=nocloud;s=<boot.server>/cloud-init/<mac>/;dsmode=net`). Across layers each of its keys comes whole from the strongest layer that sets it.
 */
export interface CloudInitInput {
  /**
   * user-data as a YAML map: written as a `#cloud-config` document (e.g. `users`, `ssh_authorized_keys`, `packages`, `runcmd`).
   */
  user_data?: {};
  /**
   * A `#cloud-config` file to serve as user-data instead (relative to the site directory and inside the repository, like secret files; at most 256 KiB; its first line must be `#cloud-config` and the rest a YAML map).
   */
  user_data_file?: string;
  /**
   * vendor-data as a YAML map, written as a `#cloud-config` document (default: empty).
   */
  vendor_data?: {};
  /**
   * Extra meta-data keys (harvgen always writes `instance-id: <site>-<hostname>` and `local-hostname: <hostname>`).
   */
  meta_data?: {};
}
/**
 * Boot this node diskless from an iSCSI target (iPXE `sanboot`), as BMI does: harvgen writes the script and the DHCP reservation; the target, its LUN and its image are yours (docs/generic-os.md, "iSCSI diskless nodes").
 */
export interface IscsiInput {
  /**
   * Address of the iSCSI target portal; inside `network.cidr`, so the node reaches it without a router. (IPv4 address, dotted quad)
   */
  server: string;
  /**
   * Target portal TCP port (default 3260).
   */
  port?: number;
  /**
   * LUN of the boot disk (default 1: tgt and targetcli put the first disk at LUN 1, LUN 0 being the controller).
   */
  lun?: number;
  /**
   * Target IQN. Form: `iqn.<yyyy-mm>.<reversed domain>[:<name>]` (RFC 3720), lowercase.
   */
  target: string;
  /**
   * The node's initiator IQN, which the target's ACL admits (default `iqn.2010-04.org.ipxe:<hostname>`). Form: `iqn.<yyyy-mm>.<reversed domain>[:<name>]` (RFC 3720), lowercase.
   */
  initiator?: string;
}
/**
 * Hardware facts of the machine, as the Harvester installer's preflight checks and disk rules see them, usually in a profile (`sites/_profiles/<name>.yaml`): harvgen checks the installer's own rules of the node's release against them at build time (docs/reference/installer-rules.md). A fact left out is not checked. Lab sites (a `lab:` section) take them from the lab domain instead.
 */
export interface HardwareFactsInput {
  /**
   * Installed memory in GiB.
   */
  memory_gib?: number;
  /**
   * CPU threads the installer counts (`nproc --all`).
   */
  cpus?: number;
  /**
   * Size of the install disk (`install.device`) in GiB (2^30 bytes).
   */
  disk_gib?: number;
  /**
   * Size of the data disk (`install.data_disk`) in GiB.
   */
  data_disk_gib?: number;
  /**
   * Link speed of the management NIC in Mbit/s, as the kernel reports it (`/sys/class/net/<nic>/speed`).
   */
  nic_speed_mbps?: number;
  /**
   * Linux driver of the management NIC (e.g. `ixgbe`, `tg3`, `qlcnic`): releases known to lack or break a driver are warned about.
   */
  nic_driver?: string;
  /**
   * The machine is a virtual machine (`systemd-detect-virt --vm`).
   */
  virtualized?: boolean;
  /**
   * Hardware virtualization is on (`/dev/kvm` exists: VT-x/AMD-V enabled in the firmware).
   */
  kvm?: boolean;
}
/**
 * The node's BMC, for the generated scripts `bmc/<hostname>.sh` (boot from the network once, UEFI HTTP boot once, power cycle, power status, virtual media) and `bmc/all.sh` (docs/day-2.md, "BMC scripts"). Maps merge key by key, so `defaults:` or a profile can give `type` and the credentials and each node its `address`; a node whose merged `bmc` has no `address` has no BMC script.
 */
export interface BmcInput {
  /**
   * `redfish` (default; HTTPS, needs `curl` and `jq`) or `ipmi` (IPMI 2.0 over LAN, `ipmitool -I lanplus`).
   */
  type?: 'redfish' | 'ipmi';
  /**
   * Address of the BMC (default port: 443 for Redfish, 623 for IPMI). Form: a BMC address: an IPv4 address, a DNS name or an IPv6 address in brackets (`[fd00::21]`), optionally followed by `:port` (1-65535).
   */
  address?: string;
  /**
   * The environment variable the generated BMC script reads the BMC user name from when it runs (default `{ env: BMC_USER }`). harvgen never reads it and never writes it into the tree.
   */
  user?: {
    /**
     * Name of the environment variable: upper-case letters, digits and `_`, not starting with a digit.
     */
    env: string;
  };
  /**
   * The environment variable the generated BMC script reads the BMC password from when it runs (default `{ env: BMC_PASSWORD }`). harvgen never reads it and never writes it into the tree.
   */
  password?: {
    /**
     * Name of the environment variable: upper-case letters, digits and `_`, not starting with a digit.
     */
    env: string;
  };
  /**
   * Redfish only: which member of the BMC's `/redfish/v1/Systems` collection this node is (needed only when it lists several: the script refuses to guess; asked at run time). Form: a Redfish ComputerSystem path: `/redfish/v1/Systems/<id>`, the id of letters, digits and `. _ ~ -` (not starting with `.`).
   */
  system?: string;
  /**
   * Redfish only: do not verify the BMC's TLS certificate (curl `--insecure`; default false). Most BMCs ship a self-signed certificate: prefer installing a trusted one.
   */
  insecure?: boolean;
}
/**
 * Disk and installer settings for the node (`install.*` in the Harvester config).
 */
export interface InstallInput {
  device?: DiskSelectorInput;
  data_disk?: DiskSelectorInput1;
  /**
   * Console the installed system uses, e.g. `tty1` or `ttyS0,115200n8` (`install.tty`).
   */
  tty?: string;
  /**
   * Size of the persistent partition when no data disk is used, e.g. `150Gi` (`install.persistent_partition_size`, Harvester v1.2+).
   */
  persistent_partition_size?: string;
  /**
   * Wipe every disk that holds an old Harvester/cOS installation (`install.wipe_all_disks`, Harvester v1.5+).
   */
  wipe_all_disks?: boolean;
  /**
   * Extra disks to wipe before installing (`install.wipe_disks_list`, Harvester v1.5+).
   */
  wipe_disks_list?: string[];
  /**
   * Join the cluster cordoned: the node gets the label `harvesterhci.io/install-cordoned=true` and runs no VMs until it is uncordoned (`install.cordoned`, Harvester v1.9+). Not on the create node nor on a witness: the installer refuses both.
   */
  cordoned?: boolean;
  /**
   * Power off instead of rebooting when the install finishes (`install.poweroff`).
   */
  power_off?: boolean;
  /**
   * `local` (Harvester v1.9 and later, a node with `medium: iso`): the installer takes the Harvester ISO's content from the device labelled `COS_LIVE`, the Harvester ISO the node's BMC mounts in a second virtual media slot (`bmc/<hostname>.sh media-boot`), instead of downloading `harvester.iso_url` (`install.iso_url: local`; docs/install-without-pxe.md, "The Harvester ISO from the BMC"). The site's ISO URL is `harvester.iso_url`.
   */
  iso_url?: 'local';
}
/**
 * A network interface of the node. Give a `name` (predictable NIC name such as eno1, or enp1s0 in a lab VM), a `mac`, or both.
 */
export interface NicInput {
  /**
   * NIC name on the installed system (systemd predictable name, e.g. `eno1`; in a generated lab VM the NIC of the k-th MAC is `enp<k>s0`). Form: a Linux interface name: 1-15 characters of letters, digits and `_ . @ + -`, not starting with `.`, `@`, `+` or `-` (Linux's own rule forbids `/`, `:` and whitespace; harvgen also keeps out characters the generated files would have to quote).
   */
  name?: string;
  /**
   * MAC address in any common spelling (`52:54:00:AA:BB:01`, `52-54-00-aa-bb-01`, `525400aabb01`, `5254.00aa.bb01`); normalized to lowercase colons.
   */
  mac?: string;
}
/**
 * Bonding options for the management interface when it has several NICs (`install.management_interface.bond_options`). Keys are kernel bonding options; Harvester defaults to `{mode: active-backup, miimon: 100}`.
 */
export interface BondInput {
  /**
   * Bonding mode.
   */
  mode?: 'balance-rr' | 'active-backup' | 'balance-xor' | 'broadcast' | '802.3ad' | 'balance-tlb' | 'balance-alb';
  /**
   * MII link monitoring interval in milliseconds.
   */
  miimon?: number;
  [k: string]:
    | string
    | number
    | 'balance-rr'
    | 'active-backup'
    | 'balance-xor'
    | 'broadcast'
    | '802.3ad'
    | 'balance-tlb'
    | 'balance-alb'
    | undefined;
}
/**
 * Lab VM sizing for the generated libvirt domain of this node.
 */
export interface LabSizingInput {
  /**
   * Memory in MiB (default 16384). The installer's preflight check wants 64 GiB (32 GiB for testing) from v1.3 unless `boot.skipchecks` is set; below 8 GiB it does not run at all.
   */
  memory_mib?: number;
  /**
   * Virtual CPUs (default 8).
   */
  vcpus?: number;
  /**
   * Size of the qcow2 disk the define script creates, in GiB (default 250).
   */
  disk_gib?: number;
  /**
   * Size of the second qcow2 disk (the VM sees it as `/dev/vdb`) created when `install.data_disk` is set, in GiB (default 100). Set `install.data_disk: /dev/vdb` for lab VMs.
   */
  data_disk_gib?: number;
  /**
   * NIC model of the lab VM (default `virtio`). Either way the NIC of the node's k-th MAC is alone on PCIe bus k, so the guest names it `enp<k>s0` (`enp1s0` for the first): use those names in `interfaces` of lab nodes.
   */
  nic_model?: 'virtio' | 'e1000e';
}
/**
 * One Harvester node.
 */
export interface NodeInput {
  /**
   * Node hostname: a lowercase DNS-1123 label (a-z, 0-9, `-`, at most 63 characters). Also names its files. In `nodes/<name>.yaml` it defaults to the file name.
   */
  hostname?: string;
  /**
   * Boot MAC address of the node, in any common spelling. Use `macs` for several NICs.
   */
  mac?: string;
  /**
   * All MAC addresses the node may PXE boot from; each gets its own iPXE script and DHCP reservation.
   *
   * @minItems 1
   * @maxItems 32
   */
  macs?: [string, ...string[]];
  /**
   * Address of the node on the management network. Used as the DHCP reservation and, with `method: static`, as the static address. (IPv4 address, dotted quad)
   */
  ip?: string;
  /**
   * IPv6 address of the node inside `network.ipv6.prefix`, in canonical form. Its DHCPv6 reservation (by MAC) is the /126 block that holds it, one address for each boot stage (firmware, iPXE, the OS), and nginx serves the node's files to that block; nodes' blocks must not overlap (docs/ipv6.md). Generic OS nodes only.
   */
  ip6?: string;
  /**
   * `create` for the node that creates the cluster (exactly one per site; default: the first node; none once `cluster.created` is true), `join` for the others.
   */
  role?: 'create' | 'join';
  /**
   * What the node boots: `harvester` (default: the Harvester installer) or the name of an entry of `os_profiles` (a generic OS: kernel, initrds, parameters, cloud-init). Harvester-only settings and rules do not apply to generic nodes.
   */
  os?: string;
  cloud_init?: CloudInitInput;
  /**
   * CPU architecture of the machine (default `x86_64`). `arm64` machines get the arm64 iPXE (`boot.arm64_loader`, DHCP client architecture 11, HTTP boot architecture 19) and, for Harvester (v1.3 and later), the release's `-arm64` files; an OS profile's URLs must be for the node's architecture.
   */
  arch?: 'x86_64' | 'arm64';
  iscsi?: IscsiInput;
  hardware?: HardwareFactsInput;
  bmc?: BmcInput;
  /**
   * The node's own Harvester release, to roll one node forward (default: `harvester.version`). Its release files are found by putting this release in place of the site's in `harvester.artifacts` (and `harvester.iso_url`), which must therefore name the site's release.
   */
  harvester_version?: string;
  /**
   * Name of a hardware profile, `sites/_profiles/<name>.yaml`, whose settings apply under this layer (docs/inventory.md, "Layers and profiles").
   */
  profile?: string;
  /**
   * Harvester node role (`install.role`, Harvester v1.3+). `default` lets Harvester promote the node.
   */
  harvester_role?: 'default' | 'management' | 'worker' | 'witness';
  install?: InstallInput;
  /**
   * NICs that form the management interface (bonded when more than one). Default: the node's boot MACs.
   *
   * @minItems 1
   */
  interfaces?: [NicInput, ...NicInput[]];
  /**
   * How the management interface gets its address on the installed system: `dhcp` (default; combine with `ip` for a DHCP reservation) or `static` (needs `ip`, a prefix/netmask, gateway and DNS).
   */
  method?: 'dhcp' | 'static';
  /**
   * Prefix length of a static address. Default: the prefix of `network.cidr`.
   */
  prefix?: number;
  /**
   * Netmask of a static address, e.g. `255.255.255.0`; alternative to `prefix`. (IPv4 address, dotted quad)
   */
  netmask?: string;
  /**
   * Default gateway of a static address. Default: `network.gateway`. (IPv4 address, dotted quad)
   */
  gateway?: string;
  /**
   * DNS servers of a static address (at most 8). Default: `network.dns`.
   *
   * @maxItems 8
   */
  dns?:
    | []
    | [string]
    | [string, string]
    | [string, string, string]
    | [string, string, string, string]
    | [string, string, string, string, string]
    | [string, string, string, string, string, string]
    | [string, string, string, string, string, string, string]
    | [string, string, string, string, string, string, string, string];
  /**
   * MTU of the management interface (576-9000 when `method` is static; the installer checks no other).
   */
  mtu?: number;
  /**
   * VLAN ID of the management network (1-4094); untagged when absent. The installer brings it up on the NIC that booted (`vlan=vlan<id>:<nic>`), with the node's address or DHCP on the VLAN alone, and the installed system tags it (`vlan_id`).
   */
  vlan?: number;
  bond?: BondInput;
  /**
   * Extra kernel arguments for this node's installer boot, appended after `boot.kernel_args`.
   *
   * Items: One kernel argument. Form: one kernel argument: a single token that starts with a letter or digit, then letters, digits and `_ . , : ; = / + @ % ~ [ ] -` (no whitespace, quotes, `$`, `#`, `|`, `&`, `\` or control characters, which iPXE, the shell or the kernel would interpret).
   */
  kernel_args?: string[];
  /**
   * Extra Harvester configuration keys, deep-merged over what harvgen generates (node over defaults). Validated against the installer's schema for `harvester.version`: unknown keys and wrong types are errors.
   */
  config?: {};
  /**
   * `install` (default): the node's iPXE script boots the Harvester installer on every network boot. `local`: the script boots the local disk, so an installed node never reinstalls even if it network-boots first. `install-once`: the script boots the local disk when it holds an installed system (BIOS: a bootable first sector; UEFI: `boot.installed_marker` on a FAT volume) and installs only when it does not.
   */
  state?: 'install' | 'local' | 'install-once';
  /**
   * How the machine reaches its boot script: `network`: network boot (PXE or UEFI HTTP boot, with DHCP; the default); `iso`: a boot ISO (`media/shared.boot.iso`, or `media/<hostname>.iso` with `medium_image: own`), which the node's BMC mounts as a virtual CD (`bmc/<hostname>.sh media-boot`); `usb`: a USB disk image (`media/shared.boot.img`, or `media/<hostname>.img` with `medium_image: own`), which the node's BMC mounts as a virtual USB stick, or which is written to a USB stick. A medium with an image sets the node's static address on its boot NIC, with no DHCP, and fetches the node's boot files from `boot.server` over HTTP; it needs `method: static`, `ip` and `boot.media_loaders` (docs/install-without-pxe.md).
   */
  medium?: 'network' | 'iso' | 'usb';
  /**
   * Which image of its medium the node boots (`medium: iso` or `usb`): `shared` (default), the site's one image of that medium, which carries the table of every node that shares it (boot MAC, address, netmask, gateway, DNS) and finds its node by the MAC of a NIC; `own`, an image of the node alone (`media/<hostname>.<ext>`), for a node whose BMC must not learn the other nodes' addresses (docs/install-without-pxe.md, "One image for many nodes").
   */
  medium_image?: 'shared' | 'own';
  /**
   * Reinstall generation of a Harvester node with `state: install-once` (UEFI only). The installed system gets a marker of its site, hostname and generation on its EFI system partition (`os.after_install_chroot_commands`), and the node's script boots the disk only when it finds the marker of this number: raise it by one to reinstall the node exactly once (docs/day-2.md, "Reinstall a node").
   */
  reinstall?: number;
  lab?: LabSizingInput;
}
