// build(): the up-to-date check, the first pass of every site (the checks between sites need
// every model), then one site at a time rendered, written and let go, so that only one site's
// files are in memory at once (ARCHITECTURE.md, "Pipeline"). With --all-or-nothing every site is
// rendered before anything is written.
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { hasFailures, isBetweenSites, sortDiagnostics } from '../diagnostics/types.ts';
import { isDeployTree, markDeployTree, realPath, treeKindProblem, unsafeOutDir } from '../emit/index.ts';
import type { CompiledSite } from '../pipeline.ts';
import { replayedSources, upToDateSites, type SiteRecord } from '../cache/index.ts';
import { compileAll } from './check.ts';
import { openPasses, type Passes } from './passes.ts';
import { shownSources, summaryOf } from './summary.ts';
import type { SecretMode } from '../types/secret-mode.ts';
import { nextTask } from '../util/next-task.ts';
import type { BuildOptions, BuildResult, CountedBuildOptions, SiteBuild, SiteBuildCounts } from './build-options.ts';
import { finishSite, letGo, renderAll, startRendering, type Rendering } from './rendering.ts';
import { listed, writeSite, type Output } from './write-site.ts';
import { StagingScope } from '../render/spill.ts';

export type {
  BuildOptions,
  BuildResult,
  CountedBuildOptions,
  EmittedSite,
  SiteBuild,
  SiteBuildCounts,
  SiteCounts,
} from './build-options.ts';

/**
 * Compile every site and write `<outDir>/<site>/` for each site without errors (with
 * `allOrNothing`, only when all of them have none). `ok` is false when any site has errors.
 */
export function build(options: CountedBuildOptions): Promise<BuildResult<SiteBuildCounts>>;
export function build(options: BuildOptions): Promise<BuildResult>;
export async function build(options: BuildOptions & { readonly paths?: false }): Promise<BuildResult<SiteBuildCounts>> {
  let passes: Passes | undefined;
  // The staging directories of the sites built for the first time (src/render/spill.ts): each one
  // no emit renamed into place (a site not written: an error, --strict, a failed write) goes.
  const staging = new StagingScope();
  try {
    return await buildWith(options, async (count) => (passes = await openPasses(options, count)), staging);
  } finally {
    staging.discard();
    await passes?.close();
  }
}

async function buildWith(
  options: BuildOptions & { readonly paths?: false },
  open: (count: number) => Promise<Passes>,
  staging: StagingScope,
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
  const records = !compare && !options.force && unsafe === undefined ? await upToDateRecords(options, out) : new Map<number, Replayed>();
  // In process or on worker threads (--jobs), the same from here on: src/orchestrate/passes.ts.
  const passes = await open(options.sites.length - records.size);
  // A plain build reuses each node its last build rendered and that is unchanged (src/cache/reuse.ts).
  const reuse = !compare && !options.force && !options.renderCaches && unsafe === undefined;
  // A build that writes sets a large site's texts aside in the output root while it renders
  // (src/render/spill.ts), in this thread only (a worker's would cross to it as texts: the pool
  // does not pass it on). A deploy build only into a new directory or a deploy tree: a directory
  // it is then refused (a committed tree) gets no secret, not even in an unlinked file.
  const deployReady = !lstatSync(out.realRoot, { throwIfNoEntry: false }) || isDeployTree(out.realRoot);
  const spill = !compare && !options.renderCaches && unsafe === undefined && ((options.secrets ?? 'markers') !== 'filled' || deployReady);
  const compile = {
    ...options,
    stamps: !compare,
    ...(reuse ? { reuseOutput: out.realRoot } : {}),
    ...(spill ? { spillTo: out.realRoot, staging } : {}),
  };
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
  // From here on a site is rendered to be written: a first build's texts go straight to its
  // staging directory. Not for a caller that keeps the files to read them (--diff, the library).
  staging.writing = !options.keepArtifacts;
  const { sites, diagnostics: emitDiagnostics } = await writeSites(run, writable, skippedDirs, out, options);
  const diagnostics = [...sortDiagnostics(run.compileDiagnostics), ...emitDiagnostics];
  // A repaired tree is news, not a problem: it never fails a build, even with --strict.
  const failing = diagnostics.filter((d) => d.code !== 'EMIT_RECOVERED');
  return { ok: !hasFailures(failing, options.strict), sites, compiled: run.compiled, diagnostics };
}

/** An up-to-date site's record, with the sources its diagnostics are replayed with. */
type Replayed = SiteRecord & { readonly sources: Readonly<Record<string, string>> };

/** The sites whose record still holds (by index): they are not compiled. */
async function upToDateRecords(options: BuildOptions, out: Output): Promise<Map<number, Replayed>> {
  const held = await upToDateSites(
    out.realRoot,
    options.sites.map((dir) => ({
      dir: resolve(out.cwd, dir),
      options: {
        verifyOutput: !options.trusted?.has(dir),
        secrets: options.secrets ?? 'markers',
        env: options.env ?? process.env,
        strict: options.strict === true,
        shown: [out.cwd, dir],
      },
    })),
  );
  // Its diagnostics replayed as its last build reported them, code frames included.
  return new Map([...held].map(([i, r]) => [i, { ...r, sources: replayedSources(r) }]));
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
      const files = [...record.files.paths];
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
