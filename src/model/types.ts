// The resolved, canonical form of a site: defaults applied, MACs normalized, every value
// final. Renderers see only this (frozen), never the raw input.
import type { HardwareFacts } from '../harvester/hardware-facts.ts';
import type { MeasuredFacts } from '../facts/types.ts';
import type { DiskSelector } from '../facts/disk-selector.ts';
import type { DhcpServerName, MediumName } from '../types/kinds.ts';
import type { HarvesterVersion } from '../harvester/versions.ts';
import type { Code } from '../diagnostics/codes.ts';
import type { InventoryPath } from '../util/paths.ts';

/** A NIC of the management interface. */
export interface ResolvedNic {
  readonly name?: string;
  /** Lowercase colon form. */
  readonly mac?: string;
}

/** Install settings after defaults. */
export interface ResolvedInstall {
  /** The install disk by path. */
  readonly device?: string;
  /** The install disk by what it is: its path is the measured disk it matches (src/derive/disks.ts). */
  readonly deviceSelector?: DiskSelector;
  readonly dataDisk?: string;
  readonly dataDiskSelector?: DiskSelector;
  readonly tty?: string;
  readonly persistentPartitionSize?: string;
  readonly wipeAllDisks?: boolean;
  readonly wipeDisksList?: readonly string[];
  /** `install.cordoned` (v1.9+): the node joins cordoned. */
  readonly cordoned?: boolean;
  readonly powerOff?: boolean;
  /** `install.iso_url: local` (v1.9+): the installer reads the Harvester ISO from the device labelled COS_LIVE. */
  readonly isoUrl?: 'local';
}

/** A generic OS boot profile (`os_profiles.<name>`). */
export interface ResolvedOs {
  readonly name: string;
  readonly kernel: string;
  readonly initrds: readonly string[];
  readonly params: readonly string[];
  /** Written as `root=<value>` when set. */
  readonly root?: string;
  /** The config format the node is served (`config_format`, default `nocloud`; none with `cloud_init: false`). */
  readonly configFormat?: string;
  /** It serves cloud-init NoCloud data (`configFormat` is `nocloud`), so the nodes' `cloud_init:` settings are read. */
  readonly cloudInit: boolean;
  /** The distribution's signed shim (`shim:`), for Secure Boot. */
  readonly shim?: string;
}

/** cloud-init settings of a generic node (maps as written). */
export interface ResolvedCloudInit {
  readonly userData?: Readonly<Record<string, unknown>>;
  /** Path as written (relative to the site directory). */
  readonly userDataFile?: string;
  readonly vendorData?: Readonly<Record<string, unknown>>;
  readonly metaData?: Readonly<Record<string, unknown>>;
}

/** An iSCSI diskless boot (`iscsi:`), defaults applied. */
export interface ResolvedIscsi {
  readonly server: string;
  readonly port: number;
  readonly lun: number;
  readonly target: string;
  readonly initiator: string;
}

/** A node's BMC (`bmc:`), defaults applied; only credential references, never their values. */
export interface ResolvedBmc {
  readonly type: 'redfish' | 'ipmi';
  /** As written: a host, IPv4 address or bracketed IPv6 address, optionally with `:port`. */
  readonly address: string;
  /** The host without brackets and the port (443 for Redfish, 623 for IPMI when none is written). */
  readonly host: string;
  readonly port: number;
  /** Environment variables the generated script reads the credentials from. */
  readonly userEnv: string;
  readonly passwordEnv: string;
  /** Redfish: the ComputerSystem path (absent: the one member of the BMC's Systems collection; the script refuses to guess among several). */
  readonly system?: string;
  /** Redfish: skip TLS verification. */
  readonly insecure: boolean;
}

/** What every node has, whatever it boots. */
export interface NodeBase {
  readonly arch: 'x86_64' | 'arm64';
  /** Position in the merged `nodes` list (-1: the node an unknown machine joins as). */
  readonly index: number;
  readonly hostname: string;
  /** Boot MACs, lowercase colon form, in inventory order. */
  readonly macs: readonly string[];
  readonly ip?: string;
  /** `ip6`: the node's IPv6 address (DHCPv6 reservation, nginx access), canonical form. */
  readonly ip6?: string;
  /** How iPXE and dnsmasq address the node (embed.ipxe, DHCP reservations). */
  readonly method: 'dhcp' | 'static';
  readonly prefix: number;
  readonly netmask: string;
  readonly gateway: string;
  readonly dns: readonly string[];
  readonly state: 'install' | 'local' | 'install-once';
  /** How the machine reaches its boot script: a boot medium's name (src/derive/media/: network boot, a boot ISO, a USB image). */
  readonly medium: MediumName;
  /** The image of its medium it boots: the site's shared one, or its own (`medium_image`). */
  readonly mediumImage: 'shared' | 'own';
  readonly lab: {
    readonly memoryMib: number;
    readonly vcpus: number;
    readonly diskGib: number;
    readonly dataDiskGib: number;
    readonly nicModel: 'virtio' | 'e1000e';
  };
  /** The node's BMC, when its merged `bmc:` has an address. */
  readonly bmc?: ResolvedBmc;
  /** Where each field came from: `field` or `field.sub` -> inventory path (absent = built-in default). */
  readonly sources: Readonly<Record<string, InventoryPath>>;
}

/** A node that installs Harvester: it always has its release and its cluster. */
export interface HarvesterNode extends NodeBase {
  readonly boot: 'harvester';
  readonly role: 'create' | 'join';
  readonly harvesterRole: 'default' | 'management' | 'worker' | 'witness';
  readonly mtu?: number;
  readonly vlan?: number;
  readonly bond: Readonly<Record<string, string | number>>;
  readonly interfaces: readonly ResolvedNic[];
  readonly install: ResolvedInstall;
  readonly kernelArgs: readonly string[];
  /** The release this node installs: the site's, or its own `harvester_version`. */
  readonly release: Release;
  /** The site's `cluster:` (one object shared by every Harvester node). */
  readonly cluster: ResolvedCluster;
  /** Extra Harvester config (node deep-merged over defaults). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Hardware facts declared for the machine (`hardware:`); absent = unknown. */
  readonly hardware: HardwareFacts;
  /** Reinstall generation (`reinstall:`): the installed system's marker names it; absent = none. */
  readonly reinstall?: number;
}

/** A node that boots a generic OS profile (`os: <profile>`). */
export interface OsNode extends NodeBase {
  readonly boot: 'os';
  readonly os: ResolvedOs;
  readonly cloudInit: ResolvedCloudInit;
}

/** A diskless node that boots an iSCSI target (`iscsi:`). */
export interface IscsiNode extends NodeBase {
  readonly boot: 'iscsi';
  readonly iscsi: ResolvedIscsi;
  /** An `os:` the node names too, which its rule refuses (NODE_ISCSI_INVALID). */
  readonly alsoOs?: string;
}

/**
 * One node with every default applied, as what it boots: the Harvester installer, a generic OS
 * profile, or an iSCSI disk. Code that handles one kind narrows on `boot`; code that handles
 * every kind switches on it exhaustively (src/render/kinds/index.ts).
 */
export type ResolvedNode = HarvesterNode | OsNode | IscsiNode;

/** The kinds of node. */
export type NodeKind = ResolvedNode['boot'];

/** The `cluster:` section with defaults applied. */
export interface ResolvedCluster {
  readonly vip: string;
  readonly vipMode: 'static' | 'dhcp';
  readonly vipHwAddr?: string;
  readonly token: string;
  readonly password?: string;
  readonly sshAuthorizedKeys: readonly string[];
  readonly ntp: readonly string[];
  readonly podCidr?: string;
  readonly serviceCidr?: string;
  readonly clusterDns?: string;
  readonly sans: readonly string[];
  /** `cluster.created`: the cluster exists, so every node joins it (none creates). */
  readonly created: boolean;
}

/** A Harvester release as one node installs it: version, release files and where nginx finds them. */
export interface Release {
  readonly version: HarvesterVersion;
  /** Release line, e.g. '1.4'. */
  readonly minor: string;
  readonly artifacts: ResolvedArtifacts;
  readonly isoUrl: string;
  /** The architecture of the release files (Harvester names them amd64 / arm64). */
  readonly arch: 'x86_64' | 'arm64';
  /** Directory on the web server holding this release's files. */
  readonly artifactsDir: string;
}

/** URLs and names of the release files. */
export interface ResolvedArtifacts {
  readonly base: string;
  readonly kernelName: string;
  readonly initrdName: string;
  readonly rootfsName: string;
  readonly isoName: string;
  readonly checksumName: string;
  /** SUSE's signed shim of the release (Secure Boot), taken out of the ISO by fetch.sh. */
  readonly shimName: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly rootfs: string;
  readonly iso: string;
  readonly checksum: string;
  readonly shim: string;
}

/** A whole site, ready to render. */
export interface SiteModel {
  readonly site: string;
  readonly description?: string;
  /** The machines' measured facts (`facts/<hostname>.yaml`, src/facts/), by hostname; absent without any. */
  readonly measured?: Readonly<Record<string, MeasuredFacts>>;
  /** The site's Harvester release (`harvester:`); absent in a site of only generic OS and iSCSI nodes. */
  readonly release?: Release;
  /** A planned upgrade of the cluster (`harvester.upgrade`, not done): docs/upgrade.md. */
  readonly upgrade?: SiteUpgrade;
  /** An upgrade that has run (`harvester.upgrade.done`): the release the cluster ran before (`harvester.version`); `release` is the target. */
  readonly upgradedFrom?: string;
  readonly boot: {
    /** Without trailing slash. */
    readonly server: string;
    readonly host: string;
    readonly port: number;
    /** Path prefix the tree is served under: '' or '/a/b' (no trailing slash). */
    readonly prefix: string;
    readonly firmware: 'uefi' | 'bios';
    readonly uefiLoader: 'ipxe.efi' | 'snponly.efi';
    /** The iPXE arm64 UEFI machines load. */
    readonly arm64Loader: 'ipxe-arm64.efi' | 'snp.efi';
    readonly console: readonly string[];
    readonly kernelArgs: readonly string[];
    readonly skipchecks: boolean;
    /** `boot.report`: install events (webhooks) and unknown-machine reports to logged URLs (src/render/report.ts). */
    readonly report: boolean;
    readonly retries: number;
    readonly retryDelay: number;
    /** `boot.unknown_wait`: seconds unknown.ipxe (and a keyed stub) pauses before `exit 1`. */
    readonly unknownWait: number;
    /** `rd.net.dhcp.retry` for the installer's initrd, when set. */
    readonly dhcpRetry?: number;
    /** What unknown.ipxe does with a MAC that is in no node. */
    readonly unknown: 'wait' | 'local' | 'join';
    /** UEFI: the file on a FAT volume whose presence means "installed" (install-once). */
    readonly installedMarker: { readonly volume: string; readonly file: string };
    /** Answer UEFI HTTP boot clients (vendor class HTTPClient). */
    readonly httpBoot: boolean;
    /** Directory (as written, relative to the site directory) the iPXE binaries are copied from. */
    readonly ipxeBinaries?: string;
    /** `boot.media_loaders`: the directory of the boot programs the per-node ISOs carry (src/inputs/binaries.ts). */
    readonly mediaLoaders?: string;
    /** Secure Boot: the signed shim the firmware loads and the file name it loads next. */
    readonly secureBoot?: { readonly shim: string; readonly loader: string };
  };
  readonly network: {
    /** IPv4 on the network (`cidr`, `gateway`, `dns`, `dhcp_range`); absent on an IPv6-only network. */
    readonly ipv4?: Ipv4Net;
    /** `network.ipv6`: DHCPv6, router advertisements, nginx on IPv6 (docs/ipv6.md). */
    readonly ipv6?: Ipv6Net;
    readonly domain?: string;
    /** `network.dhcp_servers`: with `several`, a Harvester node's installer gets its address on its kernel line. */
    readonly dhcpServers: 'one' | 'several';
    /** `network.vlans`: the tagged VLANs the boot server serves (a DHCP scope and an address each; docs/vlan.md). */
    readonly vlans: readonly VlanScope[];
  };
  /** Cluster-wide settings (`cluster:`); absent in a site of only generic OS and iSCSI nodes. */
  readonly cluster?: ResolvedCluster;
  /** Generic OS profiles by name (`os_profiles`). */
  readonly osProfiles: Readonly<Record<string, ResolvedOs>>;
  readonly nodes: readonly ResolvedNode[];
  /** With `boot.unknown: join`: the node an unknown machine installs as (defaults only, no hostname, no MACs, index -1). */
  readonly unknownJoin?: HarvesterNode;
  readonly lab: {
    readonly networkName: string;
    readonly bridge: string;
    readonly diskDir: string;
    readonly tftpRoot: string;
    /** Architecture of the libvirt host: domains of other architectures are emulated. */
    readonly hostArch: 'x86_64' | 'arm64';
  };
  readonly nginx: {
    readonly listen: string;
    /** A second `listen` for IPv6 (`network.ipv6`), when `listen` is IPv4 or a port. */
    readonly listen6?: string;
    /** `<server>:<port>` of each VLAN scope (`network.vlans`) when nginx listens on boot.server's one address. */
    readonly listenVlans: readonly string[];
    readonly root: string;
    readonly accessLog: string;
    /** `nodes`: a node's files only to its address(es) (src/render/access.ts); `open`: to every client. */
    readonly access: 'nodes' | 'open';
    /**
     * Who may read every file of a node besides its own addresses (src/render/access.ts): the boot
     * server itself (loopback, boot.server's address, each failover server's own) and
     * `nginx.verify_from`, so that `harvgen verify` run there checks every node's files.
     */
    readonly verifiers: readonly string[];
    /** A proxy or NAT in front of nginx: trust `header` for the client address from these addresses/CIDRs. */
    readonly realIp?: { readonly from: readonly string[]; readonly header: string };
    /**
     * \`nginx.file_key\`: the names of node files are keyed by it (src/derive/file-names.ts). In the
     * committed tree \`FILE_KEY_MARKER\`, whose tags are \`x\`s.
     */
    readonly fileKey?: string;
  };
  readonly dnsmasq: {
    readonly interface?: string;
    readonly tftpRoot: string;
    readonly leaseTime: string;
    readonly dns: boolean;
    /** The machine the site's dnsmasq runs on, when set: sites naming the same one share a dnsmasq. */
    readonly host?: string;
    /** `dhcp-hostsdir=` on that machine: the reservation files. */
    readonly hostsDir: string;
    /** `server`: the network's DHCP server; `proxy`: proxy DHCP beside another server (boot answers only). */
    readonly mode: 'server' | 'proxy';
  };
  /**
   * The site's DHCP server (`dhcp:`): which config render writes (dnsmasq, Kea or ISC dhcpd), and
   * for Kea and ISC the TFTP server firmware PXE is sent to (absent when boot.server's host is a name).
   */
  readonly dhcp: { readonly server: DhcpServerName; readonly nextServer?: string };
  /** `bss.export`: write bss/bootparameters.json. */
  readonly bss: { readonly export: boolean };
  /** `metal3:`: a BareMetalHost per node with a BMC (src/derive/metal3-host.ts). */
  readonly metal3: { readonly export: boolean; readonly namespace: string };
  /** `failover:`: two boot servers sharing `boot.server`'s address (src/derive/failover.ts). */
  readonly failover?: SiteFailover;
  readonly forward: { readonly ports: readonly number[]; readonly listenAddress?: string };
  /** Which families of files the tree holds (`outputs:`; the one place that switches each off). */
  readonly outputs: SiteOutputs;
  /** `publish:` (docs/fleet.md): where the site is published and how its boot server materializes it. */
  readonly publish?: SitePublish;
}

/** `publish:` with its defaults. */
export interface SitePublish {
  /** `host[:port]/namespace`. */
  readonly registry: string;
  /** `<registry>/<site>`: the site's own repository. */
  readonly repository: string;
  /** What the boot server pulls from: `<mirror>/<site>` with `publish.mirror`, else `repository`. */
  readonly pullRepository: string;
  /** The tag the boot server follows: the site's name. */
  readonly tag: string;
  /** The sealing key in the deploy build (`harvgen publish`); a stand-in in the committed tree. */
  readonly key: string;
  readonly keep: number;
  readonly stateDir: string;
  readonly keyFile: string;
  /** `signing.public_key`: the boot server checks every published tree with it (`PUBLISH_UNSIGNED` without). */
  readonly publicKey: string;
  /**
   * `cosign_key` and `cosign_public_key`: publish attaches a cosign signature to each artifact.
   * The key is the PEM text in the deploy build (`harvgen publish`), empty in the committed tree.
   */
  readonly cosign?: { readonly key: string; readonly publicKey: string };
}

/** `failover:` with its defaults. */
export interface SiteFailover {
  /** The servers' interface on the nodes' network, where keepalived holds the shared address. */
  readonly interface: string;
  readonly virtualRouterId: number;
  /** Kea HA: each peer's own listener port, and where the hook libraries are. */
  readonly keaHaPort: number;
  readonly keaHooksDir: string;
  /** The shared address: boot.server's host, moved by VRRP. */
  readonly shared: string;
  /** The first the primary (higher VRRP priority, Kea's `primary`), the second the standby. */
  readonly servers: readonly FailoverServer[];
}

/** One of a site's boot servers. */
export interface FailoverServer {
  readonly name: string;
  readonly address: string;
  readonly role: 'primary' | 'standby';
  /** Its VRRP priority (the primary's higher). */
  readonly priority: number;
  /** The MAC of its failover.interface (lower-case colons): the other server's nftables rules take its adverts only from it. */
  readonly mac?: string;
}

/** The families of files a site's tree holds besides its boot scripts, node configs and manifest. */
export interface SiteOutputs {
  /** libvirt network, domains and define.sh: by default only with a `lab:` section. */
  readonly lab: boolean;
  /** The socat forward units. */
  readonly forward: boolean;
  readonly dhcp: boolean;
  readonly nginx: boolean;
  readonly embed: boolean;
  readonly oci: boolean;
  readonly fetch: boolean;
  readonly bmc: boolean;
}

/**
 * What resolving a site found that the rules cannot: a node whose kind cannot be resolved (an
 * error; there is no model then), or a setting the node's kind ignores (a warning). The same
 * shape as a rule's Finding.
 */
export interface ModelProblem {
  readonly code: Code;
  readonly message: string;
  readonly hint: string;
  readonly at: InventoryPath;
  readonly target?: 'key' | 'value';
  /** Hostname of the node it is about. */
  readonly node?: string;
}

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

/** `harvester.upgrade` while it has not run: the target release and what its `Version` manifest says. */
export interface SiteUpgrade {
  /** The target release (its files served beside the installed one's). */
  readonly to: Release;
  /** SHA-512 of the target's ISO for the cluster's architecture (128 lower-case hex digits). */
  readonly isoChecksum: string;
  /** `YYYYMMDD`. */
  readonly releaseDate?: string;
  /** Write the `Upgrade` manifest and the apply script too. */
  readonly apply: boolean;
}

/**
 * One tagged VLAN of `network.vlans`: a DHCP scope on the boot server's interface on it, and the
 * server's address there, from which the installers of the nodes on it (`vlan: <id>`) fetch.
 */
export interface VlanScope {
  readonly id: number;
  readonly cidr: string;
  readonly address: string;
  readonly prefix: number;
  readonly netmask: string;
  readonly gateway: string;
  readonly dns: readonly string[];
  /** The dynamic pool; absent: reservations only. */
  readonly dhcpStart?: string;
  readonly dhcpEnd?: string;
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
