// kernel_args: extra arguments may not set what harvgen writes itself. A second `ip=` or
// `harvester.install.config_url=` would silently override (or fight) the generated one, and the
// node would install from the wrong network or the wrong config.
import { kernelArgKey } from '../../derive/kernel-args.ts';
import { reservedKernelArg } from '../../derive/harvester/cmdline.ts';
import type { Rule } from '../rule.ts';
import type { InventoryPath } from '../../util/paths.ts';

/** `boot.kernel_args`, `defaults.kernel_args` and every node's `kernel_args` hold no reserved key. */
export const kernelArgsRule: Rule = {
  name: 'kernel-args',
  codes: ['NODE_KERNEL_ARG_RESERVED'],
  check({ input, model, report }) {
    // Only the installer's command line takes them: another kind's own `kernel_args` is ignored (NODE_SETTING_IGNORED).
    const installers = new Set(model.nodes.filter((n) => n.boot === 'harvester').map((n) => n.index));
    const lists: [InventoryPath, readonly string[] | undefined][] = [
      [['boot', 'kernel_args'], input.boot.kernel_args],
      [['defaults', 'kernel_args'], input.defaults?.kernel_args],
      ...(input.nodes ?? []).flatMap((n, i): [InventoryPath, readonly string[] | undefined][] =>
        installers.has(i) ? [[['nodes', i, 'kernel_args'], n.kernel_args]] : [],
      ),
    ];
    for (const [at, list] of lists) {
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
  },
};
