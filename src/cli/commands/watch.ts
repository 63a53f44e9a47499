// `harvgen watch`: build, then rebuild whenever an inventory file changes, until Ctrl-C.
import type { CAC } from 'cac';
import { treeOptions, type Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';

/** The command's implementation, loaded when it runs (src/cli/actions/watch.ts): not with the CLI. */
const implementation = () => import('../actions/watch.ts');

export function register(cli: CAC, out: CliOutput): void {
  treeOptions(cli.command('watch <...site-dirs>', 'Build, then rebuild whenever an inventory file changes (Ctrl-C stops, exit 130)'))
    .option('--debounce <ms>', 'Quiet time after the last change before a rebuild', { default: 50 })
    .example('harvgen watch sites/location_x')
    .example('harvgen watch sites/location_x --json   # one JSON line per rebuild')
    .action(async (dirs: string[], flags: Flags) => (await implementation()).runWatch(dirs, flags, out));
}
