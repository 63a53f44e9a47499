// metal3: with `metal3.export`, which nodes the export leaves out (no BMC) and what
// baremetal-operator would refuse (src/derive/metal3-host.ts decides; the same function renders
// the files).
import { isBareMetalHost, metal3Host } from '../../derive/metal3-host.ts';
import { eachNode, type Rule } from '../rule.ts';

export const metal3Rule: Rule = {
  name: 'metal3',
  codes: ['METAL3_NODE_NOT_EXPORTED', 'METAL3_HOST_INVALID'],
  check(ctx) {
    const { model } = ctx;
    if (!model.metal3.export) return;
    // A host reads the node and site-level values only: kept per node in watch.
    eachNode(ctx, 'metal3', (node, report) => {
      const h = metal3Host(model, node);
      if (isBareMetalHost(h)) return;
      report({
        code: h.code,
        message: h.reason,
        hint: h.hint,
        node: node.hostname,
        at: h.at,
      });
    });
  },
};
