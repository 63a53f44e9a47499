// `harvgen verify`: does each boot server serve exactly the deploy tree? (the library: src/verify/)
import type { CAC } from 'cac';
import { overSites, type Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';
import type { VerifyFlags } from '../actions/verify.ts';

/** The command's implementation, loaded when it runs (src/cli/actions/verify.ts): not with the CLI. */
const implementation = () => import('../actions/verify.ts');

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'verify [...site-dirs]',
      "Check that each boot server serves exactly the deploy tree: every served file's bytes, status and type, and nothing else (default: every site under sites/)",
    )
    .option('--url <base-url>', "A boot server to check (repeat for each mirror; default: the site's boot.server)")
    .option('--out <dir>', 'Root of the deploy tree to compare with (default: deploy)')
    .option('--releases', "Also fetch the release files and check them against the release's published SHA-512 list")
    .option(
      '--release-base <url>',
      'Where the published lists are, as for fetch.sh (default: HARVGEN_RELEASE_BASE, else releases.rancher.com)',
    )
    .option('--concurrency <n>', 'Requests in flight at once (default 8); with --fleet, sites checked at once (default 32)')
    .option('--timeout <seconds>', 'Give up on a request that receives nothing for this long (default 10)')
    .option(
      '--deadline <seconds>',
      'Give up on the whole run after this long, however the servers trickle their answers (default 900; not with --fleet: see --site-timeout)',
    )
    .option('--source <address>', "Connect from this local address (a node's, to check the files only it may fetch)")
    .option(
      '--public-key <file>',
      "The signing key's public half (its .pub file): every manifest.json.sig must verify with it (default: each site's signing.public_key)",
    )
    .option(
      '--fleet <dir>',
      "Verify every published site of a fleet record (<dir>/<site>.json, as `harvgen publish --record` writes): each boot server's state.json against git's digest, a sample of its files, and what it must refuse",
    )
    .option('--site-timeout <seconds>', 'With --fleet: give up on a site whose checks have not finished after this long (default 30)')
    .example('harvgen verify sites/location_x')
    .example('harvgen verify sites/location_x --url http://10.20.0.5:8080 --url http://10.20.0.6:8080 --json')
    .example('harvgen verify sites/location_x --releases')
    .example('harvgen verify sites/location_x --public-key ~/harvgen-sign.pub   # trust this key, whatever the inventory says')
    .example('harvgen verify --fleet published/ --json   # every published site against the fleet record in git')
    .action(async (given: string[], flags: Flags) =>
      (flags as VerifyFlags).fleet !== undefined
        ? (await implementation()).runFleet(given, flags as VerifyFlags, out)
        : overSites(out, async (dirs, f) => (await implementation()).runVerify(dirs, f as VerifyFlags, out))(given, flags),
    );
}
