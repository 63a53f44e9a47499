// The command line: parse flags (cac), call the library, print, return the exit code.
// Exit codes: 0 success, 1 the inventory has errors (or warnings with --strict), 2 usage,
// I/O or internal failure. No stack trace reaches the user unless --debug.
import { readFileSync } from 'node:fs';
import { cac } from 'cac';
import type { BuildResult, CheckResult, Diagnostic } from './index.ts';
import { countDiagnostics, formatDiagnostics, formatJson } from './diagnostics/format.ts';
import { closest } from './util/suggest.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const COMMANDS = ['check', 'build', 'watch'] as const;

interface Flags {
  json?: boolean;
  strict?: boolean;
  debug?: boolean;
  color?: boolean;
  out?: string;
  dryRun?: boolean;
  check?: boolean;
  quiet?: boolean;
}

/** Run the CLI with the given arguments (without `node harvgen`); resolves to the exit code. */
export async function main(argv: readonly string[], io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const print = (s: string) => io.out.write(s.endsWith('\n') ? s : s + '\n');
  const usageError = (message: string) => {
    io.err.write(`harvgen: error CLI_USAGE: ${message}\nRun \`harvgen --help\` for usage.\n`);
    return 2;
  };
  const cli = cac('harvgen');
  cli
    .option('--json', 'Print machine-readable JSON on stdout')
    .option('--strict', 'Treat warnings as errors')
    .option('--debug', 'Show internal details (stack traces) of internal errors')
    .option('--no-color', 'Disable colours (also NO_COLOR=1)');
  cli
    .command('check <...site-dirs>', 'Validate site inventories; write nothing')
    .example('harvgen check sites/location_x sites/location_y')
    .example('harvgen check sites/location_x --json')
    .action((dirs: string[], flags: Flags) => runCheck(dirs, flags));
  cli
    .command('build <...site-dirs>', 'Validate and write out/<site>/ for each site (nothing is written if any site has errors)')
    .option('--out <dir>', 'Output root directory', { default: 'out' })
    .option('--dry-run', 'Show what would change; write nothing')
    .option('--check', 'Fail when the output directory is not what the inventory builds (for CI)')
    .option('--quiet', 'Print only problems')
    .example('harvgen build sites/location_x')
    .example('harvgen build sites/* --out /srv/harvgen-out --strict')
    .action((dirs: string[], flags: Flags) => runBuild(dirs, flags));
  cli
    .command('watch <...site-dirs>', 'Build, then rebuild whenever an inventory file changes')
    .option('--out <dir>', 'Output root directory', { default: 'out' })
    .example('harvgen watch sites/location_x')
    .action((dirs: string[], flags: Flags) => runWatch(dirs, flags));
  cli.help();
  cli.version(pkg.version);

  const color = (flags: Flags) => flags.color !== false && !process.env.NO_COLOR && (io.out as { isTTY?: boolean }).isTTY === true;
  const report = (result: CheckResult | BuildResult, flags: Flags) => {
    const sources = Object.assign({}, ...('compiled' in result ? result.compiled : result.sites).map((s) => s.sources)) as Record<
      string,
      string
    >;
    if (result.diagnostics.length > 0)
      print(formatDiagnostics(result.diagnostics, { color: color(flags), sources, debug: flags.debug === true }) + '\n');
  };
  const exitCode = (ok: boolean, diagnostics: readonly Diagnostic[]) =>
    ok
      ? 0
      : diagnostics.some((d) => d.code === 'INTERNAL_ERROR' || d.code === 'EMIT_WRITE_FAILED' || d.code.startsWith('LOAD_READ'))
        ? 2
        : 1;

  // One JSON envelope for every command: ok, counts, per-site summary, diagnostics.
  const printJson = (ok: boolean, diagnostics: readonly Diagnostic[], sites: unknown[], flags: Flags) => {
    const { errors, warnings } = countDiagnostics(diagnostics);
    const shown = diagnostics.map(({ detail, ...d }) => (flags.debug && detail ? { ...d, detail } : d));
    print(formatJson({ ok, errors, warnings, sites, diagnostics: shown }));
  };

  // The library (ajv, yaml, eta, ...) loads only when a command needs it: `--version` and
  // `--help` stay as fast as Node itself.
  const lib = () => import('./index.ts');

  async function runCheck(dirs: string[], flags: Flags): Promise<number> {
    const { check } = await lib();
    const result = await check({ sites: dirs, strict: flags.strict === true });
    const { errors, warnings } = countDiagnostics(result.diagnostics);
    if (flags.json) {
      const sites = result.sites.map((s) => ({ dir: s.dir, site: s.site ?? null, nodes: s.model?.nodes.length ?? null }));
      printJson(result.ok, result.diagnostics, sites, flags);
    } else {
      report(result, flags);
      for (const s of result.sites)
        if (!s.diagnostics.some((d) => d.severity === 'error')) print(`ok  ${s.dir}: site ${s.site}, ${s.model?.nodes.length ?? 0} nodes`);
      print(`${errors} error(s), ${warnings} warning(s) in ${result.sites.length} site(s)`);
    }
    return exitCode(result.ok, result.diagnostics);
  }

  async function runBuild(dirs: string[], flags: Flags): Promise<number> {
    const { build } = await lib();
    const result = await build({
      sites: dirs,
      outDir: flags.out ?? 'out',
      strict: flags.strict === true,
      dryRun: flags.dryRun === true,
      check: flags.check === true,
    });
    const { errors, warnings } = countDiagnostics(result.diagnostics);
    if (flags.json) {
      const sites = result.sites.map(({ site, dir, nodes, files, written, removed }) => ({
        site,
        dir,
        nodes,
        files: files.length,
        written,
        removed,
      }));
      printJson(result.ok, result.diagnostics, sites, flags);
      return exitCode(result.ok, result.diagnostics);
    }
    report(result, flags);
    if (!result.ok && result.sites.length === 0) print(`${errors} error(s), ${warnings} warning(s); nothing was written`);
    for (const s of result.sites) {
      const verb = flags.dryRun || flags.check ? 'would write' : 'wrote';
      print(
        `${s.site}: ${s.files.length} files for ${s.nodes} nodes in ${s.dir} (${verb} ${s.written.length}, ${flags.dryRun || flags.check ? 'would remove' : 'removed'} ${s.removed.length}, unchanged ${s.unchanged.length})`,
      );
      if (flags.dryRun) for (const p of [...s.written.map((w) => `  ~ ${w}`), ...s.removed.map((r) => `  - ${r}`)]) print(p);
      if (!flags.quiet && !flags.dryRun && !flags.check) {
        print(`  serve:   copy ${s.dir}/ to the web server and include nginx/harvgen.conf (see README, "Deploy")`);
        print(`  dhcp:    include dnsmasq/harvgen.conf, or for a libvirt lab run libvirt/define.sh`);
        print(`  release: run artifacts/fetch.sh on the web server to download and verify the Harvester files`);
      }
    }
    return exitCode(result.ok, result.diagnostics);
  }

  async function runWatch(dirs: string[], flags: Flags): Promise<number> {
    const { watch } = await lib();
    const handle = watch({
      sites: dirs,
      outDir: flags.out ?? 'out',
      strict: flags.strict === true,
      onBuild: ({ result, changed }) => {
        if (changed.length) print(`changed: ${changed.join(', ')}`);
        report(result, flags);
        print(
          result.ok
            ? `built ${result.sites.map((s) => `${s.site} (${s.written.length} written)`).join(', ')}`
            : 'build failed; previous output kept',
        );
      },
    });
    await handle.ready;
    print('watching for changes (Ctrl-C to stop)');
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    await handle.close();
    return 0;
  }

  try {
    const parsed = cli.parse(['node', 'harvgen', ...argv], { run: false });
    if (parsed.options.help || parsed.options.version) return 0;
    if (!cli.matchedCommand) {
      const word = parsed.args[0];
      if (word === undefined) {
        cli.outputHelp();
        return 2;
      }
      const guess = closest(String(word), COMMANDS);
      return usageError(`unknown command "${word}"${guess ? `; did you mean "${guess}"?` : ''}`);
    }
    return (await cli.runMatchedCommand()) as number;
  } catch (e) {
    const err = e as Error;
    if (err.name === 'CACError') {
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
      return usageError(`${err.message.replace(/\.$/, '')}${guess ? `; did you mean ${guess}?` : ''}`);
    }
    io.err.write(
      `harvgen: internal error: ${err.message} (this is a bug in harvgen)\n${argv.includes('--debug') ? `${err.stack}\n` : 'Run with --debug for the stack trace.\n'}`,
    );
    return 2;
  }
}
