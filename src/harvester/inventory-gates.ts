// Inventory settings that map to installer keys added in a later Harvester release. Using
// one with an older version is an error at build time instead of a key the installer
// silently ignores on the node.

/** Inventory key (relative to a node/defaults entry or to the site) -> first release line. */
export const NODE_KEY_SINCE: Readonly<Record<string, string>> = Object.freeze({
  harvester_role: '1.3',
  'install.wipe_all_disks': '1.5',
  'install.wipe_disks_list': '1.5',
  // harvester/harvester pkg/installer/config/config.go Install.Cordoned @v1.9.0-rc6; none in harvester-installer v1.8.1.
  'install.cordoned': '1.9',
});

/** Site-level inventory paths (dotted) -> first release line. */
export const SITE_KEY_SINCE: Readonly<Record<string, string>> = Object.freeze({
  'cluster.pod_cidr': '1.5',
  'cluster.service_cidr': '1.5',
  'cluster.cluster_dns': '1.5',
  'cluster.sans': '1.6',
});

/** Release line from which legacy BIOS installs are refused by the installer. */
export const BIOS_REFUSED_SINCE = '1.8';

/** Release line of the first Harvester release with arm64 files (`harvester-<v>-*-arm64`). */
export const ARM64_SINCE = '1.3';
