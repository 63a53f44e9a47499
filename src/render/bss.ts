// bss/bootparameters.json (`bss.export: true`): one BootParams object per exported node, each
// built by ../derive/bss-entry.ts (which says what BSS does with it and why some nodes are left out).
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { bssEntry, isBssEntry } from '../derive/bss-entry.ts';
import { computeAlways, type NodeMemo } from './fragments.ts';

/** The file: a JSON array, one element per exported node (all its boot MACs), in inventory order. */
export function renderBssBootParameters(model: SiteModel, memo: NodeMemo = computeAlways): string {
  const entry = (n: ResolvedNode) => bssEntry(model, n);
  const list = model.nodes.map((n) => memo('bss', n, entry)).filter(isBssEntry);
  return `${JSON.stringify(list, null, 2)}\n`;
}
