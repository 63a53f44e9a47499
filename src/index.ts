// harvgen's library API: check(), build() and watch(). The CLI is a thin layer over these.
import { join, resolve } from 'node:path';
import type { Diagnostic } from './diagnostics/types.ts';
import { hasFailures, sortDiagnostics } from './diagnostics/types.ts';
import { EmitError, emitSite, markDeployTree, realPath, treeKindProblem, unsafeOutDir, type EmitResult } from './emit/index.ts';
import type { CompiledSite, CompileOptions } from './pipeline.ts';
import type { Artifact } from './render/artifact.ts';
import { dropRecord, manifestVouched, upToDate, writeRecord, type SiteRecord } from './cache/index.ts';

export type { Diagnostic, Severity } from './diagnostics/types.ts';
export { hasFailures, sortDiagnostics } from './diagnostics/types.ts';
export { CODES, type Code } from './diagnostics/codes.ts';
export { formatDiagnostics, formatJson } from './diagnostics/format.ts';
export type { SiteInput, NodeInput, NodeDefaults } from './types/site-input.ts';
export type { SiteModel, ResolvedNode, HarvesterNode, OsNode, IscsiNode, NodeKind } from './model/index.ts';
export type { Artifact, Manifest, ManifestNode } from './render/index.ts';
export type { CompiledSite, CompileOptions } from './pipeline.ts';

/**
 * Compile one site directory without touching the output. The compiler (yaml, ajv, eta and the
 * templates) is loaded on first use: a build whose sites are all up to date never loads it.
 */
export async function compileSite(dir: string, options?: CompileOptions): Promise<CompiledSite> {
  return (await import('./pipeline.ts')).compileSite(dir, options);
}
export { recoverSite, type RecoveryResult } from './emit/index.ts';
export { discoverSites } from './load/discover.ts';
export { JSON_OUTPUT_VERSION, type JsonOutput, type JsonSite } from './diagnostics/envelope.ts';
export { watch, type WatchOptions, type WatchHandle, type WatchEvent } from './watch/index.ts';

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

/** Validate site directories (everything `build` does except writing). */
export async function check(options: CheckOptions & { readonly strict?: boolean }): Promise<CheckResult> {
  return (await compileAll(options, new Map())).result;
}

/**
 * Compile the sites, except those in `records` (up to date, by index); a site that shares its
 * boot server or its name with another is compiled anyway, so that the checks between sites
 * see it. Returns the sites compiled and the records that stood in for the others.
 */
async function compileAll(
  options: CheckOptions & { readonly strict?: boolean; readonly stamps?: boolean; readonly render?: boolean },
  records: ReadonlyMap<number, SiteRecord>,
): Promise<{ result: CheckResult; skipped: ReadonlyMap<number, SiteRecord> }> {
  const sites: (CompiledSite | undefined)[] = [];
  const compile = async (index: number, dir: string) => {
    options.onProgress?.({ step: 'compile', dir, index, total: options.sites.length });
    sites[index] = await compileSite(dir, options);
  };
  for (const [index, dir] of options.sites.entries()) if (!records.has(index)) await compile(index, dir);
  const skipped = new Map(records);
  if (skipped.size > 0) {
    const count = new Map<string, number>();
    const bump = (k: string) => count.set(k, (count.get(k) ?? 0) + 1);
    for (const s of sites) {
      if (s?.model) bump(`server ${s.model.boot.host}:${s.model.boot.port}`);
      if (s?.site) bump(`site ${s.site}`);
    }
    for (const r of skipped.values()) (bump(`server ${r.server}`), bump(`site ${r.site}`));
    for (const [index, r] of [...skipped]) {
      if (count.get(`server ${r.server}`)! > 1 || count.get(`site ${r.site}`)! > 1) {
        skipped.delete(index);
        await compile(index, options.sites[index]!);
      }
    }
  }
  const compiled = sites.flatMap((s) => (s ? [s] : []));
  const between = compiled.length > 1 ? (await import('./validate/cross-site.ts')).crossSiteDiagnostics(compiled) : [];
  const diagnostics = sortDiagnostics([...compiled.flatMap((s) => s.diagnostics), ...duplicateSites(compiled), ...between]);
  const all = options.sites.map((dir, i): CompiledSite => sites[i] ?? { dir, site: skipped.get(i)!.site, diagnostics: [], sources: {} });
  return { result: { ok: !hasFailures(diagnostics, options.strict), sites: all, diagnostics }, skipped };
}

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
  readonly compiled: readonly CompiledSite[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Compile every site and write `<outDir>/<site>/` for each site without errors (with
 * `allOrNothing`, only when all of them have none). `ok` is false when any site has errors.
 */
export async function build(options: BuildOptions): Promise<BuildResult> {
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
  const records = new Map<number, SiteRecord>();
  if (!compare && !options.force && unsafe === undefined) {
    for (const [i, dir] of options.sites.entries()) {
      const r = upToDate(realRoot, resolve(cwd, dir), { verifyOutput: !options.trusted?.has(dir), secrets: options.secrets ?? 'markers' });
      if (r) records.set(i, r);
    }
  }
  // Every site's model first (the checks between sites need them all), then one site at a time
  // rendered, written and let go: only one site's files are in memory at once. With
  // --all-or-nothing every site is rendered before anything is written.
  const streaming = options.allOrNothing !== true;
  const { result: checked, skipped } = await compileAll({ ...options, stamps: !compare, render: !streaming }, records);
  // The compiler is loaded already when any site was compiled; an all-up-to-date build renders nothing.
  const { renderCompiled } =
    skipped.size < options.sites.length ? await import('./pipeline.ts') : { renderCompiled: (c: CompiledSite) => c };
  const compiled = [...checked.sites];
  const compileDiagnostics = [...checked.diagnostics];
  const emitDiagnostics: Diagnostic[] = [];
  const all = () => [...sortDiagnostics(compileDiagnostics), ...emitDiagnostics];
  // What rendering added to a site's diagnostics is reported: a site that rendered no files
  // without saying why is an internal error, never a silent success (exit codes never lie).
  const finish = (i: number): CompiledSite => {
    const before = compiled[i]!;
    let full = renderCompiled(before);
    if (full === before) return full;
    const known = new Map<string, number>();
    for (const d of before.diagnostics) known.set(diagnosticKey(d), (known.get(diagnosticKey(d)) ?? 0) + 1);
    const added = full.diagnostics.filter((d) => {
      const n = known.get(diagnosticKey(d)) ?? 0;
      known.set(diagnosticKey(d), n - 1);
      return n <= 0;
    });
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
    return full;
  };
  const letGo = (site: CompiledSite): CompiledSite => {
    if (options.keepArtifacts || !site.artifacts) return site;
    const { artifacts: _dropped, ...rest } = site;
    return rest;
  };
  // A failed build still reports every problem of every site, render problems included.
  const failedBuild = (): BuildResult => {
    for (let i = 0; i < compiled.length; i++) compiled[i] = letGo(finish(i));
    return { ok: false, sites: [], compiled, diagnostics: all() };
  };
  const skippedDirs = new Map([...skipped].map(([i, r]) => [options.sites[i]!, r]));
  // A site with errors is not written. The others are, unless --all-or-nothing, or unless the
  // error is between sites (a clash of names or URLs involves all of them).
  const failed = (s: CompiledSite) =>
    !skippedDirs.has(s.dir) && (!s.model || (!streaming && !s.artifacts) || hasFailures(s.diagnostics, options.strict));
  const writable = compiled.flatMap((s, i) => (failed(s) ? [] : [i]));
  const crossSite = checked.diagnostics.some(
    (d) => d.severity === 'error' && (d.code.startsWith('SITE_') || d.code === 'EMIT_DUPLICATE_SITE'),
  );
  if (!checked.ok && (options.allOrNothing || crossSite || writable.length === 0)) return failedBuild();
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
  for (const i of writable) {
    const partial = compiled[i]!;
    const dir = resolve(outRoot, partial.site!);
    const record = skippedDirs.get(partial.dir);
    if (record) {
      const files = record.files.map((f) => f[0]);
      sites.push({ site: record.site, dir, files, nodes: record.nodes, written: [], removed: [], unchanged: files, upToDate: true });
      continue;
    }
    const s = finish(i);
    compiled[i] = letGo(s);
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
      sites.push({ ...r, site: s.site!, dir, files: s.artifacts.map((a) => a.path), nodes: s.model!.nodes.length });
      emitDiagnostics.push(...emitNotes(dir, s.dir, r, options.check === true));
      if (options.check && (r.written.length > 0 || r.removed.length > 0)) {
        const missing = new Set(r.missing ?? []);
        emitDiagnostics.push({
          code: 'EMIT_STALE',
          severity: 'error',
          message: `${dir} is stale: ${[
            ...r.written.map((p) => `${p} ${missing.has(p) ? 'is missing' : 'differs'}`),
            ...r.removed.map((p) => `${p} is extra (no longer built)`),
          ].join(', ')}`,
          hint: `Run \`harvgen build ${s.dir}\` and commit the result.`,
        });
      }
      // Only a site that built without a single diagnostic may be skipped next time (a skipped site
      // has none to repeat); any written site's record vouches for its manifest.json.
      if (!compare) {
        const server = `${s.model!.boot.host}:${s.model!.boot.port}`;
        writeRecord(
          realRoot,
          {
            dir: resolve(cwd, s.dir),
            site: s.site!,
            server,
            nodes: s.model!.nodes.length,
            stamps: s.stamps,
            secrets: options.secrets ?? 'markers',
            clean: s.stamps !== undefined && s.diagnostics.length === 0 && !r.untrusted && !r.recovery,
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

/** What a site's emit found besides changes: a repaired tree, an unfinished one, untrusted paths. */
function emitNotes(dir: string, siteDir: string, r: EmitResult, check: boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (r.recovery?.discarded !== undefined) {
    const { discarded, tempFilesRemoved } = r.recovery;
    out.push({
      code: 'EMIT_JOURNAL_DISCARDED',
      severity: 'warning',
      message: `${dir}: ignored the journal .harvgen-journal.json (it ${discarded}); deleted it unapplied with ${tempFilesRemoved} temporary file(s), then built the tree anew`,
      hint: 'A journal harvgen wrote only touches files a manifest.json lists: this one was edited, forged or damaged. The tree is whole again; check who can write to the output directory.',
    });
  } else if (r.recovery) {
    const { recovered, completed, tempFilesRemoved } = r.recovery;
    const what = recovered === 'rolled-forward' ? `completed it (${completed} file changes)` : 'kept the previous tree';
    out.push({
      code: 'EMIT_RECOVERED',
      severity: 'warning',
      message: `${dir}: the previous build was interrupted; ${what} and removed ${tempFilesRemoved} temporary file(s) before this build`,
      hint: 'Nothing to do: the tree is whole again. A build is interrupted by a kill, a crash or a full disk.',
    });
  }
  if (r.interrupted) {
    out.push({
      code: 'EMIT_INTERRUPTED',
      severity: check ? 'error' : 'warning',
      message: `${dir} holds an unfinished build (a journal or temporary files of a killed build)`,
      hint: `Run \`harvgen build ${siteDir}\` to finish or undo it; --check and --dry-run write nothing, so they do not repair it.`,
    });
  }
  if (r.untrusted) {
    out.push({
      code: 'EMIT_UNTRUSTED_PATH',
      severity: 'warning',
      message: `${dir}: ignored ${r.untrusted.length} path(s) that are not plain relative paths: ${r.untrusted.slice(0, 5).join(', ')}${r.untrusted.length > 5 ? ', ...' : ''}`,
      hint: 'harvgen writes only plain paths there: the file was edited by hand or forged. Nothing outside the site directory was touched; check who can write to the output directory.',
    });
  }
  return out;
}

/** A diagnostic's identity, to tell what rendering added to a site's list. */
function diagnosticKey(d: Diagnostic): string {
  return JSON.stringify([d.code, d.severity, d.file, d.line, d.col, d.path, d.message]);
}

function duplicateSites(sites: readonly CompiledSite[]): Diagnostic[] {
  const seen = new Map<string, string>();
  const out: Diagnostic[] = [];
  for (const s of sites) {
    if (!s.site) continue;
    const prev = seen.get(s.site);
    if (prev !== undefined) {
      out.push({
        code: 'EMIT_DUPLICATE_SITE',
        severity: 'error',
        message: `${prev} and ${s.dir} both declare site "${s.site}" and would write the same output`,
        hint: 'Give each site directory its own `site:` name.',
      });
    } else seen.set(s.site, s.dir);
  }
  return out;
}
