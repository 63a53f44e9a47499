// Writing one rendered site (or comparing it, with --check and --dry-run) and recording it for
// the next build's up-to-date check; a write that fails becomes the site's diagnostic.
import { join, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { DurableError } from '../durable/index.ts';
import { emitSite, type EmitResult } from '../emit/index.ts';
import type { CompiledSite } from '../pipeline.ts';
import { isSpilled, type Artifact } from '../render/artifact.ts';
import { dropRecord, manifestVouched, writeRecord } from '../cache/index.ts';
import { emitNotes, staleSite } from './notes.ts';
import { summaryOf, type SiteSummary } from './summary.ts';
import type { BuildOptions, SiteBuild } from './build-options.ts';

/** Where a build writes, resolved once. */
export interface Output {
  readonly cwd: string;
  /** The output root as given (`--out`), absolute. */
  readonly outRoot: string;
  /** The output root's real path: everything is written below it. */
  readonly realRoot: string;
  /** --check or --dry-run: compare only, write nothing (no record either). */
  readonly compare: boolean;
}

/** A site's lists with their counts. */
export function listed(site: Omit<SiteBuild, 'counts'>): SiteBuild {
  const { files, written, missing, removed, unchanged } = site;
  const counts = {
    files: files.length,
    written: written.length,
    missing: missing?.length ?? 0,
    removed: removed.length,
    unchanged: unchanged.length,
  };
  return { ...site, counts };
}

/** Write (or compare) one rendered site, then record it; what emit did and the notes and problems it reported. */
export async function writeSite(
  s: CompiledSite,
  artifacts: readonly Artifact[],
  dir: string,
  out: Output,
  options: BuildOptions,
): Promise<{ built?: SiteBuild; diagnostics: Diagnostic[] }> {
  const { compare, cwd, realRoot } = out;
  const diagnostics: Diagnostic[] = [];
  let built: SiteBuild | undefined;
  try {
    const siteOut = join(realRoot, s.site!);
    const known = compare || options.force ? undefined : options.emitted?.get(siteOut);
    options.emitted?.delete(siteOut);
    // Whether the manifest.json on disk is the last build's own (the record vouches for it), then
    // forgotten: a build killed from here on leaves no record, so the next one compiles. Not
    // asked when emit goes by what this process wrote last (`known` stands in for that manifest).
    const vouched = compare || known ? undefined : manifestVouched(realRoot, resolve(cwd, s.dir), s.site!);
    if (!compare) dropRecord(realRoot, resolve(cwd, s.dir));
    const r = await emitSite(siteOut, artifacts, {
      dryRun: compare,
      exact: options.force === true,
      trustManifest: vouched !== undefined,
      ...(vouched?.previous ? { previous: vouched.previous } : {}),
      ...(known ? { known: known.files } : {}),
    });
    const summary = summaryOf(s)!;
    built = listed({ ...r, site: s.site!, dir, files: artifacts.map((a) => a.path), nodes: summary.nodes });
    diagnostics.push(...emitNotes(dir, s.dir, r, options.check === true));
    if (options.check) diagnostics.push(...staleSite(dir, s.dir, r));
    if (!compare) {
      // Files taken on trust: the record vouches for the output as last seen whole, not now.
      const settled = recordSite(s, artifacts, r, summary, out, options, known ? (known.settled ?? 0) : undefined);
      // Its files are on disk and dropped next (unless kept): the spill they waited in goes now, not at the collector's leisure.
      if (!options.keepArtifacts) artifacts.find(isSpilled)?.releaseSpill();
      if (options.emitted) {
        const files = new Map<string, Artifact>();
        for (const a of artifacts) files.set(a.path, a);
        options.emitted.set(siteOut, { files, settled });
      }
    }
  } catch (e) {
    diagnostics.push(writeFailure(e, dir));
  }
  return { ...(built ? { built } : {}), diagnostics };
}

/**
 * Record a written site: one written without an error may be skipped next time (its warnings are
 * replayed from its record); any written site's record vouches for its manifest.json.
 */
function recordSite(
  s: CompiledSite,
  artifacts: readonly Artifact[],
  r: EmitResult,
  summary: SiteSummary,
  out: Output,
  options: BuildOptions,
  settled: number | undefined,
): number | undefined {
  const stamps = s.inputs?.complete ? s.inputs.stamps : undefined;
  return writeRecord(
    out.realRoot,
    {
      dir: resolve(out.cwd, s.dir),
      site: s.site!,
      server: summary.server,
      dnsmasq: summary.dnsmasq,
      nodes: summary.nodes,
      stamps,
      secrets: options.secrets ?? 'markers',
      clean: stamps !== undefined && !s.diagnostics.some((d) => d.severity === 'error') && !r.untrusted && !r.recovery,
      env: s.inputs?.env,
      diagnostics: s.diagnostics,
      sources: s.sources,
      shown: [out.cwd, s.dir],
      render: s.rendered,
      settled,
    },
    artifacts,
    options.emitted !== undefined,
  );
}

function writeFailure(e: unknown, dir: string): Diagnostic {
  // A file reused from the last build was changed in the output while this one ran (src/cache/reuse.ts).
  if (e instanceof Error && e.name === 'OutputChangedError')
    return {
      code: 'EMIT_WRITE_FAILED',
      severity: 'error',
      message: `cannot write ${dir}: ${e.message}`,
      hint: 'Something wrote into the output while harvgen was building. Nothing of this site was changed; build again once nothing else writes there (the next build writes the file again from the inventory).',
    };
  return e instanceof DurableError
    ? { code: e.code, severity: 'error', message: e.message, hint: e.hint }
    : {
        code: 'EMIT_WRITE_FAILED',
        severity: 'error',
        message: `cannot write ${dir}: ${(e as Error).message}`,
        hint: 'Check permissions and free space of the output directory. The tree is whole: the next build finishes or undoes what this one started.',
      };
}
