// The Harvester configuration of one node (served at harvester.install.config_url), built as
// a plain object in a fixed key order, with the inventory's `config:` deep-merged over it,
// then checked against the installer schema of the site's release.
import { sharedShape } from '../../util/shared-shape.ts';
import { atLeast } from '../../harvester/versions.ts';
import { witnessKeepsDataSettings } from '../../harvester/witness.ts';
import { booleanKeys, validateInstallerConfig, type InstallerSchemaIssue } from '../../harvester/installer-schema.ts';
import { asInstallerReads } from '../../harvester/installer-values.ts';
import type { HarvesterNode, ResolvedCluster, SiteModel } from '../../model/index.ts';
import { deepMerge, onVlan, scopeOf } from '../../model/index.ts';
import { deriveSalt, isCryptHash, sha512Crypt } from '../../util/sha512-crypt.ts';
import { toYaml } from '../../formats/yaml.ts';
import { INSTALL_EVENTS, LAYOUT, UNKNOWN_EVENT_HOST } from '../layout.ts';
import { diskPath } from '../disks.ts';
import { generationCommand, generationMarker, withGenerationCommand } from './reinstall.ts';
import { MAX_SECRET_BYTES, SECRET_MARKERS, secretTooLong } from '../../load/secrets.ts';
import type { SecretMode } from '../../types/secret-mode.ts';

/**
 * The config object for a node (before YAML serialization). For the committed tree
 * (`markers`) the password is not hashed: the object is only checked against the installer
 * schema, and `renderHarvesterConfig` writes the markers in place of the secrets.
 */
export function buildHarvesterConfig(model: SiteModel, node: HarvesterNode, secrets: SecretMode = 'filled'): Record<string, unknown> {
  const v = node.release.version;
  const c = node.cluster;
  // The node an unknown machine joins as has no hostname: the installer takes the DHCP name or makes one up.
  const os: Record<string, unknown> = node.hostname !== '' ? { hostname: node.hostname } : {};
  if (c.password !== undefined && c.password !== '') os.password = secrets === 'filled' ? hashPassword(c, c.password) : c.password;
  if (c.sshAuthorizedKeys.length > 0) os.ssh_authorized_keys = [...c.sshAuthorizedKeys];
  if (c.ntp.length > 0) os.ntp_servers = [...c.ntp];
  if (node.method === 'static') os.dns_nameservers = [...node.dns];

  const mgmt: Record<string, unknown> = {
    interfaces: node.interfaces.map((nic) =>
      sharedShape({
        ...(nic.name !== undefined ? { name: nic.name } : {}),
        ...(nic.mac !== undefined ? { hwAddr: nic.mac } : {}),
      }),
    ),
    method: node.method,
  };
  if (node.method === 'static' && node.ip !== undefined) {
    mgmt.ip = node.ip;
    mgmt.subnet_mask = node.netmask;
    mgmt.gateway = node.gateway;
  }
  mgmt.bond_options = { ...node.bond };
  if (node.mtu !== undefined) mgmt.mtu = node.mtu;
  if (node.vlan !== undefined) mgmt.vlan_id = node.vlan;

  const install: Record<string, unknown> = { mode: node.role, management_interface: mgmt };
  const device = diskPath(model, node, 'device');
  if (device !== undefined) install.device = device;
  // A witness's data disk and persistent partition: written where its release's installer uses
  // them (before v1.6.0), left out from v1.6.0 (src/harvester/witness.ts).
  const keepData = node.harvesterRole !== 'witness' || witnessKeepsDataSettings(v);
  const dataDisk = diskPath(model, node, 'dataDisk');
  if (dataDisk !== undefined && keepData) install.data_disk = dataDisk;
  // On a VLAN scope the installer, on the VLAN as the config says, reaches the boot server there.
  const scope = scopeOf(model, node);
  const reach = (url: string) => (scope ? onVlan(model, scope, url) : url);
  install.iso_url = reach(node.install.isoUrl ?? node.release.isoUrl);
  if (node.install.tty !== undefined) install.tty = node.install.tty;
  if (atLeast(v, '1.3')) install.role = node.harvesterRole;
  if (node.role === 'create') {
    install.vip = c.vip;
    install.vip_mode = c.vipMode;
    if (c.vipHwAddr !== undefined) install.vip_hw_addr = c.vipHwAddr;
    if (c.podCidr !== undefined) install.cluster_pod_cidr = c.podCidr;
    if (c.serviceCidr !== undefined) install.cluster_service_cidr = c.serviceCidr;
    if (c.clusterDns !== undefined) install.cluster_dns = c.clusterDns;
  }
  if (node.install.persistentPartitionSize !== undefined && keepData)
    install.persistent_partition_size = node.install.persistentPartitionSize;
  if (node.install.wipeAllDisks !== undefined) install.wipe_all_disks = node.install.wipeAllDisks;
  if (node.install.wipeDisksList !== undefined) install.wipe_disks_list = [...node.install.wipeDisksList];
  if (node.install.cordoned !== undefined) install.cordoned = node.install.cordoned;
  if (node.install.powerOff !== undefined) install.poweroff = node.install.powerOff;
  if (model.boot.report) install.webhooks = reportWebhooks(model, node);

  const config: Record<string, unknown> = { scheme_version: 1 };
  if (node.role === 'join') config.server_url = `https://${c.vip}:443`;
  config.token = c.token;
  if (node.role === 'create' && c.sans.length > 0) config.sans = [...c.sans];
  config.os = os;
  config.install = install;
  const merged = deepMerge(config, node.config as Record<string, unknown>);
  // Webhooks of the node's own `config:` are kept, and the report's added after them (a list in
  // `config:` would otherwise replace them, and status would see no event).
  const own = (node.config as { install?: { webhooks?: unknown } }).install?.webhooks;
  if (model.boot.report && Array.isArray(own)) {
    merged.install = { ...(merged.install as Record<string, unknown>), webhooks: [...own, ...reportWebhooks(model, node)] };
  }
  // What the installer reads of `config:`'s values (src/harvester/installer-values.ts): the
  // lower-cased method and VIP mode, the mapper's booleans. Written so, the file is what the
  // installer uses (and what the installed system gets).
  const read = asInstallerReads(merged, booleanKeys(`${v.major}.${v.minor}`), v);
  // A reinstall generation: its marker's command after the user's own after-install commands.
  const marker = generationMarker(model, node);
  return marker === undefined ? read : withGenerationCommand(read, generationCommand(marker));
}

/** Hashes of this process by salt and password: each distinct password is hashed once per build (and watch). */
const hashed = new Map<string, string>();

/**
 * Plain-text passwords become SHA-512 crypt hashes; complete hashes pass through. The salt is
 * derived from the cluster token: stable (builds stay byte-identical), different for every
 * cluster with its own token (no table precomputed for harvgen users fits), and one hash for
 * all the nodes of a cluster, so a 10,000-node build hashes once instead of 10,000 times
 * (5,000 rounds each). The token is no secret from whoever reads the config: it is in it.
 */
export function hashPassword(cluster: ResolvedCluster, password: string): string {
  if (isCryptHash(password)) return password;
  // Validation refuses longer secrets (SECRET_TOO_LONG); hashing one would take gigabytes (the
  // cost grows with the square of the length), so reaching here with one is a bug, said as one.
  if (secretTooLong(password) !== undefined) throw new Error(`refusing to hash a password longer than ${MAX_SECRET_BYTES} bytes`);
  const salt = deriveSalt('password', cluster.token);
  const key = `${salt}\0${password}`;
  let h = hashed.get(key);
  if (h === undefined) {
    h = sha512Crypt(password, salt);
    if (hashed.size > 64) hashed.clear();
    hashed.set(key, h);
  }
  return h;
}

/**
 * The config as the committed tree holds it: the token and the password (wherever they ended
 * up, `config:` included) replaced by their markers.
 */
export function withSecretMarkers(config: Record<string, unknown>): Record<string, unknown> {
  const out = { ...config };
  if (out.token !== undefined) out.token = SECRET_MARKERS.token;
  const os = out.os;
  if (os !== null && typeof os === 'object' && !Array.isArray(os) && (os as Record<string, unknown>).password !== undefined) {
    out.os = { ...(os as Record<string, unknown>), password: SECRET_MARKERS.password };
  }
  return out;
}

/** Serialize a node config as YAML with a header comment (real YAML types, no quoting of ints). */
export function renderHarvesterConfig(
  model: SiteModel,
  node: HarvesterNode,
  config: Record<string, unknown>,
  secrets: SecretMode = 'filled',
): string {
  const who =
    node === model.unknownJoin
      ? `machines site ${model.site} does not know (boot.unknown: join); they install as joining nodes`
      : `node ${node.hostname} (${node.role}) of site ${model.site}`;
  const header =
    `# Harvester ${node.release.version.raw} config for ${who}.\n` +
    `# Generated by harvgen; do not edit (change the inventory and rebuild).\n` +
    (secrets === 'markers'
      ? `# The committed tree: secrets are markers, which the installer refuses. Serve the deploy tree\n` +
        `# (\`harvgen build --deploy\`), which holds them.\n`
      : '');
  return header + toYaml(secrets === 'markers' ? withSecretMarkers(config) : config);
}

/** Check a node config against the installer schema of the node's release. */
export function checkHarvesterConfig(node: HarvesterNode, config: Record<string, unknown>): InstallerSchemaIssue[] {
  return validateInstallerConfig(node.release.minor, config);
}

/**
 * `install.webhooks` for `boot.report`: one GET per installer event to the boot server, which
 * logs it and answers 204 (`harvgen status` reads the log). The URL is a Go template the
 * installer fills (`getWebhookContext`: Hostname, MACAddr, IPAddrV4 of the management
 * interface); the hostname in the path is the inventory's, so no value of ours is a template.
 * Unknown machines joining have no hostname of ours: theirs goes into the query.
 */
export function reportWebhooks(model: SiteModel, node: HarvesterNode): Record<string, unknown>[] {
  const host = node.hostname !== '' ? node.hostname : UNKNOWN_EVENT_HOST;
  const query = `mac={{.MACAddr}}&ip={{.IPAddrV4}}${node.hostname === '' ? '&host={{.Hostname}}' : ''}`;
  // On a VLAN scope, the installer reports from the VLAN, to the boot server's address there.
  const scope = scopeOf(model, node);
  const base = scope ? onVlan(model, scope, model.boot.server).replace(/\/+$/, '') : model.boot.server;
  return INSTALL_EVENTS.map((event) => ({
    event,
    method: 'GET',
    url: `${base}/${LAYOUT.event(host, event)}?${query}`,
  }));
}
