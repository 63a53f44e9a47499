// `harvgen check`: validate site inventories and render them in memory; write nothing.
import type { CAC } from 'cac';
import { overSites } from '../options.ts';
import type { CliOutput } from '../output.ts';

/** The command's implementation, loaded when it runs (src/cli/actions/check.ts): not with the CLI. */
const implementation = () => import('../actions/check.ts');

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'check [...site-dirs]',
      'Validate site inventories and render them in memory; write nothing (default: every site under sites/)',
    )
    .option('--deploy', 'Also read and check the secrets, as the deploy build does')
    .example('harvgen check sites/location_x sites/location_y')
    .example('harvgen check sites/location_x --json')
    .action(overSites(out, async (dirs, flags) => (await implementation()).runCheck(dirs, flags, out)));
}
