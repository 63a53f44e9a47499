// `harvgen hash-password`: read a password and print its SHA-512 crypt hash for cluster.password
// (the reading and hashing are src/cli/hash-password.ts).
import type { CAC } from 'cac';
import type { Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';

/** The command's implementation, loaded when it runs (src/cli/actions/hash-password.ts): not with the CLI. */
const implementation = () => import('../actions/hash-password.ts');

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'hash-password',
      'Read a password (a prompt without echo on a terminal, else stdin) and print its SHA-512 crypt hash ($6$) for cluster.password',
    )
    .example('harvgen hash-password < password.txt')
    .example('printf \'%s\' "$PASSWORD" | harvgen hash-password')
    .action(async (flags: Flags) => (await implementation()).runHashPassword(flags, out));
}
