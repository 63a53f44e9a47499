// What a node is, decided once from its layers, and the resolver of each kind. Adding a kind is a
// resolver here (and its folder under src/render/kinds/); the exhaustive switches over `boot`
// list every other place that must handle it.
import { sharedShape } from '../../util/shared-shape.ts';
import type { NodeInput } from '../../types/site-input.ts';
import type { Layer, NodeReader } from '../layers.ts';
import type { ModelProblem, NodeKind, ResolvedNode } from '../types.ts';
import type { SiteContext } from './common.ts';
import { HARVESTER_IGNORES, resolveHarvesterNode } from './harvester.ts';
import { ISCSI_IGNORES, resolveIscsiNode } from './iscsi.ts';
import { OS_IGNORES, resolveOsNode } from './os.ts';
import { sameItems } from '../../util/same-items.ts';

export { resolveHarvesterNode } from './harvester.ts';
export type { SiteContext } from './common.ts';

/** The settings each kind ignores (`field` or `map.key`), and what to do instead. */
export const IGNORED_BY_KIND: Readonly<Record<NodeKind, Readonly<Record<string, string>>>> = {
  harvester: HARVESTER_IGNORES,
  os: OS_IGNORES,
  iscsi: ISCSI_IGNORES,
};

/** A node of the kind its layers say: `iscsi:` with a target, else `os:` other than `harvester`, else Harvester. */
export function resolveNode(r: NodeReader, ctx: SiteContext): ResolvedNode | ModelProblem {
  const node = resolveKind(r, ctx);
  // Kept for the whole build: made of the same shape as the site's other nodes (src/util/shared-shape.ts).
  // Its sources were written by computed key, which leaves an object of more than 16 keys a hash
  // table (about 1.7 KB a rich node, and a shape of its own once frozen); fromEntries makes a
  // plain object of them, of the shape the same keys have on other nodes.
  if (!('sources' in node)) return node;
  return sharedShape(node, { sources: Object.fromEntries(Object.entries(node.sources)) });
}

function resolveKind(r: NodeReader, ctx: SiteContext): ResolvedNode | ModelProblem {
  const os = r.pick('os');
  const iscsi = r.mergeMap<NonNullable<NodeInput['iscsi']>>('iscsi');
  // The schema requires `server` and `target` in every `iscsi:` map, so a merged one has both.
  const { server, target } = iscsi;
  if (target !== undefined && server !== undefined)
    return resolveIscsiNode(r, ctx, { ...iscsi, server, target }, os !== 'harvester' ? os : undefined);
  if (os !== undefined && os !== 'harvester') return resolveOsNode(r, ctx, os);
  return resolveHarvesterNode(r, ctx);
}

/** One setting a node's kind ignores, where it is written. */
export interface IgnoredSetting {
  readonly field: string;
  readonly kind: NodeKind;
  readonly hostname: string;
  readonly at: readonly (string | number)[];
  readonly instead: string;
}

/** What one layer sets, sorted for one kind: the paths it reads and the settings it ignores. */
interface LayerSettings {
  readonly used: readonly string[];
  readonly ignored: readonly { readonly field: string; readonly at: readonly (string | number)[]; readonly instead: string }[];
}

/**
 * Sorts the settings of nodes' layers into read (`used`, by the path they are written at) and
 * ignored by the node's kind. A layer shared by nodes of several kinds (`defaults:`, a profile)
 * sets what some of them read: only a setting no node reads is reported (resolveSite). A shared
 * layer is sorted once per kind, so a 10,000-node site sorts its `defaults:` once.
 */
export function settingsSorter(used: Set<string>, ignored: IgnoredSetting[]): (reader: () => NodeReader, node: ResolvedNode) => void {
  const shared = new Map<object, Map<NodeKind, LayerSettings>>();
  // The shared layers sorted in this compile, by their path, for each kind.
  const sortedPaths = new Map<NodeKind, Set<string>>();
  return (reader, node) => {
    // The ignored settings of a node object met before: the same layers (see ownSorted), the same
    // list. Its shared layers (by path: each compile copies the site's `defaults:`) need nothing
    // more once this compile sorted them for its kind: then no reader is made for it.
    const kept = nodeIgnored.get(node);
    const keptShared = kept === undefined ? undefined : nodeShared.get(node);
    if (kept !== undefined && keptShared !== undefined) {
      const done = sortedPaths.get(node.boot);
      if (keptShared.every((p) => done?.has(p))) {
        for (let i = 0; i < kept.length; i++) ignored.push(kept[i]!);
        return;
      }
    }
    const mine: IgnoredSetting[] | undefined = kept === undefined ? [] : undefined;
    const sharedPaths: string[] = [];
    for (const layer of reader().chain) {
      const own = layer.path[0] === 'nodes';
      // A node's own layer, sorted when that node object was resolved: the model cache (watch)
      // hands back the same object only for the same input at the same index.
      const ownKept = own ? ownSorted.get(node) : undefined;
      let sorted = ownKept !== undefined && sameItems(ownKept.path, layer.path) ? ownKept.sorted : undefined;
      if (!own) {
        sharedPaths.push(pathKey(layer));
        sorted = shared.get(layer.value)?.get(node.boot) ?? sortShared(layer, node);
      } else if (sorted === undefined) {
        sorted = sortLayer(layer.value, layer.path, IGNORED_BY_KIND[node.boot]);
        ownSorted.set(node, { path: layer.path, sorted });
      }
      if (mine)
        for (const i of sorted.ignored)
          mine.push({ field: i.field, at: i.at, instead: i.instead, kind: node.boot, hostname: node.hostname });
    }
    if (mine) nodeIgnored.set(node, mine);
    nodeShared.set(node, sharedPaths);
    for (const i of kept ?? mine!) ignored.push(i);
  };

  /**
   * A shared layer sorted for the node's kind, once per compile: what `used` answers is whether
   * some node reads a shared setting that another ignores. A node's own path is the node's alone,
   * and a setting of it is either read or ignored, so its own are never asked for.
   */
  function sortShared(layer: Layer, node: ResolvedNode): LayerSettings {
    let byKind = shared.get(layer.value);
    if (!byKind) shared.set(layer.value, (byKind = new Map()));
    const sorted = sortLayer(layer.value, layer.path, IGNORED_BY_KIND[node.boot]);
    byKind.set(node.boot, sorted);
    for (const u of sorted.used) used.add(u);
    let paths = sortedPaths.get(node.boot);
    if (!paths) sortedPaths.set(node.boot, (paths = new Set()));
    paths.add(pathKey(layer));
    return sorted;
  }
}

/** A shared layer's path as one string (`defaults`, a profile by name, the repo's): one layer of a compile each. */
function pathKey(layer: Layer): string {
  return layer.path.join('\u0000');
}

/**
 * Each resolved node's shared layers (defaults, profiles, the repo's) by path, in its chain's
 * order: a node object met again needs no reader once each is sorted (its own layer is kept in
 * ownSorted). Paths, not the layers: the next compile's `defaults:` is another object.
 */
const nodeShared = new WeakMap<ResolvedNode, readonly string[]>();

/** Each resolved node's ignored settings, over its whole chain of layers (see settingsSorter). */
const nodeIgnored = new WeakMap<ResolvedNode, readonly IgnoredSetting[]>();

/** Each resolved node's own layer, sorted (see settingsSorter). */
const ownSorted = new WeakMap<ResolvedNode, { readonly path: readonly (string | number)[]; readonly sorted: LayerSettings }>();

function sortLayer(value: object, path: readonly (string | number)[], ignores: Readonly<Record<string, string>>): LayerSettings {
  const used: string[] = [];
  const ignored: { field: string; at: readonly (string | number)[]; instead: string }[] = [];
  // A node's own layer: only what it ignores is asked for (see settingsSorter).
  const own = path[0] === 'nodes';
  const note = (name: string, instead: string | undefined) => {
    if (instead === undefined) {
      if (!own) used.push([...path, ...name.split('.')].join('\u0000'));
    } else ignored.push({ field: name, at: [...path, ...name.split('.')], instead });
  };
  for (const [field, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const whole = ignores[field];
    const keys = v !== null && typeof v === 'object' && !Array.isArray(v) && field !== 'config' ? Object.keys(v) : [];
    if (whole !== undefined || keys.every((k) => ignores[`${field}.${k}`] === undefined)) note(field, whole);
    // A map some of whose keys the kind ignores (`lab.data_disk_gib`): each key on its own.
    else for (const k of keys) note(`${field}.${k}`, ignores[`${field}.${k}`]);
  }
  return { used, ignored };
}
