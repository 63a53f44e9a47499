// What one render of a site leaves for the next (`RenderCache`: watch keeps one per site, a plain
// build reads one back from the up-to-date record, src/cache/reuse.ts), and its reset when the
// site's model is another.
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { modelCache, type ModelCache } from '../model/cache.ts';
import type { Artifact } from './artifact.ts';
import { NodeParts } from './fragments.ts';
import type { KeptTexts } from './templates.ts';
import type { SecretMode } from '../types/secret-mode.ts';
import { keyJson } from '../util/key-json.ts';

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

/** A cache of another site's model (or of the other tree) holds nothing this render can reuse. */
export function forgetOtherSite(cache: RenderCache, model: SiteModel, secrets: SecretMode): void {
  const json = keyJson({ ...model, nodes: [], secrets });
  const site = cache.digest ? cache.digest(json) : json;
  if (cache.site === site) return;
  cache.nodes.clear();
  cache.fragments.clear();
  cache.last = undefined;
  cache.site = site;
}
