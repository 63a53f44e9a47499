// cluster: exactly one node creates the cluster and the rest join it; once the cluster exists
// (`cluster.created`), every node joins, so no reinstall can make a second cluster.
import type { ResolvedNode } from '../../model/index.ts';
import type { HarvesterNode } from '../../model/index.ts';
import { effectiveConfig } from '../../derive/harvester/effective.ts';
import type { Finding, Rule } from '../rule.ts';
import { memoEach } from '../../model/memo.ts';

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
  check({ input, model, partial, report, memo }) {
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
    // What the installer does is the config's `install.mode`: `role`, or a `config:` key over it.
    const mode = (n: HarvesterNode) => effectiveConfig(model, n);
    // Which nodes install in create mode, kept per node (memoEach: one node's config alone).
    const creating = memoEach(
      memo,
      'cluster-roles/create',
      model.nodes,
      (n) => n.boot === 'harvester' && mode(n).get('install.mode') === 'create',
    );
    const creates: HarvesterNode[] = [];
    model.nodes.forEach((n, i) => creating[i] && creates.push(n as HarvesterNode));
    const vip = model.cluster?.vip ?? '';
    if (model.cluster?.created) {
      // Only an explicit `role: create` (or `install.mode` under `config:`) can be left:
      // installing it would start a new cluster.
      for (const n of creates) {
        const setBy = mode(n).origin('install.mode') === 'config' ? '`install.mode: create` under `config:`' : '`role: create`';
        report({
          code: 'CLUSTER_ALREADY_CREATED',
          message: `node ${n.hostname} has ${setBy}, but \`cluster.created\` says the cluster at ${vip} exists: installing ${n.hostname} in create mode would start a second cluster with the same VIP`,
          hint: `Remove ${setBy}: ${n.hostname} then installs as a joining node to https://${vip}:443. To reinstall it, ${removeFirst(n)}.`,
          node: n.hostname,
          at: mode(n).at('install.mode'),
        });
      }
      return;
    }
    // Without `cluster.created`, the create node's config stays `mode: create`: any way it
    // installs again once other nodes may hold the cluster starts a second cluster at the VIP.
    const creator = creates[0];
    const others = harvester.filter((n) => n !== creator);
    if (creator && others.length > 0) {
      for (const f of createNodeReinstalls(creator, others, vip)) report(f);
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
        message: `node ${extra.hostname} installs in create mode (${mode(extra).origin('install.mode') === 'config' ? '`install.mode` under `config:`' : '`role: create`'}) but ${creates[0]!.hostname} already creates the cluster`,
        hint: 'A cluster is created once; set `role: join` on the other nodes, and set no `install.mode` under `config:`.',
        at: mode(extra).at('install.mode'),
      });
    }
  },
};

/**
 * Every way the create node installs again in create mode while other nodes may hold the
 * cluster: a reinstall generation (its own, a profile's or `defaults:`'s; a first one added to an
 * installed node included: each new generation installs once more), and `state: install` (from
 * any layer, the built-in default included) beside nodes that keep their installed system. When
 * every node is `state: install`, the whole site installs afresh together (a lab's workflow) and
 * no node keeps the old cluster.
 */
export function createNodeReinstalls(creator: HarvesterNode, others: readonly HarvesterNode[], vip: string): Finding[] {
  const out: Finding[] = [];
  const procedure = `set \`cluster.created: true\` first (${creator.hostname} then installs as a joining node to https://${vip}:443) and ${removeFirst(creator)}`;
  if (creator.reinstall !== undefined) {
    const at = creator.sources.reinstall ?? ['nodes', creator.index];
    const layer = at[0] === 'nodes' ? 'its own' : at[0] === 'defaults' ? "`defaults:`'s" : "a shared layer's";
    out.push({
      code: 'CLUSTER_CREATE_NODE_REINSTALL',
      message: `node ${creator.hostname} creates the cluster and has a reinstall generation (\`reinstall: ${creator.reinstall}\`, ${layer}): each new generation installs it again in create mode, which starts a second cluster at ${vip} beside the ${others.length === 1 ? 'node' : `${others.length} nodes`} that joined the first`,
      hint: `To reinstall ${creator.hostname}, ${procedure}. For a first install, remove \`reinstall\` from it (\`state: install-once\` installs once without one).`,
      node: creator.hostname,
      at,
      target: 'key',
    });
  }
  const kept = others.filter((n) => n.state === 'local' || n.state === 'install-once');
  if (creator.state === 'install' && kept.length > 0) {
    const names = kept.slice(0, 3).map((n) => `${n.hostname} (state: ${n.state})`);
    const from = creator.sources.state;
    out.push({
      code: 'CLUSTER_CREATE_NODE_REINSTALL',
      message: `node ${creator.hostname} creates the cluster and installs on every network boot (state: install${from ? '' : ', the built-in default'}), while ${names.join(', ')}${kept.length > 3 ? ` and ${kept.length - 3} more` : ''} ${kept.length === 1 ? 'keeps its' : 'keep their'} installed system: once ${kept.length === 1 ? 'it has' : 'they have'} joined, reinstalling ${creator.hostname} in create mode starts a second cluster at ${vip}`,
      hint: `If the cluster exists, ${procedure}. If this is the first install, give ${creator.hostname} the state of the others (\`state: install-once\`).`,
      node: creator.hostname,
      at: from ?? ['nodes', creator.index],
      ...(from ? {} : { target: 'key' as const }),
    });
  }
  return out;
}
