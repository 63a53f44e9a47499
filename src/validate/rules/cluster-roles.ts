// cluster: exactly one node creates the cluster; the rest join it.
import type { Rule } from '../rule.ts';

/** A site has nodes, exactly one of them with role create. */
export const clusterRolesRule: Rule = {
  name: 'cluster-roles',
  codes: ['CLUSTER_NO_NODES', 'CLUSTER_NO_CREATE_NODE', 'CLUSTER_MULTIPLE_CREATE_NODES', 'CLUSTER_SECTION_MISSING'],
  check({ input, model, report }) {
    if (model.nodes.length === 0) {
      report({
        code: 'CLUSTER_NO_NODES',
        message: `site ${model.site} has no nodes`,
        hint: 'Add a `nodes:` list to site.yaml or one file per node under nodes/.',
        at: input.nodes ? ['nodes'] : [],
      });
      return;
    }
    // Generic OS and iSCSI nodes are no part of the cluster; a site of only those has none.
    const harvester = model.nodes.filter((n) => n.boot === 'harvester');
    if (harvester.length === 0) return;
    const missing = [...(input.harvester ? [] : ['`harvester:`']), ...(input.cluster ? [] : ['`cluster:`'])];
    if (missing.length > 0) {
      const first = harvester[0]!;
      report({
        code: 'CLUSTER_SECTION_MISSING',
        message: `node ${first.hostname} installs Harvester, but the site has no ${missing.join(' and no ')} section`,
        hint: 'Add the missing section (release, VIP, token), or give the node `os: <profile>` or `iscsi:` if it does not run Harvester.',
        at: first.sources.os ?? ['nodes', first.index],
        ...(first.sources.os ? {} : { target: 'key' as const }),
      });
      return;
    }
    const creates = harvester.filter((n) => n.role === 'create');
    if (creates.length === 0) {
      report({
        code: 'CLUSTER_NO_CREATE_NODE',
        message: 'no node has `role: create`; every node joins a cluster that nobody creates',
        hint: 'Set `role: create` on exactly one node (or drop `role` from the first node: it creates by default).',
        at: ['nodes', harvester[0]!.index, 'role'],
      });
    }
    for (const extra of creates.slice(1)) {
      report({
        code: 'CLUSTER_MULTIPLE_CREATE_NODES',
        message: `node ${extra.hostname} has \`role: create\` but ${creates[0]!.hostname} already creates the cluster`,
        hint: 'A cluster is created once; set `role: join` on the other nodes.',
        at: ['nodes', extra.index, 'role'],
      });
    }
  },
};
