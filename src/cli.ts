// The command line: set up cac, register each command from its module (src/cli/commands/),
// parse, dispatch, return the exit code (src/diagnostics/exit.ts). Streams: results on stdout
// (per-site summaries, `--json` documents), diagnostics and progress on stderr. Exit codes: 0
// success, 1 the inventory has errors (or warnings with --strict), 2 usage, I/O or internal
// failure, 130 when watch is stopped with Ctrl-C. No stack trace reaches the user unless --debug.
import { harvgenVersion } from './util/version.ts';
import { cac } from 'cac';
import { JSON_COMMANDS } from './report/envelope.ts';
import { EXIT } from './diagnostics/exit.ts';
import { COMMANDS } from './cli/commands/index.ts';
import { booleanFlagsLast, cacErrorMessage, globalOptions, unknownCommandMessage, unknownGlobalFlag } from './cli/options.ts';
import { cliOutput, type CliIo } from './cli/output.ts';
import { boundHeapGrowth } from './cli/heap.ts';

export { booleanFlagsLast } from './cli/options.ts';
export type { CliIo } from './cli/output.ts';

/** Run the CLI with the given arguments (without `node harvgen`); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  const out = cliOutput(argv, io);
  const cli = cac('harvgen');
  globalOptions(cli);
  for (const command of COMMANDS) command.register(cli, out);
  try {
    // The bare version, as scripts expect (`harvgen --version` -> `0.1.0`).
    if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
      out.print(harvgenVersion());
      return EXIT.ok;
    }
    const unknownFlag = unknownGlobalFlag(argv[0]);
    if (unknownFlag !== undefined) return out.usageError(unknownFlag);
    const parsed = cli.parse(['node', 'harvgen', ...booleanFlagsLast(argv, cli)], { run: false });
    if (parsed.options.help) return EXIT.ok;
    if (parsed.options.version) {
      out.print(harvgenVersion());
      return EXIT.ok;
    }
    if (!cli.matchedCommand) {
      const word = parsed.args[0];
      if (word !== undefined) return out.usageError(unknownCommandMessage(String(word), cli));
      if (argv.includes('--json')) return out.usageError('no command given');
      cli.outputHelp();
      return EXIT.failed;
    }
    // `build` bounds the heap when it starts compiling (src/cli/heap.ts); `watch` never does.
    if (cli.matchedCommandName !== 'build' && cli.matchedCommandName !== 'watch') boundHeapGrowth();
    return (await cli.runMatchedCommand()) as number;
  } catch (e) {
    const err = e as Error;
    if (err.name === 'CACError') return out.usageError(cacErrorMessage(err, cli));
    const name = cli.matchedCommandName;
    return out.internalError(err, JSON_COMMANDS.find((c) => c === name) ?? null);
  }
}
