// `harvgen facts`: measure machines (their BMC over Redfish, or a dump taken on them) and write
// their facts beside their nodes, `<site>/facts/<hostname>.yaml` (the library: src/measure/).
import type { CAC } from 'cac';
import type { CliOutput } from '../output.ts';
import type { FactsFlags } from '../actions/facts.ts';

/** The command's implementation, loaded when it runs (src/cli/actions/facts.ts): not with the CLI. */
const implementation = () => import('../actions/facts.ts');

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'facts [site-dir]',
      "Measure machines and write their hardware beside their nodes (<site>/facts/<hostname>.yaml): from each node's BMC over Redfish, or from a dump taken on the machine; check then judges the installer's rules on what was measured",
    )
    .option('--node <hostname>', 'Measure this node (repeat; default: every node with a Redfish BMC)')
    .option('--dump <file>', 'Import a dump taken on the machine of the one --node (what `harvgen facts --script` prints there)')
    .option(
      '--bmc <address>',
      'Measure a machine the site has no node for yet, at this BMC (host[:port]; credentials in BMC_USER, BMC_PASSWORD), with --as',
    )
    .option('--as <hostname>', 'The hostname the facts file of --bmc is named after')
    .option('--insecure', "With --bmc: do not verify the BMC's TLS certificate")
    .option('--system <path>', "With --bmc: which of the BMC's systems is the machine (/redfish/v1/Systems/<id>, as a node's bmc.system)")
    .option('--script', 'Print the collector script to run on a machine (as root) for --dump, and exit')
    .option('--dry-run', 'Measure and say what would change, write nothing')
    .option('--timeout <seconds>', 'Time limit of each machine (default 120)')
    .example('harvgen facts sites/location_x --node node1')
    .example('harvgen facts --script > collect.sh   # then on the machine: sudo sh collect.sh > node1.facts')
    .example('harvgen facts sites/location_x --node node1 --dump node1.facts')
    .example('harvgen facts sites/location_x --bmc 10.0.0.31 --as node4 --system /redfish/v1/Systems/2')
    .action(async (dir: string | undefined, flags: FactsFlags) => (await implementation()).runFacts(dir, flags, out));
}
