// `harvgen pull` (docs/fleet.md): the boot server's materializer, run by the generated
// publish/harvgen-<site>-pull.timer (the library: src/pull/).
import type { CAC } from 'cac';
import type { CliOutput } from '../output.ts';
import type { PullFlags } from '../actions/pull.ts';

/** The command's implementation, loaded when it runs (src/cli/actions/pull.ts): not with the CLI. */
const implementation = () => import('../actions/pull.ts');

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'pull',
      "On the boot server: fetch the site's published tree by digest, check every digest and the signature, unpack it into a new version, switch nginx to it atomically, verify it, and keep the last versions",
    )
    .option('--config <file>', "The site's pull.json (out/<site>/publish/pull.json, installed as /etc/harvgen/<site>/pull.json)")
    .option('--digest <sha256:...>', 'Pull this artifact instead of what the tag names now')
    .option('--from <oci:dir|oci-archive:file>', "Read from an OCI layout (an air-gapped site's export) instead of the registry")
    .option('--rollback [digest]', 'Serve the previous version again (or the kept version with this digest); nothing is fetched')
    .option('--list', 'List the versions kept, newest first, and which one is served')
    .option('--allow-older', 'Accept an artifact built from an older commit than the one served (a deliberate downgrade)')
    .option('--no-verify', 'Do not verify the local server after the switch')
    .option('--verify-url <url>', "Verify the local server at this URL (default: the site's boot.server)")
    .option('--insecure', "Talk plain HTTP to the registry (for the timer: pull.json's `insecure: true`)")
    .option('--timeout <duration>', 'Stop the whole pull after this long (90s, 10m, 1h; default 30m); what was served stays served')
    .option('--cert-dir <dir>', 'Trust the CA certificates (*.crt) in this directory for the registry')
    .example('harvgen pull --config /etc/harvgen/location_y/pull.json')
    .example('harvgen pull --config /etc/harvgen/location_y/pull.json --rollback')
    .example('harvgen pull --config /etc/harvgen/location_y/pull.json --from oci-archive:/media/usb/location_y.tar')
    .action(async (flags: PullFlags) => (await implementation()).runPull(flags, out));
}
