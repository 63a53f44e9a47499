// nodes: link settings the installer (or its TUI) range-checks.
import { nicNameFor } from '../../derive/harvester/cmdline.ts';
import { nodeAt } from '../../model/index.ts';
import type { Rule } from '../rule.ts';

/** MTU 576-9000 and VLAN 1-4094 (the installer only checks MTU for static nodes; harvgen always does). */
export const nodeLinkRule: Rule = {
  name: 'node-link',
  codes: ['NODE_MTU_RANGE', 'NODE_VLAN_RANGE', 'NODE_VLAN_NAME_TOO_LONG'],
  check({ model, report }) {
    for (const node of model.nodes) {
      // The management interface is the Harvester installer's (other kinds report these as ignored).
      if (node.boot !== 'harvester') continue;
      if (node.mtu !== undefined && (node.mtu < 576 || node.mtu > 9000)) {
        report({
          code: 'NODE_MTU_RANGE',
          message: `mtu ${node.mtu} of node ${node.hostname} is outside 576-9000`,
          hint: 'Use 1500 (Ethernet) or up to 9000 for jumbo frames.',
          node: node.hostname,
          at: nodeAt(node, 'mtu'),
        });
      }
      if (node.vlan !== undefined && (node.vlan < 1 || node.vlan > 4094)) {
        report({
          code: 'NODE_VLAN_RANGE',
          message: `vlan ${node.vlan} of node ${node.hostname} is outside 1-4094`,
          hint: 'Use the VLAN ID of the management network, or remove `vlan` for an untagged network.',
          node: node.hostname,
          at: nodeAt(node, 'vlan'),
        });
      } else if (node.vlan !== undefined && node.vlan > 1) {
        // The installer's initrd names the tagged interface <nic>.<vlan>: Linux allows 15 characters.
        for (const mac of node.macs) {
          const nic = nicNameFor(node, mac);
          if (nic === undefined || `${nic}.${node.vlan}`.length <= 15) continue;
          report({
            code: 'NODE_VLAN_NAME_TOO_LONG',
            message: `the tagged interface ${nic}.${node.vlan} of node ${node.hostname} has ${nic.length + 1 + String(node.vlan).length} characters; Linux allows 15`,
            hint: 'Use a shorter NIC name in `interfaces` (the VLAN interface is named <nic>.<vlan>).',
            node: node.hostname,
            at: nodeAt(node, 'interfaces'),
          });
          break;
        }
      }
    }
  },
};
