// The shape of manifest.json (rendered by manifest.ts; each kind adds its fields, kinds/types.ts).
import type { SecretMode } from '../types/secret-mode.ts';

/** One node in manifest.json. */
export interface ManifestNode {
  readonly hostname: string;
  /** Harvester nodes only. */
  readonly role?: 'create' | 'join';
  readonly harvester_role?: string;
  readonly state: 'install' | 'local' | 'install-once';
  /** What the node boots: the Harvester installer, a generic OS profile, or an iSCSI target. */
  readonly boot: 'harvester' | 'os' | 'iscsi';
  /** The OS profile of a generic node. */
  readonly os?: string;
  /** The NoCloud seed URL per boot MAC (generic nodes with cloud-init). */
  readonly cloud_init?: { mac: string; url: string }[];
  /** The iPXE root path of an iSCSI node. */
  readonly iscsi?: string;
  /** The release the node installs (the site's, or its own `harvester_version`); Harvester nodes only. */
  readonly harvester_version?: string;
  readonly ip?: string;
  readonly method: 'dhcp' | 'static';
  /** Lowercase colon form. */
  readonly macs: string[];
  readonly ipxe: { mac: string; path: string; url: string }[];
  /** The Harvester config of a Harvester node. */
  readonly config?: { path: string; url: string };
  /** The node's boot ISO (`medium: iso`): what its BMC inserts as virtual media. */
  readonly medium?: { path: string; url: string };
}

/** manifest.json: what a build produced. `url` is set only for files nginx serves. */
export interface Manifest {
  readonly generator: 'harvgen';
  readonly manifest_version: number;
  readonly site: string;
  /**
   * `markers`: the committed tree, every secret written as its marker (`harvgen build`);
   * `filled`: the deploy tree, secrets written (`harvgen build --deploy`).
   */
  readonly secrets: SecretMode;
  /** The site's Harvester release (absent in a site of only generic OS and iSCSI nodes). */
  readonly harvester_version?: string;
  readonly boot: {
    server: string;
    firmware: 'uefi' | 'bios';
    entry_url: string;
    unknown_url: string;
    /** What unknown.ipxe does: `wait`, boot the `local` disk, or `join` the cluster. */
    unknown: 'wait' | 'local' | 'join';
    /** The config unknown machines install with (`unknown: join`). */
    unknown_config_url?: string;
    /** The boot file URL UEFI HTTP boot clients get (`http_boot: true`). */
    http_boot_url?: string;
    /**
     * `keyed` (`nginx.file_key`): the scripts, configs and seeds of known nodes have keyed names;
     * their plain names serve a stub script (`ipxe/`) or nothing.
     */
    file_names?: 'keyed';
    /** `boot.server` at the boot server's address on each VLAN (`network.vlans`), where those installers fetch their root and config. */
    vlan_servers?: string[];
    /** `failover:`: `boot.server` at each boot server's own address (verify checks each, and the shared one). */
    failover_servers?: string[];
    /** `nginx.access: nodes`, or some file has `allow` under `open`: the addresses besides a file's own `allow` that nginx serves every such file to (the boot server itself, `nginx.verify_from`). */
    verifiers?: string[];
  };
  /** URLs of the release files (served by the artifacts server, not by this tree). */
  readonly artifacts?: { kernel: string; initrd: string; rootfs: string; iso: string; shim?: string };
  /** A planned upgrade (`harvester.upgrade`): the target's ISO URL and the SHA-512 the inventory pins (`verify --releases` checks it). */
  readonly upgrade?: { version: string; iso: string; iso_sha512: string };
  readonly nodes: ManifestNode[];
  /**
   * Every file of the tree. `url`: nginx serves it. `allow`: nginx serves it only to these
   * addresses and CIDR blocks (`nginx.access: nodes`: a file that holds a secret or one node's
   * data; `open`: the configs and seeds of the nodes that boot from an image), 403 to every other
   * client; absent for a file served to all.
   */
  readonly files: { path: string; sha256: string; size: number; url?: string; allow?: string[] }[];
}
