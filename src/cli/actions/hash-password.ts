// `harvgen hash-password`: read a password and print its SHA-512 crypt hash for cluster.password
// (the reading and hashing are src/cli/hash-password.ts).
import { jsonOutput } from '../../report/envelope.ts';
import { EXIT, signalExitCode } from '../../diagnostics/exit.ts';
import type { Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';
import type { hashPasswordFromStdin } from '../hash-password.ts';

export async function runHashPassword(flags: Flags, out: CliOutput): Promise<number> {
  // Ctrl-C (SIGINT while reading a pipe; a byte at the terminal's raw-mode prompt) exits 130,
  // SIGTERM 143, as watch does; nothing is printed on stdout.
  const stop = new AbortController();
  let interrupted = signalExitCode('SIGINT');
  const onSigint = () => stop.abort();
  const onSigterm = () => {
    interrupted = signalExitCode('SIGTERM');
    stop.abort();
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  let r: Awaited<ReturnType<typeof hashPasswordFromStdin>>;
  try {
    // The reading and hashing load when the command runs, not with every command.
    const { hashPasswordFromStdin: read } = await import('../hash-password.ts');
    r = await read(out.io.in ?? process.stdin, out.io.err, stop.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigterm);
  }
  if ('interrupted' in r) return interrupted;
  if ('error' in r) return out.usageError(r.error);
  // The hash is the result (what goes into the inventory); the password is never printed.
  if (flags.json) out.printJson(jsonOutput({ command: 'hash-password', ok: true, sites: [], diagnostics: [], extra: { hash: r.hash } }));
  else out.print(r.hash);
  return EXIT.ok;
}
