// The whole site as the renderers see it, and the settings of its boot servers, its publishing and
// its outputs.
import type { MeasuredFacts } from '../facts/types.ts';
import type { DhcpServerName } from '../types/kinds.ts';
import type { Code } from '../diagnostics/codes.ts';
import type { InventoryPath } from '../util/paths.ts';
import type { Release, ResolvedCluster, SiteUpgrade } from './harvester-types.ts';
import type { HarvesterNode, ResolvedNode, ResolvedOs } from './node-types.ts';
import type { Ipv4Net, Ipv6Net, VlanScope } from './network-types.ts';

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
