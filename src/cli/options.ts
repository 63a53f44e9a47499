// The options more than one command reads, declared and interpreted once: the global flags, the
// output tree (`--out`, `--deploy`), the site directories, and how cac sees boolean flags.
import { basename } from 'node:path';
import type { CAC, Command } from 'cac';
import { closest } from '../util/suggest.ts';
import { discoverSites, noSitesReason } from '../load/discover.ts';
import type { CliOutput, PrintFlags } from './output.ts';

/** Every flag a command may be given (cac camel-cases them: `--dry-run` is `dryRun`). */
export interface Flags extends PrintFlags {
  readonly strict?: boolean;
  readonly out?: string;
  readonly dryRun?: boolean;
  readonly check?: boolean;
  readonly quiet?: boolean;
  readonly allOrNothing?: boolean;
  readonly force?: boolean;
  readonly debounce?: number;
  readonly diff?: boolean;
  readonly deploy?: boolean;
  /** `build --jobs <n>` (a number, or what was typed). */
  readonly jobs?: number | string;
}

/** The flags that may come before the command (`harvgen --json check`). */
export const GLOBAL_FLAGS = ['--json', '--strict', '--debug', '--no-color', '--help', '--version', '-h', '-v'];

/** Declare the options every command takes (`--help` and `-h` come from `cli.help()`, in commands/help.ts). */
export function globalOptions(cli: CAC): void {
  cli
    .option('--json', 'Print one versioned JSON document on stdout (`harvgen help commands`, "JSON output")')
    .option('--strict', 'Treat warnings as errors')
    .option('--debug', 'Show internal details (stack traces) of internal errors')
    .option('--no-color', 'Disable colours (also NO_COLOR=1; FORCE_COLOR=1 forces them)')
    .option('-v, --version', 'Print the version number alone');
}

/** Declare the options of a command that writes a tree (build, watch). */
export function treeOptions(command: Command): Command {
  return command
    .option('--out <dir>', 'Output root directory (default: out, or deploy with --deploy)')
    .option('--deploy', 'The deploy tree: read the secrets and write them (default: the committed tree, secrets as markers)');
}

/** The output root: `--out`, else `out` for the committed tree and `deploy` for the deploy tree. */
export const outDirOf = (flags: Flags): string => flags.out ?? (flags.deploy === true ? 'deploy' : 'out');

/** Which tree: the deploy tree reads the secrets (`filled`), the committed one writes markers. */
export const secretsOf = (flags: Flags): 'filled' | 'markers' => (flags.deploy === true ? 'filled' : 'markers');

/**
 * The action of a command over sites (check, build): `run` gets the site directories given, else
 * every site under sites/; with none there, a usage error is printed and `run` is not called.
 */
export function overSites(out: CliOutput, run: (dirs: string[], flags: Flags) => Promise<number>) {
  return async (given: string[], flags: Flags): Promise<number> => {
    if (given.length > 0) {
      const dirs = siteArguments(given, out);
      if (dirs.length === 0) return out.usageError(layersOnly(given, 'or none for every site under sites/'));
      return run(dirs, flags);
    }
    const found = await discoverSites(process.cwd());
    if (found.length === 0)
      return out.usageError(
        `no site directory given, and ${await noSitesReason(process.cwd())}; \`harvgen init sites/<site>\` creates a starting site`,
      );
    return run(found, flags);
  };
}

/**
 * The site directories among the words given: a name starting with `_` is a shared layer
 * (`sites/_defaults.yaml`, `sites/_profiles`) or set aside, never a site, as with no directory
 * given. A shell expands `harvgen build sites/*` to the layers too; they are left out.
 */
export function siteArguments(given: readonly string[], out: Pick<CliOutput, 'note'>): string[] {
  const isLayer = (g: string) => basename(g.replace(/[\\/]+$/, '')).startsWith('_');
  const left = given.filter(isLayer);
  // Said once, on stderr: `sites/*` names the layers on every run, and they are meant to be there.
  if (left.length > 0 && left.length < given.length)
    out.note(`left out ${left.join(', ')}: a name starting with _ is a shared layer, not a site`);
  return given.filter((g) => !isLayer(g));
}

/** The usage error when every word given was a shared layer (`instead`: what else the command takes). */
export function layersOnly(given: readonly string[], instead?: string): string {
  return `${given.join(' ')}: a name starting with _ is a shared layer, not a site; give a site directory (one that holds site.yaml)${instead ? `, ${instead}` : ''}`;
}

/**
 * cac hands its parser (mri) the camel-cased names of boolean flags (`dryRun`), so mri does not
 * know `--dry-run` takes no value and reads `build --dry-run sites/x` as `--dry-run=sites/x`: the
 * directory is lost and the build writes. A flag that takes no value can stand anywhere, so every
 * boolean flag of any command is moved after the other words (before a `--`), where cac reads it
 * right. Flags with values (`--out <dir>`) stay where they are.
 */
export function booleanFlagsLast(argv: readonly string[], cli: CAC): string[] {
  const flags = new Set<string>();
  // The command's own boolean flags and the global ones: a flag is boolean for one command and
  // takes a value for another (`verify --releases`, `publish --releases <dir>`).
  const named = cli.commands.find((c) => argv.includes(c.name));
  const commands = named ? [named] : cli.commands;
  for (const o of [cli.globalCommand, ...commands].flatMap((c) => c.options)) {
    if (!o.isBoolean) continue;
    for (const n of o.rawName.split(/[\s,]+/)) if (n.startsWith('-')) flags.add(n);
  }
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  return [...head.filter((a) => !flags.has(a)), ...head.filter((a) => flags.has(a)), ...(end < 0 ? [] : argv.slice(end))];
}

/** A flag before the command that is not a global one, with a suggestion (undefined: it is one). */
export function unknownGlobalFlag(first: string | undefined): string | undefined {
  if (first === undefined || !first.startsWith('-') || GLOBAL_FLAGS.includes(first.split('=')[0]!)) return undefined;
  const guess = closest(
    first,
    GLOBAL_FLAGS.filter((f) => f.startsWith('--')),
  );
  return `unknown option \`${first}\`${guess ? `; did you mean ${guess}?` : ''}`;
}

/** cac's message for a command line it refuses (an option the command does not take, a missing argument), with a suggestion for an unknown option. */
export function cacErrorMessage(err: Error, cli: CAC): string {
  const m = /Unknown option `(.+?)`/.exec(err.message);
  const known = (cli.matchedCommand?.options ?? [])
    .concat(cli.globalCommand.options)
    .flatMap((o) => o.names.map((n) => (n.length > 1 ? `--${n}` : `-${n}`)));
  const guess = m
    ? closest(
        m[1]!,
        known.map((k) => k.replace(/([A-Z])/g, '-$1').toLowerCase()),
      )
    : undefined;
  // cac's "Unused args: `x`": too many words for the command; say which command takes what.
  const unused = /^Unused args: (.+)$/.exec(err.message);
  const command = cli.matchedCommand;
  if (unused && command)
    return `too many arguments for \`harvgen ${command.name}\`: ${unused[1]!.replace(/\.$/, '')} (usage: harvgen ${command.rawName}; \`harvgen ${command.name} --help\`)`;
  return `${err.message.replace(/\.$/, '')}${guess ? `; did you mean ${guess}?` : ''}`;
}

/** `unknown command "x"`, with the closest command as a suggestion. */
export function unknownCommandMessage(word: string, cli: CAC): string {
  const guess = closest(
    word,
    cli.commands.map((c) => c.name),
  );
  return `unknown command "${word}"${guess ? `; did you mean "${guess}"?` : ''}`;
}
