// nodes: a node's address must fit the management network, stay out of the dynamic DHCP
// pool (dnsmasq could hand it to another machine), and static nodes need full addressing.
import { formatIpv4, inNetwork, maskToPrefix, parseCidr, parseIpv4, prefixToMask } from '../../util/ipv4.ts';
import { nodeAt } from '../../model/index.ts';
import type { Rule } from '../rule.ts';

/** Node IPs inside the network, not reserved, not in the DHCP pool; static nodes complete. */
export const nodeAddressRule: Rule = {
  name: 'node-address',
  codes: [
    'NET_IP_INVALID',
    'NODE_IP_OUTSIDE_NETWORK',
    'NODE_IP_RESERVED',
    'NODE_IP_IN_DHCP_RANGE',
    'NODE_STATIC_WITHOUT_IP',
    'NODE_STATIC_WITHOUT_DNS',
    'NODE_NETMASK_INVALID',
    'NODE_GATEWAY_OUTSIDE',
  ],
  check({ input, model, report }) {
    const net = parseCidr(input.network.cidr).net;
    const gw = parseIpv4(input.network.gateway);
    const start = parseIpv4(model.network.dhcpStart);
    const end = parseIpv4(model.network.dhcpEnd);
    for (const node of model.nodes) {
      const name = node.hostname || `nodes[${node.index}]`;
      if (node.method === 'static' && node.ip === undefined) {
        report({
          code: 'NODE_STATIC_WITHOUT_IP',
          message: `node ${name} has \`method: static\` but no \`ip\``,
          hint: 'Add `ip:` to the node, or use `method: dhcp`.',
          node: node.hostname,
          at: nodeAt(node, 'method'),
        });
      }
      if (node.method === 'static' && node.dns.length === 0) {
        report({
          code: 'NODE_STATIC_WITHOUT_DNS',
          message: `node ${name} is statically addressed but has no DNS servers`,
          hint: 'The installer refuses static addressing without `dns_nameservers`: set `dns:` on the node or in `network.dns`.',
          node: node.hostname,
          at: nodeAt(node, 'dns'),
        });
      }
      // Gateway and DNS servers land on static kernel lines and in DHCP-less configs: IPv4 only.
      if (node.sources.gateway && parseIpv4(node.gateway) === undefined) {
        report({
          code: 'NET_IP_INVALID',
          message: `gateway "${node.gateway}" of node ${name} is not an IPv4 address`,
          hint: 'Write a dotted quad such as 192.168.122.1.',
          node: node.hostname,
          at: nodeAt(node, 'gateway'),
        });
      }
      const dnsAt = node.sources.dns;
      if (dnsAt) {
        node.dns.forEach((d, k) => {
          if (parseIpv4(d) !== undefined) return;
          report({
            code: 'NET_IP_INVALID',
            message: `DNS server "${d}" of node ${name} is not an IPv4 address`,
            hint: 'Write a dotted quad such as 192.168.122.1.',
            node: node.hostname,
            at: [...dnsAt, k],
          });
        });
      }
      const input_ = input.nodes?.[node.index];
      if (input_?.prefix !== undefined && input_.netmask !== undefined) {
        report({
          code: 'NODE_NETMASK_INVALID',
          message: `node ${name} sets both \`prefix\` and \`netmask\``,
          hint: 'Keep one of them.',
          at: ['nodes', node.index, 'netmask'],
          target: 'key',
        });
      }
      const maskIn = input_?.netmask ?? (input_?.prefix === undefined ? input.defaults?.netmask : undefined);
      if (maskIn !== undefined) {
        const mask = parseIpv4(maskIn);
        if (mask === undefined || maskToPrefix(mask) === undefined) {
          report({
            code: 'NODE_NETMASK_INVALID',
            message: `netmask "${maskIn}" of node ${name} is not a contiguous IPv4 netmask`,
            hint: 'Write e.g. 255.255.255.0, or use `prefix: 24`.',
            node: node.hostname,
            at: nodeAt(node, 'netmask'),
          });
        }
      }
      if (node.ip === undefined) continue;
      const ip = parseIpv4(node.ip);
      const at = nodeAt(node, 'ip');
      if (ip === undefined) {
        report({
          code: 'NET_IP_INVALID',
          message: `ip "${node.ip}" of node ${name} is not an IPv4 address`,
          hint: 'Write a dotted quad such as 192.168.122.11 (dnsmasq would read anything else as a host name).',
          at,
        });
        continue;
      }
      if (net && !inNetwork(ip, net)) {
        report({
          code: 'NODE_IP_OUTSIDE_NETWORK',
          message: `ip ${node.ip} of node ${name} is outside network ${input.network.cidr}`,
          hint: `Use an address between ${formatIpv4(net.address + 1)} and ${formatIpv4(net.broadcast - 1)}.`,
          at,
        });
      } else if (net && (ip === net.address || ip === net.broadcast)) {
        report({
          code: 'NODE_IP_RESERVED',
          message: `ip ${node.ip} of node ${name} is the ${ip === net.address ? 'network' : 'broadcast'} address of ${input.network.cidr}`,
          hint: 'Pick a host address.',
          at,
        });
      } else if (ip === gw) {
        report({
          code: 'NODE_IP_RESERVED',
          message: `ip ${node.ip} of node ${name} is the gateway address`,
          hint: 'Pick an address that no other device uses.',
          at,
        });
      } else if (start !== undefined && end !== undefined && ip >= start && ip <= end) {
        report({
          code: 'NODE_IP_IN_DHCP_RANGE',
          message: `ip ${node.ip} of node ${name} lies inside the dynamic DHCP range ${input.network.dhcp_range}`,
          hint: 'Move the node IP out of the range (or shrink the range): the DHCP server may hand it to another machine.',
          at,
        });
      }
      if (node.method === 'static') {
        const gwNode = parseIpv4(node.gateway);
        const mask = prefixToMask(node.prefix);
        if (gwNode !== undefined && (gwNode & mask) >>> 0 !== (ip & mask) >>> 0) {
          report({
            code: 'NODE_GATEWAY_OUTSIDE',
            message: `gateway ${node.gateway} of node ${name} is not in its subnet ${formatIpv4((ip & mask) >>> 0)}/${node.prefix}`,
            hint: 'Fix the gateway or the prefix/netmask.',
            node: node.hostname,
            at: nodeAt(node, 'gateway'),
          });
        }
      }
    }
  },
};
