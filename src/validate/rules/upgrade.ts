// harvester.upgrade: the hop is one Harvester runs, and nothing in the inventory blocks it or is
// left behind by it. Harvester checks the hop only after the cluster downloaded the target's ISO
// (its upgrade controller's version guard; research-upgrade.md §2b), and refuses to start while a
// node is cordoned (its upgrade webhook, every release since v1.2.0; §2a). harvgen says both
// before anything runs.
import { hopRefusal, isDowngrade, minUpgradable } from '../../harvester/upgrade-paths.ts';
import { nodeAt } from '../../model/index.ts';
import type { Rule } from '../rule.ts';

/** The hop, the target's minimum, cordoned nodes and nodes pinned to another release. */
export const upgradeRule: Rule = {
  name: 'upgrade',
  codes: [
    'UPGRADE_HOP_UNSUPPORTED',
    'UPGRADE_TARGET_INSTALLED',
    'UPGRADE_TARGET_UNKNOWN',
    'UPGRADE_NODE_CORDONED',
    'UPGRADE_NODE_RELEASE_PINNED',
  ],
  check({ input, model, report }) {
    const h = input.harvester;
    const u = h?.upgrade;
    if (!h || !u) return;
    const at = ['harvester', 'upgrade', 'to'] as const;
    // Harvester runs an upgrade to the release it runs (its guard allows it): a whole rolling
    // upgrade for nothing. Most likely `version` was bumped after the upgrade and `upgrade:` left.
    if (u.to === h.version && !u.done)
      report({
        code: 'UPGRADE_TARGET_INSTALLED',
        message: `harvester.upgrade.to is ${u.to}, the release harvester.version says the cluster runs: applied, the upgrade would drain and reboot every node to install the same release`,
        hint: 'Remove `harvester.upgrade` once the cluster runs its target (or set `done: true`); to upgrade, name a newer release.',
        at,
      });
    const min = minUpgradable(u.to);
    // Once done, the target is the site's release: the version rule judges it as such.
    if (min === undefined && !u.done)
      report({
        code: 'UPGRADE_TARGET_UNKNOWN',
        message: `harvgen does not know which releases Harvester ${u.to} upgrades from (its minimum upgradable version): only a downgrade and a release candidate's hop are checked here, and Harvester checks the rest after the cluster downloaded the ISO`,
        hint: "Check the target's upgrade paths in its release notes; a newer harvgen knows more releases.",
        at,
      });
    const refusal = hopRefusal(h.version, u.to, min);
    if (refusal !== undefined)
      report({
        code: 'UPGRADE_HOP_UNSUPPORTED',
        message: `Harvester refuses the upgrade from ${h.version} to ${u.to}: ${refusal} (its version guard, which runs only after the cluster downloaded the ISO)`,
        hint: isDowngrade(h.version, u.to)
          ? `Harvester never goes back to an older release: name a target newer than ${h.version} (harvester.version, what the cluster runs), or remove \`harvester.upgrade\`.`
          : min !== undefined
            ? `Upgrade in hops: ${u.to} upgrades from ${min} or later; upgrade to a release of that line first (harvester.version stays what the cluster runs).`
            : 'Pick a target newer than `harvester.version`.',
        at,
      });
    for (const node of model.nodes) {
      if (node.boot !== 'harvester') continue;
      if (node.install.cordoned === true && !u.done)
        report({
          code: 'UPGRADE_NODE_CORDONED',
          message: `node ${node.hostname} is installed cordoned (\`install.cordoned\`): Harvester refuses to start an upgrade while any node is cordoned`,
          hint: 'Uncordon it before the upgrade (`kubectl uncordon <node>`, or in the UI), then take `install.cordoned` off the node: a reinstall would cordon it again.',
          node: node.hostname,
          at: nodeAt(node, 'install.cordoned'),
        });
      if (node.sources.harvester_version && node.release.version.raw !== u.to)
        report({
          code: 'UPGRADE_NODE_RELEASE_PINNED',
          message: `node ${node.hostname} installs Harvester ${node.release.version.raw} (its own \`harvester_version\`), and the cluster is upgraded to ${u.to}: installed or reinstalled later, it would join with another release than the cluster's`,
          hint: `Remove the node's \`harvester_version\` (it then follows the site), or set it to ${u.to}.`,
          node: node.hostname,
          at: nodeAt(node, 'harvester_version'),
        });
    }
  },
};
