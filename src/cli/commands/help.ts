// `harvgen help [command]`, and the help texts of every command (cac prints them).
import type { CAC } from 'cac';
import { EXIT } from '../../diagnostics/exit.ts';
import { unknownCommandMessage } from '../options.ts';
import type { CliOutput } from '../output.ts';

/** Register `help` (last: the overview lists the commands in the order they were registered). */
export function register(cli: CAC, out: CliOutput): void {
  cli.command('help [command]', 'Show this overview, or the help of one command').action((name?: string) => runHelp(cli, out, name));
  // cac shows `(default: true)` for every --no-* flag, which reads as "colours are disabled".
  cli.help((sections) => sections.map((s) => ({ ...s, body: s.body.replace(/ \(default: true\)$/gm, '').replace(/ +$/gm, '') })));
}

function runHelp(cli: CAC, out: CliOutput, name?: string): number {
  if (name === undefined) {
    // The overview, as `harvgen --help` prints it (cli.outputHelp() would show help's own help).
    cli.globalCommand.outputHelp();
    return EXIT.ok;
  }
  if (!cli.commands.some((c) => c.name === name)) return out.usageError(unknownCommandMessage(name, cli));
  cli.parse(['node', 'harvgen', name, '--help'], { run: false });
  return EXIT.ok;
}
