// nodes: a BMC the generated scripts can drive (README "BMC scripts"). The forms of the address,
// the system path and the variable names are the schema's (value kinds bmcAddress,
// redfishSystem); this rule judges what the schema cannot: settings that do not fit the BMC's
// type, a node's own `bmc:` without an address, and two nodes that would drive one machine.
import type { ResolvedNode } from '../../model/types.ts';
import { BMC_ALL_SCRIPT } from '../../derive/layout.ts';
import { nodeAt } from '../../model/index.ts';
import type { Rule } from '../rule.ts';

/** What makes two BMC entries drive the same machine: the address, and the Redfish system when both name one. */
function machineKey(n: ResolvedNode): string | undefined {
  if (!n.bmc) return undefined;
  return `${n.bmc.type} ${n.bmc.host.toLowerCase()} ${n.bmc.port} ${n.bmc.system ?? ''}`;
}

/** BMC_INVALID for settings a node's BMC cannot use. */
export const bmcRule: Rule = {
  name: 'bmc',
  codes: ['BMC_INVALID'],
  check({ input, model, partial, report }) {
    const seen = new Map<string, ResolvedNode>();
    for (const node of model.nodes) {
      const own = input.nodes?.[node.index]?.bmc;
      if (!node.bmc) {
        if (own !== undefined)
          report({
            code: 'BMC_INVALID',
            message: `the \`bmc\` of node ${node.hostname} has no \`address\`: no BMC script is written for it`,
            hint: 'Add `address: <host or IP>[:port]` (the BMC itself, not the node), or remove `bmc:`.',
            node: node.hostname,
            at: ['nodes', node.index, 'bmc'],
            target: 'key',
          });
        continue;
      }
      if (node.hostname === BMC_ALL_SCRIPT.slice(0, -3))
        report({
          code: 'BMC_INVALID',
          message: `node ${node.hostname} has a BMC, and its script would be bmc/${BMC_ALL_SCRIPT}, the script of every node`,
          hint: 'Rename the node, or drive its BMC by hand.',
          node: node.hostname,
          at: nodeAt(node, 'bmc.address'),
        });
      if (node.bmc.type === 'ipmi') {
        // A shared layer may hold them for the Redfish nodes it also serves: only a node's own are judged.
        for (const key of ['system', 'insecure'] as const) {
          const at = node.sources[`bmc.${key}`];
          if (at?.[0] !== 'nodes') continue;
          report({
            code: 'BMC_INVALID',
            message: `\`bmc.${key}\` of node ${node.hostname} is for Redfish BMCs; this one is \`type: ipmi\``,
            hint: `Remove \`${key}\`, or set \`type: redfish\` if the BMC speaks Redfish (preferred: it can also boot over UEFI HTTP and virtual media).`,
            node: node.hostname,
            at,
          });
        }
      }
      const key = machineKey(node);
      const first = key === undefined ? undefined : seen.get(key);
      if (key !== undefined && first === undefined) seen.set(key, node);
      if (first && !partial)
        report({
          code: 'BMC_INVALID',
          message: `nodes ${first.hostname} and ${node.hostname} name the same BMC (${node.bmc.address}${node.bmc.system ? ` ${node.bmc.system}` : ''}): a script of one would power-cycle the other`,
          hint: 'Give each node the address of its own BMC (or, for a chassis with one Redfish BMC, each node its `system`).',
          node: node.hostname,
          at: nodeAt(node, 'bmc.address'),
        });
    }
  },
};
