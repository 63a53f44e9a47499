// The layout of the output tree: every path a site's files are written at, in one place. The
// renderers, the manifest, nginx's locations (whose patterns match these directories) and the
// tests take their paths from here.
import { macToHyphen } from '../util/mac.ts';
import { HARVESTER_CONFIG, NOCLOUD_SEED } from './configs/index.ts';

/** The name of a medium's shared image (`media/shared.boot.<ext>`): not a hostname, which has no dot. */
export const SHARED_MEDIUM = 'shared.boot';
/** SHARED_MEDIUM as a regular expression (nginx, status). */
export const SHARED_MEDIUM_PATTERN = 'shared\\.boot';

/** The file name of the script that runs a BMC subcommand over several nodes. */
export const BMC_ALL_SCRIPT = 'all.sh';

/** Directories of the tree whose files are one per node or per MAC (nginx serves each by pattern). */
export const DIRS = {
  /** One iPXE script per boot MAC. */
  scripts: 'ipxe',
  /** One Harvester config per Harvester node (src/derive/configs/harvester.ts). */
  configs: HARVESTER_CONFIG.dir,
  /** One NoCloud seed directory per boot MAC of a generic OS node (src/derive/configs/nocloud.ts). */
  cloudInit: NOCLOUD_SEED.dir,
  /** The images of the media (src/derive/media/, src/render/media.ts): one shared per medium, one per node that has its own. */
  media: 'media',
  /** The config of unknown machines joining (`boot.unknown: join`). */
  unknown: 'unknown',
  libvirt: 'libvirt',
  /** One BMC script per node with a `bmc:`, and all.sh (never served). */
  bmc: 'bmc',
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
  nodeScript: (mac: string) => `${DIRS.scripts}/${macToHyphen(mac)}.ipxe`,
  /** The NoCloud seed directory of one boot MAC, with a trailing slash. */
  cloudInitDir: NOCLOUD_SEED.plain,
  harvesterConfig: HARVESTER_CONFIG.plain,
  /** The image of a node's own (`medium_image: own`): `media/hv-1.iso`. */
  medium: (hostname: string, ext: string) => `${DIRS.media}/${hostname}.${ext}`,
  /** The site's shared image of a medium: `media/shared.boot.iso` (no hostname has a dot). */
  sharedMedium: (ext: string) => `${DIRS.media}/${SHARED_MEDIUM}.${ext}`,
  unknownJoinConfig: `${DIRS.unknown}/join.yaml`,
  labDomain: (hostname: string) => `${DIRS.libvirt}/${hostname}.xml`,
  labNetwork: `${DIRS.libvirt}/network.xml`,
  defineScript: `${DIRS.libvirt}/define.sh`,
  /** The BMC script of one node (`bmc:`): `bmc/hv-1.sh`. */
  bmcScript: (hostname: string) => `${DIRS.bmc}/${hostname}.sh`,
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
  metal3Host: (hostname: string) => `metal3/${hostname}.yaml`,
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
  dnsmasqHost: (name: string) => `dnsmasq/hosts/${name}`,
  nginx: 'nginx/harvgen.conf',
  nginxLocations: 'nginx/locations.conf',
  fetchScript: 'artifacts/fetch.sh',
  /** `harvester.upgrade`: Harvester's Version object of the target, and with `apply` its Upgrade and the script that applies both (never served). */
  upgradeVersion: 'upgrade/version.yaml',
  upgradeUpgrade: 'upgrade/upgrade.yaml',
  upgradeApply: 'upgrade/apply.sh',
  manifest: 'manifest.json',
  /** Where nodes report install events (`boot.report`): nginx logs the request and answers 200 with an empty body; no file. */
  eventsDir: 'harvgen-events',
  /** Where unknown.ipxe reports an unknown machine (`boot.report`): logged, 200 with an empty body; no file. */
  discover: 'harvgen-discover',
  /** The deploy tree's signature of manifest.json (`signing:`; never served, never listed in the manifest). */
  manifestSignature: 'manifest.json.sig',
} as const;

/** The installer's events (harvester-installer pkg/console/webhooks.go, the same in v1.2 to v1.8 and master). */
export const INSTALL_EVENTS = ['STARTED', 'SUCCEEDED', 'FAILED'] as const;

/** What the events path names in place of a hostname for machines the site does not know (no hostname has a `_`). */
export const UNKNOWN_EVENT_HOST = '_unknown';
