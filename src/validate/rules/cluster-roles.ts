// cluster: exactly one node creates the cluster; the rest join it.
import type { Rule } from '../rule.ts';

/** A site has nodes, exactly one of them with role create. */
export const clusterRolesRule: Rule = {
  name: 'cluster-roles',
  codes: ['CLUSTER_NO_NODES', 'CLUSTER_NO_CREATE_NODE', 'CLUSTER_MULTIPLE_CREATE_NODES'],
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
    const creates = model.nodes.filter((n) => n.role === 'create');
    if (creates.length === 0) {
      report({
        code: 'CLUSTER_NO_CREATE_NODE',
        message: 'no node has `role: create`; every node joins a cluster that nobody creates',
        hint: 'Set `role: create` on exactly one node (or drop `role` from the first node: it creates by default).',
        at: ['nodes', 0, 'role'],
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
