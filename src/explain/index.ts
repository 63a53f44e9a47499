// `harvgen explain`: every resolved value of one node and where it came from: the file and line
// that set it (the node itself, `defaults:`, a site-wide setting) or the built-in default, plus
// what harvgen derives from them (URLs, the kernel command line). Secrets are masked: the
// cluster secrets, every value at a `token` or `password` key (under `config:`), and any value
// that holds a secret of the site (a password reused as another field's value).
import { siteSecretValues, type CompiledSite } from '../pipeline.ts';
import { redact } from '../load/secrets.ts';
import { SECRET_KEYS } from '../load/mask.ts';
import type { InventoryPath } from '../load/index.ts';
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { releaseOf } from '../model/index.ts';
import { bootImages, configUrl } from '../render/kernel-args.ts';
import { macToHyphen, normalizeMac } from '../util/mac.ts';
import { formatPath } from '../util/paths.ts';

/** Where one value came from. */
export type Provenance =
  | { readonly kind: 'inventory'; readonly path: string; readonly file?: string; readonly line?: number; readonly col?: number }
  | { readonly kind: 'built-in' }
  | { readonly kind: 'derived'; readonly from: string };

/** One resolved value of a node. */
export interface ExplainedValue {
  /** Dotted name, e.g. `install.device`, `bond.mode`. */
  readonly key: string;
  readonly value: unknown;
  readonly source: Provenance;
}

/** Everything `explain` says about one node. */
export interface Explanation {
  readonly site: string;
  readonly hostname: string;
  readonly values: readonly ExplainedValue[];
}

const MASK = '***';

/** Find a node by hostname or by any of its MACs (any spelling). */
export function findNode(model: SiteModel, query: string): ResolvedNode | undefined {
  const mac = normalizeMac(query);
  return model.nodes.find(
    (n) => n.hostname === query || (mac !== undefined && (n.macs.includes(mac) || n.interfaces.some((i) => i.mac === mac))),
  );
}

/** Explain one node of a compiled site (its model must exist). */
export function explainNode(site: CompiledSite, node: ResolvedNode): Explanation {
  const model = site.model!;
  const where = (path: InventoryPath): Provenance => {
    const loc = site.locate?.(path);
    return { kind: 'inventory', path: formatPath(path), ...(loc ? { file: loc.file, line: loc.line, col: loc.col } : {}) };
  };
  // A node field: the node or `defaults:` (recorded in sources), else a site-wide fallback, else built-in.
  const field = (key: string, fallback?: InventoryPath): Provenance => {
    const src = node.sources[key];
    if (src) return where(src);
    if (fallback && site.locate?.has(fallback)) return where(fallback);
    return { kind: 'built-in' };
  };
  const values: ExplainedValue[] = [];
  const secrets = siteSecretValues(site);
  const add = (key: string, value: unknown, source: Provenance) => {
    if (value !== undefined) values.push({ key, value: masked(value, secrets), source });
  };
  const named = node.sources.hostname !== undefined && site.locate?.has(node.sources.hostname) === true;
  add('hostname', node.hostname, named ? field('hostname') : { kind: 'derived', from: 'the name of the node file' });
  add('macs', [...node.macs], field('macs'));
  add(
    'boot',
    node.boot,
    node.sources.os
      ? field('os')
      : node.iscsi
        ? field('iscsi')
        : { kind: 'derived', from: 'no `os:` and no `iscsi:`: the Harvester installer' },
  );
  add('arch', node.arch, field('arch'));
  if (node.os) {
    add('os', node.os.name, field('os'));
    const profile = Object.hasOwn(model.osProfiles, node.os.name) ? model.osProfiles[node.os.name] : undefined;
    if (profile) {
      add('os.kernel', profile.kernel, where(['os_profiles', profile.name, 'kernel']));
      add('os.initrds', [...profile.initrds], where(['os_profiles', profile.name, 'initrds']));
    }
    for (const k of ['user_data', 'user_data_file', 'vendor_data', 'meta_data'] as const) {
      const src = node.sources[`cloud_init.${k}`];
      if (src) add(`cloud_init.${k}`, k === 'user_data_file' ? node.cloudInit.userDataFile : '(a map)', field(`cloud_init.${k}`));
    }
  }
  if (node.iscsi) for (const [k, v] of Object.entries(node.iscsi)) add(`iscsi.${k}`, v, field(`iscsi.${k}`));
  add(
    'role',
    node.role,
    node.sources.role ? field('role') : { kind: 'derived', from: 'the first node creates the cluster unless one says role: create' },
  );
  add('harvester_role', node.harvesterRole, field('harvester_role'));
  add('state', node.state, field('state'));
  add('ip', node.ip, field('ip'));
  add('method', node.method, field('method'));
  add(
    'prefix',
    node.prefix,
    node.sources.prefix ? field('prefix') : node.sources.netmask ? field('netmask') : { kind: 'derived', from: 'network.cidr' },
  );
  add('gateway', node.gateway, field('gateway', ['network', 'gateway']));
  add('dns', [...node.dns], field('dns', ['network', 'dns']));
  add('mtu', node.mtu, field('mtu'));
  add('vlan', node.vlan, field('vlan'));
  add(
    'interfaces',
    node.interfaces.map((i) => ({ ...i })),
    node.sources.interfaces ? field('interfaces') : { kind: 'derived', from: 'the boot MACs' },
  );
  for (const [k, v] of Object.entries(node.bond)) add(`bond.${k}`, v, field(`bond.${k}`));
  const install: Record<string, unknown> = { ...node.install };
  const installKeys: Record<string, string> = {
    device: 'device',
    dataDisk: 'data_disk',
    tty: 'tty',
    persistentPartitionSize: 'persistent_partition_size',
    wipeAllDisks: 'wipe_all_disks',
    wipeDisksList: 'wipe_disks_list',
    powerOff: 'power_off',
  };
  for (const [k, v] of Object.entries(install)) add(`install.${installKeys[k] ?? k}`, v, field(`install.${installKeys[k] ?? k}`));
  const labKeys: [keyof ResolvedNode['lab'], string][] = [
    ['memoryMib', 'memory_mib'],
    ['vcpus', 'vcpus'],
    ['diskGib', 'disk_gib'],
    ['dataDiskGib', 'data_disk_gib'],
    ['nicModel', 'nic_model'],
  ];
  for (const [k, name] of labKeys) add(`lab.${name}`, node.lab[k], field(`lab.${name}`));
  add('kernel_args', [...node.kernelArgs], node.kernelArgs.length > 0 ? field('kernel_args') : { kind: 'built-in' });
  if (Object.keys(node.config).length > 0) add('config', node.config, field('config'));
  // Site-wide values the node's files carry.
  if (node.boot === 'harvester' && node.release)
    add('harvester_version', releaseOf(node).version.raw, field('harvester_version', ['harvester', 'version']));
  if (node.boot === 'harvester' && model.cluster) {
    add('cluster.vip', model.cluster.vip, where(['cluster', 'vip']));
    add('cluster.token', MASK, where(['cluster', 'token']));
    if (model.cluster.password !== undefined) add('cluster.password', MASK, where(['cluster', 'password']));
  }
  // What harvgen derives for this node.
  add('config_url', configUrl(model, node), { kind: 'derived', from: 'boot.server and hostname' });
  for (const mac of node.macs) {
    add(`ipxe[${mac}]`, `${model.boot.server}/ipxe/${macToHyphen(mac)}.ipxe`, { kind: 'derived', from: 'boot.server and the MAC' });
    if (node.state !== 'local' && node.boot !== 'iscsi' && (node.boot !== 'os' || Object.hasOwn(model.osProfiles, node.os!.name)))
      add(`cmdline[${mac}]`, bootImages(model, node, mac).args.join(' '), {
        kind: 'derived',
        from: 'the values above, boot.* and harvester.artifacts',
      });
  }
  return { site: model.site, hostname: node.hostname, values };
}

/**
 * A value with every secret masked: every scalar at or under a secret key whole (a string, and a
 * number or a boolean too: `password: 24681357913579`), others where they hold a secret.
 */
function masked(value: unknown, secrets: readonly string[], secret = false): unknown {
  if (Array.isArray(value)) return value.map((v) => masked(v, secrets, secret));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, secrets, secret || SECRET_KEYS.has(k))]));
  }
  if (secret && value !== null && value !== undefined) return MASK;
  if (typeof value === 'string') return secrets.length > 0 ? redact(value, secrets) : value;
  return value;
}

/** Human form: one line per value, `key  value  <- source`. */
export function formatExplanation(e: Explanation): string {
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  const from = (p: Provenance) =>
    p.kind === 'built-in'
      ? 'built-in default'
      : p.kind === 'derived'
        ? `derived from ${p.from}`
        : p.file
          ? `${p.file}:${p.line}:${p.col} (${p.path})`
          : p.path;
  const width = Math.min(28, Math.max(...e.values.map((v) => v.key.length)));
  const lines = [`node ${e.hostname} of site ${e.site}:`];
  for (const v of e.values) lines.push(`  ${v.key.padEnd(width)}  ${show(v.value)}\n  ${' '.repeat(width)}  <- ${from(v.source)}`);
  return lines.join('\n');
}
