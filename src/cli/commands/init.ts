// `harvgen init`: scaffold a commented site that passes check (the scaffolding is src/cli/init.ts).
import type { CAC } from 'cac';
import type { CliOutput } from '../output.ts';
import { MAX_INIT_NODES } from '../../util/init-placeholders.ts';
import type { InitFlags } from '../actions/init.ts';

/** The command's implementation, loaded when it runs (src/cli/actions/init.ts): not with the CLI. */
const implementation = () => import('../actions/init.ts');

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'init <site-dir>',
      'Create a commented site (site.yaml, a file per node, secrets/) that passes check, its nodes installing once (state: install-once); bare metal unless --lab; never overwrites',
    )
    .option('--lab', 'A lab of libvirt VMs (a lab: section, the default NAT network 192.168.122.0/24) instead of bare-metal servers')
    .option('--nodes <n>', `How many Harvester nodes (1 to ${MAX_INIT_NODES}; default 3)`)
    .option('--release <version>', 'The Harvester release, vX.Y.Z (default: the newest harvgen knows)')
    .example('harvgen init sites/location_z')
    .example('harvgen init sites/lab --lab --nodes 1 --release v1.6.0')
    .action(async (dir: string, flags: InitFlags) => (await implementation()).runInit(dir, flags, out));
}
