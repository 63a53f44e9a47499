// The layout of the output tree: every path a site's files are written at, in one place. The
// renderers, the manifest, nginx's locations (whose patterns match these directories) and the
// tests take their paths from here.
import { macToHyphen } from '../util/mac.ts';

/** Directories of the tree whose files are one per node or per MAC (nginx serves each by pattern). */
export const DIRS = {
  /** One iPXE script per boot MAC. */
  scripts: 'ipxe',
  /** One Harvester config per Harvester node. */
  configs: 'harvester',
  /** One NoCloud seed directory per boot MAC of a generic OS node. */
  cloudInit: 'cloud-init',
  /** The config of unknown machines joining (`boot.unknown: join`). */
  unknown: 'unknown',
  libvirt: 'libvirt',
  systemd: 'systemd',
} as const;

/** Every file of a site's tree, relative to its root. */
export const LAYOUT = {
  entryScript: 'boot.ipxe',
  unknownScript: 'unknown.ipxe',
  embedScript: 'embed.ipxe',
  ociLaunchScript: 'oci/launch.ipxe',
  /** The script of one boot MAC: `ipxe/52-54-00-aa-bb-cc.ipxe`. */
  nodeScript: (mac: string) => `${DIRS.scripts}/${macToHyphen(mac)}.ipxe`,
  /** The NoCloud seed directory of one boot MAC, with a trailing slash. */
  cloudInitDir: (mac: string) => `${DIRS.cloudInit}/${macToHyphen(mac)}/`,
  harvesterConfig: (hostname: string) => `${DIRS.configs}/${hostname}.yaml`,
  unknownJoinConfig: `${DIRS.unknown}/join.yaml`,
  labDomain: (hostname: string) => `${DIRS.libvirt}/${hostname}.xml`,
  labNetwork: `${DIRS.libvirt}/network.xml`,
  defineScript: `${DIRS.libvirt}/define.sh`,
  forwardUnit: (unit: string) => `${DIRS.systemd}/${unit}`,
  bss: 'bss/bootparameters.json',
  dnsmasq: 'dnsmasq/harvgen.conf',
  /** What one dnsmasq process holds once, whatever number of sites it serves. */
  dnsmasqGlobal: 'dnsmasq/global.conf',
  /** One node's reservation for `dhcp-hostsdir`, named `<site>.<hostname>` (unique on a host shared by sites). */
  dnsmasqHost: (name: string) => `dnsmasq/hosts/${name}`,
  nginx: 'nginx/harvgen.conf',
  nginxLocations: 'nginx/locations.conf',
  fetchScript: 'artifacts/fetch.sh',
  manifest: 'manifest.json',
} as const;
