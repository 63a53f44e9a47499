// nodes: link settings the installer (or its TUI) range-checks.
import { mediumOf } from '../../derive/media/index.ts';
import { nicNameFor } from '../../derive/harvester/cmdline.ts';
import { effectiveConfig } from '../../derive/harvester/effective.ts';
import { nodeAt, scopeOf } from '../../model/index.ts';
import type { HarvesterNode } from '../../model/types.ts';
import { normalizeMac } from '../../util/mac.ts';
import { eachNode, type Rule, type RuleContext } from '../rule.ts';

/**
 * MTU 576-9000 for a static node only, as the installer checks it (checkNetworks calls checkMTU in
 * its `static` case alone: a DHCP node's MTU is written unchecked), VLAN 1-4094; the boot MAC in the
 * management bond.
 */
export const nodeLinkRule: Rule = {
  name: 'node-link',
  codes: [
    'NODE_MTU_RANGE',
    'NODE_VLAN_RANGE',
    'NODE_VLAN_INSTALLER_UNTAGGED',
    'NODE_VLAN_CONFIG_MISMATCH',
    'NODE_BOOT_MAC_NOT_BONDED',
    'NODE_IP_NEEDED',
    'BOOT_UNKNOWN_JOIN_DHCP',
  ],
  check(ctx) {
    eachNode(ctx, 'node-link', (node, report) => {
      // The management interface is the Harvester installer's (other kinds report these as ignored).
      if (node.boot !== 'harvester') return;
      if (node.method === 'static' && node.mtu !== undefined && (node.mtu < 576 || node.mtu > 9000)) {
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
      } else if (node.vlan !== undefined && node.vlan > 1 && mediumOf(node).tagsVlan && scopeOf(ctx.model, node) === undefined) {
        // (On a VLAN scope of the site an untagged installer is an error: NODE_VLAN_SCOPE_MISMATCH.)
        // The installer tags only a boot NIC the inventory names (cmdline.ts); a medium that tags no VLAN has its own warning (media).
        const unnamed = node.macs.filter((mac) => nicNameFor(node, mac) === undefined);
        if (unnamed.length > 0) {
          report({
            code: 'NODE_VLAN_INSTALLER_UNTAGGED',
            message: `node ${node.hostname} is on VLAN ${node.vlan}, but no interface names its boot NIC ${unnamed.join(', ')}: its installer runs untagged (only the installed system tags the VLAN, as its config says)`,
            hint: "Name the boot NIC (`interfaces: [{ name: <nic>, mac: <boot MAC> }]`, the name the installed system gives it) so that the installer tags the VLAN too; or keep it, when the install runs on the port's native VLAN and reaches the boot server there.",
            node: node.hostname,
            at: nodeAt(node, 'vlan'),
          });
        }
      }
      checkVlanAgreesWithConfig(ctx, node, report);
      // Several DHCP servers: the installer's address comes from its kernel line, the node's `ip`.
      if (ctx.model.network.dhcpServers === 'several' && node.ip === undefined) {
        report({
          code: 'NODE_IP_NEEDED',
          message: `node ${node.hostname} has no \`ip\`, and its network has several DHCP servers (\`network.dhcp_servers: several\`): its installer would ask DHCP, which any of them may answer`,
          hint: 'Give the node its address (`ip:`, reserved for it on every DHCP server that answers there), or say `network.dhcp_servers: one` if only one server answers on this network.',
          node: node.hostname,
          at: nodeAt(node, 'hostname'),
        });
      }
      checkBootMacBonded(ctx.input, node, report);
    });
    if (ctx.model.network.dhcpServers === 'several' && ctx.model.unknownJoin) {
      ctx.report({
        code: 'BOOT_UNKNOWN_JOIN_DHCP',
        message:
          'an unknown machine joining (`boot.unknown: join`) has no address of its own, so its installer asks DHCP on a network with several DHCP servers (`network.dhcp_servers: several`)',
        hint: 'Add the machine to the inventory with its `ip` once it has reported (`harvgen discover`), or make sure only one DHCP server answers unknown MACs.',
        at: ['network', 'dhcp_servers'],
      });
    }
  },
};

/**
 * The NIC a node boots from should be in its management bond: the installer bonds only the
 * `interfaces` it is given (it does not fail: the NIC exists), so a boot MAC in none of them is
 * most likely a typo, and the installed node neither uses the NIC it booted from nor, with DHCP,
 * asks for its address with a MAC harvgen reserved the node's IP for. Only judged when every
 * interface names a valid MAC (a NIC given by name alone may be the boot NIC) and the boot MACs
 * are valid (a malformed one is reported by node-identity).
 */
function checkBootMacBonded(input: RuleContext['input'], node: HarvesterNode, report: RuleContext['report']): void {
  if (!node.sources.interfaces || node.interfaces.length === 0) return;
  const bonded = node.interfaces.map((nic) => (nic.mac !== undefined ? normalizeMac(nic.mac) : undefined));
  if (bonded.some((m) => m === undefined) || node.macs.some((m) => normalizeMac(m) === undefined)) return;
  if (node.macs.some((m) => bonded.includes(m))) return;
  const written = input.nodes?.[node.index];
  const at = written?.macs !== undefined ? ['nodes', node.index, 'macs', 0] : ['nodes', node.index, 'mac'];
  const mac = node.macs[0];
  if (mac === undefined || (written?.macs === undefined && written?.mac === undefined)) return;
  const dhcp = node.method !== 'static';
  report({
    code: 'NODE_BOOT_MAC_NOT_BONDED',
    node: node.hostname,
    message: `boot MAC ${mac} of node ${node.hostname} is in none of its interfaces (the management bond: ${bonded.join(', ')}), so the installed node does not use the NIC it booted from`,
    hint:
      `Check the MACs for a typo; if the node boots from this NIC, add it to \`interfaces\` (\`- mac: ${mac}\`), or boot it from the MAC of a bonded NIC.` +
      (dhcp
        ? ` With \`method: dhcp\` the bond asks for its address with the MAC of a bonded NIC, not with the boot MAC harvgen reserved the node's IP for.`
        : ''),
    at,
  });
}

/** A tag the installer makes a VLAN interface for: 2-4094 (0 and 1 are untagged: cos.go needVlanInterface). */
function tagOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 2 && v <= 4094 ? v : undefined;
}

/**
 * The node's `vlan` (what its kernel line tags: src/derive/harvester/cmdline.ts) against the
 * `vlan_id` its `config:` writes (what the installed system tags, and what an automatic DHCP
 * install re-applies during the install from v1.4): one VLAN, or the node ends on the wrong one.
 */
function checkVlanAgreesWithConfig(ctx: RuleContext, node: HarvesterNode, report: Parameters<Parameters<typeof eachNode>[2]>[1]): void {
  // Without `vlan:` a `config:` vlan_id is the node's one VLAN setting (the installed system's).
  // `vlan: 0` (no VLAN: the model holds none) is the untagged VLAN the kernel line boots on.
  const vlan = node.vlan ?? (node.sources.vlan !== undefined ? 0 : undefined);
  if (vlan === undefined) return;
  const cfg = effectiveConfig(ctx.model, node);
  if (cfg.origin('install.management_interface.vlan_id') !== 'config') return;
  const given = cfg.get('install.management_interface.vlan_id');
  if (tagOf(given) === tagOf(vlan)) return;
  report({
    code: 'NODE_VLAN_CONFIG_MISMATCH',
    node: node.hostname,
    message: `node ${node.hostname} is on ${tagOf(vlan) !== undefined ? `VLAN ${vlan}` : `untagged VLAN ${vlan}`} (\`vlan\`), but its \`config:\` sets install.management_interface.vlan_id ${JSON.stringify(given)}: its installer boots on the one (the kernel line) and the installed system tags the other`,
    hint: 'Say the VLAN once, with `vlan:` (harvgen writes vlan_id and the kernel line from it), and remove vlan_id from `config:`.',
    at: cfg.at('install.management_interface.vlan_id'),
  });
}
