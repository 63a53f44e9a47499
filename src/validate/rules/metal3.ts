// metal3: with `metal3.export`, which nodes the export leaves out (no BMC), what
// baremetal-operator would refuse, and what Ironic does that the inventory may not expect
// (src/derive/metal3-host.ts decides; the same function renders the files).
import { isBareMetalHost, metal3Host, metal3Notes, type Metal3Problem } from '../../derive/metal3-host.ts';
import { eachNode, type Rule } from '../rule.ts';

export const metal3Rule: Rule = {
  name: 'metal3',
  codes: ['METAL3_NODE_NOT_EXPORTED', 'METAL3_HOST_INVALID', 'METAL3_ISO_OVER_IPXE'],
  check(ctx) {
    const { model } = ctx;
    if (!model.metal3.export) return;
    // A host reads the node and site-level values only: kept per node in watch.
    eachNode(ctx, 'metal3', (node, report) => {
      const h = metal3Host(model, node);
      const problems: Metal3Problem[] = isBareMetalHost(h) ? metal3Notes(model, node) : [h];
      for (const p of problems) report({ code: p.code, message: p.reason, hint: p.hint, node: node.hostname, at: p.at });
    });
  },
};
