// `harvgen watch`: build, then rebuild whenever an inventory file changes, until Ctrl-C.
import { existsSync } from 'node:fs';
import type { Diagnostic, WatchEvent } from '../../index.ts';
import { jsonBuildOutput, jsonOutput } from '../../report/envelope.ts';
import { EXIT, signalExitCode } from '../../diagnostics/exit.ts';
import { layersOnly, outDirOf, secretsOf, siteArguments, type Flags } from '../options.ts';
import { sourcesOf, type CliOutput } from '../output.ts';

export async function runWatch(given: string[], flags: Flags, out: CliOutput): Promise<number> {
  // `harvgen watch sites/*`: the shared layers the shell expands too are not sites.
  const dirs = siteArguments(given, out);
  if (dirs.length === 0) return out.usageError(layersOnly(given));
  const debounce = Number(flags.debounce ?? 50);
  if (!Number.isInteger(debounce) || debounce < 0 || debounce > 60_000) {
    return out.usageError(`--debounce must be a whole number of milliseconds from 0 to 60000, not ${JSON.stringify(flags.debounce)}`);
  }
  // A directory that is not there is a usage error, named (not "disappeared" at the first event).
  const missing = dirs.find((d) => !existsSync(d));
  if (missing !== undefined) return out.usageError(`no such site directory: ${missing}`);
  // Startup: the command modules load with --version/--help; the library only when a command runs.
  const { watch } = await import('../../index.ts');
  let failed: Diagnostic | undefined;
  const onBuild = ({ result, changed, startedAt, durationMs }: WatchEvent) => {
    if (flags.json) {
      const extra = { time: startedAt.toISOString(), duration_ms: durationMs, changed };
      out.printJson(jsonBuildOutput('watch', result, flags.debug === true, extra), true);
      return;
    }
    const clock = startedAt.toTimeString().slice(0, 8);
    if (changed.length) out.note(`${clock} changed: ${changed.join(', ')}`);
    out.report(result.diagnostics, sourcesOf(result.compiled), flags);
    if (!result.ok) {
      out.print(`${clock} build failed in ${durationMs} ms; previous output kept`);
      return;
    }
    for (const s of result.sites) {
      out.print(
        `${clock} built ${s.site} in ${durationMs} ms: ${s.written.length} written, ${s.removed.length} removed, ${s.unchanged.length} unchanged${s.upToDate ? ' (up to date)' : ''}`,
      );
      for (const r of s.removed) out.print(`  - ${r}`);
    }
  };
  // Ctrl-C stops the watch (130, SIGTERM 143) from the start, during the first build too: once
  // its line is printed, a signal is an orderly stop, never the default kill.
  let signalled: number | undefined;
  const bySignal = new Promise<number>((resolve) => {
    process.once('SIGINT', () => resolve((signalled = signalExitCode('SIGINT'))));
    process.once('SIGTERM', () => resolve((signalled = signalExitCode('SIGTERM'))));
  });
  const handle = watch({
    sites: dirs,
    outDir: outDirOf(flags),
    secrets: secretsOf(flags),
    strict: flags.strict === true,
    debounceMs: debounce,
    onBuild,
    onError: (d) => {
      failed = d;
      if (flags.json) out.printJson(jsonOutput({ command: 'watch', ok: false, sites: [], diagnostics: [d] }), true);
      else out.report([d], {}, flags);
    },
  });
  await Promise.race([handle.ready, bySignal]);
  if (!flags.json && signalled === undefined) out.note('watching for changes (Ctrl-C to stop)');
  const signal = await Promise.race([bySignal, handle.stopped.then(() => EXIT.failed)]);
  await handle.close();
  return failed ? EXIT.failed : signal;
}
