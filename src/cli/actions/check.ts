// `harvgen check`: validate site inventories and render them in memory; write nothing.
import { countDiagnostics } from '../../diagnostics/format.ts';
import { hasFailures } from '../../diagnostics/types.ts';
import { jsonOutput, jsonSite, withCrossSite } from '../../report/envelope.ts';
import { exitCode } from '../../diagnostics/exit.ts';
import { secretsOf, type Flags } from '../options.ts';
import { sourcesOf, type CliOutput } from '../output.ts';
import { withProgress } from '../progress.ts';
import { summaryOf } from '../../orchestrate/summary.ts';

export async function runCheck(dirs: string[], flags: Flags, out: CliOutput): Promise<number> {
  // Startup: the command modules load with --version/--help; the library only when a command runs.
  const { check } = await import('../../index.ts');
  const result = await withProgress(out.io.err, flags.json === true, 'checking', (onProgress) =>
    // Every site held light: what is printed (its diagnostics, nodes, file count) needs no model or file.
    check({ sites: dirs, strict: flags.strict === true, secrets: secretsOf(flags), keepModels: false, onProgress }),
  );
  // A site a check between sites refuses (two sites served at one URL) is not ok either.
  const reported = withCrossSite(result.sites, result.diagnostics);
  if (flags.json) {
    out.printJson(
      jsonOutput({
        command: 'check',
        ok: result.ok,
        sites: reported.map((s) => jsonSite(s)),
        diagnostics: result.diagnostics,
        debug: flags.debug === true,
      }),
    );
    return exitCode(result.ok, result.diagnostics);
  }
  out.report(result.diagnostics, sourcesOf(result.sites), flags);
  // With --strict a warning fails the run, so a site with one is not "ok".
  for (const s of reported) {
    if (hasFailures(s.diagnostics, flags.strict === true)) continue;
    const n = summaryOf(s)?.nodes ?? 0;
    out.print(`ok  ${s.dir}: site ${s.site}, ${n} node${n === 1 ? '' : 's'}`);
  }
  const { errors, warnings } = countDiagnostics(result.diagnostics);
  out.note(`${errors} error(s), ${warnings} warning(s) in ${result.sites.length} site(s)`);
  return exitCode(result.ok, result.diagnostics);
}
