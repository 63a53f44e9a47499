// `harvgen status`: what every node did, from the boot servers' access logs (the library: src/status/).
import type { CAC } from 'cac';
import { overSites } from '../options.ts';
import type { CliOutput } from '../output.ts';
import type { StatusFlags } from '../actions/status.ts';

/** The command's implementation, loaded when it runs (src/cli/actions/status.ts): not with the CLI. */
const implementation = () => import('../actions/status.ts');

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'status [...site-dirs]',
      "What every node did, read from the boot servers' nginx access logs: last boot, each file fetched, the installer's events, a verdict; and every unknown MAC that asked (default: every site under sites/). With several sites, one summary line per site",
    )
    .option('--log <file>', "An nginx access log of a boot server (repeat for rotated, gzipped and other servers' logs)")
    .option(
      '--bmc-log <file>',
      "A log the BMC scripts append to (HARVGEN_BMC_LOG): each node's last BMC action (repeatable; with or without --log)",
    )
    .option('--log-dir <dir>', "Each site's logs collected to <dir>/<site>/*.log* (plain, rotated, .gz), read one site at a time")
    .option('--state <dir>', 'A directory status keeps between runs: read only what the logs gained since the last run')
    .option('--since <time>', 'Only requests since an ISO 8601 time or a duration back from now (90m, 12h, 7d); not with --state')
    .option('--loop-window <minutes>', 'A new install this soon after a SUCCEEDED is a reinstall loop (default 60)')
    .option('--nodes', 'A line per node (and per unknown machine) even with several sites')
    .option('--never-booted <hours>', "Name the nodes with no request this long after their site's deploy (default 24)")
    .option('--deployed-at <time>', "The deploy time of every site (ISO 8601), instead of each site's state.json or built manifest.json")
    .option('--out <dir>', "Where the built trees are, for a site's deploy time when it has no state.json (default out)")
    .option('--metrics <file>', "Write each site's counts in Prometheus's text format (for node_exporter's textfile collector)")
    .example('harvgen status sites/location_x --log /var/log/nginx/harvgen-location_x.access.log')
    .example("harvgen status sites/location_x --log 'access.log' --log access.log.1 --log access.log.2.gz --since 1d --json")
    .example('harvgen status sites/location_x --log /var/log/nginx/harvgen-location_x.access.log --bmc-log /var/log/harvgen-bmc.log')
    .example(
      'harvgen status --log-dir /srv/harvgen-logs --state /var/lib/harvgen/status --metrics /var/lib/node_exporter/textfile/harvgen.prom',
    )
    .action(overSites(out, async (dirs, flags) => (await implementation()).runStatus(dirs, flags as StatusFlags, out)));
}
