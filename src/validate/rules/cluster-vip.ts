// cluster: the VIP lives on the management network, belongs to no node and is never leased.
import { inNetwork, parseCidr, parseIpv4 } from '../../util/ipv4.ts';
import { normalizeMac } from '../../util/mac.ts';
import { clusterScope } from '../../model/index.ts';
import type { Rule } from '../rule.ts';

/** An 8-byte (EUI-64) hardware address, which Go's net.ParseMAC takes. */
const EUI64 = /^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){7}$/;

/** VIP valid, inside the network, not a node IP, not in the DHCP pool; dhcp mode has a MAC. */
export const clusterVipRule: Rule = {
  name: 'cluster-vip',
  codes: ['NET_IP_INVALID', 'CLUSTER_VIP_OUTSIDE_NETWORK', 'CLUSTER_VIP_IS_NODE_IP', 'CLUSTER_VIP_IN_DHCP_RANGE', 'CLUSTER_VIP_HW_ADDR'],
  check({ input, model, report }) {
    if (!input.cluster || !model.cluster) return;
    const at = ['cluster', 'vip'] as const;
    const vip = parseIpv4(input.cluster.vip);
    const hwAddr = input.cluster.vip_hw_addr;
    if ((model.cluster.vipMode === 'dhcp' && hwAddr === undefined) || (hwAddr !== undefined && !normalizeMac(hwAddr))) {
      report({
        code: 'CLUSTER_VIP_HW_ADDR',
        message:
          hwAddr === undefined
            ? '`vip_mode: dhcp` needs `vip_hw_addr`'
            : EUI64.test(hwAddr)
              ? // The installer's net.ParseMAC takes it; the kernel does not (test/real/installer-oracle.test.ts).
                `vip_hw_addr "${hwAddr}" is an 8-byte (EUI-64) address: the installer takes it, but the VIP's MAC goes on a macvlan interface of the management network (the installer's DHCP request for the VIP, kube-vip in the cluster), and Linux refuses any but a 6-byte Ethernet address there ("RTNETLINK answers: Invalid argument")`
              : `vip_hw_addr "${hwAddr}" is not a MAC address`,
        hint: 'Without a fixed MAC the installer leases a random VIP; set `vip_hw_addr` to a 6-byte MAC (such as 02:00:00:00:01:20) and reserve the VIP for it in DHCP.',
        at: input.cluster.vip_hw_addr === undefined ? ['cluster', 'vip_mode'] : ['cluster', 'vip_hw_addr'],
      });
    }
    const hwNorm = hwAddr !== undefined ? normalizeMac(hwAddr) : undefined;
    const owner =
      hwNorm !== undefined
        ? model.nodes.find((n) => n.macs.includes(hwNorm) || (n.boot === 'harvester' && n.interfaces.some((i) => i.mac === hwNorm)))
        : undefined;
    if (owner) {
      report({
        code: 'CLUSTER_VIP_HW_ADDR',
        message: `vip_hw_addr ${hwNorm} is a NIC of node ${owner.hostname}`,
        hint: 'The VIP gets its own MAC (a macvlan on the management interface): pick an unused locally administered MAC such as 02:00:00:00:01:20.',
        at: ['cluster', 'vip_hw_addr'],
      });
    }
    if (vip === undefined) {
      report({
        code: 'NET_IP_INVALID',
        message: `cluster.vip "${input.cluster.vip}" is not an IPv4 address`,
        hint: 'Write a dotted quad such as 192.168.122.120.',
        at,
      });
      return;
    }
    // The management network: the VLAN scope the create node is on (network.vlans), else network.cidr.
    const scope = clusterScope(model);
    const mgmt = scope
      ? {
          cidr: scope.cidr,
          gateway: scope.gateway,
          server: scope.server as string | undefined,
          start: scope.dhcpStart,
          end: scope.dhcpEnd,
          range: `${scope.dhcpStart}-${scope.dhcpEnd}`,
        }
      : {
          cidr: input.network.cidr,
          gateway: input.network.gateway,
          server: undefined,
          start: model.network.ipv4?.dhcpStart,
          end: model.network.ipv4?.dhcpEnd,
          range: input.network.dhcp_range,
        };
    const net = mgmt.cidr !== undefined ? parseCidr(mgmt.cidr).net : undefined;
    if (
      net &&
      (!inNetwork(vip, net) ||
        vip === net.address ||
        vip === net.broadcast ||
        input.cluster.vip === mgmt.gateway ||
        input.cluster.vip === mgmt.server)
    ) {
      report({
        code: 'CLUSTER_VIP_OUTSIDE_NETWORK',
        message: `cluster.vip ${input.cluster.vip} is not a free host address of ${mgmt.cidr}${scope ? ` (VLAN ${scope.id}, the create node's)` : ''}`,
        hint: "The VIP must be an unused address on the management network (not the network, broadcast or gateway address, nor the boot server's).",
        at,
      });
    }
    for (const node of model.nodes) {
      if (node.ip === input.cluster.vip) {
        report({
          code: 'CLUSTER_VIP_IS_NODE_IP',
          message: `cluster.vip ${input.cluster.vip} is also the ip of node ${node.hostname}`,
          hint: 'The VIP floats between nodes; give it an address of its own.',
          at,
        });
      }
    }
    const start = parseIpv4(mgmt.start ?? '');
    const end = parseIpv4(mgmt.end ?? '');
    if (start !== undefined && end !== undefined && vip >= start && vip <= end) {
      report({
        code: 'CLUSTER_VIP_IN_DHCP_RANGE',
        message: `cluster.vip ${input.cluster.vip} lies inside the dynamic DHCP range ${mgmt.range}`,
        hint: 'Move the VIP out of the range or shrink the range; DHCP could lease the VIP to a machine.',
        at,
      });
    }
  },
};
