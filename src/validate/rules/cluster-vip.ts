// cluster: the VIP lives on the management network, belongs to no node and is never leased.
import { inNetwork, parseCidr, parseIpv4 } from '../../util/ipv4.ts';
import { normalizeMac } from '../../util/mac.ts';
import { clusterScope } from '../../model/index.ts';
import type { Rule, RuleContext } from '../rule.ts';

/** An 8-byte (EUI-64) hardware address, which Go's net.ParseMAC takes. */
const EUI64 = /^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){7}$/;

/** VIP valid, inside the network, not a node IP, not in the DHCP pool; dhcp mode has a MAC. */
export const clusterVipRule: Rule = {
  name: 'cluster-vip',
  codes: ['NET_IP_INVALID', 'CLUSTER_VIP_OUTSIDE_NETWORK', 'CLUSTER_VIP_IS_NODE_IP', 'CLUSTER_VIP_IN_DHCP_RANGE', 'CLUSTER_VIP_HW_ADDR'],
  check(ctx) {
    const { input, model, report } = ctx;
    if (!input.cluster || !model.cluster) return;
    checkHwAddr(ctx);
    const vip = parseIpv4(input.cluster.vip);
    if (vip === undefined) {
      report({
        code: 'NET_IP_INVALID',
        message: `cluster.vip "${input.cluster.vip}" is not an IPv4 address`,
        hint: 'Write a dotted quad such as 192.168.122.120.',
        at: ['cluster', 'vip'],
      });
      return;
    }
    checkVipPlace(ctx, vip);
  },
};

/** `vip_hw_addr`: given with `vip_mode: dhcp`, a 6-byte MAC, and no node's NIC. */
function checkHwAddr({ input, model, report }: RuleContext): void {
  const hwAddr = input.cluster!.vip_hw_addr;
  if ((model.cluster!.vipMode === 'dhcp' && hwAddr === undefined) || (hwAddr !== undefined && !normalizeMac(hwAddr))) {
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
      at: hwAddr === undefined ? ['cluster', 'vip_mode'] : ['cluster', 'vip_hw_addr'],
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
}

/** The VIP is a free host address of the management network: no node's, outside the pool. */
function checkVipPlace(ctx: RuleContext, vip: number): void {
  const { input, model, report } = ctx;
  const at = ['cluster', 'vip'] as const;
  const text = input.cluster!.vip;
  const mgmt = managementNetwork(ctx);
  const net = mgmt.cidr !== undefined ? parseCidr(mgmt.cidr).net : undefined;
  if (net && (!inNetwork(vip, net) || vip === net.address || vip === net.broadcast || text === mgmt.gateway || text === mgmt.server)) {
    report({
      code: 'CLUSTER_VIP_OUTSIDE_NETWORK',
      message: `cluster.vip ${text} is not a free host address of ${mgmt.cidr}${mgmt.vlan !== undefined ? ` (VLAN ${mgmt.vlan}, the create node's)` : ''}`,
      hint: "The VIP must be an unused address on the management network (not the network, broadcast or gateway address, nor the boot server's).",
      at,
    });
  }
  for (const node of model.nodes) {
    if (node.ip === text) {
      report({
        code: 'CLUSTER_VIP_IS_NODE_IP',
        message: `cluster.vip ${text} is also the ip of node ${node.hostname}`,
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
      message: `cluster.vip ${text} lies inside the dynamic DHCP range ${mgmt.range}`,
      hint: 'Move the VIP out of the range or shrink the range; DHCP could lease the VIP to a machine.',
      at,
    });
  }
}

/** The management network: the VLAN scope the create node is on (network.vlans), else network.cidr. */
function managementNetwork({ input, model }: RuleContext): {
  cidr: string | undefined;
  gateway: string | undefined;
  server: string | undefined;
  start: string | undefined;
  end: string | undefined;
  range: string | undefined;
  vlan: number | undefined;
} {
  const scope = clusterScope(model);
  return scope
    ? {
        cidr: scope.cidr,
        gateway: scope.gateway,
        server: scope.server,
        start: scope.dhcpStart,
        end: scope.dhcpEnd,
        range: `${scope.dhcpStart}-${scope.dhcpEnd}`,
        vlan: scope.id,
      }
    : {
        cidr: input.network.cidr,
        gateway: input.network.gateway,
        server: undefined,
        start: model.network.ipv4?.dhcpStart,
        end: model.network.ipv4?.dhcpEnd,
        range: input.network.dhcp_range,
        vlan: undefined,
      };
}
