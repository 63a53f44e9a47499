// nodes: a BMC the generated scripts can drive (README "BMC scripts"). The forms of the address,
// the system path and the variable names are the schema's (value kinds bmcAddress,
// redfishSystem); this rule judges what the schema cannot: settings that do not fit the BMC's
// type, a node's own `bmc:` without an address, and two nodes that would drive one machine.
import type { ResolvedNode } from '../../model/types.ts';
import { BMC_ALL_SCRIPT } from '../../derive/layout.ts';
import { nodeAt } from '../../model/index.ts';
import { memoEach } from '../../model/memo.ts';
import { nodeFindings, reportAll, type Finding, type Rule } from '../rule.ts';

/** What makes two BMC entries drive the same machine: the address, and the Redfish system when both name one. */
function machineKey(n: ResolvedNode): string | undefined {
  if (!n.bmc) return undefined;
  return `${n.bmc.type} ${n.bmc.host.toLowerCase()} ${n.bmc.port} ${n.bmc.system ?? ''}`;
}

/** BMC_INVALID for settings a node's BMC cannot use. */
export const bmcRule: Rule = {
  name: 'bmc',
  codes: ['BMC_INVALID'],
  check(ctx) {
    const { input, model, partial, report } = ctx;
    // What a node's own settings say, kept per node (its input at its index is what it was resolved from).
    const own = nodeFindings(ctx, 'bmc', (node, report) => {
      const own = input.nodes?.[node.index]?.bmc;
      if (!node.bmc) {
        if (own !== undefined)
          report({
            code: 'BMC_INVALID',
            message: `the \`bmc\` of node ${node.hostname} has no \`address\`: no BMC script is written for it`,
            hint: 'Add `address: <host or IP>[:port]` (the BMC itself, not the node), or remove `bmc:`.',
            node: node.hostname,
            at: ['nodes', node.index, 'bmc'],
            target: 'key',
          });
        return;
      }
      if (node.hostname === BMC_ALL_SCRIPT.slice(0, -3))
        report({
          code: 'BMC_INVALID',
          message: `node ${node.hostname} has a BMC, and its script would be bmc/${BMC_ALL_SCRIPT}, the script of every node`,
          hint: 'Rename the node, or drive its BMC by hand.',
          node: node.hostname,
          at: nodeAt(node, 'bmc.address'),
        });
      if (node.bmc.type === 'ipmi') {
        // A shared layer may hold them for the Redfish nodes it also serves: only a node's own are judged.
        for (const key of ['system', 'insecure'] as const) {
          const at = node.sources[`bmc.${key}`];
          if (at?.[0] !== 'nodes') continue;
          report({
            code: 'BMC_INVALID',
            message: `\`bmc.${key}\` of node ${node.hostname} is for Redfish BMCs; this one is \`type: ipmi\``,
            hint: `Remove \`${key}\`, or set \`type: redfish\` if the BMC speaks Redfish (preferred: it can also boot over UEFI HTTP and virtual media).`,
            node: node.hostname,
            at,
          });
        }
      }
    });
    // Two nodes that drive one machine: found from each node's machine key (kept per node), the
    // pairs kept with the list of keys while no node's key changed.
    const keys = memoEach(ctx.memo, 'bmc:machine', model.nodes, machineKey);
    let pairs = partial ? undefined : sharedMachines.get(keys);
    if (!partial && !pairs) sharedMachines.set(keys, (pairs = sameKeyPairs(keys)));
    if (!pairs || pairs.length === 0) {
      reportAll(ctx, own);
      return;
    }
    // In node order: each node's own findings, then the one that it drives another's BMC (the
    // first finding of a shared layer's value is the one reported, collapseDefaults).
    let p = 0;
    for (let j = 0; j < own.length; j++) {
      for (const f of own[j]!) report(f);
      if (p < pairs.length && pairs[p]![1] === j) report(sameMachine(model.nodes[pairs[p++]![0]]!, model.nodes[j]!));
    }
  },
};

/** BMC_INVALID: `node` names the BMC `first` names. */
function sameMachine(first: ResolvedNode, node: ResolvedNode): Finding {
  return {
    code: 'BMC_INVALID',
    message: `nodes ${first.hostname} and ${node.hostname} name the same BMC (${node.bmc!.address}${node.bmc!.system ? ` ${node.bmc!.system}` : ''}): a script of one would power-cycle the other`,
    hint: 'Give each node the address of its own BMC (or, for a chassis with one Redfish BMC, each node its `system`).',
    node: node.hostname,
    at: nodeAt(node, 'bmc.address'),
  };
}

/** The nodes' machine keys' repeats: for each node whose key an earlier node has, the first such node's index and its own. */
const sharedMachines = new WeakMap<readonly (string | undefined)[], readonly (readonly [number, number])[]>();

function sameKeyPairs(keys: readonly (string | undefined)[]): (readonly [number, number])[] {
  const seen = new Map<string, number>();
  const pairs: (readonly [number, number])[] = [];
  keys.forEach((key, j) => {
    if (key === undefined) return;
    const i = seen.get(key);
    if (i === undefined) seen.set(key, j);
    else pairs.push([i, j]);
  });
  return pairs;
}
