#!/usr/bin/env node
// Entry point: registers the TypeScript loader (tsx) and hands over to src/cli.ts.
// The package ships its TypeScript sources, so a fresh clone needs only `npm ci`.
import { register } from 'tsx/esm/api';

const debug = process.argv.includes('--debug');
// A closed pipe (`harvgen check ... | head`) ends the run quietly, as for other CLI tools.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => process.exit(e && e.code === 'EPIPE' ? 0 : 2));
}
// Last line of defence: no stack trace reaches the user unless --debug.
const crash = (e) => {
  process.stderr.write(`harvgen: internal error: ${e && e.message ? e.message : String(e)} (this is a bug in harvgen)\n`);
  process.stderr.write(debug && e && e.stack ? `${e.stack}\n` : 'Run with --debug for the stack trace.\n');
  process.exit(2);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
