// bss/bootparameters.json (`bss.export: true`): one BootParams object per exported node, each
// built by ../derive/bss-entry.ts (which says what BSS does with it and why some nodes are left out).
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { bssEntry, isBssEntry } from '../derive/bss-entry.ts';
import { computeAlways, memoEach, type NodeMemo } from './fragments.ts';

/** The file: a JSON array, one element per exported node (all its boot MACs), in inventory order. */
export function renderBssBootParameters(model: SiteModel, memo: NodeMemo = computeAlways): string {
  const entry = (n: ResolvedNode) => bssEntry(model, n);
  const entries = memoEach(memo, 'bss', model.nodes, entry);
  // The same list of entries (no node's changed, memoEach): the same text.
  const kept = texts.get(entries);
  if (kept !== undefined) return kept;
  const text = `${JSON.stringify(entries.filter(isBssEntry), null, 2)}\n`;
  if (memo !== computeAlways) texts.set(entries, text);
  return text;
}

/** The file's text by the list of entries it was made from (under watch's memo). */
const texts = new WeakMap<readonly unknown[], string>();
