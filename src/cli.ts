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
import { jsonOutput, jsonSite, type JsonExtra, type JsonFileDiff, type JsonOutput } from './diagnostics/envelope.ts';
import { exitCode } from './diagnostics/exit.ts';
import { useColor } from './cli/output.ts';
import { deployHints } from './cli/hints.ts';
import { startProgress } from './cli/progress.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const COMMANDS = ['check', 'build', 'watch', 'explain', 'init', 'hash-password', 'help'] as const;
/** The commands whose `--json` document names them. */
const JSON_COMMANDS = ['check', 'build', 'watch', 'explain', 'init', 'hash-password'] as const;
const GLOBAL_FLAGS = ['--json', '--strict', '--debug', '--no-color', '--help', '--version', '-h', '-v'];
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
  diff?: boolean;
  deploy?: boolean;
}

/** The output root: `--out`, else `out` for the committed tree and `deploy` for the deploy tree. */
const outDirOf = (flags: Flags): string => flags.out ?? (flags.deploy === true ? 'deploy' : 'out');

/** Output streams (a TTY flag decides progress lines and colour). */
export interface CliIo {
  readonly out: { write(s: string): unknown; isTTY?: boolean };
  readonly err: { write(s: string): unknown; isTTY?: boolean };
  /** Where `hash-password` reads the password (default process.stdin). */
  readonly in?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
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
    .command(
      'check [...site-dirs]',
      'Validate site inventories and render them in memory; write nothing (default: every site under sites/)',
    )
    .option('--deploy', 'Also read and check the secrets, as the deploy build does')
    .example('harvgen check sites/location_x sites/location_y')
    .example('harvgen check sites/location_x --json')
    .action((dirs: string[], flags: Flags) => runCheck(dirs, flags));
  cli
    .command('build [...site-dirs]', 'Validate and write out/<site>/ for each site without errors (default: every site under sites/)')
    .option('--out <dir>', 'Output root directory (default: out, or deploy with --deploy)')
    .option('--deploy', 'The deploy tree: read the secrets and write them (default: the committed tree, secrets as markers)')
    .option('--dry-run', 'Show what would change; write nothing')
    .option('--check', 'Fail when the output directory is not what the inventory builds (for CI)')
    .option('-q, --quiet', 'Print only problems and one line per site')
    .option('--diff', 'Print a unified diff of every file that would change (implies --dry-run unless --check)')
    .option('--all-or-nothing', 'Write nothing when any site has errors')
    .option('--force', 'Compile every site and compare every output file byte by byte, trusting no timestamp')
    .example('harvgen build sites/location_x')
    .example('harvgen build sites/location_x --diff   # what would change, as a diff; writes nothing')
    .example('harvgen build sites/* --strict          # the committed tree, out/')
    .example('harvgen build --deploy sites/location_x  # the deploy tree with the secrets, deploy/')
    .action((dirs: string[], flags: Flags) => runBuild(dirs, flags));
  cli
    .command('watch <...site-dirs>', 'Build, then rebuild whenever an inventory file changes (Ctrl-C stops, exit 130)')
    .option('--out <dir>', 'Output root directory (default: out, or deploy with --deploy)')
    .option('--deploy', 'The deploy tree: read the secrets and write them (default: the committed tree, secrets as markers)')
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
    .action((dir: string, flags: Flags) => runInit(dir, flags));
  cli
    .command(
      'hash-password',
      'Read a password (a prompt without echo on a terminal, else stdin) and print its SHA-512 crypt hash ($6$) for cluster.password',
    )
    .example('harvgen hash-password < password.txt')
    .example('printf \'%s\' "$PASSWORD" | harvgen hash-password')
    .action((flags: Flags) => runHashPassword(flags));
  cli.command('help [command]', 'Show this overview, or the help of one command').action((name?: string) => runHelp(name));
  // cac shows `(default: true)` for every --no-* flag, which reads as "colours are disabled".
  cli.help((sections) => sections.map((s) => ({ ...s, body: s.body.replace(/ \(default: true\)$/gm, '').replace(/ +$/gm, '') })));

  async function runExplain(dir: string, query: string, flags: Flags): Promise<number> {
    const { compileSite } = await lib();
    const { explainNode, findNode, formatExplanation } = await import('./explain/index.ts');
    const site = await compileSite(dir);
    const debug = flags.debug === true;
    if (!site.model) {
      if (flags.json)
        printJson(jsonOutput({ command: 'explain', ok: false, sites: [jsonSite(site)], diagnostics: site.diagnostics, debug }));
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
    if (flags.json) {
      // The inventory may have errors (counted in `errors`): the node was explained all the same.
      const extra = { site: e.site, hostname: e.hostname, values: e.values };
      printJson(jsonOutput({ command: 'explain', ok: true, sites: [jsonSite(site)], diagnostics: site.diagnostics, debug, extra }));
    } else {
      // Explaining works on an inventory with errors too; they are shown on stderr.
      report(site.diagnostics, sourcesOf([site]), flags);
      print(formatExplanation(e));
    }
    return 0;
  }

  async function runInit(dir: string, flags: Flags): Promise<number> {
    const { initSite } = await import('./cli/init.ts');
    const r = await initSite(dir);
    if ('error' in r && r.io) {
      const d: Diagnostic = {
        code: 'EMIT_WRITE_FAILED',
        severity: 'error',
        message: r.error,
        hint: 'Pick a directory you can write to (init creates it when it is missing).',
      };
      if (flags.json) printJson(jsonOutput({ command: 'init', ok: false, sites: [], diagnostics: [d] }));
      else report([d], {}, flags);
      return 2;
    }
    if ('error' in r) return usageError(r.error);
    if (flags.json) {
      const site = jsonSite({ dir, site: r.site, diagnostics: [] });
      printJson(jsonOutput({ command: 'init', ok: true, sites: [site], diagnostics: [], extra: { created: r.files } }));
      return 0;
    }
    for (const f of r.files) print(`created ${f}`);
    note(`site ${r.site}: edit ${dir}/site.yaml, then \`harvgen check ${dir}\` (secrets/ holds a random token and password, git-ignored)`);
    return 0;
  }

  async function runHashPassword(flags: Flags): Promise<number> {
    const { hashPasswordFromStdin } = await import('./cli/hash-password.ts');
    // Ctrl-C (SIGINT while reading a pipe; a byte at the terminal's raw-mode prompt) exits 130,
    // SIGTERM 143, as watch does; nothing is printed on stdout.
    const stop = new AbortController();
    let interrupted = 130;
    const onSigint = () => stop.abort();
    const onSigterm = () => {
      interrupted = 143;
      stop.abort();
    };
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigterm);
    let r: Awaited<ReturnType<typeof hashPasswordFromStdin>>;
    try {
      r = await hashPasswordFromStdin(io.in ?? process.stdin, io.err, stop.signal);
    } finally {
      process.removeListener('SIGINT', onSigint);
      process.removeListener('SIGTERM', onSigterm);
    }
    if ('interrupted' in r) return interrupted;
    if ('error' in r) return usageError(r.error);
    // The hash is the result (what goes into the inventory); the password is never printed.
    if (flags.json) printJson(jsonOutput({ command: 'hash-password', ok: true, sites: [], diagnostics: [], extra: { hash: r.hash } }));
    else print(r.hash);
    return 0;
  }

  function runHelp(name?: string): number {
    if (name === undefined) {
      // The overview, as `harvgen --help` prints it (cli.outputHelp() would show help's own help).
      cli.globalCommand.outputHelp();
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
    const { discoverSites, noSitesReason } = await import('./load/discover.ts');
    const found = await discoverSites(process.cwd());
    if (found.length === 0) usageError(`no site directory given, and ${await noSitesReason(process.cwd())}`);
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
        secrets: flags.deploy === true ? 'filled' : 'markers',
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
    // --diff shows what a build would change: it writes nothing (a dry run unless --check).
    const dryRun = flags.dryRun === true || (flags.diff === true && flags.check !== true);
    let result: BuildResult;
    try {
      result = await build({
        sites: dirs,
        outDir: outDirOf(flags),
        secrets: flags.deploy === true ? 'filled' : 'markers',
        strict: flags.strict === true,
        dryRun,
        check: flags.check === true,
        allOrNothing: flags.allOrNothing === true,
        force: flags.force === true,
        // The diff needs each site's files after it was compared.
        keepArtifacts: flags.diff === true,
        onProgress: (e) => progress?.update(`harvgen: building ${e.dir} (${e.index + 1}/${e.total})`),
      });
    } finally {
      progress?.done();
    }
    const diffs = flags.diff ? await diffsOf(result) : undefined;
    if (flags.json) {
      printJson(buildJson('build', result, flags, diffs ? { diffs } : undefined));
      return exitCode(result.ok, result.diagnostics);
    }
    report(result.diagnostics, sourcesOf(result.compiled), flags);
    const { errors, warnings } = countDiagnostics(result.diagnostics);
    if (!result.ok && result.sites.length === 0) note(`${errors} error(s), ${warnings} warning(s); nothing was written`);
    else if (!result.ok) {
      const skipped = result.compiled.filter((c) => !result.sites.some((s) => s.site === c.site && c.site !== undefined));
      // No site left out: every site was compared (--check found a stale tree).
      const notWritten =
        skipped.length === 0
          ? ''
          : `; not written: ${skipped.map((c) => c.dir).join(', ')} (the other sites were written; --all-or-nothing writes none)`;
      note(`${errors} error(s), ${warnings} warning(s)${notWritten}`);
    }
    const compare = dryRun || flags.check;
    const changeLines = compare ? (await import('./cli/changes.ts')).changeLines : () => [];
    for (const s of result.sites) {
      print(
        `${s.site}: ${s.files.length} files for ${s.nodes} nodes in ${s.dir} (${compare ? 'would write' : 'wrote'} ${s.written.length}, ${compare ? 'would remove' : 'removed'} ${s.removed.length}, unchanged ${s.unchanged.length}${s.upToDate ? '; up to date, not compiled' : ''})`,
      );
      // Each file that would change: missing, extra (would be removed) or differs.
      if (compare && !flags.quiet) for (const l of changeLines(s)) print(l);
      for (const d of diffs ?? []) if (d.site === s.site) print(d.diff);
    }
    // Once per run, naming only the files the sites built have.
    if (!flags.quiet && !compare) for (const l of deployHints(result.sites, flags.deploy === true ? 'filled' : 'markers')) print(l);
    return exitCode(result.ok, result.diagnostics);
  }

  /** The diff of every file that would change, per site, secrets masked. */
  async function diffsOf(result: BuildResult): Promise<JsonFileDiff[]> {
    const { siteDiffs, siteSecrets } = await import('./cli/changes.ts');
    const { siteSecretValues } = await import('./pipeline.ts');
    return result.sites.flatMap((s) => {
      const compiled = result.compiled.find((c) => c.site === s.site);
      if (!compiled?.artifacts) return [];
      // Every secret the library masks (also those under `config:`, reused in another field), not only cluster.*.
      const secrets = [...new Set([...siteSecrets(compiled.model), ...siteSecretValues(compiled)])];
      return siteDiffs(s.dir, s, compiled.artifacts, secrets).map((d) => ({ site: s.site, ...d }));
    });
  }

  function buildJson(command: 'build' | 'watch', result: BuildResult, flags: Flags, extra?: JsonExtra): JsonOutput {
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
    // Ctrl-C stops the watch (130, SIGTERM 143) from the start, during the first build too: once
    // its line is printed, a signal is an orderly stop, never the default kill.
    let signalled: number | undefined;
    const bySignal = new Promise<number>((resolve) => {
      process.once('SIGINT', () => resolve((signalled = 130)));
      process.once('SIGTERM', () => resolve((signalled = 143)));
    });
    const handle = watch({
      sites: dirs,
      outDir: outDirOf(flags),
      secrets: flags.deploy === true ? 'filled' : 'markers',
      strict: flags.strict === true,
      debounceMs: debounce,
      onBuild,
      onError: (d) => {
        failed = d;
        if (flags.json) printJson(jsonOutput({ command: 'watch', ok: false, sites: [], diagnostics: [d] }), true);
        else report([d], {}, flags);
      },
    });
    await Promise.race([handle.ready, bySignal]);
    if (!flags.json && signalled === undefined) note('watching for changes (Ctrl-C to stop)');
    const signal = await Promise.race([bySignal, handle.stopped.then(() => 2)]);
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
    const debug = argv.includes('--debug');
    if (wantsJson) {
      const d: Diagnostic = {
        code: 'INTERNAL_ERROR',
        severity: 'error',
        message: `harvgen failed: ${err.message} (this is a bug in harvgen)`,
        hint: 'Please report it; run with --debug for the stack trace.',
        detail: err.stack ?? String(err),
      };
      const name = cli.matchedCommandName;
      const command = JSON_COMMANDS.find((c) => c === name) ?? null;
      printJson(jsonOutput({ command, ok: false, sites: [], diagnostics: [d], debug }));
      return 2;
    }
    note(
      `harvgen: internal error: ${err.message} (this is a bug in harvgen)\n${debug ? `${err.stack}\n` : 'Run with --debug for the stack trace.'}`,
    );
    return 2;
  }
}
