// The `--json` document, as data: the versioned envelope around a run's diagnostics (one
// `sites[]` shape for every command; schema/cli-output.schema.json describes it). It sits above
// the diagnostics and the results it carries (explain's values, status's nodes), so the library
// and the CLI print the same document; the CLI only prints it.
import { resolve, sep } from 'node:path';
import { isBetweenSites, type Diagnostic } from '../diagnostics/types.ts';
import { countDiagnostics } from '../diagnostics/format.ts';
import type { ExplainedValue } from '../types/explain.ts';
import type { NodeStatus, UnknownMachine } from '../status/types.ts';

/** Version of the `--json` output; bumped on incompatible changes (fields are only ever added). */
export const JSON_OUTPUT_VERSION = 1;

/** One site in `--json` output; fields a command does not produce are null. */
export interface JsonSite {
  readonly dir: string;
  readonly site: string | null;
  readonly ok: boolean;
  readonly errors: number;
  readonly warnings: number;
  readonly nodes: number | null;
  /** Number of files the site builds (null when it did not compile). */
  readonly files: number | null;
  /** Output directory (build and watch). */
  readonly out: string | null;
  readonly written: readonly string[] | null;
  readonly removed: readonly string[] | null;
  readonly unchanged: number | null;
  /** build and watch: the site was up to date (inputs, harvgen and output as the last build left them) and was not compiled. */
  readonly up_to_date?: boolean;
}

/** The commands whose `--json` document names them (`help` prints none). */
export const JSON_COMMANDS = [
  'check',
  'build',
  'watch',
  'explain',
  'init',
  'hash-password',
  'verify',
  'status',
  'discover',
  'publish',
  'export',
  'import',
  'pull',
  'facts',
  'report',
] as const;

/** The commands that print a `--json` document (null: a usage error, before any command ran). */
export type JsonCommand = (typeof JSON_COMMANDS)[number];

/** How a file of the output differs from what the build writes (`build --dry-run`/`--check`/`--diff`). */
export type ChangeStatus = 'missing' | 'extra' | 'differs';

/**
 * One changed file under `build --diff --json`: its path relative to the site's output directory,
 * its status (`missing`, `extra`, `differs`) and its unified diff (secrets masked).
 */
export interface JsonFileDiff {
  readonly site: string;
  readonly path: string;
  readonly status: ChangeStatus;
  readonly diff: string;
}

/** The `--json` document of one run (or one rebuild under `watch --json`). */
export interface JsonOutput {
  /** report: where it was written, the time its pages show, and how many pages it wrote. */
  readonly report?: {
    readonly out: string;
    readonly generated_at: string;
    readonly pages: number;
    readonly written?: number;
    readonly unchanged?: number;
    readonly removed?: number;
  };
  readonly version: number;
  readonly command: JsonCommand | null;
  readonly ok: boolean;
  readonly errors: number;
  readonly warnings: number;
  readonly sites: readonly JsonSite[];
  readonly diagnostics: readonly Diagnostic[];
  /** watch only: when the rebuild started (ISO 8601), how long it took, what triggered it. */
  readonly time?: string;
  readonly duration_ms?: number;
  readonly changed?: readonly string[];
  /** explain: the site and node explained, and every resolved value of the node. */
  readonly site?: string;
  readonly hostname?: string;
  readonly values?: readonly ExplainedValue[];
  /** init: the files created (as given: under the site directory). */
  readonly created?: readonly string[];
  /** hash-password: the SHA-512 crypt hash (`$6$`) for `cluster.password` (the password itself is never printed). */
  readonly hash?: string;
  /** build --diff: the diff of every changed file. */
  readonly diffs?: readonly JsonFileDiff[];
  /** verify: each site on each server checked, with its tallies (and `duration_ms`). */
  readonly servers?: readonly JsonVerifyServer[];
  /** verify: the requests made in all. */
  readonly checks?: number;
  /** verify --releases: release files not on the boot server (nginx does not serve them), not checked. */
  readonly skipped?: readonly string[];
  /** status: every node's status. */
  readonly nodes?: readonly NodeStatus[];
  /** status, discover: MACs the sites do not know that asked for a script or reported themselves. */
  readonly unknown?: readonly UnknownMachine[];
  /** status, discover: requests read from the logs. */
  readonly requests?: number;
  /** status, discover: requests judged harvgen verify's, left out. */
  readonly verify_requests?: number;
  /** status: requests from the boot server itself, left out. */
  readonly server_requests?: number;
  /** status: requests from an address no node of theirs can be using, left out. */
  readonly foreign_requests?: number;
  /** publish, export: each site's artifact (its digest, the digest its tag named before, its tags). */
  readonly published?: readonly JsonPublished[];
  /** publish --dry-run: nothing was uploaded. */
  readonly dry_run?: boolean;
  /** publish, export: what was sent (requests, blobs uploaded, skipped, mounted, bytes). */
  readonly transfer?: Readonly<Record<string, number>>;
  /** import: each site copied into the registry. */
  readonly imported?: readonly {
    readonly site: string;
    readonly digest: string;
    readonly repository: string;
    readonly tags: readonly string[];
  }[];
  /** pull: what the run did (`switched`, `up-to-date`, `rolled-back`, `refused`, `failed`). */
  readonly action?: string;
  /** pull: the artifact served after the run, and the one before it. */
  readonly digest?: string | null;
  readonly previous?: string | null;
  /** pull: files unpacked. */
  readonly files?: number | null;
  /** pull: release files written (0: each already in place). */
  readonly releases_written?: number | null;
  /** pull: the local verify's verdict. */
  readonly verdict?: unknown;
  /** pull --list: the versions kept. */
  readonly versions?: readonly unknown[];
  /** verify --fleet: each site of the fleet record, its state and tallies. */
  readonly fleet?: readonly unknown[];
  /** facts: each machine measured, and what became of its facts file. */
  readonly machines?: readonly unknown[];
}

/** publish, export: one site's artifact. */
export interface JsonPublished {
  readonly site?: string;
  readonly repository?: string;
  readonly digest?: string;
  readonly previous: string | null;
  readonly tags?: readonly string[];
  readonly files?: { readonly public: number; readonly sealed: number };
  /** The tag named another artifact before (or none). */
  readonly changed: boolean;
}

/** verify: one site on one boot server. */
export interface JsonVerifyServer {
  readonly site: string;
  /** The server as given (`--url`) or the site's boot.server. */
  readonly url: string;
  readonly checks: number;
  /** Checks that found a difference. */
  readonly failed: number;
  /** Files refused to `source` as their access rules say (to be checked from a node's address). */
  readonly refused: readonly string[];
  /** The address the server saw verify connect from (null when it did not answer). */
  readonly source: string | null;
  readonly reachable: boolean;
}

/** Fields only some commands print (added after the envelope). */
export type JsonExtra = Pick<
  JsonOutput,
  | 'time'
  | 'duration_ms'
  | 'changed'
  | 'site'
  | 'hostname'
  | 'values'
  | 'created'
  | 'hash'
  | 'diffs'
  | 'servers'
  | 'checks'
  | 'skipped'
  | 'nodes'
  | 'unknown'
  | 'requests'
  | 'verify_requests'
  | 'server_requests'
  | 'foreign_requests'
  | 'published'
  | 'dry_run'
  | 'transfer'
  | 'imported'
  | 'action'
  | 'digest'
  | 'previous'
  | 'files'
  | 'releases_written'
  | 'verdict'
  | 'versions'
  | 'fleet'
  | 'machines'
  | 'report'
>;

/** Build the envelope; internal details (stack traces) only with `debug`. */
export function jsonOutput(o: {
  command: JsonOutput['command'];
  ok: boolean;
  sites: readonly JsonSite[];
  diagnostics: readonly Diagnostic[];
  debug?: boolean;
  extra?: JsonExtra;
}): JsonOutput {
  const { errors, warnings } = countDiagnostics(o.diagnostics);
  const diagnostics = o.diagnostics.map(({ detail, ...d }) => (o.debug && detail ? { ...d, detail } : d));
  return { version: JSON_OUTPUT_VERSION, command: o.command, ok: o.ok, errors, warnings, sites: o.sites, diagnostics, ...(o.extra ?? {}) };
}

/** What a site entry reads of a compiled site (a `CompiledSite`). */
export interface JsonSiteCompiled {
  readonly dir: string;
  readonly site?: string;
  readonly model?: { readonly nodes: readonly unknown[] };
  /** A site compiled on a worker thread carries its node count here in place of its model. */
  readonly summary?: { readonly nodes: number; readonly files?: number };
  readonly artifacts?: readonly unknown[];
  readonly diagnostics: readonly Diagnostic[];
}

/** What a site entry reads of a written (or compared) site (a `SiteBuild`). */
export interface JsonSiteBuilt {
  readonly dir: string;
  readonly written: readonly string[];
  readonly removed: readonly string[];
  readonly unchanged: readonly string[];
  readonly nodes: number;
  readonly files: readonly string[];
  readonly upToDate?: boolean;
}

/** A site entry from what the library returned. */
export function jsonSite(compiled: JsonSiteCompiled, built?: JsonSiteBuilt): JsonSite {
  const { errors, warnings } = countDiagnostics(compiled.diagnostics);
  return {
    dir: compiled.dir,
    site: compiled.site ?? null,
    ok: errors === 0,
    errors,
    warnings,
    nodes: built ? built.nodes : compiled.model ? compiled.model.nodes.length : (compiled.summary?.nodes ?? null),
    files: built ? built.files.length : compiled.artifacts ? compiled.artifacts.length : (compiled.summary?.files ?? null),
    out: built ? built.dir : null,
    written: built ? built.written : null,
    removed: built ? built.removed : null,
    unchanged: built ? built.unchanged.length : null,
    ...(built?.upToDate ? { up_to_date: true } : {}),
  };
}

/**
 * The document of a build (`build`, and each rebuild under `watch`): one entry per site
 * compiled, with what was written for the sites that were (a `BuildResult`).
 */
export function jsonBuildOutput(
  command: 'build' | 'watch',
  result: {
    readonly ok: boolean;
    readonly sites: readonly (JsonSiteBuilt & { readonly site: string })[];
    readonly compiled: readonly JsonSiteCompiled[];
    readonly diagnostics: readonly Diagnostic[];
  },
  debug: boolean,
  extra?: JsonExtra,
): JsonOutput {
  const built = new Map(result.sites.map((s) => [s.site, s]));
  const compiled = withCrossSite(result.compiled, result.diagnostics);
  const sites = compiled.map((c) => jsonSite(c, c.site !== undefined ? built.get(c.site) : undefined));
  return jsonOutput({ command, ok: result.ok, sites, diagnostics: result.diagnostics, debug, ...(extra ? { extra } : {}) });
}

/**
 * The sites as reported: each with the run's diagnostics between sites (SITE_SERVER_CONFLICT,
 * EMIT_DUPLICATE_SITE and the other checks across sites: in the run's list, in no site's own)
 * that point into its directory, so that a site such a check refuses is not reported ok. For the report only: a
 * site's own list (what its up-to-date record replays) stays as it was.
 */
export function withCrossSite<S extends { readonly dir: string; readonly diagnostics: readonly Diagnostic[] }>(
  sites: readonly S[],
  all: readonly Diagnostic[],
  cwd = process.cwd(),
): S[] {
  // By code, not by object: a site compiled on a worker thread comes back as a copy. No site's
  // own list holds one (they are made in compileAll, after the sites), so none is added twice.
  const between = all.filter((d) => isBetweenSites(d.code) && d.file !== undefined);
  if (between.length === 0) return [...sites];
  // The innermost site whose directory holds the file: a site may sit inside another's (`.` and `lab/`).
  const dirs = sites.map((s) => resolve(cwd, s.dir) + sep);
  const owner = between.map((d) => {
    const file = resolve(cwd, d.file!);
    return dirs.reduce((best, dir) => (file.startsWith(dir) && dir.length > best.length ? dir : best), '');
  });
  return sites.map((s, i) => {
    const concern = between.filter((_, k) => owner[k] !== '' && owner[k] === dirs[i]);
    return concern.length === 0 ? s : { ...s, diagnostics: [...s.diagnostics, ...concern] };
  });
}
