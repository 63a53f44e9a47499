// kernel_args: extra arguments may not set what harvgen writes itself. A second `ip=` or
// `harvester.install.config_url=` would silently override (or fight) the generated one, and the
// node would install from the wrong network or the wrong config.
import { kernelArgKey } from '../../derive/kernel-args.ts';
import { reservedKernelArg } from '../../derive/harvester/cmdline.ts';
import { eachNode, type Finding, type Rule } from '../rule.ts';
import type { InventoryPath } from '../../util/paths.ts';

/** `boot.kernel_args`, `defaults.kernel_args` and every node's `kernel_args` hold no reserved key. */
export const kernelArgsRule: Rule = {
  name: 'kernel-args',
  codes: ['NODE_KERNEL_ARG_RESERVED'],
  check(ctx) {
    const { input, report } = ctx;
    reservedIn(input.boot.kernel_args, ['boot', 'kernel_args'], report);
    reservedIn(input.defaults?.kernel_args, ['defaults', 'kernel_args'], report);
    // Only the installer's command line takes them: another kind's own `kernel_args` is ignored
    // (NODE_SETTING_IGNORED). A node's findings read its own input alone (the same node object, the
    // same input: src/model/cache.ts), so they are kept per node (eachNode); nodes are in input order.
    eachNode(ctx, 'kernel-args', (node, found) => {
      if (node.boot === 'harvester') reservedIn(input.nodes?.[node.index]?.kernel_args, ['nodes', node.index, 'kernel_args'], found);
    });
  },
};

/** A NODE_KERNEL_ARG_RESERVED for each argument of `list` (at `at`) that sets what harvgen writes. */
function reservedIn(list: readonly string[] | undefined, at: InventoryPath, report: (finding: Finding) => void): void {
  list?.forEach((arg, k) => {
    const key = kernelArgKey(arg);
    const instead = reservedKernelArg(arg);
    if (instead === undefined) return;
    report({
      code: 'NODE_KERNEL_ARG_RESERVED',
      message: `kernel argument "${arg}" sets \`${key}\`, which harvgen writes itself`,
      hint: `Remove it; ${instead.startsWith('nothing') ? `there is ${instead}` : `set ${instead} instead`}.`,
      at: [...at, k],
    });
  });
}
