// bss: with `bss.export`, say which nodes the BSS export leaves out and why (src/render/bss.ts
// decides; the same function renders the file).
import { bssEntry, isBssEntry } from '../../derive/bss-entry.ts';
import type { Rule } from '../rule.ts';

/** Nodes BSS cannot boot as the tree does are left out of bss/bootparameters.json, with a warning. */
export const bssRule: Rule = {
  name: 'bss',
  codes: ['BSS_NODE_NOT_EXPORTED'],
  check({ model, report }) {
    if (!model.bss.export) return;
    for (const node of model.nodes) {
      const e = bssEntry(model, node);
      if (e === undefined || isBssEntry(e)) continue;
      report({
        code: 'BSS_NODE_NOT_EXPORTED',
        message: `${e.reason}: left out of bss/bootparameters.json`,
        hint: e.hint,
        node: node.hostname,
        at: e.at,
      });
    }
  },
};
