// The effective installer config of a Harvester node: the document its installer parses (the
// config file harvgen writes, `config:` merged in, plus the `harvester.install.*` keys of its
// kernel command line), and for every key the inventory line that set it. The installer rules
// (src/harvester/installer-rules.ts) judge this document and nothing else, so a value reaches
// them the same way whether it came from a node field, a `config:` key, `defaults:`, a profile
// or a built-in default, and nothing the renderer adds or drops can disagree with them.
import type { HarvesterNode, SiteModel } from '../../model/index.ts';
import { buildHarvesterConfig } from './config.ts';
import type { SecretMode } from '../../types/secret-mode.ts';
import type { InventoryPath } from '../../util/paths.ts';
import type { ConfigOrigin, EffectiveConfig } from '../../harvester/effective-config.ts';
import { getKey } from '../../harvester/config-keys.ts';

export { getKey };

/**
 * The inventory settings each key harvgen writes comes from, strongest first: node settings (keys
 * of the node's `sources`, set by its own layer, a profile or `defaults:`), then a site path that
 * applies when no node setting does. The longest matching key wins.
 */
const WRITTEN_FROM: readonly (readonly [string, { node?: readonly string[]; site?: InventoryPath }])[] = [
  ['install.mode', { node: ['role'] }],
  ['install.device', { node: ['install.device'] }],
  ['install.data_disk', { node: ['install.data_disk'] }],
  ['install.persistent_partition_size', { node: ['install.persistent_partition_size'] }],
  ['install.role', { node: ['harvester_role'] }],
  ['install.tty', { node: ['install.tty'] }],
  ['install.wipe_all_disks', { node: ['install.wipe_all_disks'] }],
  ['install.wipe_disks_list', { node: ['install.wipe_disks_list'] }],
  ['install.cordoned', { node: ['install.cordoned'] }],
  ['install.poweroff', { node: ['install.power_off'] }],
  ['install.management_interface.method', { node: ['method'] }],
  ['install.management_interface.bond_options', { node: ['bond'] }],
  ['install.management_interface.mtu', { node: ['mtu'] }],
  ['install.management_interface.vlan_id', { node: ['vlan'] }],
  ['install.management_interface.interfaces', { node: ['interfaces', 'macs'] }],
  ['install.management_interface.ip', { node: ['ip'] }],
  ['install.management_interface.gateway', { node: ['gateway'], site: ['network', 'gateway'] }],
  ['install.management_interface.subnet_mask', { node: ['prefix', 'netmask'], site: ['network', 'cidr'] }],
  ['install.skipchecks', { site: ['boot', 'skipchecks'] }],
  ['install.webhooks', { site: ['boot', 'report'] }],
  ['install.iso_url', { node: ['install.iso_url', 'harvester_version'], site: ['harvester', 'artifacts'] }],
  ['install.vip', { site: ['cluster', 'vip'] }],
  ['install.vip_mode', { site: ['cluster', 'vip_mode'] }],
  ['install.vip_hw_addr', { site: ['cluster', 'vip_hw_addr'] }],
  ['install.cluster_pod_cidr', { site: ['cluster', 'pod_cidr'] }],
  ['install.cluster_service_cidr', { site: ['cluster', 'service_cidr'] }],
  ['install.cluster_dns', { site: ['cluster', 'cluster_dns'] }],
  ['server_url', { site: ['cluster', 'vip'] }],
  ['token', { site: ['cluster', 'token'] }],
  ['sans', { site: ['cluster', 'sans'] }],
  ['os.password', { site: ['cluster', 'password'] }],
  ['os.ssh_authorized_keys', { site: ['cluster', 'ssh_authorized_keys'] }],
  ['os.ntp_servers', { site: ['cluster', 'ntp'] }],
  ['os.dns_nameservers', { node: ['dns'], site: ['network', 'dns'] }],
  ['os.hostname', { node: ['hostname'] }],
  ['os.after_install_chroot_commands', { node: ['reinstall'] }],
];

/**
 * Where the origin of a config key is looked up, the same for every node: the `sources` keys of
 * the key and of each key above it (`config.install.device`, `config.install`), the longest entry
 * of WRITTEN_FROM it falls under, and for each node field of that entry the field's key with the
 * rest of the config key (`install.device.<rest>`), undefined when there is no rest. Made once
 * per key: the rules ask about the same few dozen keys for every node.
 */
interface KeyPlan {
  readonly configKeys: readonly string[];
  readonly best: (typeof WRITTEN_FROM)[number] | undefined;
  readonly fieldKeys: readonly (string | undefined)[];
}
const plans = new Map<string, KeyPlan>();
/** Keys are the rules' and a node's `config:` keys (bounded by its size limits): kept up to this many. */
const MAX_PLANS = 4096;

function planOf(key: string): KeyPlan {
  let plan = plans.get(key);
  if (plan !== undefined) return plan;
  const configKeys: string[] = [];
  for (let k = key; k !== ''; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') configKeys.push(`config.${k}`);
  let best: (typeof WRITTEN_FROM)[number] | undefined;
  for (const entry of WRITTEN_FROM) {
    if ((key === entry[0] || key.startsWith(`${entry[0]}.`)) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  const sub = best ? key.slice(best[0].length + 1) : '';
  const fieldKeys = (best?.[1].node ?? []).map((field) => (sub !== '' ? `${field}.${sub}` : undefined));
  plan = { configKeys, best, fieldKeys };
  if (plans.size >= MAX_PLANS) plans.clear();
  plans.set(key, plan);
  return plan;
}

/**
 * Each node's effective config, built once for all the rules that read it. Keyed by the node
 * alone, which holds because a resolved node is frozen, belongs to one site, and is reused
 * (watch's model cache, src/model/cache.ts) only while every site-level input it was resolved
 * with is unchanged: those are all the model fields its config reads besides the node's own.
 */
const memo = new WeakMap<HarvesterNode, EffectiveConfig>();

/** The node's effective installer config (see the top of this file). */
export function effectiveConfig(model: SiteModel, node: HarvesterNode): EffectiveConfig {
  let c = memo.get(node);
  if (c === undefined) {
    c = buildEffective(model, node);
    if (process.env.HARVGEN_TEST_MUTATE === undefined) memo.set(node, c);
  }
  return c;
}

function buildEffective(model: SiteModel, node: HarvesterNode): EffectiveConfig {
  // Tests only: the rules see the inventory fields alone, without `config:` (the mutation
  // test/installer-truth.test.ts must catch).
  const mutated = process.env.HARVGEN_TEST_MUTATE === 'rules-read-fields';
  const written = buildHarvesterConfig(model, node, 'markers');
  const built = mutated ? buildHarvesterConfig(model, { ...node, config: {} }, 'markers') : written;
  // `harvester.install.skipchecks=true` on the kernel line: the installer reads every
  // `harvester.*` argument as a config key (pkg/config/cmdline.go), over the file.
  const doc =
    model.boot.skipchecks && typeof built.install === 'object' && built.install !== null
      ? { ...built, install: { ...(built.install as Record<string, unknown>), skipchecks: true } }
      : built;
  const nodePath: InventoryPath = node.index >= 0 ? ['nodes', node.index] : ['defaults'];
  const origin = (key: string): { origin: ConfigOrigin; at: InventoryPath } => {
    const plan = planOf(key);
    // A `config:` key set in some layer (or a list or scalar above it, which replaced the
    // whole value there): the strongest one's line. Maps are not recorded: they set no value.
    for (const k of plan.configKeys) {
      const at = node.sources[k];
      if (at !== undefined) return { origin: 'config', at };
    }
    if (key === 'install.skipchecks' && model.boot.skipchecks) return { origin: 'field', at: ['boot', 'skipchecks'] };
    const best = plan.best;
    if (best) {
      for (const [i, field] of (best[1].node ?? []).entries()) {
        const subKey = plan.fieldKeys[i];
        const at = (subKey !== undefined ? node.sources[subKey] : undefined) ?? node.sources[field];
        if (at !== undefined) return { origin: 'field', at };
      }
      // iso_url: harvester.iso_url when the site sets one, else the artifacts it is derived from.
      if (best[0] === 'install.iso_url' && model.release?.isoUrl !== undefined && node.release.isoUrl !== node.release.artifacts.iso)
        return { origin: 'field', at: ['harvester', 'iso_url'] };
      if (best[1].site) return { origin: 'field', at: best[1].site };
    }
    return { origin: 'default', at: nodePath };
  };
  return {
    doc,
    written,
    get: (key) => getKey(doc, key),
    at: (key) => origin(key).at,
    origin: (key) => origin(key).origin,
    given: (key) => getKey(node.config, key),
  };
}

/** The node's config names a data disk other than its install disk (as the installer reads it). */
export function hasDataDisk(model: SiteModel, node: HarvesterNode): boolean {
  const c = effectiveConfig(model, node);
  const disk = c.get('install.data_disk');
  return typeof disk === 'string' && disk !== '' && disk !== c.get('install.device');
}

/**
 * The node's config as its file is written: for the committed tree, the one the rules already
 * built (built once per node); for the deploy tree, built again with the secrets filled in.
 */
export function writtenConfig(model: SiteModel, node: HarvesterNode, secrets: SecretMode): Record<string, unknown> {
  return secrets === 'markers'
    ? (effectiveConfig(model, node).written as Record<string, unknown>)
    : buildHarvesterConfig(model, node, secrets);
}
