// `harvgen build`: validate and write `<out>/<site>/` for each site without errors; with
// --dry-run, --check or --diff compare the tree instead and say what would change.
import type { CAC } from 'cac';
import type { BuildResult, BuildOptions, SiteBuild } from '../../index.ts';
import type { ProgressEvent } from '../../orchestrate/check.ts';
import { countDiagnostics } from '../../diagnostics/format.ts';
import { jsonBuildOutput, type JsonFileDiff } from '../../report/envelope.ts';
import { exitCode } from '../../diagnostics/exit.ts';
import { outDirOf, overSites, secretsOf, treeOptions, type Flags } from '../options.ts';
import { sourcesOf, type CliOutput } from '../output.ts';
import { deployHints, hintFiles, type BuiltSite } from '../hints.ts';
import { withProgress } from '../progress.ts';
import { boundHeapGrowth } from '../heap.ts';
import { defaultJobs } from '../../util/cpus.ts';
// The build's orchestration is imported with the CLI, not when the command runs: a build whose
// sites are all up to date then loads its modules in one graph, read in parallel, instead of a
// second round of chunks after the first (about 7 ms of a 150 ms no-op). The compiler itself is
// still imported only when a site is not up to date (src/orchestrate/passes.ts).
import { build, type SiteBuildCounts } from '../../orchestrate/build.ts';

export function register(cli: CAC, out: CliOutput): void {
  treeOptions(
    cli.command('build [...site-dirs]', 'Validate and write out/<site>/ for each site without errors (default: every site under sites/)'),
  )
    .option('--dry-run', 'Show what would change; write nothing')
    .option('--check', 'Fail when the output directory is not what the inventory builds (for CI)')
    .option('-q, --quiet', 'Print only errors, the number of warnings and one line per site')
    .option('--diff', 'Print a unified diff of every file that would change (implies --dry-run unless --check)')
    .option('--all-or-nothing', 'Write nothing when any site has errors')
    .option('--force', 'Compile every site and compare every output file byte by byte, trusting no timestamp')
    .option(
      '--jobs <n>',
      'Compile sites on up to n worker threads (default: one per usable CPU but one, a CPU quota counted, at most one per site, 1 on 2 CPUs or fewer; 1: in this process); same output whatever n',
    )
    .example('harvgen build sites/location_x')
    .example('harvgen build sites/location_x --diff   # what would change, as a diff; writes nothing')
    .example('harvgen build sites/* --strict          # the committed tree, out/')
    .example('harvgen build --deploy sites/location_x  # the deploy tree with the secrets, deploy/')
    .action(overSites(out, (dirs, flags) => runBuild(dirs, flags, out)));
}

async function runBuild(dirs: string[], flags: Flags, out: CliOutput): Promise<number> {
  const jobs = jobsOf(flags, dirs.length);
  if (typeof jobs === 'string') return out.usageError(jobs);
  // --diff shows what a build would change: it writes nothing (a dry run unless --check).
  const dryRun = flags.dryRun === true || (flags.diff === true && flags.check !== true);
  const compare = dryRun || flags.check === true;
  // Each site's paths are kept only when they are printed (--json, --diff, the changes a compare
  // finds); otherwise their counts, and of the files only those the next steps name.
  const lists = flags.json === true || flags.diff === true || (compare && flags.quiet !== true);
  const hinted: BuiltSite[] = [];
  const onSite = (s: SiteBuild) => hinted.push({ site: s.site, dir: s.dir, files: hintFiles(s.files) });
  const options = (onProgress: (event: ProgressEvent) => void): BuildOptions => ({
    sites: dirs,
    outDir: outDirOf(flags),
    secrets: secretsOf(flags),
    strict: flags.strict === true,
    dryRun,
    check: flags.check === true,
    allOrNothing: flags.allOrNothing === true,
    force: flags.force === true,
    // The diff needs each site's files after it was compared.
    keepArtifacts: flags.diff === true,
    // --diff reads each site's model (its secrets, to mask them): compiled in this process.
    jobs: flags.diff === true ? 1 : jobs,
    // A site starts compiling: from now on the run allocates (src/cli/heap.ts).
    onProgress: (event) => {
      boundHeapGrowth();
      onProgress(event);
    },
  });
  const result: BuildResult<SiteBuildCounts> = await withProgress(out.io.err, flags.json === true, 'building', (onProgress) =>
    lists ? build(options(onProgress)) : build({ ...options(onProgress), paths: false, onSite }),
  );
  const diffs = flags.diff ? await diffsOf(listed(result)) : undefined;
  if (flags.json) {
    out.printJson(jsonBuildOutput('build', listed(result), flags.debug === true, diffs ? { diffs } : undefined));
    return exitCode(result.ok, result.diagnostics);
  }
  // --quiet: errors only, and how many warnings were not shown (a rich site's run them to 100s of KB).
  const shown = flags.quiet === true ? result.diagnostics.filter((d) => d.severity === 'error') : result.diagnostics;
  out.report(shown, sourcesOf(result.compiled), flags);
  const { errors, warnings } = countDiagnostics(result.diagnostics);
  if (flags.quiet === true && warnings > 0 && result.ok)
    out.note(`${warnings} warning(s) not shown (--quiet): build without --quiet, or run check, to see them`);
  if (!result.ok && result.sites.length === 0) out.note(`${errors} error(s), ${warnings} warning(s); nothing was written`);
  else if (!result.ok) {
    const skipped = result.compiled.filter((c) => !result.sites.some((s) => s.site === c.site && c.site !== undefined));
    // No site left out: every site was compared (--check found a stale tree).
    const notWritten =
      skipped.length === 0
        ? ''
        : `; not written: ${skipped.map((c) => c.dir).join(', ')} (the other sites were written; --all-or-nothing writes none)`;
    out.note(`${errors} error(s), ${warnings} warning(s)${notWritten}`);
  }
  // Startup: changes.ts loads the compiler (pipeline.ts), so not with --version/--help.
  const changeLines = compare ? (await import('../changes.ts')).changeLines : () => [];
  for (const s of result.sites) {
    out.print(
      `${s.site}: ${s.counts.files} files for ${s.nodes} node${s.nodes === 1 ? '' : 's'} in ${s.dir} (${compare ? 'would write' : 'wrote'} ${s.counts.written}, ${compare ? 'would remove' : 'removed'} ${s.counts.removed}, unchanged ${s.counts.unchanged}${s.upToDate ? '; up to date, not compiled' : ''})`,
    );
    // Each file that would change: missing, extra (would be removed) or differs.
    if (compare && !flags.quiet) for (const l of changeLines(listedSite(s))) out.print(l);
    for (const d of diffs ?? []) if (d.site === s.site) out.print(d.diff);
  }
  // Once per run, naming only the files the sites built have.
  if (!flags.quiet && !compare) for (const l of deployHints(lists ? result.sites.map(listedSite) : hinted, secretsOf(flags))) out.print(l);
  return exitCode(result.ok, result.diagnostics);
}

/** A site built with its paths listed (`lists` above), as such. */
function listedSite(s: SiteBuildCounts): SiteBuild {
  if (!('files' in s)) throw new Error(`the paths of ${s.site} were not listed`);
  return s as SiteBuild;
}

/** A build whose sites' paths are listed, as such. */
function listed(result: BuildResult<SiteBuildCounts>): BuildResult {
  return { ...result, sites: result.sites.map(listedSite) };
}

/** The diff of every file that would change, per site, secrets masked. */
async function diffsOf(result: BuildResult): Promise<JsonFileDiff[]> {
  // Startup: changes.ts loads the compiler (pipeline.ts), so not with --version/--help.
  const { siteDiffs, siteSecrets } = await import('../changes.ts');
  // Startup: the compiler (yaml, ajv, eta) is not loaded with --version/--help.
  const { siteSecretValues } = await import('../../pipeline.ts');
  return result.sites.flatMap((s) => {
    const compiled = result.compiled.find((c) => c.site === s.site);
    if (!compiled?.artifacts) return [];
    // Every secret the library masks (also those under `config:`, reused in another field), not only cluster.*.
    const secrets = [...new Set([...siteSecrets(compiled.model), ...siteSecretValues(compiled)])];
    return siteDiffs(s.dir, s, compiled.artifacts, secrets).map((d) => ({ site: s.site, ...d }));
  });
}

/** `--jobs`: a whole number from 1 to 256 (default: `defaultJobs` for `sites` sites), or the usage error. */
function jobsOf(flags: Flags, sites: number): number | string {
  // Default: one worker per usable CPU but one (a cgroup CPU quota counted, src/util/cpus.ts). The
  // main thread (writing) and V8's own threads (garbage collection, the optimizing compiler) keep
  // about one core busy already: on 2 cores a second worker measured 1.00-1.13x at 48% more CPU
  // (README "Speed II"), so there, and for a single site, it compiles in process.
  if (flags.jobs === undefined) return defaultJobs(sites);
  const n = Number(flags.jobs);
  if (Number.isInteger(n) && n >= 1 && n <= 256) return n;
  return `--jobs must be a whole number of worker threads from 1 to 256, not ${JSON.stringify(flags.jobs)}`;
}
