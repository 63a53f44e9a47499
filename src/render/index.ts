// Stage 4, render: pure, in memory. SiteModel -> Artifact[] (every file of out/<site>/),
// plus diagnostics when a generated Harvester config breaks the installer's schema (which
// can only come from `config:` keys in the inventory; anything else is a harvgen bug).
import type { Diagnostic } from '../diagnostics/types.ts';
import type { Locator } from '../load/index.ts';
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { modelCache, type ModelCache } from '../model/cache.ts';
import { isSafeRelativePath, LazyBytes, sha256Hex, TextParts, type Artifact } from './artifact.ts';
import { installers, releases } from '../model/served-releases.ts';
import { renderFetchScript } from './fetch.ts';
import { renderDefineScript, renderLibvirtDomain, renderLibvirtNetwork } from './libvirt.ts';
import { renderNginx } from './nginx.ts';
import { forwardUnitName, forwardUnits, renderForwardUnit } from './systemd.ts';
import { pullUnitNames, renderPullConfig, renderPullService, renderPullTimer } from './publish.ts';
import { renderEmbedScript, renderEntryScript, renderKeyedStub, renderOciLaunchScript, renderUnknownScript } from './ipxe.ts';
import { mediumPath, namesKeyed, nodeScriptPath } from '../derive/file-names.ts';
import { loadersDigest, renderMedium } from './media.ts';
import { kindOf, renderNodeScript } from './kinds/index.ts';
import { ConfigBudget } from './kinds/harvester/budget.ts';
import { LAYOUT } from '../derive/layout.ts';
import { renderBssBootParameters } from './bss.ts';
import { computeAlways, nodeMemo, NodeParts, type NodeMemo } from './fragments.ts';
import type { Keep, KeptTexts } from './templates.ts';
import { dnsmasqHostPath, hasDnsmasqHostFiles, renderDnsmasq, renderDnsmasqGlobal, renderDnsmasqHostFile } from './dnsmasq.ts';
import { renderManifest } from './manifest.ts';
import { renderKea } from './kea.ts';
import { renderDhcpd } from './dhcpd.ts';
import { UnsafeValueError } from '../formats/escape.ts';
import { protectedFiles } from './access.ts';
import { bmcNodes, renderBmcAll, renderBmcScript } from './bmc.ts';
import type { SecretMode } from '../types/secret-mode.ts';
import { keyJson } from '../util/key-json.ts';

export type { Artifact } from './artifact.ts';
export type { Manifest, ManifestNode } from './manifest-types.ts';
export { isSafeRelativePath } from './artifact.ts';
export { escapers, UnsafeValueError } from '../formats/escape.ts';
export { buildHarvesterConfig } from '../derive/harvester/config.ts';
export { kernelArgs } from '../derive/harvester/cmdline.ts';
export { MAX_NODE_CONFIG_BYTES, MAX_SITE_CONFIG_BYTES } from './kinds/harvester/budget.ts';

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
  /**
   * Keys are kept as these digests (a cache read back from the up-to-date record, src/cache/reuse.ts):
   * a key is digested before it is compared or kept. Absent: keys are kept as they are (watch).
   */
  readonly digest?: (key: string) => string;
  /** With `digest`: the hostnames of the nodes this render reused or kept (the others' entries are stale). */
  readonly touched?: Set<string>;
  readonly nodes: Map<string, RenderedNodeFiles>;
  /**
   * Under watch: the last render's nodes in order and the entry of `nodes` each one had then (a
   * node at the same place as the same object finds its entry without a lookup by hostname).
   */
  last?: { readonly nodes: readonly ResolvedNode[]; readonly entries: readonly (RenderedNodeFiles | undefined)[] };
  readonly shas: Map<string, { readonly contents: string | Uint8Array; readonly sha: string }>;
  /** Per-node parts of the site-wide files by part name (src/render/fragments.ts). */
  readonly fragments: NodeParts;
  /** The site's resolved nodes (src/model/cache.ts), kept with its rendered ones. */
  readonly model: ModelCache;
  /** The large site-wide texts with the data they were rendered from (src/render/templates.ts, Keep). */
  readonly texts: KeptTexts;
  /** The sizes of frozen `config:` values, counted once for the site's config budget (ConfigBudget). */
  readonly sizes: WeakMap<object, number>;
  /** The last render's files' paths in the order they were made, and their sorted order (`sortFiles`). */
  order?: { readonly paths: readonly string[]; readonly perm: Uint32Array };
}

/** One node's files as a render kept them (RenderCache.nodes). */
export interface RenderedNodeFiles {
  readonly key: string;
  /** The node it was rendered from (frozen): the same object has the same key, not computed again. */
  readonly node?: ResolvedNode;
  /** The text of the user-data file it was rendered with, and that file's path (an OS node's `cloud_init.user_data_file`). */
  readonly userData: string | undefined;
  readonly userDataPath?: string;
  /** The digest of the boot programs its boot ISO was made from (mediaKey; '' without one). */
  readonly media?: string;
  readonly files: readonly Artifact[];
  readonly configBytes: number;
  /** Whether the files may still be reused (a reused file must still be on disk as written). */
  readonly usable?: () => boolean;
}

/** An empty RenderCache. */
export function renderCache(): RenderCache {
  return { nodes: new Map(), shas: new Map(), fragments: new NodeParts(), model: modelCache(), texts: new Map(), sizes: new WeakMap() };
}

/** Files read from outside the inventory that the tree carries: iPXE binaries by file name (`boot.ipxe_binaries`). */
export interface RenderInputs {
  readonly binaries?: ReadonlyMap<string, Uint8Array>;
  /** Texts of `cloud_init.user_data_file`s by path as written. */
  readonly userData?: ReadonlyMap<string, string>;
  /** The boot programs of the per-node boot ISOs by file name (`boot.media_loaders`). */
  readonly mediaLoaders?: ReadonlyMap<string, Uint8Array>;
  /** The committed tree (`markers`, default: secrets written as markers) or the deploy tree (`filled`). */
  readonly secrets?: SecretMode;
}

/** How a file is added: served by nginx (listed with its URL), its mode, a size limit that reports itself. */
interface AddOptions {
  readonly served?: boolean;
  readonly mode?: number;
  readonly limit?: (bytes: number) => boolean;
  /** Made again whenever its bytes are needed, not kept (LazyBytes: a node's boot ISO). */
  readonly lazy?: boolean;
}

/** Adds one file to the tree. */
type Add = (path: string, render: () => string | Uint8Array, opts?: AddOptions) => void;

/**
 * The files of one render as they are added: each path checked and added once, each render's
 * unsafe value a diagnostic for its file.
 */
class TreeFiles {
  readonly files: Artifact[] = [];
  readonly diagnostics: Diagnostic[] = [];
  constructor(private readonly server: string) {}

  /** Add one file (`render` runs now); a problem is a diagnostic and the file is left out. */
  readonly add: Add = (path, render, opts = {}) => {
    if (!this.admit(path)) return;
    const file = this.made(path, render, opts);
    if (file) this.keep(file);
  };

  /** The file at an admitted path, or undefined when it cannot be written (a diagnostic says why). */
  private made(path: string, render: () => string | Uint8Array, opts: AddOptions): Artifact | undefined {
    const contents = this.contentsOf(path, render);
    if (contents === undefined) return undefined;
    // A file over its limit is reported by `limit` and not kept.
    if (opts.limit && !opts.limit(typeof contents === 'string' ? Buffer.byteLength(contents) : contents.byteLength)) return undefined;
    const url = opts.served ? `${this.server}/${path}` : undefined;
    if (opts.lazy && typeof contents !== 'string')
      return new LazyBytes(path, opts.mode ?? 0o644, url, contents.byteLength, sha256Hex(contents), render as () => Uint8Array);
    return { path, contents, mode: opts.mode ?? 0o644, ...(url !== undefined ? { url } : {}) };
  }

  private keep(file: Artifact): void {
    this.files.push(file);
  }

  /**
   * Whether a file may be added at `path` (a safe path); a problem is a diagnostic. Two files at
   * one path are found once the files are sorted (`sortFiles`).
   */
  private admit(path: string): boolean {
    return this.admitSafe(path, isSafeRelativePath(path));
  }

  /** `admit`, with whether `path` is safe known already. */
  private admitSafe(path: string, safe: boolean): boolean {
    if (!safe) {
      this.diagnostics.push({
        code: 'RENDER_PATH_ESCAPE',
        severity: 'error',
        message: `refusing to write ${JSON.stringify(path)}: it would leave the output directory`,
        hint: 'This is a bug in harvgen (inventory names are validated before rendering); please report it.',
      });
      return false;
    }
    return true;
  }

  /** The file's contents, or undefined when a value cannot be written in its format. */
  private contentsOf(path: string, render: () => string | Uint8Array): string | Uint8Array | undefined {
    try {
      return render();
    } catch (e) {
      if (!(e instanceof UnsafeValueError)) throw e;
      // Validation should have refused the value; the escaper is the second line of defence.
      this.diagnostics.push({
        code: 'RENDER_UNSAFE_VALUE',
        severity: 'error',
        message: `${path}: ${e.message}`,
        hint: 'This is a bug in harvgen (the value passed validation but its file cannot hold it); please report it with the inventory. Nothing was written.',
      });
      return undefined;
    }
  }
}

/** Render every file of a site. `locate` maps config problems back to the inventory. */
export function renderSite(model: SiteModel, locate: Locator, cache?: RenderCache, inputs: RenderInputs = {}): RenderResult {
  const secrets = inputs.secrets ?? 'markers';
  if (cache) forgetOtherSite(cache, model, secrets);
  // A cache read back from the record holds no node objects to key parts by (nor contents to know hashes by).
  const memo = cache && !cache.digest ? nodeMemo(cache.fragments) : computeAlways;
  const keep = cache && !cache.digest ? (key: string): Keep => ({ texts: cache.texts, key }) : () => undefined;
  const budget = new ConfigBudget(model, locate, secrets, installers(model), cache && !cache.digest ? cache.sizes : undefined);
  const tree = new TreeFiles(model.boot.server);
  const binaries = [...(inputs.binaries ?? new Map<string, Uint8Array>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  addEntryScripts(model, tree.add, binaries, memo, keep);
  // Under watch, each node's entry found by its place while it is the same object there.
  const last = cache && !cache.digest ? cache.last : undefined;
  const entries: (RenderedNodeFiles | undefined)[] = [];
  for (let i = 0; i < model.nodes.length; i++) {
    const node = model.nodes[i]!;
    entries.push(addNode(model, node, tree, budget, cache, inputs, last?.nodes[i] === node ? (last.entries[i] ?? null) : undefined));
  }
  if (cache && !cache.digest) cache.last = { nodes: model.nodes, entries };
  if (model.unknownJoin) budget.render(model.unknownJoin, tree.add);
  tree.diagnostics.push(...budget.diagnostics());
  const guarded = addSiteFiles(
    model,
    tree,
    binaries.map(([name]) => name),
    memo,
    keep,
  );
  // Sorted once: manifest.json lists the files in this order, and takes its own place in it.
  sortFiles(tree.files, tree.diagnostics, cache && !cache.digest ? cache : undefined);
  const manifest = renderManifest(model, tree.files, { secrets, shas: cache?.digest ? undefined : cache?.shas, guarded, memo });
  insertSorted(tree.files, new TextParts(LAYOUT.manifest, manifest, 0o644));
  return { artifacts: tree.files, diagnostics: tree.diagnostics };
}

const byPath = (a: Artifact, b: Artifact) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Sort a site's files by path, and leave out (and report) a second file at a path. Under watch
 * (`cache`), the order is kept with the paths it was found for: a render that makes the same
 * paths in the same order (most edits) takes it again instead of sorting some 40,000 paths, and
 * its paths are those found distinct then.
 */
function sortFiles(files: Artifact[], diagnostics: Diagnostic[], cache: RenderCache | undefined): void {
  if (!cache) {
    files.sort(byPath);
    dropDuplicates(files, diagnostics);
    return;
  }
  const last = cache.order;
  const same = last !== undefined && last.paths.length === files.length && files.every((f, i) => f.path === last.paths[i]);
  const order = same ? last : sortedOrder(files);
  const unsorted = files.slice();
  for (let i = 0; i < files.length; i++) files[i] = unsorted[order.perm[i]!]!;
  // An order with a path twice is not kept: the next render looks again.
  cache.order = same || !dropDuplicates(files, diagnostics) ? order : undefined;
}

/**
 * Leave out each file whose path the file before it (in sorted order) has, with a diagnostic: no
 * valid inventory makes two (its names are validated so that output paths never collide). Whether
 * one was found.
 */
function dropDuplicates(files: Artifact[], diagnostics: Diagnostic[]): boolean {
  let kept = 0;
  for (let i = 0; i < files.length; i++) {
    if (kept > 0 && files[i]!.path === files[kept - 1]!.path) {
      diagnostics.push({
        code: 'RENDER_PATH_ESCAPE',
        severity: 'error',
        message: `two files would be written at ${files[i]!.path}`,
        hint: 'This is a bug in harvgen (inventory names are validated so that output paths never collide); please report it.',
      });
      continue;
    }
    files[kept++] = files[i]!;
  }
  const found = kept < files.length;
  files.length = kept;
  return found;
}

/** Where each path goes: `perm[i]` is the index in `files` of the i-th path in sorted order. */
function sortedOrder(files: readonly Artifact[]): NonNullable<RenderCache['order']> {
  const perm = Uint32Array.from(files.keys()).sort((i, j) => byPath(files[i]!, files[j]!));
  return { paths: files.map((f) => f.path), perm };
}

/** Put `file` in its place in `files`, sorted by path. */
function insertSorted(files: Artifact[], file: Artifact): void {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byPath(files[mid]!, file) < 0) lo = mid + 1;
    else hi = mid;
  }
  files.splice(lo, 0, file);
}

/** A cache of another site's model (or of the other tree) holds nothing this render can reuse. */
function forgetOtherSite(cache: RenderCache, model: SiteModel, secrets: SecretMode): void {
  const json = keyJson({ ...model, nodes: [], secrets });
  const site = cache.digest ? cache.digest(json) : json;
  if (cache.site === site) return;
  cache.nodes.clear();
  cache.fragments.clear();
  cache.last = undefined;
  cache.site = site;
}

/** The scripts every machine may fetch first (boot.ipxe, unknown.ipxe), the optional entry scripts, the iPXE binaries. */
function addEntryScripts(
  model: SiteModel,
  add: Add,
  binaries: readonly (readonly [string, Uint8Array])[],
  memo: NodeMemo,
  keep: (key: string) => Keep | undefined,
): void {
  add(LAYOUT.entryScript, () => renderEntryScript(model), { served: true });
  add(LAYOUT.unknownScript, () => renderUnknownScript(model), { served: true });
  if (model.outputs.embed) add(LAYOUT.embedScript, () => renderEmbedScript(model, memo, keep(LAYOUT.embedScript)));
  if (model.outputs.oci) add(LAYOUT.ociLaunchScript, () => renderOciLaunchScript(model));
  for (const [name, bytes] of binaries) add(name, () => bytes, { served: true });
}

/** One node's files: its scripts, what its kind serves, its config, its lab domain, its BMC script (reused from `cache` when unchanged). */
function addNode(
  model: SiteModel,
  node: ResolvedNode,
  tree: TreeFiles,
  budget: ConfigBudget,
  cache: RenderCache | undefined,
  inputs: RenderInputs,
  placed?: RenderedNodeFiles | null,
): RenderedNodeFiles | undefined {
  const add = tree.add;
  // The entry of this very node object at its place (`null`: it had none), else by hostname.
  const hit = placed === null ? undefined : (placed ?? cache?.nodes.get(node.hostname));
  // The node's user-data file is read from the node only when it is not the node the entry was made from.
  const userDataPath =
    hit !== undefined && hit.node === node
      ? hit.userDataPath
      : node.boot === 'os' && node.cloudInit.userDataFile !== undefined
        ? node.cloudInit.userDataFile
        : undefined;
  const userDataFile = userDataPath !== undefined ? inputs.userData?.get(userDataPath) : undefined;
  // The cluster is the site's (in `cache.site`), not repeated in each node's key.
  // A node reused by the model cache (src/model/cache.ts) is the very object rendered last time.
  // A node's boot ISO holds the boot programs: their digest is part of its key, and a node object
  // reused by the model cache is the same only with the same programs (watch: a loader changed).
  const media = mediaKey(node, inputs);
  const same = hit !== undefined && hit.node === node && hit.userData === userDataFile && (hit.media ?? '') === media;
  const json =
    !cache || same ? '' : keyJson(node.boot === 'harvester' ? { ...node, cluster: undefined } : node) + (userDataFile ?? '') + media;
  const key = !cache ? '' : same ? hit.key : cache.digest ? cache.digest(json) : json;
  // A cached config counts against the site's budget as a rendered one does.
  if (hit && hit.key === key && (hit.usable?.() ?? true) && (hit.configBytes === 0 || budget.reuse(hit.configBytes))) {
    cache?.touched?.add(node.hostname);
    for (let i = 0; i < hit.files.length; i++) tree.files.push(hit.files[i]!);
    return hit;
  }
  const first = tree.files.length;
  const before = tree.diagnostics.length;
  const tooLarge = budget.tooLargeCount;
  for (const mac of node.macs) {
    add(nodeScriptPath(model, mac), () => renderNodeScript(model, node, mac), { served: true });
    if (namesKeyed(model)) add(LAYOUT.nodeScript(mac), () => renderKeyedStub(model, mac), { served: true });
  }
  if (node.state !== 'local') {
    kindOf(node).files(model, {
      add: (path, render) => add(path, render, { served: true }),
      userData: (path) => inputs.userData?.get(path),
    });
  }
  let clean = true;
  let configBytes = 0;
  if (node.boot === 'harvester') {
    clean = budget.render(node, (path, render, opts) =>
      add(path, render, { ...opts, limit: (bytes) => opts.limit(bytes) && ((configBytes = bytes), true) }),
    );
  }
  const loaders = inputs.mediaLoaders;
  if (node.medium === 'iso' && loaders)
    add(mediumPath(model, node), () => renderMedium(model, node, loaders), { served: true, lazy: true });
  if (model.outputs.lab) add(LAYOUT.labDomain(node.hostname), () => renderLibvirtDomain(model, node));
  const bmc = node.bmc;
  if (bmc && model.outputs.bmc) add(LAYOUT.bmcScript(node.hostname), () => renderBmcScript(model, { ...node, bmc }), { mode: 0o755 });
  // Its dnsmasq reservation: kept and reused with the node's other files (by watch, and by a plain
  // build from the record), not made again for every node at every build.
  if (dnsmasqHostFiles(model)) add(dnsmasqHostPath(model, node), () => renderDnsmasqHostFile(model, node));
  if (cache && clean && tree.diagnostics.length === before && budget.tooLargeCount === tooLarge && !budget.over) {
    const entry: RenderedNodeFiles = {
      key,
      node,
      userData: userDataFile,
      ...(userDataPath !== undefined ? { userDataPath } : {}),
      ...(media !== '' ? { media } : {}),
      files: tree.files.slice(first),
      configBytes,
    };
    cache.nodes.set(node.hostname, entry);
    cache.touched?.add(node.hostname);
    return entry;
  }
  return undefined;
}

/** What a node's render-cache key adds for its boot ISO: the digest of the boot programs (kept per map). */
function mediaKey(node: ResolvedNode, inputs: RenderInputs): string {
  const loaders = inputs.mediaLoaders;
  if (node.medium !== 'iso' || !loaders) return '';
  let digest = digests.get(loaders);
  if (digest === undefined) digests.set(loaders, (digest = loadersDigest(loaders)));
  return `\0media:${digest}`;
}
const digests = new WeakMap<ReadonlyMap<string, Uint8Array>, string>();

/**
 * The site's own files, each family as `outputs:` asks: BSS, DHCP, nginx, lab, BMC, forward units,
 * fetch.sh. Returns the served files only their node may fetch (all served files come before nginx).
 */
function addSiteFiles(
  model: SiteModel,
  tree: TreeFiles,
  binaryNames: readonly string[],
  memo: NodeMemo,
  keep: (key: string) => Keep | undefined,
): ReturnType<typeof protectedFiles> {
  const add = tree.add;
  const o = model.outputs;
  if (model.bss.export) add(LAYOUT.bss, () => renderBssBootParameters(model, memo));
  if (o.dhcp) addDhcp(model, tree);
  // Every served file is known here (the node files and the join config came first).
  const guarded = guardedFiles(model, tree.files, memo);
  if (o.nginx) {
    add(LAYOUT.nginx, () => renderNginx(model, { standalone: true, binaries: binaryNames, protected: guarded }, keep(LAYOUT.nginx)));
    add(LAYOUT.nginxLocations, () =>
      renderNginx(model, { standalone: false, binaries: binaryNames, protected: guarded }, keep(LAYOUT.nginxLocations)),
    );
  }
  if (o.lab) {
    add(LAYOUT.labNetwork, () => renderLibvirtNetwork(model, memo, keep(LAYOUT.labNetwork)));
    add(LAYOUT.defineScript, () => renderDefineScript(model, memo, keep(LAYOUT.defineScript)), { mode: 0o755 });
  }
  if (o.bmc && bmcNodes(model).length > 0) add(LAYOUT.bmcAllScript, () => renderBmcAll(model), { mode: 0o755 });
  for (const { port, vip } of forwardUnits(model))
    add(LAYOUT.forwardUnit(forwardUnitName(model, port)), () => renderForwardUnit(model, port, vip));
  if (model.publish) {
    const p = model.publish;
    const units = pullUnitNames(model);
    add(LAYOUT.pullConfig, () => renderPullConfig(model, p));
    add(LAYOUT.pullUnit(units.service), () => renderPullService(model, p));
    add(LAYOUT.pullUnit(units.timer), () => renderPullTimer(model));
  }
  // A site of only generic OS and iSCSI nodes downloads no Harvester release.
  if (o.fetch && releases(model).length > 0) add(LAYOUT.fetchScript, () => renderFetchScript(model), { mode: 0o755 });
  return guarded;
}

/** Whether the site's dnsmasq config takes one reservation file per node (`dhcp-hostsdir`): addDhcp's dnsmasq, not in proxy mode. */
function dnsmasqHostFiles(model: SiteModel): boolean {
  return model.outputs.dhcp && model.dhcp.server !== 'kea' && model.dhcp.server !== 'isc' && hasDnsmasqHostFiles(model);
}

/**
 * The site's DHCP server's config (`dhcp.server`), one form only: two DHCP servers on one
 * network would answer each other's clients.
 */
function addDhcp(model: SiteModel, tree: TreeFiles): void {
  const add = tree.add;
  if (model.dhcp.server === 'kea') add(LAYOUT.kea, () => renderKea(model));
  else if (model.dhcp.server === 'isc') add(LAYOUT.dhcpd, () => renderDhcpd(model));
  else {
    add(LAYOUT.dnsmasq, () => renderDnsmasq(model));
    add(LAYOUT.dnsmasqGlobal, () => renderDnsmasqGlobal(model));
    // Each node's reservation file (dhcp-hostsdir) is one of its node's files: addNode.
  }
}

/** The served files that only their node may fetch (src/render/access.ts). */
function guardedFiles(model: SiteModel, files: readonly Artifact[], memo: NodeMemo): ReturnType<typeof protectedFiles> {
  const served: string[] = [];
  for (const f of files) if (f.url !== undefined) served.push(f.path);
  return protectedFiles(model, served, memo);
}
