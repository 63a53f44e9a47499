// check(), and the compiling of a run's sites that build() shares with it: every site through
// the first pass of the pipeline (or both, for check), then the checks between sites.
import { join } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { hasFailures, sortDiagnostics } from '../diagnostics/types.ts';
import type { InputStamp } from '../load/stamps.ts';
import type { Locator } from '../load/locate.ts';
import { findingToDiagnostic } from '../validate/finding.ts';
import type { CompiledSite, CompileOptions, ModelledSite } from '../pipeline.ts';
import { crossSiteDiagnostics } from '../validate/cross-site.ts';
import { factsLocator } from '../validate/cross-site-facts.ts';
import { NOTHING_MASKED } from '../util/masked.ts';
import { summaryOf, type Summarized } from './summary.ts';
import { HeldNodes, runHeldNodes } from './held.ts';

/** Options for check(). */
export interface CheckOptions extends CompileOptions {
  readonly sites: readonly string[];
  /** Called before each site is compiled (for progress displays). */
  readonly onProgress?: (event: ProgressEvent) => void;
}

/** What a run is doing now. */
export interface ProgressEvent {
  readonly step: 'compile';
  /** The site directory as given. */
  readonly dir: string;
  /** 0-based position of the site, and how many there are. */
  readonly index: number;
  readonly total: number;
}

/** Result of checking sites. `ok` ignores warnings unless `strict`. */
export interface CheckResult {
  readonly ok: boolean;
  readonly sites: readonly CompiledSite[];
  /** All diagnostics of all sites, sorted by file and position. */
  readonly diagnostics: readonly Diagnostic[];
}

/** Options for check() beyond those of every run. */
export interface CheckOnlyOptions {
  readonly strict?: boolean;
  /**
   * Keep each site's model, locator and files in `CheckResult.sites` until the run's budget of
   * nodes is reached (the default; src/orchestrate/held.ts). `false`: every site is held light as
   * soon as it is checked (its summary with its file count, its diagnostics and the source texts
   * they point into), so that a check holds one site at a time: what the CLI prints needs no more.
   */
  readonly keepModels?: boolean;
}

/** Validate site directories (everything `build` does except writing). */
export async function check(options: CheckOptions & CheckOnlyOptions): Promise<CheckResult> {
  // Startup: check compiles every site; the compiler loads when it runs, not with the CLI.
  const { compileSite } = await import('../pipeline.ts');
  const { lighten } = await import('./light.ts');
  // Past HeldNodes a site is held light (src/orchestrate/held.ts): memory does not grow with the
  // number of sites. Its files' count stays in its summary. With `keepModels: false`, every site.
  const held = new HeldNodes(runHeldNodes(options.sites.length));
  const compileOne = async (dir: string, o: CompileOptions) => {
    const site = await compileSite(dir, o);
    if (!site.model || (options.keepModels !== false && held.keep(site.model.nodes.length))) return site;
    const light = lighten(site);
    return { ...light, summary: { ...light.summary!, ...(site.artifacts ? { files: site.artifacts.length } : {}) } };
  };
  return (await compileAll(options, new Map(), compileOne)).result;
}

/**
 * What compileAll needs of an up-to-date site's record (a `SiteRecord` of src/cache/, named by
 * its shape: the shipped declarations of this module stay free of the cache's, which need
 * @types/node).
 */
export interface UpToDateSite {
  readonly site: string;
  /** `host:port` of its boot server. */
  readonly server: string;
  /** `dnsmasq.host`, when its dnsmasq is shared (SITE_DNSMASQ_CONFLICT compares such sites). */
  readonly dnsmasq?: string;
  /** The inputs the record holds. */
  readonly inputs: readonly InputStamp[];
  /** What its last build reported (warnings), replayed, and the source texts of their code frames. */
  readonly diagnostics?: readonly Diagnostic[];
  readonly sources?: Readonly<Record<string, string>>;
}

/**
 * Compile the sites with `compileOne`, except those in `records` (up to date, by index); a site
 * that shares its boot server or its name with another is compiled anyway, so that the checks
 * between sites see it.
 */
export async function compileAll<S extends (ModelledSite | CompiledSite) & Summarized, R extends UpToDateSite>(
  options: CheckOptions & { readonly strict?: boolean },
  records: ReadonlyMap<number, R>,
  compileOne: (dir: string, options: CompileOptions, index: number) => Promise<S>,
  concurrent = false,
): Promise<{ result: Omit<CheckResult, 'sites'> & { readonly sites: readonly S[] }; skipped: ReadonlyMap<number, R> }> {
  const sites: (S | undefined)[] = [];
  // Concurrent: every site is handed over at once (to a pool of workers, which reports progress
  // as each one starts); the results land by index, so the order is the same.
  const compile = async (index: number, dir: string) => {
    if (!concurrent) options.onProgress?.({ step: 'compile', dir, index, total: options.sites.length });
    sites[index] = await compileOne(dir, options, index);
  };
  const first = [...options.sites.entries()].filter(([index]) => !records.has(index));
  if (concurrent) await Promise.all(first.map(([index, dir]) => compile(index, dir)));
  else for (const [index, dir] of first) await compile(index, dir);
  const skipped = new Map(records);
  if (skipped.size > 0) {
    const count = new Map<string, number>();
    const bump = (k: string) => count.set(k, (count.get(k) ?? 0) + 1);
    for (const s of sites) {
      const summary = s ? summaryOf(s) : undefined;
      if (summary) bump(`server ${summary.server}`);
      if (summary?.dnsmasq !== undefined) bump(`dnsmasq ${summary.dnsmasq}`);
      if (s?.site) bump(`site ${s.site}`);
    }
    for (const r of skipped.values()) {
      bump(`server ${r.server}`);
      bump(`site ${r.site}`);
      if (r.dnsmasq !== undefined) bump(`dnsmasq ${r.dnsmasq}`);
    }
    for (const [index, r] of [...skipped]) {
      const shared = r.dnsmasq !== undefined && count.get(`dnsmasq ${r.dnsmasq}`)! > 1;
      if (count.get(`server ${r.server}`)! > 1 || count.get(`site ${r.site}`)! > 1 || shared) {
        skipped.delete(index);
        await compile(index, options.sites[index]!);
      }
    }
  }
  const compiled = sites.flatMap((s) => (s ? [s] : []));
  const between = compiled.length > 1 ? crossSiteDiagnostics(compiled.map((s) => ({ ...s, facts: s.summary?.facts }))) : [];
  const replayed = [...skipped.values()].flatMap((r) => r.diagnostics ?? []);
  const diagnostics = sortDiagnostics([...compiled.flatMap((s) => s.diagnostics), ...replayed, ...duplicateSites(compiled), ...between]);
  // A site not compiled: its record stands in (its inputs are those the record holds, for watch).
  const all = options.sites.map((dir, i): S => {
    const compiledSite = sites[i];
    if (compiledSite) return compiledSite;
    const record = skipped.get(i)!;
    const standIn: ModelledSite & CompiledSite = {
      dir,
      site: record.site,
      diagnostics: record.diagnostics ?? [],
      sources: record.sources ?? {},
      masked: NOTHING_MASKED,
      inputs: { stamps: record.inputs, complete: true },
    };
    return standIn as S;
  });
  return { result: { ok: !hasFailures(diagnostics, options.strict), sites: all, diagnostics }, skipped };
}

function duplicateSites(
  sites: readonly (Summarized & { readonly dir: string; readonly site?: string; readonly locate?: Locator })[],
): Diagnostic[] {
  const seen = new Map<string, string>();
  const out: Diagnostic[] = [];
  for (const s of sites) {
    if (!s.site) continue;
    const prev = seen.get(s.site);
    if (prev !== undefined) {
      // In the second site's site.yaml (at its `site:` when its locator is at hand), so that the report does not call it ok.
      const finding = {
        code: 'EMIT_DUPLICATE_SITE' as const,
        message: `${prev} and ${s.dir} both declare site "${s.site}" and would write the same output`,
        hint: 'Give each site directory its own `site:` name.',
      };
      // A site held light has no locator, but its facts hold the position of `site:`.
      const facts = s.locate ? undefined : s.summary?.facts;
      const locate = s.locate ?? (facts ? factsLocator(facts) : undefined);
      out.push(
        locate?.has(['site'])
          ? findingToDiagnostic({ ...finding, at: ['site'] }, locate)
          : { ...finding, severity: 'error', file: join(s.dir, 'site.yaml') },
      );
    } else seen.set(s.site, s.dir);
  }
  return out;
}
