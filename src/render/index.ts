// Stage 4, render: pure, in memory. SiteModel -> Artifact[] (every file of out/<site>/),
// plus diagnostics when a generated Harvester config breaks the installer's schema (which
// can only come from `config:` keys in the inventory; anything else is a harvgen bug).
import type { Diagnostic } from '../diagnostics/types.ts';
import type { Locator } from '../load/index.ts';
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { isLazy, TextParts, type Artifact } from './artifact.ts';
import { installers, releases } from '../model/served-releases.ts';
import { renderFetchScript } from './fetch.ts';
import { renderApplyScript, renderUpgrade, renderVersion } from './upgrade.ts';
import { renderDefineScript, renderLibvirtDomain, renderLibvirtNetwork } from './libvirt.ts';
import { renderNginx } from './nginx.ts';
import { forwardUnitName, forwardUnits, renderForwardUnit } from './systemd.ts';
import { pullUnitNames, renderCosignPublicKey, renderPullConfig, renderPullService, renderPullTimer } from './publish.ts';
import { renderEmbedScript, renderEntryScript, renderKeyedStub, renderOciLaunchScript, renderUnknownScript } from './ipxe.ts';
import { mediumPath, namesKeyed, nodeScriptPath } from '../derive/file-names.ts';
import { loadersDigest, renderMedium, renderMediumScript } from './media.ts';
import { kindOf, renderNodeScript } from './kinds/index.ts';
import { ConfigBudget } from './kinds/harvester/budget.ts';
import { LAYOUT } from '../derive/layout.ts';
import { renderBssBootParameters } from './bss.ts';
import { renderMetal3Host, renderMetal3Kustomization } from './metal3.ts';
import { renderCheckScript, renderFailoverDhcp, renderKeepalived, renderNftables, renderNotifyScript } from './failover.ts';
import { failoverFiles } from '../derive/failover.ts';
import { isBareMetalHost, metal3Host } from '../derive/metal3-host.ts';
import { computeAlways, nodeMemo, type NodeMemo } from './fragments.ts';
import type { Keep } from './templates.ts';
import { dnsmasqHostPath, hasDnsmasqHostFiles, renderDnsmasqHostFile } from './dnsmasq.ts';
import { DHCP_RENDERERS } from './dhcp-servers.ts';
import { dhcpServerOf } from '../derive/dhcp-servers/index.ts';
import { renderManifest } from './manifest.ts';
import { imageOf, sharedImages, type SiteImage } from '../derive/media/index.ts';
import { protectedFiles } from './access.ts';
import { bmcNodes, renderBmcAll, renderBmcScript } from './bmc.ts';
import type { SecretMode } from '../types/secret-mode.ts';
import { keyJson } from '../util/key-json.ts';
import { forgetOtherSite, type RenderCache, type RenderedNodeFiles } from './render-cache.ts';
import { insertSorted, sortFiles, TreeFiles, type Add } from './tree-files.ts';
import type { Spill } from './spill.ts';

export type { Artifact } from './artifact.ts';
export type { Manifest, ManifestNode } from './manifest-types.ts';
export { isSafeRelativePath } from './artifact.ts';
export { escapers, UnsafeValueError } from '../formats/escape.ts';
export { buildHarvesterConfig } from '../derive/harvester/config.ts';
export { kernelArgs } from '../derive/harvester/cmdline.ts';
export { MAX_NODE_CONFIG_BYTES, MAX_SITE_CONFIG_BYTES } from './kinds/harvester/budget.ts';
export { renderCache, type RenderCache, type RenderedNodeFiles } from './render-cache.ts';

/** Rendered files of one site, sorted by path. */
export interface RenderResult {
  readonly artifacts: readonly Artifact[];
  readonly diagnostics: readonly Diagnostic[];
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
  /** A plain build: where a large site's texts are set aside until emit (src/render/spill.ts). */
  readonly spill?: Spill;
}

/** Render every file of a site. `locate` maps config problems back to the inventory. */
export function renderSite(model: SiteModel, locate: Locator, cache?: RenderCache, inputs: RenderInputs = {}): RenderResult {
  const secrets = inputs.secrets ?? 'markers';
  if (cache) forgetOtherSite(cache, model, secrets);
  // A cache read back from the record holds no node objects to key parts by (nor contents to know hashes by).
  const memo = cache && !cache.digest ? nodeMemo(cache.fragments) : computeAlways;
  const keep = cache && !cache.digest ? (key: string): Keep => ({ texts: cache.texts, key }) : () => undefined;
  const budget = new ConfigBudget(model, locate, secrets, installers(model), cache && !cache.digest ? cache.sizes : undefined);
  const tree = new TreeFiles(model.boot.server, inputs.spill);
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
  // The site's shared images, one per medium some node shares: each carries its nodes' table.
  const loaders = inputs.mediaLoaders;
  if (loaders)
    for (const shared of sharedImages(model))
      tree.add(mediumPath(model, shared.nodes[0]!)!, () => sharedImage(model, shared, loaders), {
        served: true,
        lazy: true,
        deployOnly: true,
      });
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
  // The committed tree lists the images and holds none (git keeps no binary); the deploy tree does.
  const files = secrets === 'markers' && tree.files.some(listedOnly) ? tree.files.filter((a) => !listedOnly(a)) : tree.files;
  insertSorted(files, tree.spilledParts(LAYOUT.manifest, manifest, 0o644) ?? new TextParts(LAYOUT.manifest, manifest, 0o644));
  return { artifacts: files, diagnostics: tree.diagnostics };
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
  // The iPXE binaries: listed in the committed tree, held by the deploy tree (no binary in git).
  for (const [name, bytes] of binaries) add(name, () => bytes, { served: true, lazy: true, deployOnly: true });
}

/** A binary the committed tree lists and does not hold (an image, an iPXE binary). */
const listedOnly = (a: Artifact): boolean => isLazy(a) && a.deployOnly;

/**
 * A shared image's bytes, made again only when its table or the boot programs change: a build
 * that changed no node of the table (watch, or a plain build in one process) keeps the last one.
 */
function sharedImage(model: SiteModel, shared: SiteImage, loaders: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const script = renderMediumScript(model, shared.nodes, shared.image);
  const key = `${shared.plain}\0${loadersKey(loaders)}\0${script}`;
  const last = lastShared.get(shared.plain);
  if (last && last.key === key) return last.bytes;
  const bytes = renderMedium(model, shared.nodes, shared.image, loaders, script);
  lastShared.set(shared.plain, { key, bytes });
  return bytes;
}
const lastShared = new Map<string, { key: string; bytes: Uint8Array }>();

/** The boot programs' digest, once per map of them. */
function loadersKey(loaders: ReadonlyMap<string, Uint8Array>): string {
  let digest = digests.get(loaders);
  if (digest === undefined) digests.set(loaders, (digest = loadersDigest(loaders)));
  return digest;
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
  const { clean, configBytes } = addNodeFiles(model, node, tree, budget, inputs);
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

/** Render one node's files into the tree: whether its config fitted the budget (`clean`), and its size. */
function addNodeFiles(
  model: SiteModel,
  node: ResolvedNode,
  tree: TreeFiles,
  budget: ConfigBudget,
  inputs: RenderInputs,
): { clean: boolean; configBytes: number } {
  const add = tree.add;
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
  // A node's own image (a shared one is the site's: addSiteFiles).
  const loaders = inputs.mediaLoaders;
  const image = imageOf(node);
  if (image && node.mediumImage === 'own' && loaders)
    add(mediumPath(model, node)!, () => renderMedium(model, [node], image, loaders), { served: true, lazy: true, deployOnly: true });
  if (model.outputs.lab) add(LAYOUT.labDomain(node.hostname), () => renderLibvirtDomain(model, node));
  const bmc = node.bmc;
  if (bmc && model.outputs.bmc) add(LAYOUT.bmcScript(node.hostname), () => renderBmcScript(model, { ...node, bmc }), { mode: 0o755 });
  // Its dnsmasq reservation: kept and reused with the node's other files (by watch, and by a plain
  // build from the record), not made again for every node at every build.
  if (dnsmasqHostFiles(model)) add(dnsmasqHostPath(model, node), () => renderDnsmasqHostFile(model, node));
  return { clean, configBytes };
}

/** What a node's render-cache key adds for its boot ISO: the digest of the boot programs (kept per map). */
function mediaKey(node: ResolvedNode, inputs: RenderInputs): string {
  const loaders = inputs.mediaLoaders;
  if (!imageOf(node) || node.mediumImage !== 'own' || !loaders) return '';
  return `\0media:${loadersKey(loaders)}`;
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
  if (model.metal3.export) addMetal3(model, tree);
  for (const f of failoverFiles(model))
    if (f.kind === 'check') tree.add(f.path, () => renderCheckScript(model, f.server), { mode: 0o755 });
    else if (f.kind === 'notify') tree.add(f.path, () => renderNotifyScript(model, f.server), { mode: 0o755 });
    else if (f.kind === 'nftables') tree.add(f.path, () => renderNftables(model, f.server));
    else
      tree.add(f.path, () =>
        f.kind === 'keepalived'
          ? renderKeepalived(model, f.server)
          : renderFailoverDhcp(model, f.server, dhcpServerOf(model).failover!.format),
      );
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
    const cosign = p.cosign;
    if (cosign) add(LAYOUT.cosignPublicKey, () => renderCosignPublicKey(cosign.publicKey));
  }
  // A planned upgrade (harvester.upgrade): Harvester's objects for it, never served.
  const u = model.upgrade;
  if (u) {
    add(LAYOUT.upgradeVersion, () => renderVersion(model, u));
    if (u.apply) {
      add(LAYOUT.upgradeUpgrade, () => renderUpgrade(model, u));
      add(LAYOUT.upgradeApply, () => renderApplyScript(model, u), { mode: 0o755 });
    }
  }
  // A site of only generic OS and iSCSI nodes downloads no Harvester release.
  if (o.fetch && releases(model).length > 0) add(LAYOUT.fetchScript, () => renderFetchScript(model), { mode: 0o755 });
  return guarded;
}

/** Whether the site's dnsmasq config takes one reservation file per node (`dhcp-hostsdir`): addDhcp's dnsmasq, not in proxy mode. */
function dnsmasqHostFiles(model: SiteModel): boolean {
  return model.outputs.dhcp && dhcpServerOf(model).hostFiles && hasDnsmasqHostFiles(model);
}

/**
 * The site's DHCP server's config (`dhcp.server`), one form only: two DHCP servers on one
 * network would answer each other's clients.
 */
function addDhcp(model: SiteModel, tree: TreeFiles): void {
  // Each node's reservation file (dnsmasq's dhcp-hostsdir) is one of its node's files: addNode.
  for (const f of dhcpServerOf(model).files(model)) tree.add(f.path, () => DHCP_RENDERERS[f.format](model));
}

/** The served files that only their node may fetch (src/render/access.ts). */
function guardedFiles(model: SiteModel, files: readonly Artifact[], memo: NodeMemo): ReturnType<typeof protectedFiles> {
  const served: string[] = [];
  for (const f of files) if (f.url !== undefined) served.push(f.path);
  return protectedFiles(model, served, memo);
}

/**
 * metal3/: a BareMetalHost per node the export takes (src/derive/metal3-host.ts), its boot ISO's
 * URL (and SHA-256, for the header) read from the image already in the tree (its bytes are made once), and the
 * kustomization that lists them.
 */
function addMetal3(model: SiteModel, tree: TreeFiles): void {
  // Under nginx.file_key an image's name is a secret of the deploy tree: the committed tree masks
  // it, so neither tree names the image (docs/metal3.md says how to add it).
  const digests = namesKeyed(model) ? new Map<string, string>() : new Map(tree.files.filter(isLazy).map((f) => [f.path, f.sha256]));
  const names: string[] = [];
  for (const node of model.nodes) {
    const path = mediumPath(model, node);
    const sha256 = path !== undefined ? digests.get(path) : undefined;
    const host = metal3Host(model, node, sha256 !== undefined ? `${model.boot.server}/${path}` : undefined);
    if (!isBareMetalHost(host)) continue;
    names.push(node.hostname);
    tree.add(LAYOUT.metal3Host(node.hostname), () => renderMetal3Host(model, host, host.spec.image !== undefined ? sha256 : undefined));
  }
  tree.add(LAYOUT.metal3Kustomization, () => renderMetal3Kustomization(model, names));
}
