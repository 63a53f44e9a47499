// cluster: exactly one node creates the cluster and the rest join it; once the cluster exists
// (`cluster.created`), every node joins, so no reinstall can make a second cluster.
import type { ResolvedNode } from '../../model/index.ts';
import type { Rule } from '../rule.ts';

/** The procedure that takes a node out of a cluster before it is reinstalled (Harvester docs, Host Management, "Deleting a Node"). */
function removeFirst(node: ResolvedNode): string {
  return `take ${node.hostname} out of the cluster first (Harvester UI: Hosts > ${node.hostname} > Enable Maintenance Mode, then run /opt/rke2/bin/rke2-uninstall.sh on it and Hosts > Delete)`;
}

/** A site has nodes, exactly one of them with role create (none once the cluster exists). */
export const clusterRolesRule: Rule = {
  name: 'cluster-roles',
  codes: [
    'CLUSTER_NO_NODES',
    'CLUSTER_NO_CREATE_NODE',
    'CLUSTER_MULTIPLE_CREATE_NODES',
    'CLUSTER_SECTION_MISSING',
    'CLUSTER_ALREADY_CREATED',
    'CLUSTER_CREATE_NODE_REINSTALL',
  ],
  check({ input, model, partial, report }) {
    // A node left out (its kind could not be resolved) may be the one that creates, or the only one.
    if (partial) return;
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
    const vip = model.cluster?.vip ?? '';
    if (model.cluster?.created) {
      // Only an explicit `role: create` can be left: installing it would start a new cluster.
      for (const n of creates) {
        report({
          code: 'CLUSTER_ALREADY_CREATED',
          message: `node ${n.hostname} has \`role: create\`, but \`cluster.created\` says the cluster at ${vip} exists: installing ${n.hostname} in create mode would start a second cluster with the same VIP`,
          hint: `Remove \`role: create\`: ${n.hostname} then installs as a joining node to https://${vip}:443. To reinstall it, ${removeFirst(n)}.`,
          node: n.hostname,
          at: ['nodes', n.index, 'role'],
        });
      }
      return;
    }
    // The create node reinstalls on every boot while other nodes keep what they installed:
    // once those have joined, its next install makes a second cluster (the README's reinstall
    // workflow applied to the create node).
    // Certain (an error) when another node is `local`, or when `state: install` was set on the
    // create node itself (the reinstall workflow); likely (a warning) when the create node merely
    // keeps the default while others install once.
    const creator = creates[0];
    const kept = harvester.filter((n) => n !== creator && (n.state === 'local' || n.state === 'install-once'));
    if (creator && creator.state === 'install' && kept.length > 0) {
      const certain = kept.some((n) => n.state === 'local') || creator.sources.state?.[0] === 'nodes';
      const names = kept.slice(0, 3).map((n) => `${n.hostname} (state: ${n.state})`);
      report({
        code: 'CLUSTER_CREATE_NODE_REINSTALL',
        message: `node ${creator.hostname} creates the cluster and installs on every network boot (state: install), while ${names.join(', ')}${kept.length > 3 ? ` and ${kept.length - 3} more` : ''} ${kept.length === 1 ? 'keeps its' : 'keep their'} installed system: once ${kept.length === 1 ? 'it has' : 'they have'} joined, reinstalling ${creator.hostname} in create mode starts a second cluster at ${vip}`,
        hint: `If the cluster exists, set \`cluster.created: true\` (${creator.hostname} then reinstalls as a joining node to https://${vip}:443) and ${removeFirst(creator)}. If this is the first install, give ${creator.hostname} the state of the others.`,
        node: creator.hostname,
        ...(certain ? {} : { severity: 'warning' as const }),
        at: creator.sources.state ?? ['nodes', creator.index],
        ...(creator.sources.state ? {} : { target: 'key' as const }),
      });
    }
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
