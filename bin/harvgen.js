#!/usr/bin/env node
// Entry point: runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs
// through `prepare`). Kept tiny and dependency-free: `harvgen --version` loads nothing else.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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

// The bare version (`harvgen --version` -> `0.1.0`, what src/cli.ts prints too): read from
// package.json here, so that a script asking for it pays for nothing else (no staleness check of a
// checkout, no CLI loaded).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}

const dist = new URL('../dist/cli.js', import.meta.url);
const src = new URL('../src/', import.meta.url);
// In a git checkout (src/ present), refuse a dist/ older than the sources instead of running stale code.
if (existsSync(src)) {
  const built = existsSync(dist) ? statSync(dist).mtimeMs : 0;
  // Plain string paths: a URL per file cost about a third of the walk.
  const newest = (dir) => {
    let m = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      m = Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return m;
  };
  // The bundler's script (scripts/bundle.mjs) makes dist/cli.js too.
  const bundler = new URL('../scripts/bundle.mjs', import.meta.url);
  const script = existsSync(bundler) ? statSync(bundler).mtimeMs : 0;
  if (built === 0 || Math.max(newest(fileURLToPath(src).replace(/\/$/, '')), script) > built) {
    process.stderr.write(
      `harvgen: error CLI_USAGE: dist/ is ${built ? 'older than src/' : 'missing'}; run \`npm run build\` (npm ci does it too)\n`,
    );
    process.exit(2);
  }
}
// An installed package without dist/: npm skipped `prepare` of a git dependency (--ignore-scripts,
// or install scripts not approved), so nothing was compiled.
else if (!existsSync(dist)) {
  process.stderr.write(
    'harvgen: error CLI_USAGE: dist/ is missing: this copy of harvgen was installed without running its build (npm skipped its `prepare` script); approve it (`npm install-scripts approve harvgen`) and install harvgen again (`rm -rf node_modules/harvgen && npm install`)\n',
  );
  process.exit(2);
}
const { main } = await import(dist.href);
const code = await main(args);
// Done: end without tearing down the heap (about 2 ms of an up-to-date build), once the rejections
// left unhandled are reported (setImmediate runs after them: such a bug still ends the run as an
// internal error), and only when nothing is queued for output (a pipe is asynchronous on macOS):
// otherwise Node.js flushes it on its way out.
process.exitCode = code;
setImmediate(() => {
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit();
});
