// `harvgen explain`: every resolved value of one node, and the file and line that set it.
import type { CAC } from 'cac';
import type { Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';

/** The command's implementation, loaded when it runs (src/cli/actions/explain.ts): not with the CLI. */
const implementation = () => import('../actions/explain.ts');

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command('explain <site-dir> <node>', 'Show every resolved value of a node (by hostname or MAC) and the file and line that set it')
    .example('harvgen explain sites/location_x hv-2')
    .example('harvgen explain sites/location_x 52:54:00:aa:bb:02 --json')
    .action(async (dir: string, node: string, flags: Flags) => (await implementation()).runExplain(dir, String(node), flags, out));
}
