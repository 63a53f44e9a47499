// `harvgen report`: the sites as a static HTML report (the library: src/page/).
import { jsonOutput, jsonSite } from '../../report/envelope.ts';
import { exitCode } from '../../diagnostics/exit.ts';
import { hasFailures } from '../../diagnostics/types.ts';
import type { Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';

/** The flags of report (cac camel-cases them). */
export interface ReportFlags extends Flags {
  readonly log?: string | readonly string[];
  readonly fleet?: string;
  readonly verified?: string;
  readonly generatedAt?: string;
  readonly perPage?: string | number;
}

/** The time the pages show: `--generated-at`, else SOURCE_DATE_EPOCH (seconds), else now; or a usage error. */
export function generatedAtOf(flags: ReportFlags, env: NodeJS.ProcessEnv, now: number): { at: string } | { problem: string } {
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (flags.generatedAt !== undefined) {
    const text = String(flags.generatedAt);
    const m = /^(\d{4})-(\d{2})-(\d{2})(T(\d{2}):(\d{2})(:(\d{2}))?(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/.exec(text);
    // A day the month has, an hour of the day: Date.parse takes 2026-02-30 as 2026-03-02.
    const real =
      m !== null &&
      Number(m[3]) >= 1 &&
      Number(m[3]) <= new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).getUTCDate() &&
      Number(m[5] ?? 0) < 24 &&
      Number(m[6] ?? 0) < 60 &&
      Number(m[8] ?? 0) < 60;
    const ms = real ? Date.parse(text) : NaN;
    if (Number.isNaN(ms)) return { problem: `--generated-at ${text}: an ISO 8601 time (2026-11-23T10:00:00Z)` };
    return { at: iso(ms) };
  }
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '') {
    if (!/^\d{1,12}$/.test(epoch)) return { problem: `SOURCE_DATE_EPOCH=${epoch}: seconds since 1970 (a whole number)` };
    return { at: iso(Number(epoch) * 1000) };
  }
  return { at: iso(now) };
}

/** The flags checked: the report's options, or a usage error. */
function optionsOf(flags: ReportFlags) {
  if (flags.out === undefined || typeof flags.out !== 'string' || flags.out === '')
    return { problem: 'name the directory to write the report into with --out <dir>' } as const;
  const raw: readonly unknown[] = flags.log === undefined ? [] : Array.isArray(flags.log) ? flags.log : [flags.log];
  if (raw.some((f) => typeof f !== 'string' || f === '')) return { problem: '--log needs a file' } as const;
  if (flags.fleet !== undefined && (typeof flags.fleet !== 'string' || flags.fleet === ''))
    return { problem: '--fleet needs the fleet record directory (given once)' } as const;
  if (flags.verified !== undefined && (typeof flags.verified !== 'string' || flags.verified === ''))
    return { problem: '--verified needs the file a `harvgen verify --fleet <dir> --json` was saved to (given once)' } as const;
  const perPage = flags.perPage === undefined ? 100 : Number(flags.perPage);
  if (!Number.isSafeInteger(perPage) || perPage < 1 || perPage > 10_000)
    return { problem: `--per-page ${String(flags.perPage)}: a whole number of nodes from 1 to 10000` } as const;
  const at = generatedAtOf(flags, process.env, Date.now());
  if ('problem' in at) return at;
  return {
    out: flags.out,
    logs: raw as string[],
    ...(flags.fleet !== undefined ? { fleet: flags.fleet } : {}),
    ...(flags.verified !== undefined ? { verified: flags.verified } : {}),
    perPage,
    generatedAt: at.at,
  };
}

export async function runReport(dirs: string[], flags: ReportFlags, out: CliOutput): Promise<number> {
  const o = optionsOf(flags);
  if ('problem' in o) return out.usageError(o.problem!);
  // Startup: report loads the compiler and status, so not with --version/--help.
  const { report, writeReport } = await import('../../page/index.ts');
  const { outDirProblem } = await import('../../page/write.ts');
  // Refused before any site is compiled: a directory that holds something else is never written.
  const refused = outDirProblem(o.out!);
  if (refused !== undefined) return out.usageError(`--out ${refused}`);
  const r = await report({
    sites: dirs,
    logs: o.logs,
    generatedAt: o.generatedAt,
    perPage: o.perPage,
    ...(o.fleet !== undefined ? { fleet: o.fleet } : {}),
    ...(o.verified !== undefined ? { verified: o.verified } : {}),
  });
  const diagnostics = [...r.diagnostics];
  // With --strict a warning fails the run, and a run that fails writes nothing.
  const write = r.ok && !hasFailures(diagnostics, flags.strict === true);
  const written = write ? await writeReport(o.out, r.files) : undefined;
  if (written && 'diagnostic' in written) diagnostics.push(written.diagnostic);
  const ok = r.ok && !hasFailures(diagnostics, flags.strict === true);
  const counts = written && !('diagnostic' in written) ? written : undefined;
  if (flags.json) {
    out.printJson(
      jsonOutput({
        command: 'report',
        ok,
        sites: r.sites.map((s) =>
          jsonSite({
            dir: s.dir,
            ...(s.site !== undefined ? { site: s.site } : {}),
            summary: { nodes: s.nodes },
            diagnostics: s.diagnostics,
          }),
        ),
        diagnostics,
        debug: flags.debug === true,
        extra: {
          report: {
            out: o.out,
            generated_at: o.generatedAt,
            pages: r.files.length,
            ...(counts ? { written: counts.written, unchanged: counts.unchanged, removed: counts.removed } : {}),
          },
        },
      }),
    );
    return exitCode(ok, diagnostics);
  }
  out.report(diagnostics, {}, flags);
  if (counts)
    out.note(
      `${o.out}: ${r.files.length} page(s) of ${r.sites.length} site(s): ${counts.written} written, ${counts.unchanged} unchanged, ${counts.removed} removed; open ${o.out}/index.html`,
    );
  else out.note(`nothing written to ${o.out}: fix the problems above and run again`);
  return exitCode(ok, diagnostics);
}
