// The layers a node's settings come from, and the reader every kind's resolver uses to take a
// setting from the strongest layer that has it (ARCHITECTURE.md, "Precedence"), recording where it
// came from for `explain` and for diagnostics.
import type { NodeDefaults, NodeInput, SiteInput } from '../types/site-input.ts';
import { deepMerge } from './merge.ts';
import { type Layers, PROFILE_LAYER, REPO_LAYER } from '../types/layers.ts';
import type { InventoryPath } from '../util/paths.ts';

/** The chain of profiles a reference expands to, nearest first (stops at a missing one or a loop). */
export function profileChain(layers: Layers, first: unknown): string[] {
  const chain: string[] = [];
  for (let p = first; typeof p === 'string' && p in layers.profiles && !chain.includes(p); p = layers.profiles[p]!.profile) chain.push(p);
  return chain;
}

/** One layer of node settings and the inventory path it lives at. */
export interface Layer {
  readonly value: NodeDefaults & Partial<NodeInput>;
  readonly path: InventoryPath;
}

/**
 * The layers of one node, strongest first: the node, its profile chain, the site's `defaults:`,
 * their profile chain, the repo defaults (`sites/_defaults.yaml`), their profile chain.
 */
export function layersOf(node: NodeInput, index: number, input: SiteInput, layers: Layers): Layer[] {
  const shared = sharedLayers(input, layers);
  return [{ value: node, path: ['nodes', index] }, ...shared.profiles(node.profile), ...shared.tail];
}

/**
 * What every node's chain shares, made once per site's inputs instead of once per node: the
 * layers after its own profiles (`defaults:`, the repo defaults, their profiles), and each
 * profile chain by its first name. Layers are never changed once made.
 */
interface SharedLayers {
  readonly defaults: SiteInput['defaults'];
  readonly tail: readonly Layer[];
  profiles(first: unknown): readonly Layer[];
}

const sharedByLayers = new WeakMap<Layers, SharedLayers>();

function sharedLayers(input: SiteInput, layers: Layers): SharedLayers {
  const kept = sharedByLayers.get(layers);
  if (kept !== undefined && kept.defaults === input.defaults) return kept;
  const chains = new Map<unknown, readonly Layer[]>();
  const profiles = (first: unknown): readonly Layer[] => {
    let chain = chains.get(first);
    if (chain === undefined)
      chains.set(
        first,
        (chain = profileChain(layers, first).map((name) => ({
          value: layers.profiles[name] as NodeDefaults,
          path: [PROFILE_LAYER, name],
        }))),
      );
    return chain;
  };
  const defaults: NodeDefaults = input.defaults ?? {};
  const repo = (layers.repo ?? {}) as NodeDefaults;
  const tail: Layer[] = [
    { value: defaults, path: ['defaults'] },
    ...profiles(defaults.profile),
    ...(layers.repo ? [{ value: repo, path: [REPO_LAYER] }, ...profiles(repo.profile)] : []),
  ];
  const made: SharedLayers = { defaults: input.defaults, tail, profiles };
  sharedByLayers.set(layers, made);
  return made;
}

/** The map settings merged key by key over the layers. */
export type MapSetting = 'install' | 'lab' | 'bond' | 'cloud_init' | 'iscsi' | 'hardware' | 'bmc';

/** Reads one node's settings from its layers (see nodeReader). */
export interface NodeReader {
  readonly node: NodeInput;
  readonly index: number;
  readonly chain: readonly Layer[];
  /** Where each setting read so far came from (becomes the node's `sources`). */
  readonly sources: Record<string, InventoryPath>;
  /** The value of the strongest layer that sets `key`. */
  pick<K extends keyof NodeDefaults & keyof NodeInput>(key: K): NodeInput[K] | undefined;
  /** A map setting merged key by key, weakest layer first, each leaf's source recorded. */
  mergeMap<T extends object>(key: MapSetting): Partial<T>;
  /** `config:` merged deeply over the layers, weakest first; its source is the strongest layer that has one. */
  config(): Record<string, unknown>;
}

/**
 * A factory of NodeReaders for one site. A source in a shared layer (defaults, a profile, the
 * repo) is one array for all nodes. Paths are made with concat, not a spread: a spread array
 * keeps room to grow (232 bytes for four entries against 104), and a 10,000-node site keeps about
 * 100,000 of them.
 */
export function nodeReaders(input: SiteInput, layers: Layers): (node: NodeInput, index: number) => NodeReader {
  const shared = new Map<string, InventoryPath>();
  const source = (path: InventoryPath): InventoryPath => {
    if (path[0] === 'nodes') return path;
    const key = path.join('\u0000');
    let p = shared.get(key);
    if (p === undefined) shared.set(key, (p = path));
    return p;
  };
  return (node, index) => {
    const sources: Record<string, InventoryPath> = {};
    const chain = layersOf(node, index, input, layers);
    return {
      node,
      index,
      chain,
      sources,
      pick(key) {
        for (const l of chain) {
          if (l.value[key] === undefined) continue;
          sources[key] = source(l.path.concat(key));
          return l.value[key] as NodeInput[typeof key];
        }
        return undefined;
      },
      mergeMap<T extends object>(key: MapSetting): Partial<T> {
        const out: Record<string, unknown> = {};
        for (let i = chain.length - 1; i >= 0; i--) {
          const l = chain[i]!;
          const layer = l.value[key];
          if (!layer) continue;
          const path = source(l.path.concat(key));
          for (const [k, val] of Object.entries(layer)) {
            out[k] = val;
            sources[`${key}.${k}`] = source(path.concat(k));
          }
          sources[key] = path;
        }
        return out as Partial<T>;
      },
      config() {
        let config: Record<string, unknown> = {};
        for (let i = chain.length - 1; i >= 0; i--) {
          const c = chain[i]!.value.config;
          if (!c) continue;
          config = deepMerge(config, c);
          // Each key's layer, for the rules that judge the effective config (`config.install.data_disk`).
          Object.assign(sources, configSources(c, chain[i]!.path, source));
        }
        const strongest = chain.find((l) => l.value.config);
        if (strongest) sources.config = source(strongest.path.concat('config'));
        return config;
      },
    };
  };
}

/** The per-key sources of each layer's `config:` object, made once for all the nodes that share the layer. */
const layerConfigSources = new WeakMap<object, Record<string, InventoryPath>>();

/**
 * Where each leaf of one layer's `config:` was written, as `config.<dotted path>`: maps are
 * followed and are not recorded themselves (a map is merged key by key, so it sets no value of its
 * own); lists and scalars are leaves (they replace what a weaker layer had). Assigned over the
 * weaker layers' entries, a stronger layer's leaf wins as it does in deepMerge.
 */
function configSources(
  config: Record<string, unknown>,
  layer: InventoryPath,
  intern: (path: InventoryPath) => InventoryPath,
): Record<string, InventoryPath> {
  let out = layer[0] === 'nodes' ? undefined : layerConfigSources.get(config);
  if (out !== undefined) return out;
  out = {};
  const walk = (value: Record<string, unknown>, at: InventoryPath, dotted: string, depth: number): void => {
    for (const [k, v] of Object.entries(value)) {
      const path = at.concat(k);
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 8)
        walk(v as Record<string, unknown>, path, `${dotted}.${k}`, depth + 1);
      else out![`${dotted}.${k}`] = intern(path);
    }
  };
  walk(config, layer.concat('config'), 'config', 0);
  if (layer[0] !== 'nodes') layerConfigSources.set(config, out);
  return out;
}

/** Where a node field was written (its `sources`): the node's own path, a profile's or `defaults:`'s, else the node itself. */
export function nodeAt(
  node: { readonly sources: Readonly<Record<string, InventoryPath>>; readonly index: number },
  field: string,
): InventoryPath {
  return node.sources[field] ?? ['nodes', node.index];
}
