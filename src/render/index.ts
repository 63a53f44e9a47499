// Stage 4, render: pure, in memory. SiteModel -> Artifact[] (every file of out/<site>/),
// plus diagnostics when a generated Harvester config breaks the installer's schema (which
// can only come from `config:` keys in the inventory; anything else is a harvgen bug).
import type { Diagnostic } from '../diagnostics/types.ts';
import type { InventoryPath, Locator } from '../load/index.ts';
import type { SecretMode } from '../load/secrets.ts';
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { formatPath } from '../util/paths.ts';
import { macToHyphen } from '../util/mac.ts';
import { REPO_LAYER } from '../load/locate.ts';
import { isSafeRelativePath, type Artifact } from './artifact.ts';
import { buildHarvesterConfig, checkHarvesterConfig, renderHarvesterConfig } from './harvester-config.ts';
import {
  renderDefineScript,
  renderDnsmasq,
  renderFetchScript,
  forwardPorts,
  forwardUnitName,
  renderForwardUnit,
  renderLibvirtDomain,
  renderLibvirtNetwork,
  renderNginx,
  releases,
} from './host-configs.ts';
import { renderEmbedScript, renderEntryScript, renderNodeScript, renderOciLaunchScript, renderUnknownScript } from './ipxe.ts';
import { configPath } from './kernel-args.ts';
import { cloudInitDir, cloudInitFiles } from './generic.ts';
import { renderBssBootParameters } from './bss.ts';
import { renderManifest } from './manifest.ts';
import { UnsafeValueError } from './escape.ts';
import type { InstallerSchemaIssue } from '../harvester/installer-schema.ts';

export type { Artifact } from './artifact.ts';
export type { Manifest, ManifestNode } from './manifest.ts';
export { isSafeRelativePath } from './artifact.ts';
export { escapers, UnsafeValueError } from './escape.ts';
export { buildHarvesterConfig } from './harvester-config.ts';
export { kernelArgs } from './kernel-args.ts';

/**
 * The largest Harvester config a node may have, in bytes: what its installer downloads at boot.
 * harvgen's own part is a few KB; the rest is `config:`, merged over the node's layers. 1 MiB is
 * the most an inventory file may hold (LOAD_FILE_TOO_LARGE): a config past it can only come from
 * repetition (aliases, large values repeated in several layers), which once made 13 node configs
 * of 94 MB each (2.3 GB of memory). Checked on the merged `config:` before the config is built
 * (so an oversized one costs no more than counting it), and on the rendered file.
 */
export const MAX_NODE_CONFIG_BYTES = 1024 * 1024;

/**
 * The most the Harvester configs of one site may hold together, in bytes: measured as
 * MAX_NODE_CONFIG_BYTES is for each node (the merged `config:` before any config is built, then
 * the rendered files as they are made), summed over the nodes (and the node an unknown machine
 * joins as). A build holds every file of a site in memory, and a `config:` under `defaults:`, a
 * profile or sites/_defaults.yaml is repeated in the config of every node that takes it: 1 MB of
 * `defaults.config` and 400 one-line node files (1 MB of inventory) rendered 388 MB (566 MB of
 * memory), each node under its own limit. harvgen's own part of a config is about 1.3 KB, so
 * 10,000 nodes with a few KB of `config:` each come to 30-50 MB, under 64 MiB; a site over it
 * repeats large values, and holds at most 64 MiB (plus one node's 1 MiB) of configs.
 */
export const MAX_SITE_CONFIG_BYTES = 64 * 1024 * 1024;

/** Rendered files of one site, sorted by path. */
export interface RenderResult {
  readonly artifacts: readonly Artifact[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * What one render of a site leaves for the next (watch keeps one per site for its session): the
 * files of each node by hostname, keyed by the node's resolved model, valid while the rest of the
 * site's model is unchanged; and the SHA-256 of each file's contents for manifest.json. A node's
 * files depend on nothing but the site's model without its node list and the node itself
 * (no renderer of a node's files reads `model.nodes`), so an unchanged node is not rendered again.
 */
export interface RenderCache {
  site?: string;
  readonly nodes: Map<string, { readonly key: string; readonly files: readonly Artifact[] }>;
  readonly shas: Map<string, { readonly contents: string | Uint8Array; readonly sha: string }>;
}

/** An empty RenderCache. */
export function renderCache(): RenderCache {
  return { nodes: new Map(), shas: new Map() };
}

/** Files read from outside the inventory that the tree carries: iPXE binaries by file name (`boot.ipxe_binaries`). */
export interface RenderInputs {
  readonly binaries?: ReadonlyMap<string, Uint8Array>;
  /** Texts of `cloud_init.user_data_file`s by path as written. */
  readonly userData?: ReadonlyMap<string, string>;
  /** The committed tree (`markers`, default: secrets written as markers) or the deploy tree (`filled`). */
  readonly secrets?: SecretMode;
}

/** Render every file of a site. `locate` maps config problems back to the inventory. */
export function renderSite(model: SiteModel, locate: Locator, cache?: RenderCache, inputs: RenderInputs = {}): RenderResult {
  const diagnostics: Diagnostic[] = [];
  const files: Artifact[] = [];
  const paths = new Set<string>();
  const secrets = inputs.secrets ?? 'markers';
  if (cache) {
    const site = JSON.stringify({ ...model, nodes: [], secrets: inputs.secrets ?? 'markers' });
    if (cache.site !== site) {
      cache.nodes.clear();
      cache.site = site;
    }
  }
  // Configs over MAX_NODE_CONFIG_BYTES, by the `config:` they are reported at (one for all the
  // nodes that share it, as for configProblems below).
  const oversized = new Map<string, { d: Diagnostic; nodes: string[] }>();
  let tooLargeCount = 0;
  const sizes = new WeakMap<object, number>();
  const tooLarge = (node: ResolvedNode, bytes: number, what: string) => {
    tooLargeCount++;
    const at: InventoryPath = node.sources.config ?? (node.index >= 0 ? ['nodes', node.index] : ['defaults']);
    const loc = locate(at, 'key');
    const key = `${formatPath(at)}|${what}`;
    const seen = oversized.get(key);
    if (seen) {
      seen.nodes.push(node.hostname);
      return;
    }
    oversized.set(key, {
      nodes: [node.hostname],
      d: {
        code: 'RENDER_CONFIG_TOO_LARGE',
        severity: 'error',
        message: `the Harvester config of node ${node.hostname} would be more than ${MAX_NODE_CONFIG_BYTES / (1024 * 1024)} MiB: ${what} ${formatBytes(bytes)}`,
        hint: "A node's config is what its installer downloads at boot: at most 1 MiB. Its `config:` is merged from the node's, its profiles', `defaults:` and sites/_defaults.yaml: remove what the installer does not need, and repeat no large value (an alias repeats its anchor's whole value).",
        path: formatPath(at),
        ...(loc ?? {}),
      },
    });
  };
  // The site's budget (MAX_SITE_CONFIG_BYTES), checked on the merged `config:`s before any node
  // is rendered, then on the files as they are rendered (escapes make a file longer than its
  // `config:`); once over it, no more configs are built, and it is reported once.
  const configNodes = [...model.nodes.filter((n) => n.boot === 'harvester'), ...(model.unknownJoin ? [model.unknownJoin] : [])].filter(
    (n) => dataSize(n.config, sizes) <= MAX_NODE_CONFIG_BYTES,
  );
  let overBudget = false;
  let written = 0;
  let writtenBytes = 0;
  const overSite = (what: string) => {
    overBudget = true;
    const { at, bytes, nodes } = largestShare(configNodes, sizes, locate);
    const loc = locate(at, 'key');
    diagnostics.push({
      code: 'RENDER_SITE_CONFIGS_TOO_LARGE',
      severity: 'error',
      message: `the Harvester configs of the site's ${configNodes.length} nodes would be more than ${MAX_SITE_CONFIG_BYTES / (1024 * 1024)} MiB in all: ${what}; the largest part of their \`config:\` (${formatBytes(bytes)}) is this one${nodes > 1 ? `, repeated in ${nodes} nodes` : ''}`,
      hint: `Every node's config is served to its installer, and harvgen holds a site's files in memory while it builds: at most ${MAX_SITE_CONFIG_BYTES / (1024 * 1024)} MiB of configs for all nodes together. A \`config:\` under \`defaults:\`, a profile or sites/_defaults.yaml is repeated in the config of every node that takes it: keep large values out of a shared \`config:\`, or split the nodes into several sites.`,
      path: formatPath(at),
      ...(loc ?? {}),
    });
  };
  const configTotal = configNodes.reduce((sum, n) => sum + dataSize(n.config, sizes), 0);
  if (configTotal > MAX_SITE_CONFIG_BYTES) overSite(`their \`config:\` holds ${formatBytes(configTotal)}`);
  /** Whether a rendered config of `bytes` stays within the site's budget (reported when not). */
  const spend = (bytes: number) => {
    if (overBudget) return false;
    if (writtenBytes + bytes > MAX_SITE_CONFIG_BYTES) {
      overSite(`the first ${written + 1} files would be ${formatBytes(writtenBytes + bytes)}`);
      return false;
    }
    written++;
    writtenBytes += bytes;
    return true;
  };
  const add = (
    path: string,
    render: () => string | Uint8Array,
    opts: { served?: boolean; mode?: number; limit?: (bytes: number) => boolean } = {},
  ) => {
    if (!isSafeRelativePath(path)) {
      diagnostics.push({
        code: 'RENDER_PATH_ESCAPE',
        severity: 'error',
        message: `refusing to write ${JSON.stringify(path)}: it would leave the output directory`,
        hint: 'This is a bug in harvgen (inventory names are validated before rendering); please report it.',
      });
      return;
    }
    if (paths.has(path)) {
      diagnostics.push({
        code: 'RENDER_PATH_ESCAPE',
        severity: 'error',
        message: `two files would be written at ${path}`,
        hint: 'This is a bug in harvgen (inventory names are validated so that output paths never collide); please report it.',
      });
      return;
    }
    let contents: string | Uint8Array;
    try {
      contents = render();
    } catch (e) {
      if (!(e instanceof UnsafeValueError)) throw e;
      // Validation should have refused the value; the escaper is the second line of defence.
      diagnostics.push({
        code: 'RENDER_UNSAFE_VALUE',
        severity: 'error',
        message: `${path}: ${e.message}`,
        hint: 'This is a bug in harvgen (the value passed validation but its file cannot hold it); please report it with the inventory. Nothing was written.',
      });
      return;
    }
    // A file over its limit is reported by `limit` and not kept.
    if (opts.limit && !opts.limit(typeof contents === 'string' ? Buffer.byteLength(contents) : contents.byteLength)) return;
    paths.add(path);
    files.push({ path, contents, mode: opts.mode ?? 0o644, ...(opts.served ? { url: `${model.boot.server}/${path}` } : {}) });
  };

  add('boot.ipxe', () => renderEntryScript(model), { served: true });
  add('unknown.ipxe', () => renderUnknownScript(model), { served: true });
  add('embed.ipxe', () => renderEmbedScript(model));
  add('oci/launch.ipxe', () => renderOciLaunchScript(model));
  const binaries = [...(inputs.binaries ?? new Map<string, Uint8Array>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, bytes] of binaries) add(name, () => bytes, { served: true });
  // A problem in `defaults.config` shows up once per node: report it once, naming all nodes.
  const configProblems = new Map<string, { d: Diagnostic; nodes: string[] }>();
  for (const node of model.nodes) {
    const userDataFile = node.cloudInit.userDataFile !== undefined ? inputs.userData?.get(node.cloudInit.userDataFile) : undefined;
    const key = cache ? JSON.stringify(node) + (userDataFile ?? '') : '';
    const hit = cache?.nodes.get(node.hostname);
    // A cached config counts against the site's budget as a rendered one does.
    const hitConfig = hit?.files.find((f) => f.path === `harvester/${node.hostname}.yaml`)?.contents;
    const hitBytes = hitConfig === undefined ? 0 : typeof hitConfig === 'string' ? Buffer.byteLength(hitConfig) : hitConfig.byteLength;
    if (
      hit &&
      hit.key === key &&
      hit.files.every((f) => !paths.has(f.path)) &&
      (hitConfig === undefined || (!overBudget && writtenBytes + hitBytes <= MAX_SITE_CONFIG_BYTES))
    ) {
      if (hitConfig !== undefined) spend(hitBytes);
      for (const f of hit.files) {
        paths.add(f.path);
        files.push(f);
      }
      continue;
    }
    const first = files.length;
    const before = diagnostics.length;
    for (const mac of node.macs) add(`ipxe/${macToHyphen(mac)}.ipxe`, () => renderNodeScript(model, node, mac), { served: true });
    if (node.boot === 'os' && node.os?.cloudInit && node.state !== 'local') {
      const ci = cloudInitFiles(model, node, userDataFile);
      for (const mac of node.macs) for (const f of ci) add(`${cloudInitDir(mac)}${f.name}`, () => f.contents, { served: true });
    }
    const bigBefore = tooLargeCount;
    // An oversized `config:` is reported before the config is built, checked or written.
    const data = node.boot === 'harvester' ? dataSize(node.config, sizes) : 0;
    if (data > MAX_NODE_CONFIG_BYTES) tooLarge(node, data, 'its `config:` holds');
    const config =
      node.boot === 'harvester' && tooLargeCount === bigBefore && !overBudget ? buildHarvesterConfig(model, node, secrets) : undefined;
    const issues = config ? checkHarvesterConfig(node, config) : [];
    for (const issue of issues) {
      const d = configIssueToDiagnostic(issue, node, locate);
      const key = `${d.file}:${d.line}:${d.col}|${d.message.replace(node.hostname, '')}`;
      const seen = configProblems.get(key);
      if (seen) seen.nodes.push(node.hostname);
      else configProblems.set(key, { d, nodes: [node.hostname] });
    }
    if (config) {
      add(`harvester/${node.hostname}.yaml`, () => renderHarvesterConfig(model, node, config, secrets), {
        served: true,
        limit: (bytes) => (bytes <= MAX_NODE_CONFIG_BYTES || (tooLarge(node, bytes, 'the file would be'), false)) && spend(bytes),
      });
    }
    add(`libvirt/${node.hostname}.xml`, () => renderLibvirtDomain(model, node));
    if (cache && issues.length === 0 && diagnostics.length === before && tooLargeCount === bigBefore && !overBudget) {
      cache.nodes.set(node.hostname, { key, files: files.slice(first) });
    }
  }
  for (const { d, nodes } of configProblems.values()) {
    diagnostics.push(nodes.length === 1 ? d : { ...d, message: d.message.replace(`node ${nodes[0]}`, `nodes ${nodes.join(', ')}`) });
  }
  const join = model.unknownJoin;
  const joinData = join ? dataSize(join.config, sizes) : 0;
  if (join && joinData > MAX_NODE_CONFIG_BYTES) tooLarge(join, joinData, 'its `config:` holds');
  else if (join && !overBudget) {
    const config = buildHarvesterConfig(model, join, secrets);
    for (const issue of checkHarvesterConfig(join, config)) diagnostics.push(configIssueToDiagnostic(issue, join, locate));
    add(configPath(model, join), () => renderHarvesterConfig(model, join, config, secrets), {
      served: true,
      limit: (bytes) => (bytes <= MAX_NODE_CONFIG_BYTES || (tooLarge(join, bytes, 'the file would be'), false)) && spend(bytes),
    });
  }
  for (const { d, nodes } of oversized.values()) {
    diagnostics.push(nodes.length === 1 ? d : { ...d, message: d.message.replace(`node ${nodes[0]}`, `nodes ${nodes.join(', ')}`) });
  }
  if (model.bss.export) add('bss/bootparameters.json', () => renderBssBootParameters(model));
  add('dnsmasq/harvgen.conf', () => renderDnsmasq(model));
  const binaryNames = binaries.map(([name]) => name);
  add('nginx/harvgen.conf', () => renderNginx(model, true, binaryNames));
  add('nginx/locations.conf', () => renderNginx(model, false, binaryNames));
  add('libvirt/network.xml', () => renderLibvirtNetwork(model));
  add('libvirt/define.sh', () => renderDefineScript(model), { mode: 0o755 });
  for (const port of forwardPorts(model)) add(`systemd/${forwardUnitName(model, port)}`, () => renderForwardUnit(model, port));
  // A site of only generic OS and iSCSI nodes downloads no Harvester release.
  if (releases(model).length > 0) add('artifacts/fetch.sh', () => renderFetchScript(model), { mode: 0o755 });
  // renderManifest sorts what it lists; the result is sorted once, manifest included.
  files.push({ path: 'manifest.json', contents: renderManifest(model, files, secrets, cache?.shas), mode: 0o644 });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { artifacts: files, diagnostics };
}

/** Map an installer-schema issue to the `config:` key that caused it (node first, then defaults). */
function configIssueToDiagnostic(issue: InstallerSchemaIssue, node: ResolvedNode, locate: Locator): Diagnostic {
  const full = issue.key !== undefined ? [...issue.path, issue.key] : issue.path;
  const candidates: InventoryPath[] = [...(node.index >= 0 ? [['nodes', node.index, 'config']] : []), ['defaults', 'config']];
  let at: InventoryPath | undefined;
  for (const base of candidates) {
    // The deepest existing prefix of the issue path inside this `config:` block.
    for (let n = full.length; n > 0 && !at; n--) {
      const probe = [...base, ...full.slice(0, n)];
      if (locate.has(probe)) at = probe;
    }
    if (at) break;
  }
  const configPath = formatPath(full);
  if (!at) {
    return {
      code: 'HARVESTER_CONFIG_INVALID',
      severity: 'error',
      message: `generated config of node ${node.hostname} breaks the installer schema at ${configPath}: ${issue.message}`,
      hint: 'This is a bug in harvgen; please report it with the inventory.',
    };
  }
  const loc = locate(at, issue.keyword === 'additionalProperties' ? 'key' : 'value');
  return {
    code: 'HARVESTER_CONFIG_INVALID',
    severity: 'error',
    message: `config of node ${node.hostname}: ${configPath} ${issue.message}`,
    hint: "Fix the `config:` entry; it is checked against the Harvester installer's own schema for this release.",
    path: formatPath(at),
    ...(loc ?? {}),
  };
}

/**
 * Where most of the nodes' `config:` comes from, for the site's budget: each node's merged
 * `config:` split into what it shares with other nodes (the values of a `config:` under
 * `defaults:`, a profile or sites/_defaults.yaml are the same objects in every node that merges
 * them) and the rest; the shared part counted at the strongest shared `config:` the node takes
 * (else `defaults.config`, else sites/_defaults.yaml's), the rest at the strongest `config:` the
 * node takes (its own, when it has one). Each object is walked once for all nodes.
 */
function largestShare(
  nodes: readonly ResolvedNode[],
  sizes: WeakMap<object, number>,
  locate: Locator,
): { at: InventoryPath; bytes: number; nodes: number } {
  // How many nodes reach each object (an alias inside one node's own `config:` is not sharing).
  const users = new Map<object, number>();
  const lastUser = new Map<object, number>();
  const count = (value: unknown, i: number): void => {
    if (value === null || typeof value !== 'object' || lastUser.get(value) === i) return;
    const first = !users.has(value);
    lastUser.set(value, i);
    users.set(value, (users.get(value) ?? 0) + 1);
    if (first) for (const v of Object.values(value)) count(v, i);
  };
  nodes.forEach((n, i) => count(n.config, i));
  // The bytes of the largest values a node shares with others, reached through its own (an
  // object of one node is remembered: only that node reaches it).
  const sharedBytes = new Map<object, number>();
  const shared = (value: unknown): number => {
    if (value === null || typeof value !== 'object') return 0;
    if ((users.get(value) ?? 0) > 1) return dataSize(value, sizes);
    const known = sharedBytes.get(value);
    if (known !== undefined) return known;
    let n = 0;
    for (const v of Object.values(value)) n += shared(v);
    sharedBytes.set(value, n);
    return n;
  };
  const sharedAt = (node: ResolvedNode): InventoryPath => {
    const source = node.sources.config;
    if (source && source[0] !== 'nodes') return source;
    for (const at of [
      ['defaults', 'config'],
      [REPO_LAYER, 'config'],
    ])
      if (locate.has(at)) return at;
    return source ?? ['defaults'];
  };
  const shares = new Map<string, { at: InventoryPath; bytes: number; nodes: number; last: number }>();
  const credit = (at: InventoryPath, bytes: number, i: number) => {
    if (bytes === 0) return;
    const key = formatPath(at);
    const s = shares.get(key) ?? shares.set(key, { at, bytes: 0, nodes: 0, last: -1 }).get(key)!;
    s.bytes += bytes;
    if (s.last !== i) s.nodes++;
    s.last = i;
  };
  nodes.forEach((node, i) => {
    const common = shared(node.config);
    credit(sharedAt(node), common, i);
    credit(node.sources.config ?? (node.index >= 0 ? ['nodes', node.index] : ['defaults']), dataSize(node.config, sizes) - common, i);
  });
  let best = { at: ['defaults'] as InventoryPath, bytes: 0, nodes: 0 };
  for (const s of shares.values()) if (s.bytes > best.bytes) best = s;
  return { at: best.at, bytes: best.bytes, nodes: best.nodes };
}

/**
 * The bytes a value takes at the least when written as YAML: each key and scalar as its text, with
 * `: ` after a key and `- ` before a list item. Remembered per object: the layers' `config:`
 * values are shared by every node that merges them, and counted once.
 */
function dataSize(value: unknown, sizes: WeakMap<object, number>): number {
  if (value === null || typeof value !== 'object') return String(value).length;
  const known = sizes.get(value);
  if (known !== undefined) return known;
  let n = 0;
  if (Array.isArray(value)) for (const v of value) n += 2 + dataSize(v, sizes);
  else for (const [k, v] of Object.entries(value)) n += k.length + 2 + dataSize(v, sizes);
  sizes.set(value, n);
  return n;
}

/** 1.5 MiB, 94.3 MiB. */
function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}
