// `harvgen report`: the sites (and the boot servers' logs, the fleet record) as a static HTML
// report (the library: src/page/).
import type { CAC } from 'cac';
import { overSites } from '../options.ts';
import type { CliOutput } from '../output.ts';
import type { ReportFlags } from '../actions/report.ts';

/** The command's implementation, loaded when it runs (src/cli/actions/report.ts): not with the CLI. */
const implementation = () => import('../actions/report.ts');

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'report [...site-dirs]',
      "Write a static HTML report of the sites into --out: an index, a page per site (its nodes, their states from the boot servers' logs, explain's main settings, a picture of its networks), a print view; no server, no external URL, no secret (default: every site under sites/)",
    )
    .option('--out <dir>', 'The directory to write the report into (required; an empty or new directory, or an earlier report)')
    .option('--log <file>', "An nginx access log of a boot server: each node's state, last boot and problems (repeatable)")
    .option('--fleet <dir>', 'The fleet record `harvgen publish --record` writes: every published site, its digest and boot servers')
    .option(
      '--verified <file>',
      'With --fleet: a saved `harvgen verify --fleet <dir> --json`, to show what each boot server serves and its drift from the record',
    )
    .option('--generated-at <time>', 'The time the pages show (ISO 8601), for reproducible pages (default SOURCE_DATE_EPOCH, else now)')
    .option('--per-page <n>', 'Nodes on one page of a site (default 100)')
    .example('harvgen report sites/location_x sites/location_y --out public/report')
    .example('harvgen report --out /srv/harvgen-report --log /var/log/nginx/harvgen-location_x.access.log')
    .example('harvgen report --out report --fleet fleet --generated-at 2026-11-23T10:00:00Z --json')
    .example(
      'harvgen verify --fleet published --json > verified.json; harvgen report --out report --fleet published --verified verified.json',
    )
    .action(overSites(out, async (dirs, flags) => (await implementation()).runReport(dirs, flags as ReportFlags, out)));
}
