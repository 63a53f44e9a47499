// build(): the up-to-date check, the first pass of every site (the checks between sites need
// every model), then one site at a time rendered, written and let go, so that only one site's
// files are in memory at once (ARCHITECTURE.md, "Pipeline"). With --all-or-nothing every site is
// rendered before anything is written.
import { join, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { hasFailures, isBetweenSites, sortDiagnostics } from '../diagnostics/types.ts';
import { EmitError, emitSite, markDeployTree, realPath, treeKindProblem, unsafeOutDir, type EmitResult } from '../emit/index.ts';
import type { CompiledSite, ModelledSite } from '../pipeline.ts';
import type { Artifact } from '../render/artifact.ts';
import { dropRecord, manifestVouched, replayedSources, upToDate, writeRecord, type SiteRecord } from '../cache/index.ts';
import { compileAll, type CheckOptions } from './check.ts';
import { emitNotes, staleSite } from './notes.ts';
import { openPasses, type Passes } from './passes.ts';
import { shownSources, summaryOf, type SiteSummary, type Summarized } from './summary.ts';
import type { SecretMode } from '../types/secret-mode.ts';
import { nextTask } from '../util/next-task.ts';

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
   * emit, and used to skip looking at files it wrote with the same bytes (`EmittedSite`).
   */
  readonly emitted?: Map<string, EmittedSite>;
  /**
   * Keep every site's files in `BuildResult.compiled` (default: a site's files are let go once it
   * is written, so that memory does not grow with the number of sites; `SiteBuild.files` lists
   * their paths either way). A file reused from the output (src/cache/reuse.ts) is read back
   * from it when its `contents` are first read, and throws if the output changed since.
   */
  readonly keepArtifacts?: boolean;
  /**
   * Called with each site of `BuildResult.sites` as it is reported, its paths listed (also with
   * `paths: false`, `CountedBuildOptions`).
   */
  readonly onSite?: (site: SiteBuild) => void;
  /**
   * Compile the sites on up to this many worker threads (default 1: in this thread). The output,
   * the records and the diagnostics are the same whatever the number (README "Speed"); with
   * workers, `BuildResult.compiled` holds no `model` or `locate` (they stay in the worker), only
   * a `summary` of the model (src/orchestrate/summary.ts). Watch's caches (`parseCache`,
   * `renderCaches`) and a single site to compile mean no worker.
   */
  readonly jobs?: number;
}

/**
 * Options for a build() whose result counts each site's paths instead of listing them
 * (`SiteBuildCounts`), so that what a run returns does not grow with the number of files: a first
 * build of 1,000 sites would list some 400,000 paths, twice. `onSite` still sees the lists.
 */
export interface CountedBuildOptions extends BuildOptions {
  readonly paths: false;
}

/** The lists of a `SiteBuild`. */
type PathLists = 'files' | 'written' | 'missing' | 'removed' | 'unchanged';

/** How many paths each list of a `SiteBuild` holds (`missing`: 0 when it has none). */
export type SiteCounts = { readonly [K in PathLists]: number };

/** What build() did for one site, its paths counted, not listed (`BuildOptions.paths: false`). */
export interface SiteBuildCounts extends Omit<EmitResult, PathLists> {
  readonly site: string;
  /** Absolute output directory of the site. */
  readonly dir: string;
  readonly nodes: number;
  /** The site was up to date (inputs, harvgen and output as the last build left them): not compiled, nothing written. */
  readonly upToDate?: boolean;
  readonly counts: SiteCounts;
}

/** What build() did for one site, its paths listed (the default). */
export interface SiteBuild extends SiteBuildCounts, EmitResult {
  /** Every file of the site, relative to `dir`. */
  readonly files: readonly string[];
}

/** Result of build(). Nothing is written unless every site compiled cleanly. */
export interface BuildResult<S extends SiteBuildCounts = SiteBuild> {
  readonly ok: boolean;
  readonly sites: readonly S[];
  /**
   * Every site of the run, in order (a site up to date is a stand-in: its name and the inputs its
   * record holds). `inputs` is what each read (watch watches it); a site held light (past the
   * nodes a run keeps whole, ARCHITECTURE.md) holds none once its record is written. With
   * `paths: false`, no site written holds its model, locator or stamps, and of its source texts
   * only those its diagnostics point into.
   */
  readonly compiled: readonly CompiledSite[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Compile every site and write `<outDir>/<site>/` for each site without errors (with
 * `allOrNothing`, only when all of them have none). `ok` is false when any site has errors.
 */
export function build(options: CountedBuildOptions): Promise<BuildResult<SiteBuildCounts>>;
export function build(options: BuildOptions): Promise<BuildResult>;
export async function build(options: BuildOptions & { readonly paths?: false }): Promise<BuildResult<SiteBuildCounts>> {
  let passes: Passes | undefined;
  try {
    return await buildWith(options, async (count) => (passes = await openPasses(options, count)));
  } finally {
    await passes?.close();
  }
}

async function buildWith(
  options: BuildOptions & { readonly paths?: false },
  open: (count: number) => Promise<Passes>,
): Promise<BuildResult<SiteBuildCounts>> {
  const cwd = options.cwd ?? process.cwd();
  const outRoot = resolve(cwd, options.outDir ?? 'out');
  const compare = options.dryRun === true || options.check === true;
  const unsafe = unsafeOutDir(
    outRoot,
    options.sites.map((d) => resolve(cwd, d)),
  );
  // The output root may be a link (the user chose it): resolved once, so that every path below
  // it is checked link by link (emit) and cannot be redirected by re-pointing the root mid-build.
  const out: Output = { cwd, outRoot, realRoot: realPath(outRoot), compare };
  // Up-to-date sites are not compiled. --check and --dry-run compare everything, --force compiles everything.
  const records = !compare && !options.force && unsafe === undefined ? upToDateRecords(options, out) : new Map<number, Replayed>();
  // In process or on worker threads (--jobs), the same from here on: src/orchestrate/passes.ts.
  const passes = await open(options.sites.length - records.size);
  // A plain build reuses each node its last build rendered and that is unchanged (src/cache/reuse.ts).
  const reuse = !compare && !options.force && !options.renderCaches && unsafe === undefined;
  const compile = { ...options, stamps: !compare, ...(reuse ? { reuseOutput: out.realRoot } : {}) };
  // The first pass's list of sites is not held past here: `run` holds each site until it is written.
  const { run, skipped } = await compileAll(compile, records, passes.model, passes.concurrent).then(({ result, skipped }) => ({
    run: startRendering(result.sites, result.diagnostics, passes, options.keepArtifacts === true),
    skipped,
  }));
  const crossSite = run.compileDiagnostics.some((d) => d.severity === 'error' && isBetweenSites(d.code));
  // --all-or-nothing: every site rendered first, so that a render problem anywhere writes nothing.
  const streaming = options.allOrNothing !== true;
  if (!streaming) await renderAll(run, false);
  const compiledOk = !hasFailures(run.compileDiagnostics, options.strict);
  const skippedDirs = new Map([...skipped].map(([i, r]) => [options.sites[i]!, r]));
  const writable = writableSites(run.compiled, skippedDirs, streaming, options.strict);
  if (!compiledOk && (options.allOrNothing || crossSite || writable.length === 0)) return failedBuild(run);
  // The committed tree and the deploy tree never share a directory (README "Secrets and the committed tree").
  const secrets = options.secrets ?? 'markers';
  // A site found up to date was checked just now: its manifest.json is its record's, of this
  // build's kind (upToDate), so it is not the other tree; not read again (16 MB for 10,000 nodes).
  const checkedKind = writable.filter((i) => !skippedDirs.has(run.compiled[i]!.dir));
  const refused = outputRefused(out, unsafe, secrets, siteNames(run.compiled, checkedKind));
  if (refused !== undefined) {
    run.compileDiagnostics.push(refused);
    return failedBuild(run);
  }
  if (secrets === 'filled' && !compare) markDeployTree(out.realRoot);
  const { sites, diagnostics: emitDiagnostics } = await writeSites(run, writable, skippedDirs, out, options);
  const diagnostics = [...sortDiagnostics(run.compileDiagnostics), ...emitDiagnostics];
  // A repaired tree is news, not a problem: it never fails a build, even with --strict.
  const failing = diagnostics.filter((d) => d.code !== 'EMIT_RECOVERED');
  return { ok: !hasFailures(failing, options.strict), sites, compiled: run.compiled, diagnostics };
}

/** Where a build writes, resolved once. */
interface Output {
  readonly cwd: string;
  /** The output root as given (`--out`), absolute. */
  readonly outRoot: string;
  /** The output root's real path: everything is written below it. */
  readonly realRoot: string;
  /** --check or --dry-run: compare only, write nothing (no record either). */
  readonly compare: boolean;
}

/**
 * What a watch emitted into one site's output directory last, and when that output was last seen
 * whole (the `settled` of the record written after a check of every file). Emit takes a file
 * with the same bytes and mode as unchanged without looking at it, and the record written after
 * such an emit vouches only for that earlier time: a file written since is newer than it, so the
 * next plain build looks at it (a file changed by hand meanwhile is not taken for watch's).
 */
export interface EmittedSite {
  readonly files: ReadonlyMap<string, Artifact>;
  readonly settled?: number | undefined;
}

/** An up-to-date site's record, with the sources its diagnostics are replayed with. */
type Replayed = SiteRecord & { readonly sources: Readonly<Record<string, string>> };

/** The sites whose record still holds (by index): they are not compiled. */
function upToDateRecords(options: BuildOptions, out: Output): Map<number, Replayed> {
  const records = new Map<number, Replayed>();
  for (const [i, dir] of options.sites.entries()) {
    const r = upToDate(out.realRoot, resolve(out.cwd, dir), {
      verifyOutput: !options.trusted?.has(dir),
      secrets: options.secrets ?? 'markers',
      env: options.env ?? process.env,
      strict: options.strict === true,
      shown: [out.cwd, dir],
    });
    // Its diagnostics replayed as its last build reported them, code frames included.
    if (r) records.set(i, { ...r, sources: replayedSources(r) });
  }
  return records;
}

/** The sites of a build between its two passes. */
interface Rendering {
  readonly passes: Passes;
  /** Sites waiting for their second pass (let go once rendered). */
  readonly pending: (ModelledSite | undefined)[];
  /** Each site as reported (rendered once its turn came, else as the first pass left it). */
  readonly compiled: CompiledSite[];
  /** The first pass's diagnostics, then what rendering added (unsorted). */
  readonly compileDiagnostics: Diagnostic[];
  readonly keepArtifacts: boolean;
  /** The files the first pass's diagnostics (those between sites included) point into, once asked for (`released`). */
  shown?: ReadonlySet<string>;
}

function startRendering(
  sites: readonly (ModelledSite & Summarized)[],
  diagnostics: readonly Diagnostic[],
  passes: Passes,
  keepArtifacts: boolean,
): Rendering {
  return {
    passes,
    pending: sites.map((s, i) => (passes.renderable(i, s) ? s : undefined)),
    compiled: sites.map(({ renderable: _notRendered, ...s }) => s),
    compileDiagnostics: [...diagnostics],
    keepArtifacts,
  };
}

/**
 * Render site `i` (once), its added diagnostics reported: a site that rendered no files without
 * saying why is an internal error, never a silent success (exit codes never lie). `next`: the
 * sites to be finished after this one, rendered ahead on the workers (at most `passes.ahead` of
 * them), so that the main thread holds only a few sites' files at once.
 */
async function finishSite(run: Rendering, i: number, next: readonly number[] = []): Promise<CompiledSite> {
  const modelled = run.pending[i];
  if (!modelled) return run.compiled[i]!;
  run.pending[i] = undefined;
  // This site's render is asked for first, so that it never waits behind the ones rendered ahead.
  const rendering = run.passes.render(i, modelled);
  for (const j of next.slice(0, run.passes.ahead)) if (run.pending[j]) run.passes.prefetch(j, run.pending[j]!);
  let full = await rendering;
  const added = full.diagnostics.slice(modelled.diagnostics.length);
  if (!full.artifacts && !hasFailures(full.diagnostics)) {
    const silent = silentRender(full.dir);
    added.push(silent);
    full = { ...full, diagnostics: [...full.diagnostics, silent] };
  }
  run.compileDiagnostics.push(...added);
  run.compiled[i] = full;
  return full;
}

function silentRender(dir: string): Diagnostic {
  return {
    code: 'INTERNAL_ERROR',
    severity: 'error',
    message: `harvgen failed on ${dir}: rendering produced no files and reported no error (this is a bug in harvgen)`,
    hint: 'Please report it with the inventory. Nothing was written for this site.',
  };
}

/** Drop site `i`'s files (and its nodes' renders) from `compiled` (unless `keepArtifacts`). */
function letGo(run: Rendering, i: number): void {
  const site = run.compiled[i]!;
  if (run.keepArtifacts || !site.artifacts) return;
  // What each node's render gave goes too: it is for the site's record (src/cache/reuse.ts), about
  // 400 bytes a node, which a run of 100,000 nodes would otherwise hold to its end.
  const { artifacts: _dropped, rendered: _recorded, ...rest } = site;
  run.compiled[i] = rest;
}

/** Render every site in order (each one's successors ahead), letting each go after it when `release`. */
async function renderAll(run: Rendering, release: boolean): Promise<void> {
  const indices = run.compiled.map((_s, i) => i);
  for (let i = 0; i < run.compiled.length; i++) {
    await finishSite(run, i, indices.slice(i + 1));
    if (release) letGo(run, i);
  }
}

/** A build that writes nothing still reports every problem of every site, render problems included. */
async function failedBuild(run: Rendering): Promise<BuildResult> {
  await renderAll(run, true);
  return { ok: false, sites: [], compiled: run.compiled, diagnostics: sortDiagnostics(run.compileDiagnostics) };
}

/**
 * The sites to write, by index. A site with errors is not written. The others are, unless
 * --all-or-nothing, or unless the error is between sites (a clash of names or URLs involves all
 * of them: decided by the caller).
 */
function writableSites(
  compiled: readonly CompiledSite[],
  skippedDirs: ReadonlyMap<string, unknown>,
  streaming: boolean,
  strict: boolean | undefined,
): number[] {
  const failed = (s: CompiledSite) =>
    !skippedDirs.has(s.dir) && (!summaryOf(s) || (!streaming && !s.artifacts) || hasFailures(s.diagnostics, strict));
  return compiled.flatMap((s, i) => (failed(s) ? [] : [i]));
}

function siteNames(compiled: readonly CompiledSite[], indices: readonly number[]): string[] {
  return indices.flatMap((i) => (compiled[i]!.site ? [compiled[i]!.site!] : []));
}

/** Why the output root may not be written (`EMIT_OUT_DIR_UNSAFE`): an unsafe directory, or the other kind of tree. */
function outputRefused(out: Output, unsafe: string | undefined, secrets: SecretMode, sites: readonly string[]): Diagnostic | undefined {
  if (unsafe !== undefined) {
    return {
      code: 'EMIT_OUT_DIR_UNSAFE',
      severity: 'error',
      message: `refusing to write to ${out.outRoot}: ${unsafe}`,
      hint: 'Use a directory of its own for the output, e.g. `--out out` next to `sites/`.',
    };
  }
  const kind = treeKindProblem(out.realRoot, secrets, sites);
  if (kind === undefined) return undefined;
  return {
    code: 'EMIT_OUT_DIR_UNSAFE',
    severity: 'error',
    message: `refusing to ${secrets === 'filled' ? 'write the deploy tree (secrets filled in) to' : 'write the committed tree to'} ${out.outRoot}: ${kind.problem}`,
    hint: kind.hint,
  };
}

/**
 * Write (or with --check/--dry-run compare) the writable sites one after another, each rendered
 * when its turn comes and let go once written. An up-to-date site is reported as its record says.
 * Each site is reported to `onSite` with its lists, and kept with them only unless `paths: false`;
 * a site held light lets go of its input stamps once its record is written (`settled`).
 */
async function writeSites(
  run: Rendering,
  writable: readonly number[],
  skippedDirs: ReadonlyMap<string, SiteRecord>,
  out: Output,
  options: BuildOptions & { readonly paths?: false },
): Promise<{ sites: SiteBuildCounts[]; diagnostics: Diagnostic[] }> {
  const sites: SiteBuildCounts[] = [];
  const diagnostics: Diagnostic[] = [];
  const report = (built: SiteBuild) => {
    options.onSite?.(built);
    sites.push(options.paths === false ? counted(built) : built);
  };
  for (const [k, i] of writable.entries()) {
    const partial = run.compiled[i]!;
    const dir = resolve(out.outRoot, partial.site!);
    const record = skippedDirs.get(partial.dir);
    if (record) {
      const files = record.files.map((f) => f[0]);
      report(listed({ site: record.site, dir, files, nodes: record.nodes, written: [], removed: [], unchanged: files, upToDate: true }));
      continue;
    }
    // Each site rendered and written in a task of its own (src/util/next-task.ts).
    await nextTask();
    const s = await finishSite(run, i, writable.slice(k + 1));
    letGo(run, i);
    if (!s.artifacts || hasFailures(s.diagnostics, options.strict)) continue; // a render problem: reported, not written
    const written = await writeSite(s, s.artifacts, dir, out, options);
    if (written.built) report(written.built);
    diagnostics.push(...written.diagnostics);
    if (run.passes.light(i)) run.compiled[i] = settled(run.compiled[i]!);
    // Not with watch's caches: watch reads each site's stamps to watch what it read.
    else if (options.paths === false && !run.keepArtifacts && !options.renderCaches && !options.parseCache)
      run.compiled[i] = released(run.compiled[i]!, run);
  }
  return { sites, diagnostics };
}

/**
 * A site kept whole between the passes, once written, in a run that lists no paths (the CLI's
 * build): only what the report reads, its diagnostics and the source texts they point into. Its
 * model, locator and input stamps go, so that a run of many sites holds the models of its first
 * HELD_NODES nodes only until they are written (src/orchestrate/held.ts), and its peak memory does
 * not grow with the sites after them.
 */
function released(site: CompiledSite, run: Rendering): CompiledSite {
  const { model: _model, locate: _locate, inputs: _stamps, ...rest } = site;
  run.shown ??= new Set(run.compileDiagnostics.flatMap((d) => (d.file !== undefined ? [d.file] : [])));
  const shown = run.shown;
  const own = new Set(site.diagnostics.flatMap((d) => (d.file !== undefined ? [d.file] : [])));
  const sources = shownSources(site.sources, (path) => shown.has(path) || own.has(path));
  return { ...rest, sources };
}

/** A site's lists with their counts. */
function listed(site: Omit<SiteBuild, 'counts'>): SiteBuild {
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

/** A site's counts without its lists (`paths: false`). */
function counted(site: SiteBuild): SiteBuildCounts {
  const { files: _f, written: _w, missing: _m, removed: _r, unchanged: _u, ...rest } = site;
  return rest;
}

/**
 * A site held light, once written: without its input stamps, which only its record needed (watch,
 * which reads them, keeps every site whole), so that the result does not grow with the sites.
 */
function settled(site: CompiledSite): CompiledSite {
  const { inputs: _stamps, ...rest } = site;
  return rest;
}

/** Write (or compare) one rendered site, then record it; what emit did and the notes and problems it reported. */
async function writeSite(
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
  return e instanceof EmitError
    ? { code: e.code, severity: 'error', message: e.message, hint: e.hint }
    : {
        code: 'EMIT_WRITE_FAILED',
        severity: 'error',
        message: `cannot write ${dir}: ${(e as Error).message}`,
        hint: 'Check permissions and free space of the output directory. The tree is whole: the next build finishes or undoes what this one started.',
      };
}
