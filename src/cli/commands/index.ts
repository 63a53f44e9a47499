// Every command, in the order the overview (`harvgen --help`) lists them. A command module
// declares its options and help text; its implementation (src/cli/actions/<command>.ts), which
// loads the library and prints the result, is imported only when it runs, so that `--help` stays
// fast (`--version` is answered by bin/harvgen.js alone) and a run loads one command's code. One
// exception: build's implementation and its orchestration (not the compiler) come with the CLI,
// which makes a build that finds everything up to date load in one round (src/cli/commands/build.ts).
import type { CAC } from 'cac';
import type { CliOutput } from '../output.ts';
import * as check from './check.ts';
import * as build from './build.ts';
import * as watch from './watch.ts';
import * as explain from './explain.ts';
import * as init from './init.ts';
import * as hashPassword from './hash-password.ts';
import * as verify from './verify.ts';
import * as status from './status.ts';
import * as discover from './discover.ts';
import * as facts from './facts.ts';
import * as publish from './publish.ts';
import * as pull from './pull.ts';
import * as report from './report.ts';
import * as help from './help.ts';

/** A command: `register` declares it on the cac instance, its action resolves to the exit code. */
export interface CommandModule {
  register(cli: CAC, out: CliOutput): void;
}

export const COMMANDS: readonly CommandModule[] = [
  check,
  build,
  watch,
  verify,
  publish,
  pull,
  status,
  report,
  discover,
  facts,
  explain,
  init,
  hashPassword,
  help,
];
