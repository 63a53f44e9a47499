// build(): the up-to-date check, the first pass of every site (the checks between sites need
// every model), then one site at a time rendered, written and let go, so that only one site's
// files are in memory at once (ARCHITECTURE.md, "Pipeline"). With --all-or-nothing every site is
// rendered before anything is written.
import { join, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { hasFailures, sortDiagnostics } from '../diagnostics/types.ts';
import { EmitError, emitSite, markDeployTree, realPath, treeKindProblem, unsafeOutDir, type EmitResult } from '../emit/index.ts';
import type { CompiledSite, ModelledSite } from '../pipeline.ts';
import type { Artifact } from '../render/artifact.ts';
import { dropRecord, manifestVouched, replayedSources, upToDate, writeRecord, type SiteRecord } from '../cache/index.ts';
import { compileAll, type CheckOptions } from './check.ts';
import { emitNotes, staleSite } from './notes.ts';
import { openPasses, type Passes } from './passes.ts';
import { summaryOf } from './summary.ts';

/** Options for build(). */
export interface BuildOptions extends CheckOptions {
  /** Output root; each site goes to `<outDir>/<site>/` (default `out`). */
  readonly outDir?: string;
  /** Warnings fail the build too. */
  readonly strict?: boolean;
  /** Write nothing; report what would change. */
  readonly dryRun?: boolean;
  /** Write nothing; fail (EMIT_STALE) when the output differs from what would be built. */
  readonly check?: boolean;
  /** Write nothing when any site has errors (default: write the sites without errors). */
  readonly allOrNothing?: boolean;
  /**
   * Compile every site, even those whose inputs and output are as the last build left them, and
   * read back every output file to compare it (none is trusted by its timestamps).
   */
  readonly force?: boolean;
  /**
   * Site directories (as given) whose output this process wrote and whose inputs it has watched
   * since without a change (watch): their up-to-date check trusts the output instead of
   * checking every file of it. Their input stamps are still compared.
   */
  readonly trusted?: ReadonlySet<string>;
  /**
   * What this process emitted per site output directory (watch keeps it): filled after each
   * emit, and for a `trusted` site used to skip looking at files it wrote with the same bytes.
   */
  readonly emitted?: Map<string, ReadonlyMap<string, Artifact>>;
  /**
   * Keep every site's files in `BuildResult.compiled` (default: a site's files are let go once it
   * is written, so that memory does not grow with the number of sites; `SiteBuild.files` lists
   * their paths either way).
   */
  readonly keepArtifacts?: boolean;
  /**
   * Compile the sites on up to this many worker threads (default 1: in this thread). The output,
   * the records and the diagnostics are the same whatever the number (README "Speed"); with
   * workers, `BuildResult.compiled` holds no `model` or `locate` (they stay in the worker), only
   * a `summary` of the model (src/build/summary.ts). Watch's caches (`parseCache`,
   * `renderCaches`) and a single site to compile mean no worker.
   */
  readonly jobs?: number;
}

/** What build() did for one site. */
export interface SiteBuild extends EmitResult {
  readonly site: string;
  /** Absolute output directory of the site. */
  readonly dir: string;
  /** Every file of the site, relative to `dir`. */
  readonly files: readonly string[];
  readonly nodes: number;
  /** The site was up to date (inputs, harvgen and output as the last build left them): not compiled, nothing written. */
  readonly upToDate?: boolean;
}

/** Result of build(). Nothing is written unless every site compiled cleanly. */
export interface BuildResult {
  readonly ok: boolean;
  readonly sites: readonly SiteBuild[];
  /**
   * Every site of the run, in order (a site up to date is a stand-in: its name and the inputs its
   * record holds). `inputs` is what each read (watch watches it).
   */
  readonly compiled: readonly CompiledSite[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Compile every site and write `<outDir>/<site>/` for each site without errors (with
 * `allOrNothing`, only when all of them have none). `ok` is false when any site has errors.
 */
export async function build(options: BuildOptions): Promise<BuildResult> {
  let passes: Passes | undefined;
  try {
    return await buildWith(options, async (count) => (passes = await openPasses(options, count)));
  } finally {
    await passes?.close();
  }
}

async function buildWith(options: BuildOptions, open: (count: number) => Promise<Passes>): Promise<BuildResult> {
  const cwd = options.cwd ?? process.cwd();
  const outRoot = resolve(cwd, options.outDir ?? 'out');
  const compare = options.dryRun === true || options.check === true;
  const unsafe = unsafeOutDir(
    outRoot,
    options.sites.map((d) => resolve(cwd, d)),
  );
  // The output root may be a link (the user chose it): resolved once, so that every path below
  // it is checked link by link (emit) and cannot be redirected by re-pointing the root mid-build.
  const realRoot = realPath(outRoot);
  // Up-to-date sites are not compiled. --check and --dry-run compare everything, --force compiles everything.
  const records = new Map<number, SiteRecord & { readonly sources: Readonly<Record<string, string>> }>();
  if (!compare && !options.force && unsafe === undefined) {
    for (const [i, dir] of options.sites.entries()) {
      const r = upToDate(realRoot, resolve(cwd, dir), {
        verifyOutput: !options.trusted?.has(dir),
        secrets: options.secrets ?? 'markers',
        env: options.env ?? process.env,
        strict: options.strict === true,
        shown: [cwd, dir],
      });
      // Its diagnostics replayed as its last build reported them, code frames included.
      if (r) records.set(i, { ...r, sources: replayedSources(r) });
    }
  }
  // In process or on worker threads (--jobs), the same from here on: src/build/passes.ts.
  const passes = await open(options.sites.length - records.size);
  const { result: checked, skipped } = await compileAll({ ...options, stamps: !compare }, records, passes.model, passes.concurrent);
  // Sites waiting for their second pass (let go once rendered); `compiled` holds each site as
  // reported (rendered once its turn came, else as the first pass left it).
  const pending: (ModelledSite | undefined)[] = checked.sites.map((s, i) => (passes.renderable(i, s) ? s : undefined));
  const compiled: CompiledSite[] = checked.sites.map(({ renderable: _notRendered, ...s }) => s);
  const crossSite = checked.diagnostics.some(
    (d) => d.severity === 'error' && (d.code.startsWith('SITE_') || d.code === 'EMIT_DUPLICATE_SITE'),
  );
  const compileDiagnostics = [...checked.diagnostics];
  const emitDiagnostics: Diagnostic[] = [];
  const all = () => [...sortDiagnostics(compileDiagnostics), ...emitDiagnostics];
  // A site rendered (once), what rendering added to its diagnostics reported: a site that
  // rendered no files without saying why is an internal error, never a silent success (exit
  // codes never lie).
  // `next`: the sites to be finished after this one, rendered ahead on the workers (at most
  // `passes.ahead` of them), so that the main thread holds only a few sites' files at once.
  const finish = async (i: number, next: readonly number[] = []): Promise<CompiledSite> => {
    const modelled = pending[i];
    if (!modelled) return compiled[i]!;
    pending[i] = undefined;
    // This site's render is asked for first, so that it never waits behind the ones rendered ahead.
    const rendering = passes.render(i, modelled);
    for (const j of next.slice(0, passes.ahead)) if (pending[j]) passes.prefetch(j, pending[j]!);
    let full = await rendering;
    const added = full.diagnostics.slice(modelled.diagnostics.length);
    if (!full.artifacts && !hasFailures(full.diagnostics)) {
      const silent: Diagnostic = {
        code: 'INTERNAL_ERROR',
        severity: 'error',
        message: `harvgen failed on ${full.dir}: rendering produced no files and reported no error (this is a bug in harvgen)`,
        hint: 'Please report it with the inventory. Nothing was written for this site.',
      };
      added.push(silent);
      full = { ...full, diagnostics: [...full.diagnostics, silent] };
    }
    compileDiagnostics.push(...added);
    compiled[i] = full;
    return full;
  };
  const letGo = (i: number): void => {
    const site = compiled[i]!;
    if (options.keepArtifacts || !site.artifacts) return;
    const { artifacts: _dropped, ...rest } = site;
    compiled[i] = rest;
  };
  // --all-or-nothing: every site rendered first, so that a render problem anywhere writes nothing.
  const streaming = options.allOrNothing !== true;
  const indices = compiled.map((_s, i) => i);
  if (!streaming) for (let i = 0; i < compiled.length; i++) await finish(i, indices.slice(i + 1));
  const compiledOk = !hasFailures(compileDiagnostics, options.strict);
  // A failed build still reports every problem of every site, render problems included.
  const failedBuild = async (): Promise<BuildResult> => {
    for (let i = 0; i < compiled.length; i++) {
      await finish(i, indices.slice(i + 1));
      letGo(i);
    }
    return { ok: false, sites: [], compiled, diagnostics: all() };
  };
  const skippedDirs = new Map([...skipped].map(([i, r]) => [options.sites[i]!, r]));
  // A site with errors is not written. The others are, unless --all-or-nothing, or unless the
  // error is between sites (a clash of names or URLs involves all of them).
  const failed = (s: CompiledSite) =>
    !skippedDirs.has(s.dir) && (!summaryOf(s) || (!streaming && !s.artifacts) || hasFailures(s.diagnostics, options.strict));
  const writable = compiled.flatMap((s, i) => (failed(s) ? [] : [i]));
  if (!compiledOk && (options.allOrNothing || crossSite || writable.length === 0)) return failedBuild();
  if (unsafe !== undefined) {
    compileDiagnostics.push({
      code: 'EMIT_OUT_DIR_UNSAFE',
      severity: 'error',
      message: `refusing to write to ${outRoot}: ${unsafe}`,
      hint: 'Use a directory of its own for the output, e.g. `--out out` next to `sites/`.',
    });
    return failedBuild();
  }
  // The committed tree and the deploy tree never share a directory (README "Secrets and the committed tree").
  const secrets = options.secrets ?? 'markers';
  const kind = treeKindProblem(
    realRoot,
    secrets,
    writable.flatMap((i) => (compiled[i]!.site ? [compiled[i]!.site!] : [])),
  );
  if (kind !== undefined) {
    compileDiagnostics.push({
      code: 'EMIT_OUT_DIR_UNSAFE',
      severity: 'error',
      message: `refusing to ${secrets === 'filled' ? 'write the deploy tree (secrets filled in) to' : 'write the committed tree to'} ${outRoot}: ${kind.problem}`,
      hint: kind.hint,
    });
    return failedBuild();
  }
  if (secrets === 'filled' && !compare) markDeployTree(realRoot);
  const sites: SiteBuild[] = [];
  for (const [k, i] of writable.entries()) {
    const partial = compiled[i]!;
    const dir = resolve(outRoot, partial.site!);
    const record = skippedDirs.get(partial.dir);
    if (record) {
      const files = record.files.map((f) => f[0]);
      sites.push({ site: record.site, dir, files, nodes: record.nodes, written: [], removed: [], unchanged: files, upToDate: true });
      continue;
    }
    const s = await finish(i, writable.slice(k + 1));
    letGo(i);
    if (!s.artifacts || hasFailures(s.diagnostics, options.strict)) continue; // a render problem: reported, not written
    try {
      // Whether the manifest.json on disk is the last build's own (the record vouches for it), then
      // forgotten: a build killed from here on leaves no record, so the next one compiles.
      const trustManifest = !compare && manifestVouched(realRoot, resolve(cwd, s.dir), s.site!);
      if (!compare) dropRecord(realRoot, resolve(cwd, s.dir));
      const siteOut = join(realRoot, s.site!);
      const known = options.trusted?.has(s.dir) ? options.emitted?.get(siteOut) : undefined;
      options.emitted?.delete(siteOut);
      const r = await emitSite(siteOut, s.artifacts, {
        dryRun: compare,
        exact: options.force === true,
        trustManifest,
        ...(known ? { known } : {}),
      });
      if (!compare) options.emitted?.set(siteOut, new Map(s.artifacts.map((a) => [a.path, a])));
      const summary = summaryOf(s)!;
      sites.push({ ...r, site: s.site!, dir, files: s.artifacts.map((a) => a.path), nodes: summary.nodes });
      emitDiagnostics.push(...emitNotes(dir, s.dir, r, options.check === true));
      if (options.check) emitDiagnostics.push(...staleSite(dir, s.dir, r));
      // A site written without an error may be skipped next time (its warnings are replayed from
      // its record); any written site's record vouches for its manifest.json.
      if (!compare) {
        const stamps = s.inputs?.complete ? s.inputs.stamps : undefined;
        writeRecord(
          realRoot,
          {
            dir: resolve(cwd, s.dir),
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
            shown: [cwd, s.dir],
          },
          s.artifacts,
        );
      }
    } catch (e) {
      emitDiagnostics.push(
        e instanceof EmitError
          ? { code: e.code, severity: 'error', message: e.message, hint: e.hint }
          : {
              code: 'EMIT_WRITE_FAILED',
              severity: 'error',
              message: `cannot write ${dir}: ${(e as Error).message}`,
              hint: 'Check permissions and free space of the output directory. The tree is whole: the next build finishes or undoes what this one started.',
            },
      );
    }
  }
  const diagnostics = all();
  // A repaired tree is news, not a problem: it never fails a build, even with --strict.
  const failing = diagnostics.filter((d) => d.code !== 'EMIT_RECOVERED');
  return { ok: !hasFailures(failing, options.strict), sites, compiled, diagnostics };
}
