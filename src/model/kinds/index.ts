// What a node is, decided once from its layers, and the resolver of each kind. Adding a kind is a
// resolver here (and its folder under src/render/kinds/); the exhaustive switches over `boot`
// list every other place that must handle it.
import type { NodeInput } from '../../types/site-input.ts';
import type { NodeReader } from '../layers.ts';
import type { ModelProblem, NodeKind, ResolvedNode } from '../types.ts';
import type { SiteContext } from './common.ts';
import { HARVESTER_IGNORES, resolveHarvesterNode } from './harvester.ts';
import { ISCSI_IGNORES, resolveIscsiNode } from './iscsi.ts';
import { OS_IGNORES, resolveOsNode } from './os.ts';

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
  const os = r.pick('os');
  const iscsi = r.mergeMap<NonNullable<NodeInput['iscsi']>>('iscsi');
  if (iscsi.target !== undefined) return resolveIscsiNode(r, ctx, iscsi, os);
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

/**
 * The settings of a node's layers its kind reads (`used`, by the path they are written at) and
 * those it ignores. A layer shared by nodes of several kinds (`defaults:`, a profile) sets what
 * some of them read: only a setting no node reads is reported (resolveSite).
 */
export function settingsOf(r: NodeReader, node: ResolvedNode, used: Set<string>, ignored: IgnoredSetting[]): void {
  const ignores = IGNORED_BY_KIND[node.boot];
  for (const layer of r.chain) {
    for (const [field, value] of Object.entries(layer.value)) {
      if (value === undefined) continue;
      const note = (name: string, instead: string | undefined) => {
        const at = [...layer.path, ...name.split('.')];
        if (instead === undefined) used.add(at.join('\u0000'));
        else ignored.push({ field: name, kind: node.boot, hostname: node.hostname, at, instead });
      };
      const whole = ignores[field];
      const keys = value !== null && typeof value === 'object' && !Array.isArray(value) && field !== 'config' ? Object.keys(value) : [];
      if (whole !== undefined || keys.every((k) => ignores[`${field}.${k}`] === undefined)) note(field, whole);
      // A map some of whose keys the kind ignores (`lab.data_disk_gib`): each key on its own.
      else for (const k of keys) note(`${field}.${k}`, ignores[`${field}.${k}`]);
    }
  }
}
