// nginx.access / nginx.real_ip: a node without a fixed `ip` can only be told apart from the other
// machines of the DHCP pool by its address, which it does not have until it leases one, so its
// files are served to the whole pool (src/render/access.ts); say so. The proxies of `real_ip`
// are whole blocks (nginx ignores host bits silently).
import { servedConfigs } from '../../derive/configs/index.ts';
import { inNetwork, parseCidr, parseIpv4 } from '../../util/ipv4.ts';
import { scopeOf } from '../../model/index.ts';
import { eachNode, type Rule } from '../rule.ts';
import { servedOverIpv6 } from '../../derive/dhcp-boot.ts';

/** Nodes whose files any pool address may read; `nginx.real_ip.from` blocks without host bits. */
export const nginxAccessRule: Rule = {
  name: 'nginx-access',
  codes: ['NODE_FILES_OPEN_TO_POOL', 'NET_CIDR_INVALID', 'NGINX_VERIFY_FROM_NODES'],
  check(ctx) {
    const { input, model, report } = ctx;
    verifyFromProblems(ctx);
    (input.nginx?.real_ip?.from ?? []).forEach((block, k) => {
      const cidr = block.includes('/') ? block : `${block}/32`;
      const { problem } = parseCidr(cidr);
      if (problem === undefined) return;
      report({
        code: 'NET_CIDR_INVALID',
        message: `nginx.real_ip.from "${block}" ${problem}`,
        hint: 'Write the address of the proxy, or the network address of its block (e.g. 10.0.0.0/28).',
        at: ['nginx', 'real_ip', 'from', k],
      });
    });
    if (model.nginx.access !== 'nodes') return;
    const { ipv4, ipv6 } = model.network;
    eachNode(ctx, 'nginx-access', (node, report) => {
      // A pool a node without a reserved address leases from: IPv4's (no `ip`), else IPv6's (no `ip6`).
      // Who is served over IPv6: access.ts, servedOverIpv6.
      // A node on a VLAN scope (network.vlans) leases on the VLAN: its pool is the scope's (none: NODE_VLAN_SCOPE_MISMATCH).
      const scope = scopeOf(model, node);
      const scopePool = scope?.dhcpStart !== undefined ? { dhcpStart: scope.dhcpStart, dhcpEnd: scope.dhcpEnd ?? '' } : undefined;
      const pool =
        ipv4 && node.ip === undefined
          ? scope
            ? scopePool
            : ipv4.dhcpStart !== undefined
              ? ipv4
              : undefined
          : ipv6 && node.ip6 === undefined && servedOverIpv6(model, node)
            ? ipv6
            : undefined;
      if (pool === undefined) return;
      // What the node is served (src/derive/configs/): a Harvester config matters whatever the
      // node's state, a seed only for a node that boots the network.
      const served = servedConfigs(node).find((c) => c.format.exposedWhenLocal || node.state !== 'local');
      if (served === undefined) return;
      const { title, holds } = served.format;
      const what = holds === title ? title : `${title} (${holds})`;
      report({
        code: 'NODE_FILES_OPEN_TO_POOL',
        node: node.hostname,
        message: `node ${node.hostname} has no \`${pool !== ipv6 ? 'ip' : 'ip6'}\`: it leases a pool address, so its ${what} is served to every address of the DHCP pool (${pool.dhcpStart}-${pool.dhcpEnd}), not to this node alone`,
        hint:
          pool !== ipv6
            ? `Give the node an \`ip\` (a DHCP reservation outside the pool, or \`method: static\`); nginx then serves its files to that address only. Or set \`nginx.access: open\` if something else restricts who reaches the boot server.`
            : `Give the node an \`ip6\` (a DHCPv6 reservation outside the pool); nginx then serves its files to that address only. Or set \`nginx.access: open\` if something else restricts who reaches the boot server.`,
        at: ['nodes', node.index],
      });
    });
  },
};

/**
 * `nginx.verify_from`: hosts that read every node's files (harvgen verify). A block that holds a
 * node's address or part of a DHCP pool would serve them to machines of the site: refused.
 */
function verifyFromProblems({ input, model, report }: Parameters<Rule['check']>[0]): void {
  const nodes = model.nodes.flatMap((n) => (n.ip !== undefined ? [{ ip: n.ip, name: n.hostname }] : []));
  const pools = [
    ...(model.network.ipv4?.dhcpStart !== undefined && model.network.ipv4.dhcpEnd !== undefined
      ? [{ start: model.network.ipv4.dhcpStart, end: model.network.ipv4.dhcpEnd, what: 'the DHCP pool' }]
      : []),
    ...model.network.vlans.flatMap((v) =>
      v.dhcpStart !== undefined && v.dhcpEnd !== undefined ? [{ start: v.dhcpStart, end: v.dhcpEnd, what: `VLAN ${v.id}'s pool` }] : [],
    ),
  ];
  (input.nginx?.verify_from ?? []).forEach((block, k) => {
    const { net, problem } = parseCidr(block.includes('/') ? block : `${block}/32`);
    if (problem !== undefined || net === undefined) {
      report({
        code: 'NET_CIDR_INVALID',
        message: `nginx.verify_from "${block}" ${problem ?? 'is no address or block'}`,
        hint: 'Write the address of the host that runs harvgen verify, or the network address of its block (e.g. 10.0.0.8/30).',
        at: ['nginx', 'verify_from', k],
      });
      return;
    }
    const node = nodes.find((n) => {
      const ip = parseIpv4(n.ip);
      return ip !== undefined && inNetwork(ip, net);
    });
    const pool = pools.find((p) => {
      const a = parseIpv4(p.start);
      const b = parseIpv4(p.end);
      return a !== undefined && b !== undefined && a <= net.broadcast && b >= net.address;
    });
    if (node === undefined && pool === undefined) return;
    report({
      code: 'NGINX_VERIFY_FROM_NODES',
      message: `nginx.verify_from "${block}" holds ${node !== undefined ? `node ${node.name}'s address ${node.ip}` : `part of ${pool!.what} (${pool!.start}-${pool!.end})`}: every node's config would be served to it`,
      hint: "List only the hosts that run harvgen verify (an operator workstation, a CI runner), outside the nodes' addresses and the pools; or run verify on the boot server itself, which needs no entry.",
      at: ['nginx', 'verify_from', k],
    });
  });
}
