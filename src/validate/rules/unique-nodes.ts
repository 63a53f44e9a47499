// nodes: hostnames, MACs (after normalization) and IPs must be unique across the site.
import { normalizeMac } from '../../util/mac.ts';
import type { Rule } from '../rule.ts';
import type { InventoryPath } from '../../util/paths.ts';

/** No two nodes share a hostname, a MAC or an IP. */
export const uniqueNodesRule: Rule = {
  name: 'unique-nodes',
  codes: ['NODE_DUPLICATE_HOSTNAME', 'NODE_DUPLICATE_MAC', 'NODE_DUPLICATE_IP'],
  check({ input, report }) {
    const hostnames = new Map<string, number>();
    // By node index only: a path per MAC, made for every MAC of every node, was garbage unless reported.
    const macs = new Map<string, number>();
    const ips = new Map<string, number>();
    const label = (i: number) => input.nodes?.[i]?.hostname ?? `nodes[${i}]`;
    (input.nodes ?? []).forEach((node, i) => {
      if (node.hostname !== undefined) {
        const prev = hostnames.get(node.hostname);
        if (prev !== undefined) {
          report({
            code: 'NODE_DUPLICATE_HOSTNAME',
            message: `hostname "${node.hostname}" is used by nodes[${prev}] and nodes[${i}]`,
            hint: 'Hostnames name the RKE2 nodes and the output files; give each node its own.',
            at: ['nodes', i, 'hostname'],
          });
        } else hostnames.set(node.hostname, i);
      }
      const list = node.macs ?? (node.mac !== undefined ? [node.mac] : []);
      list.forEach((raw, k) => {
        const mac = normalizeMac(raw);
        if (!mac) return;
        const prev = macs.get(mac);
        if (prev !== undefined) {
          const path: InventoryPath = node.macs ? ['nodes', i, 'macs', k] : ['nodes', i, 'mac'];
          const who = prev === i ? `node ${label(i)} twice` : `${label(prev)} and ${label(i)}`;
          report({
            code: 'NODE_DUPLICATE_MAC',
            message: `MAC ${mac}${raw !== mac ? ` (written "${raw}")` : ''} is listed for ${who}`,
            hint: 'Each NIC boots one node; MACs are compared after normalization (case and separators do not matter).',
            at: path,
          });
        } else macs.set(mac, i);
      });
      if (node.ip !== undefined) {
        const prev = ips.get(node.ip);
        if (prev !== undefined) {
          report({
            code: 'NODE_DUPLICATE_IP',
            message: `IP ${node.ip} is used by ${label(prev)} and ${label(i)}`,
            hint: 'Give each node its own address.',
            at: ['nodes', i, 'ip'],
          });
        } else ips.set(node.ip, i);
      }
    });
  },
};
