// The command line: parse flags (cac), call the library, print, return the exit code.
// Streams: results on stdout (per-site summaries, `--json` documents), diagnostics and
// progress on stderr. Exit codes: 0 success, 1 the inventory has errors (or warnings with
// --strict), 2 usage, I/O or internal failure, 130 when watch is stopped with Ctrl-C. No stack
// trace reaches the user unless --debug.
import { existsSync, readFileSync } from 'node:fs';
import { cac } from 'cac';
import type { BuildResult, CheckResult, Diagnostic, WatchEvent } from './index.ts';
import { countDiagnostics, formatDiagnostics } from './diagnostics/format.ts';
import { hasFailures } from './diagnostics/types.ts';
import { closest } from './util/suggest.ts';
import { jsonOutput, jsonSite, useColor, type JsonOutput } from './cli/output.ts';
import { startProgress } from './cli/progress.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const COMMANDS = ['check', 'build', 'watch', 'explain', 'init', 'hash-password', 'help'] as const;
const GLOBAL_FLAGS = ['--json', '--strict', '--debug', '--no-color', '--help', '--version', '-h', '-v'];
/** Codes that mean "could not do the job" (exit 2) rather than "the inventory is wrong" (exit 1). */
const EXIT_2 = new Set([
  'INTERNAL_ERROR',
  'EMIT_WRITE_FAILED',
  'LOAD_READ_FAILED',
  'CLI_USAGE',
  'EMIT_OUT_DIR_UNSAFE',
  'EMIT_LOCKED',
  'EMIT_SYMLINK_REFUSED',
]);

interface Flags {
  json?: boolean;
  strict?: boolean;
  debug?: boolean;
  color?: boolean;
  out?: string;
  dryRun?: boolean;
  check?: boolean;
  quiet?: boolean;
  allOrNothing?: boolean;
  force?: boolean;
  debounce?: number;
}

/** Output streams (a TTY flag decides progress lines and colour). */
export interface CliIo {
  readonly out: { write(s: string): unknown; isTTY?: boolean };
  readonly err: { write(s: string): unknown; isTTY?: boolean };
}

/** Run the CLI with the given arguments (without `node harvgen`); resolves to the exit code. */
/**
 * cac hands its parser (mri) the camel-cased names of boolean flags (`dryRun`), so mri does not
 * know `--dry-run` takes no value and reads `build --dry-run sites/x` as `--dry-run=sites/x`: the
 * directory is lost and the build writes. A flag that takes no value can stand anywhere, so every
 * boolean flag of any command is moved after the other words (before a `--`), where cac reads it
 * right. Flags with values (`--out <dir>`) stay where they are.
 */
export function booleanFlagsLast(argv: readonly string[], cli: ReturnType<typeof cac>): string[] {
  const flags = new Set<string>();
  for (const o of [cli.globalCommand, ...cli.commands].flatMap((c) => c.options)) {
    if (!o.isBoolean) continue;
    for (const n of o.rawName.split(/[\s,]+/)) if (n.startsWith('-')) flags.add(n);
  }
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  return [...head.filter((a) => !flags.has(a)), ...head.filter((a) => flags.has(a)), ...(end < 0 ? [] : argv.slice(end))];
}

export async function main(argv: readonly string[], io: CliIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  const line = (stream: CliIo['out'], s: string) => stream.write(s.endsWith('\n') ? s : s + '\n');
  const print = (s: string) => line(io.out, s);
  const note = (s: string) => line(io.err, s);
  const wantsJson = argv.includes('--json');
  const printJson = (doc: JsonOutput, compact = false) => print(compact ? JSON.stringify(doc) : JSON.stringify(doc, null, 2));
  const usageError = (message: string): number => {
    if (wantsJson) {
      const d: Diagnostic = { code: 'CLI_USAGE', severity: 'error', message, hint: 'Run `harvgen --help` for usage.' };
      printJson(jsonOutput({ command: null, ok: false, sites: [], diagnostics: [d] }));
    } else note(`harvgen: error CLI_USAGE: ${message}\nRun \`harvgen --help\` for usage.`);
    return 2;
  };
  const exitCode = (ok: boolean, diagnostics: readonly Diagnostic[]) =>
    ok ? 0 : diagnostics.some((d) => EXIT_2.has(d.code) || d.code.startsWith('LOAD_READ')) ? 2 : 1;
  const color = (flags: Flags) => useColor(flags.color, io.err);
  const report = (diagnostics: readonly Diagnostic[], sources: Record<string, string>, flags: Flags) => {
    if (diagnostics.length > 0) note(formatDiagnostics(diagnostics, { color: color(flags), sources, debug: flags.debug === true }) + '\n');
  };
  const sourcesOf = (sites: readonly { sources: Readonly<Record<string, string>> }[]) =>
    Object.assign({}, ...sites.map((s) => s.sources)) as Record<string, string>;
  // The library (ajv, yaml, eta, ...) loads only when a command needs it: `--version` and
  // `--help` stay as fast as Node itself.
  const lib = () => import('./index.ts');

  const cli = cac('harvgen');
  cli
    .option('--json', 'Print one versioned JSON document on stdout (README "JSON output")')
    .option('--strict', 'Treat warnings as errors')
    .option('--debug', 'Show internal details (stack traces) of internal errors')
    .option('--no-color', 'Disable colours (also NO_COLOR=1; FORCE_COLOR=1 forces them)');
  cli
    .command('check [...site-dirs]', 'Validate site inventories (default: every site under sites/); write nothing')
    .example('harvgen check sites/location_x sites/location_y')
    .example('harvgen check sites/location_x --json')
    .action((dirs: string[], flags: Flags) => runCheck(dirs, flags));
  cli
    .command('build [...site-dirs]', 'Validate and write out/<site>/ for each site without errors (default: every site under sites/)')
    .option('--out <dir>', 'Output root directory', { default: 'out' })
    .option('--dry-run', 'Show what would change; write nothing')
    .option('--check', 'Fail when the output directory is not what the inventory builds (for CI)')
    .option('--quiet', 'Print only problems and one line per site')
    .option('--all-or-nothing', 'Write nothing when any site has errors')
    .option('--force', 'Compile every site and compare every output file byte by byte, trusting no timestamp')
    .example('harvgen build sites/location_x')
    .example('harvgen build sites/* --out /srv/harvgen-out --strict')
    .action((dirs: string[], flags: Flags) => runBuild(dirs, flags));
  cli
    .command('watch <...site-dirs>', 'Build, then rebuild whenever an inventory file changes (Ctrl-C stops, exit 130)')
    .option('--out <dir>', 'Output root directory', { default: 'out' })
    .option('--debounce <ms>', 'Quiet time after the last change before a rebuild', { default: 50 })
    .example('harvgen watch sites/location_x')
    .example('harvgen watch sites/location_x --json   # one JSON line per rebuild')
    .action((dirs: string[], flags: Flags) => runWatch(dirs, flags));
  cli
    .command('explain <site-dir> <node>', 'Show every resolved value of a node (by hostname or MAC) and the file and line that set it')
    .example('harvgen explain sites/location_x hv-2')
    .example('harvgen explain sites/location_x 52:54:00:aa:bb:02 --json')
    .action((dir: string, node: string, flags: Flags) => runExplain(dir, String(node), flags));
  cli
    .command('init <site-dir>', 'Create a commented site (site.yaml, a node file, secrets/) that passes check; never overwrites')
    .example('harvgen init sites/location_z')
    .action((dir: string) => runInit(dir));
  cli
    .command('hash-password', 'Read a password on stdin and print its SHA-512 crypt hash ($6$) for cluster.password')
    .example('harvgen hash-password < password.txt')
    .example('printf \'%s\' "$PASSWORD" | harvgen hash-password')
    .action(() => runHashPassword());
  cli.command('help [command]', 'Show help for a command').action((name?: string) => runHelp(name));
  cli.help();

  async function runExplain(dir: string, query: string, flags: Flags): Promise<number> {
    const { compileSite } = await lib();
    const { explainNode, findNode, formatExplanation } = await import('./explain/index.ts');
    const site = await compileSite(dir);
    if (!site.model) {
      if (flags.json) printJson(jsonOutput({ command: null, ok: false, sites: [jsonSite(site)], diagnostics: site.diagnostics }));
      else report(site.diagnostics, sourcesOf([site]), flags);
      return exitCode(false, site.diagnostics);
    }
    const node = findNode(site.model, query);
    if (!node) {
      const guess = closest(
        query,
        site.model.nodes.map((n) => n.hostname),
      );
      return usageError(`site ${site.model.site} has no node "${query}" (by hostname or MAC)${guess ? `; did you mean "${guess}"?` : ''}`);
    }
    const e = explainNode(site, node);
    if (flags.json) print(JSON.stringify({ version: 1, ...e }, null, 2));
    else {
      // Explaining works on an inventory with errors too; they are shown on stderr.
      report(site.diagnostics, sourcesOf([site]), flags);
      print(formatExplanation(e));
    }
    return 0;
  }

  async function runInit(dir: string): Promise<number> {
    const { initSite } = await import('./cli/init.ts');
    const r = await initSite(dir);
    if ('error' in r) return usageError(r.error);
    for (const f of r.files) print(`created ${f}`);
    note(`site ${r.site}: edit ${dir}/site.yaml, then \`harvgen check ${dir}\` (secrets/ holds a random token and password, git-ignored)`);
    return 0;
  }

  async function runHashPassword(): Promise<number> {
    const { hashPasswordFromStdin } = await import('./cli/hash-password.ts');
    const r = await hashPasswordFromStdin(process.stdin, io.err);
    if ('error' in r) return usageError(r.error);
    print(r.hash);
    return 0;
  }

  function runHelp(name?: string): number {
    if (name === undefined) {
      cli.outputHelp();
      return 0;
    }
    if (!(COMMANDS as readonly string[]).includes(name)) {
      const guess = closest(name, COMMANDS);
      return usageError(`unknown command "${name}"${guess ? `; did you mean "${guess}"?` : ''}`);
    }
    cli.parse(['node', 'harvgen', name, '--help'], { run: false });
    return 0;
  }

  /** The site directories given, else every site under sites/ (undefined: none, a usage error printed). */
  async function siteDirs(dirs: string[]): Promise<string[] | undefined> {
    if (dirs.length > 0) return dirs;
    const { discoverSites } = await lib();
    const found = await discoverSites(process.cwd());
    if (found.length === 0) usageError('no site directory given, and sites/ holds no directory with a site.yaml');
    return found.length > 0 ? found : undefined;
  }

  async function runCheck(given: string[], flags: Flags): Promise<number> {
    const dirs = await siteDirs(given);
    if (!dirs) return 2;
    const { check } = await lib();
    const progress = flags.json ? undefined : startProgress(io.err);
    let result: CheckResult;
    try {
      result = await check({
        sites: dirs,
        strict: flags.strict === true,
        onProgress: (e) => progress?.update(`harvgen: checking ${e.dir} (${e.index + 1}/${e.total})`),
      });
    } finally {
      progress?.done();
    }
    if (flags.json) {
      printJson(
        jsonOutput({
          command: 'check',
          ok: result.ok,
          sites: result.sites.map((s) => jsonSite(s)),
          diagnostics: result.diagnostics,
          debug: flags.debug === true,
        }),
      );
      return exitCode(result.ok, result.diagnostics);
    }
    report(result.diagnostics, sourcesOf(result.sites), flags);
    // With --strict a warning fails the run, so a site with one is not "ok".
    for (const s of result.sites) {
      if (hasFailures(s.diagnostics, flags.strict === true)) continue;
      const n = s.model?.nodes.length ?? 0;
      print(`ok  ${s.dir}: site ${s.site}, ${n} node${n === 1 ? '' : 's'}`);
    }
    const { errors, warnings } = countDiagnostics(result.diagnostics);
    note(`${errors} error(s), ${warnings} warning(s) in ${result.sites.length} site(s)`);
    return exitCode(result.ok, result.diagnostics);
  }

  async function runBuild(given: string[], flags: Flags): Promise<number> {
    const dirs = await siteDirs(given);
    if (!dirs) return 2;
    const { build } = await lib();
    const progress = flags.json ? undefined : startProgress(io.err);
    let result: BuildResult;
    try {
      result = await build({
        sites: dirs,
        outDir: flags.out ?? 'out',
        strict: flags.strict === true,
        dryRun: flags.dryRun === true,
        check: flags.check === true,
        allOrNothing: flags.allOrNothing === true,
        force: flags.force === true,
        onProgress: (e) => progress?.update(`harvgen: building ${e.dir} (${e.index + 1}/${e.total})`),
      });
    } finally {
      progress?.done();
    }
    if (flags.json) {
      printJson(buildJson('build', result, flags));
      return exitCode(result.ok, result.diagnostics);
    }
    report(result.diagnostics, sourcesOf(result.compiled), flags);
    const { errors, warnings } = countDiagnostics(result.diagnostics);
    if (!result.ok && result.sites.length === 0) note(`${errors} error(s), ${warnings} warning(s); nothing was written`);
    else if (!result.ok) {
      const skipped = result.compiled.filter((c) => !result.sites.some((s) => s.site === c.site && c.site !== undefined));
      note(
        `${errors} error(s), ${warnings} warning(s); not written: ${skipped.map((c) => c.dir).join(', ')} (the other sites were written; --all-or-nothing writes none)`,
      );
    }
    const compare = flags.dryRun || flags.check;
    for (const s of result.sites) {
      print(
        `${s.site}: ${s.files.length} files for ${s.nodes} nodes in ${s.dir} (${compare ? 'would write' : 'wrote'} ${s.written.length}, ${compare ? 'would remove' : 'removed'} ${s.removed.length}, unchanged ${s.unchanged.length}${s.upToDate ? '; up to date, not compiled' : ''})`,
      );
      if (flags.dryRun) for (const p of [...s.written.map((w) => `  ~ ${w}`), ...s.removed.map((r) => `  - ${r}`)]) print(p);
      if (!flags.quiet && !compare) {
        print(`  serve:   copy ${s.dir}/ to the web server and include nginx/harvgen.conf (see README, "Deploy")`);
        print(`  dhcp:    include dnsmasq/harvgen.conf, or for a libvirt lab run libvirt/define.sh`);
        print(`  release: run artifacts/fetch.sh on the web server to download and verify the Harvester files`);
      }
    }
    return exitCode(result.ok, result.diagnostics);
  }

  function buildJson(
    command: 'build' | 'watch',
    result: BuildResult,
    flags: Flags,
    extra?: Pick<JsonOutput, 'time' | 'duration_ms' | 'changed'>,
  ): JsonOutput {
    const built = new Map(result.sites.map((s) => [s.site, s]));
    const sites = result.compiled.map((c) => jsonSite(c, c.site !== undefined ? built.get(c.site) : undefined));
    return jsonOutput({
      command,
      ok: result.ok,
      sites,
      diagnostics: result.diagnostics,
      debug: flags.debug === true,
      ...(extra ? { extra } : {}),
    });
  }

  async function runWatch(dirs: string[], flags: Flags): Promise<number> {
    const debounce = Number(flags.debounce ?? 50);
    if (!Number.isInteger(debounce) || debounce < 0 || debounce > 60_000) {
      return usageError(`--debounce must be a whole number of milliseconds from 0 to 60000, not ${JSON.stringify(flags.debounce)}`);
    }
    // A directory that is not there is a usage error, named (not "disappeared" at the first event).
    const missing = dirs.find((d) => !existsSync(d));
    if (missing !== undefined) return usageError(`no such site directory: ${missing}`);
    const { watch } = await lib();
    let failed: Diagnostic | undefined;
    const onBuild = ({ result, changed, startedAt, durationMs }: WatchEvent) => {
      if (flags.json) {
        printJson(buildJson('watch', result, flags, { time: startedAt.toISOString(), duration_ms: durationMs, changed }), true);
        return;
      }
      const clock = startedAt.toTimeString().slice(0, 8);
      if (changed.length) note(`${clock} changed: ${changed.join(', ')}`);
      report(result.diagnostics, sourcesOf(result.compiled), flags);
      if (!result.ok) {
        print(`${clock} build failed in ${durationMs} ms; previous output kept`);
        return;
      }
      for (const s of result.sites) {
        print(
          `${clock} built ${s.site} in ${durationMs} ms: ${s.written.length} written, ${s.removed.length} removed, ${s.unchanged.length} unchanged${s.upToDate ? ' (up to date)' : ''}`,
        );
        for (const r of s.removed) print(`  - ${r}`);
      }
    };
    const handle = watch({
      sites: dirs,
      outDir: flags.out ?? 'out',
      strict: flags.strict === true,
      debounceMs: debounce,
      onBuild,
      onError: (d) => {
        failed = d;
        if (flags.json) printJson(jsonOutput({ command: 'watch', ok: false, sites: [], diagnostics: [d] }), true);
        else report([d], {}, flags);
      },
    });
    await handle.ready;
    if (!flags.json) note('watching for changes (Ctrl-C to stop)');
    const signal = await Promise.race([
      new Promise<number>((resolve) => process.once('SIGINT', () => resolve(130))),
      new Promise<number>((resolve) => process.once('SIGTERM', () => resolve(143))),
      handle.stopped.then(() => 2),
    ]);
    await handle.close();
    return failed ? 2 : signal;
  }

  try {
    // The bare version, as scripts expect (`harvgen --version` -> `0.1.0`).
    if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
      print(pkg.version);
      return 0;
    }
    const first = argv[0];
    if (first !== undefined && first.startsWith('-') && !GLOBAL_FLAGS.includes(first.split('=')[0]!)) {
      const guess = closest(
        first,
        GLOBAL_FLAGS.filter((f) => f.startsWith('--')),
      );
      return usageError(`unknown option \`${first}\`${guess ? `; did you mean ${guess}?` : ''}`);
    }
    const parsed = cli.parse(['node', 'harvgen', ...booleanFlagsLast(argv, cli)], { run: false });
    if (parsed.options.help) return 0;
    if (parsed.options.version) {
      print(pkg.version);
      return 0;
    }
    if (!cli.matchedCommand) {
      const word = parsed.args[0];
      if (word === undefined) {
        if (wantsJson) return usageError('no command given');
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
    note(
      `harvgen: internal error: ${err.message} (this is a bug in harvgen)\n${argv.includes('--debug') ? `${err.stack}\n` : 'Run with --debug for the stack trace.'}`,
    );
    return 2;
  }
}
