// What build() is asked (`BuildOptions`) and what it answers (`BuildResult`, a `SiteBuild` per
// site written), and what a watch hands from one build to the next (`EmittedSite`).
import type { Diagnostic } from '../diagnostics/types.ts';
import type { EmitResult } from '../emit/index.ts';
import type { CompiledSite } from '../pipeline.ts';
import type { Artifact } from '../render/artifact.ts';
import type { CheckOptions } from './check.ts';

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
