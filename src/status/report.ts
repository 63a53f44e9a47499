// What a status run over named logs says per site (`SiteSummary`, as --log-dir gives), and the
// metrics file written from the summaries.
import type { Diagnostic } from '../diagnostics/types.ts';
import { deployTime, siteSummary, type SiteSummary } from './fleet.ts';
import type { StatusResult } from './types.ts';

/** Each site's summary from a run over named logs (a log that could not be read leaves every site incomplete). */
export function summariesOf(
  result: StatusResult,
  o: { logFiles: number; outDir: string; deployedAt?: number | undefined; neverMs: number; now?: number },
): SiteSummary[] {
  const unreadable = result.diagnostics.some((d) => d.code === 'STATUS_LOG_UNREADABLE');
  const now = o.now ?? Date.now();
  return result.sites.map((s) => {
    const c = result.counts?.find((x) => x.site === s.site);
    return siteSummary({
      dir: s.dir,
      site: s.site ?? s.dir,
      ok: s.diagnostics.length === 0 && c !== undefined && !unreadable,
      nodes: result.nodes.filter((n) => n.site === s.site),
      unknown: result.unknown.filter((u) => u.site === s.site).length,
      requests: c?.requests ?? 0,
      verifyRequests: c?.verifyRequests ?? 0,
      serverRequests: c?.serverRequests ?? 0,
      foreignRequests: c?.foreignRequests ?? 0,
      skipped: result.skipped,
      logFiles: o.logFiles,
      lastRequest: c?.lastRequest,
      deployed: s.site !== undefined ? deployTime(s.site, undefined, o.outDir, o.deployedAt) : undefined,
      now,
      neverMs: o.neverMs,
    });
  });
}

/** Write the metrics file; a diagnostic when it cannot be. */
export async function writeMetrics(file: string, summaries: readonly SiteSummary[]): Promise<Diagnostic | undefined> {
  const { metricsText } = await import('./metrics.ts');
  const { writeFileAtomic } = await import('../durable/index.ts');
  try {
    writeFileAtomic(file, metricsText(summaries));
    return undefined;
  } catch (e) {
    return {
      code: 'EMIT_WRITE_FAILED',
      severity: 'error',
      message: `the metrics file ${file} cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      hint: "Give --metrics a file in a directory this user may write (node_exporter's textfile directory).",
      file,
    };
  }
}
