// `harvgen explain`: every resolved value of one node and where it came from: the file and line
// that set it (the node itself, `defaults:`, a site-wide setting) or the built-in default, plus
// what harvgen derives from them (URLs, the kernel command line). Secrets are masked: the
// cluster secrets, every value at a `token` or `password` key (under `config:`), and any value
// that holds a secret of the site (a password reused as another field's value).
import { dhcpServerOf } from '../derive/dhcp-servers/index.ts';
import { siteSecretValues, type CompiledSite } from '../pipeline.ts';
import { redact } from '../load/secrets.ts';
import { SECRET_KEYS } from '../load/mask.ts';
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { scopeOf } from '../model/index.ts';
import { kindOf } from '../render/kinds/index.ts';
import { bootImages } from '../derive/boot-images.ts';
import { normalizeMac } from '../util/mac.ts';
import { formatPath } from '../util/paths.ts';
import { MASK, type ExplainedValue, type ExplainSink, type Explanation, type Provenance } from '../types/explain.ts';
import { nodeScriptUrl } from '../derive/file-names.ts';

export type { ExplainedValue, Explanation, Provenance } from '../types/explain.ts';

/** Find a node by hostname or by any of its MACs (any spelling). */
export function findNode(model: SiteModel, query: string): ResolvedNode | undefined {
  const mac = normalizeMac(query);
  return model.nodes.find(
    (n) =>
      n.hostname === query ||
      (mac !== undefined && (n.macs.includes(mac) || (n.boot === 'harvester' && n.interfaces.some((i) => i.mac === mac)))),
  );
}

/** Explain one node of a compiled site (its model must exist). */
export function explainNode(site: CompiledSite, node: ResolvedNode): Explanation {
  const model = site.model!;
  const where = (path: readonly (string | number)[]): Provenance => {
    const loc = site.locate?.(path);
    return { kind: 'inventory', path: formatPath(path), ...(loc ? { file: loc.file, line: loc.line, col: loc.col } : {}) };
  };
  // A node field: the node or `defaults:` (recorded in sources), else a site-wide fallback, else built-in.
  const field = (key: string, fallback?: readonly (string | number)[]): Provenance => {
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
  const kind = kindOf(node);
  const sink: ExplainSink = { add, field, where };
  add('hostname', node.hostname, named ? field('hostname') : { kind: 'derived', from: 'the name of the node file' });
  add('macs', [...node.macs], field('macs'));
  add('boot', node.boot, kind.bootSource(sink));
  add('arch', node.arch, field('arch'));
  kind.explain(model, 'kind', sink);
  kind.explain(model, 'role', sink);
  add('state', node.state, field('state'));
  add('medium', node.medium, field('medium'));
  add('ip', node.ip, field('ip'));
  add('method', node.method, field('method'));
  // A node on a VLAN scope (network.vlans) takes these from its VLAN where its layers set none.
  const scope = scopeOf(model, node);
  const k = scope ? model.network.vlans.indexOf(scope) : -1;
  const vlanKey = (key: string): (string | number)[] | undefined =>
    k >= 0 && site.locate?.has(['network', 'vlans', k, key]) ? ['network', 'vlans', k, key] : undefined;
  add(
    'prefix',
    node.prefix,
    node.sources.prefix
      ? field('prefix')
      : node.sources.netmask
        ? field('netmask')
        : { kind: 'derived', from: k >= 0 ? `network.vlans[${k}].cidr` : 'network.cidr' },
  );
  add('gateway', node.gateway, field('gateway', vlanKey('gateway') ?? ['network', 'gateway']));
  add('dns', [...node.dns], field('dns', vlanKey('dns') ?? ['network', 'dns']));
  kind.explain(model, 'network', sink);
  const labKeys: [keyof ResolvedNode['lab'], string][] = [
    ['memoryMib', 'memory_mib'],
    ['vcpus', 'vcpus'],
    ['diskGib', 'disk_gib'],
    ['dataDiskGib', 'data_disk_gib'],
    ['nicModel', 'nic_model'],
  ];
  // A site without lab files (`outputs.lab`) has no lab VM to size.
  if (model.outputs.lab) for (const [k, name] of labKeys) add(`lab.${name}`, node.lab[k], field(`lab.${name}`));
  // The node's own settings, the site-wide values its files carry and what harvgen derives.
  kind.explain(model, 'settings', sink);
  // Which DHCP form answers the node, and the file that holds its reservation (`dhcp.server`).
  const server = model.dhcp.server;
  const dhcpFile = dhcpServerOf(model).reservations(model);
  const written = model.outputs.dhcp ? dhcpFile : 'not written (outputs.dhcp: false)';
  add('dhcp', `${server}: ${written}`, site.locate?.has(['dhcp', 'server']) ? where(['dhcp', 'server']) : { kind: 'built-in' });
  for (const mac of node.macs) {
    add(`ipxe[${mac}]`, nodeScriptUrl(model, mac), { kind: 'derived', from: 'boot.server and the MAC' });
    const images = bootImages(model, node, mac);
    if (images)
      add(`cmdline[${mac}]`, images.args.join(' '), { kind: 'derived', from: 'the values above, boot.* and harvester.artifacts' });
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
  // Printed by the CLI's printer, which writes a control character out (src/cli/output.ts).
  return lines.join('\n');
}
