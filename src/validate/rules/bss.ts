// bss: with `bss.export`, say which nodes the BSS export leaves out and why (src/render/bss.ts
// decides; the same function renders the file).
import { bssEntry, isBssEntry } from '../../derive/bss-entry.ts';
import { eachNode, type Rule } from '../rule.ts';

/** Nodes BSS cannot boot as the tree does are left out of bss/bootparameters.json, with a warning. */
export const bssRule: Rule = {
  name: 'bss',
  codes: ['BSS_NODE_NOT_EXPORTED'],
  check(ctx) {
    const { model } = ctx;
    if (!model.bss.export) return;
    // An entry reads the node and site-level values only: kept per node in watch.
    eachNode(ctx, 'bss', (node, report) => {
      const e = bssEntry(model, node);
      if (e === undefined || isBssEntry(e)) return;
      report({
        code: 'BSS_NODE_NOT_EXPORTED',
        message: `${e.reason}: left out of bss/bootparameters.json`,
        hint: e.hint,
        node: node.hostname,
        at: e.at,
      });
    });
  },
};
