// The resolved nodes: what every node has (NodeBase) and each kind of node with its own parts,
// defaults applied. Code that handles one kind narrows on `boot`.
import type { HardwareFacts } from '../harvester/hardware-facts.ts';
import type { DiskSelector } from '../facts/disk-selector.ts';
import type { MediumName } from '../types/kinds.ts';
import type { InventoryPath } from '../util/paths.ts';
import type { Release, ResolvedCluster } from './harvester-types.ts';

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
