// The command line as cac defines it (every command, its options and help text), without running
// anything: what the man page generator and the docs tests read.
import { cac, type CAC } from 'cac';
import { COMMANDS } from '../src/cli/commands/index.ts';
import { globalOptions } from '../src/cli/options.ts';
import { cliOutput } from '../src/cli/output.ts';

/** A cac instance with harvgen's global options and every command registered, as `main()` sets it up. */
export function definedCli(): CAC {
  const cli = cac('harvgen');
  globalOptions(cli);
  const out = cliOutput([], { out: process.stdout, err: process.stderr });
  for (const command of COMMANDS) command.register(cli, out);
  return cli;
}

/** Every spelling of an option on the command line (`--dry-run`, `-q`, `--quiet`). */
export function optionNames(rawName: string): string[] {
  return rawName.split(/[\s,]+/).filter((n) => n.startsWith('-'));
}
