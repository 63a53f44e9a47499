// `harvgen discover`: unknown machines from the boot servers' logs, as node file stubs for review (the library: src/status/discover.ts).
import type { CAC } from 'cac';
import { overSites } from '../options.ts';
import type { CliOutput } from '../output.ts';
import type { LogFlags } from '../actions/status.ts';

/** The command's implementation, loaded when it runs (src/cli/actions/discover.ts): not with the CLI. */
const implementation = () => import('../actions/discover.ts');

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'discover [...site-dirs]',
      'Write a node file stub to <site>/discovered/ for every machine the site does not know that asked the boot server for its script (with what it reported: SMBIOS UUID, serial, maker, product); never into nodes/',
    )
    .option('--log <file>', "An nginx access log of a boot server (repeat for rotated, gzipped and other servers' logs)")
    .option('--since <time>', 'Only requests since an ISO 8601 time or a duration back from now (90m, 12h, 7d)')
    .option('--dry-run', 'Say which stubs would be written, write nothing')
    .example('harvgen discover sites/location_x --log /var/log/nginx/harvgen-location_x.access.log')
    .action(
      overSites(out, async (dirs, flags) => (await implementation()).runDiscover(dirs, flags as LogFlags & { dryRun?: boolean }, out)),
    );
}
