// `harvgen help [command or topic]`, `harvgen completion <shell>`, and the help texts of every
// command (cac prints them). Topics are pages of docs/ (src/cli/help/topics.ts).
import type { CAC } from 'cac';
import { EXIT } from '../../diagnostics/exit.ts';
import { closest } from '../../util/suggest.ts';
import type { CliOutput } from '../output.ts';
import { completionScript, SHELLS, type Shell } from '../help/completion.ts';
import { findTopic, topicText, TOPICS } from '../help/topics.ts';

/** Register `completion` and `help` (last: the overview lists the commands in the order they were registered). */
export function register(cli: CAC, out: CliOutput): void {
  cli
    .command('completion <shell>', 'Print a completion script for bash or zsh (commands, flags, help topics)')
    .example('source <(harvgen completion bash)')
    .example('harvgen completion zsh > "${fpath[1]}/_harvgen"')
    .action((shell: string) => runCompletion(cli, out, shell));
  cli
    .command('help [command-or-topic]', 'Show this overview, the help of one command, or a help topic (a page of the documentation)')
    .example('harvgen help build')
    .example('harvgen help inventory')
    .action((name?: string) => runHelp(cli, out, name));
  const width = Math.max(...TOPICS.map((t) => t.name.length));
  const topics = TOPICS.map((t) => `  ${t.name.padEnd(width)}  ${t.summary}`).join('\n');
  cli.help((sections) => {
    // cac shows `(default: true)` for every --no-* flag, which reads as "colours are disabled".
    const tidy = sections.map((s) => ({ ...s, body: s.body.replace(/ \(default: true\)$/gm, '').replace(/ +$/gm, '') }));
    // The overview (the only help with a Commands section) also lists the help topics.
    const at = tidy.findIndex((s) => s.title === 'Commands');
    if (at >= 0) tidy.splice(at + 1, 0, { title: 'Help topics (harvgen help <topic>)', body: topics });
    return tidy;
  });
}

function runHelp(cli: CAC, out: CliOutput, name?: string): number {
  if (name === undefined) {
    // The overview, as `harvgen --help` prints it (cli.outputHelp() would show help's own help).
    cli.globalCommand.outputHelp();
    return EXIT.ok;
  }
  if (cli.commands.some((c) => c.name === name)) {
    cli.parse(['node', 'harvgen', name, '--help'], { run: false });
    return EXIT.ok;
  }
  const topic = findTopic(name);
  if (topic === undefined) {
    const guess = closest(name, [...TOPICS.map((t) => t.name), ...cli.commands.map((c) => c.name)]);
    return out.usageError(
      `unknown help topic or command "${name}"${guess ? `; did you mean "${guess}"?` : ''}; topics: ${TOPICS.map((t) => t.name).join(', ')}`,
    );
  }
  out.print(topicText(topic).replace(/\n$/, ''));
  return EXIT.ok;
}

function runCompletion(cli: CAC, out: CliOutput, shell: string): number {
  if (!(SHELLS as readonly string[]).includes(shell))
    return out.usageError(`no completion for shell "${shell}"; shells: ${SHELLS.join(', ')}`);
  out.print(completionScript(cli, shell as Shell).replace(/\n$/, ''));
  return EXIT.ok;
}
