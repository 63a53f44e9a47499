// The layout of the output tree: every path a site's files are written at, in one place. The
// renderers, the manifest, nginx's locations (whose patterns match these directories) and the
// tests take their paths from here.
// A node's own files are named by their kinds' declarations (src/derive/file-kinds.ts), which
// also read them back.
import { HARVESTER_CONFIG, NOCLOUD_SEED } from './configs/index.ts';
import {
  BMC_SCRIPT_FILE,
  DNSMASQ_HOST_FILE,
  EVENT_PATH,
  LAB_DOMAIN_FILE,
  MEDIUM_FILE,
  METAL3_HOST_FILE,
  SCRIPT_FILE,
  SHARED_MEDIUM_FILE,
  type INSTALL_EVENTS,
} from './file-kinds.ts';

export { INSTALL_EVENTS, SHARED_MEDIUM, SHARED_MEDIUM_PATTERN, UNKNOWN_EVENT_HOST } from './file-kinds.ts';

/** The file name of the script that runs a BMC subcommand over several nodes. */
export const BMC_ALL_SCRIPT = 'all.sh';

/** Directories of the tree whose files are one per node or per MAC (nginx serves each by pattern). */
export const DIRS = {
  /** One iPXE script per boot MAC. */
  scripts: SCRIPT_FILE.dir,
  /** One Harvester config per Harvester node (src/derive/configs/harvester.ts). */
  configs: HARVESTER_CONFIG.dir,
  /** One NoCloud seed directory per boot MAC of a generic OS node (src/derive/configs/nocloud.ts). */
  cloudInit: NOCLOUD_SEED.dir,
  /** The images of the media (src/derive/media/, src/render/media.ts): one shared per medium, one per node that has its own. */
  media: MEDIUM_FILE.dir,
  /** The config of unknown machines joining (`boot.unknown: join`). */
  unknown: 'unknown',
  libvirt: LAB_DOMAIN_FILE.dir,
  /** One BMC script per node with a `bmc:`, and all.sh (never served). */
  bmc: BMC_SCRIPT_FILE.dir,
  systemd: 'systemd',
  /** `publish:`: the boot server's materializer (pull.json and its units; never served). */
  publish: 'publish',
} as const;

/** Every file of a site's tree, relative to its root. */
export const LAYOUT = {
  entryScript: 'boot.ipxe',
  unknownScript: 'unknown.ipxe',
  embedScript: 'embed.ipxe',
  ociLaunchScript: 'oci/launch.ipxe',
  /** The script of one boot MAC: `ipxe/52-54-00-aa-bb-cc.ipxe`. */
  nodeScript: (mac: string) => SCRIPT_FILE.path(mac, ''),
  /** The NoCloud seed directory of one boot MAC, with a trailing slash. */
  cloudInitDir: NOCLOUD_SEED.plain,
  harvesterConfig: HARVESTER_CONFIG.plain,
  /** The image of a node's own (`medium_image: own`): `media/hv-1.iso`. */
  medium: (hostname: string, ext: string) => MEDIUM_FILE.path(hostname, ext),
  /** The site's shared image of a medium: `media/shared.boot.iso` (no hostname has a dot). */
  sharedMedium: (ext: string) => SHARED_MEDIUM_FILE.path('', ext),
  unknownJoinConfig: `${DIRS.unknown}/join.yaml`,
  labDomain: (hostname: string) => LAB_DOMAIN_FILE.path(hostname, ''),
  labNetwork: `${DIRS.libvirt}/network.xml`,
  defineScript: `${DIRS.libvirt}/define.sh`,
  /** The BMC script of one node (`bmc:`): `bmc/hv-1.sh`. */
  bmcScript: (hostname: string) => BMC_SCRIPT_FILE.path(hostname, ''),
  bmcAllScript: `${DIRS.bmc}/${BMC_ALL_SCRIPT}`,
  forwardUnit: (unit: string) => `${DIRS.systemd}/${unit}`,
  /** `publish:`: what `harvgen pull` reads on the boot server (installed as `PULL_CONFIG_PATH`). */
  pullConfig: `${DIRS.publish}/pull.json`,
  /** `publish.cosign_public_key`: the key `cosign verify --key`, Flux and Kyverno check the site's artifacts with. */
  cosignPublicKey: `${DIRS.publish}/cosign.pub`,
  /** `publish:`: the materializer's service and timer. */
  pullUnit: (unit: string) => `${DIRS.publish}/${unit}`,
  /**
   * `publish:`: the URL path (under boot.server) where nginx serves the materializer's state.json
   * (which artifact is served, the last verdict) for `verify --fleet`. Not a file of the tree.
   */
  servedState: '.harvgen/state.json',
  /**
   * `publish:`: the URL path (under boot.server) where nginx answers which config it runs: the
   * config's own id (src/render/nginx-config-id.ts). `harvgen pull` waits for the new one after a
   * reload. Not a file of the tree.
   */
  servedConfig: '.harvgen/config',
  bss: 'bss/bootparameters.json',
  /** `metal3.export`: a node's BareMetalHost, and the kustomization that lists them (never served). */
  metal3Host: (hostname: string) => METAL3_HOST_FILE.path(hostname, ''),
  metal3Kustomization: 'metal3/kustomization.yaml',
  /** `failover:`: one boot server's own files (keepalived.conf, its DHCP config; never served). */
  failover: (server: string, file: string) => `failover/${server}/${file}`,
  dnsmasq: 'dnsmasq/harvgen.conf',
  /** `dhcp.server: kea`: the Kea DHCPv4 config, in place of the dnsmasq file. */
  kea: 'kea/harvgen.json',
  /** `dhcp.server: kea` with `network.ipv6`: the Kea DHCPv6 config. */
  kea6: 'kea/harvgen6.json',
  /** `dhcp.server: isc`: the ISC dhcpd snippet, in place of the dnsmasq file. */
  dhcpd: 'dhcpd/harvgen.conf',
  /** What one dnsmasq process holds once, whatever number of sites it serves. */
  dnsmasqGlobal: 'dnsmasq/global.conf',
  /** One node's reservation for `dhcp-hostsdir`, named `<site>.<hostname>` (unique on a host shared by sites). */
  dnsmasqHost: (site: string, hostname: string) => DNSMASQ_HOST_FILE.path(hostname, site),
  nginx: 'nginx/harvgen.conf',
  nginxLocations: 'nginx/locations.conf',
  fetchScript: 'artifacts/fetch.sh',
  /** `harvester.upgrade`: Harvester's Version object of the target, and with `apply` its Upgrade and the script that applies both (never served). */
  upgradeVersion: 'upgrade/version.yaml',
  upgradeUpgrade: 'upgrade/upgrade.yaml',
  upgradeApply: 'upgrade/apply.sh',
  manifest: 'manifest.json',
  /** Where nodes report install events (`boot.report`): nginx logs the request and answers 200 with an empty body; no file. */
  eventsDir: EVENT_PATH.dir,
  /** The URL path (under boot.server) of one node's install event: `harvgen-events/hv-1/STARTED`. */
  event: (host: string, event: (typeof INSTALL_EVENTS)[number]) => EVENT_PATH.path(host, event),
  /** Where unknown.ipxe reports an unknown machine (`boot.report`): logged, 200 with an empty body; no file. */
  discover: 'harvgen-discover',
  /** The deploy tree's signature of manifest.json (`signing:`; never served, never listed in the manifest). */
  manifestSignature: 'manifest.json.sig',
} as const;
