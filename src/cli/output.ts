// What the CLI prints, as data: the versioned JSON envelope (one `sites[]` shape for every
// command; schema/cli-output.schema.json describes it), the colour decision and the summary.
import type { Diagnostic } from '../diagnostics/types.ts';
import { countDiagnostics } from '../diagnostics/format.ts';
import type { ExplainedValue } from '../explain/index.ts';
import type { FileDiff } from './changes.ts';

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

/** The commands that print a `--json` document (null: a usage error, before any command ran). */
export type JsonCommand = 'check' | 'build' | 'watch' | 'explain' | 'init' | 'hash-password';

/**
 * One changed file under `build --diff --json`: its path relative to the site's output directory,
 * its status (`missing`, `extra`, `differs`) and its unified diff (secrets masked).
 */
export interface JsonFileDiff extends FileDiff {
  readonly site: string;
}

/** The `--json` document of one run (or one rebuild under `watch --json`). */
export interface JsonOutput {
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
}

/** Fields only some commands print (added after the envelope). */
export type JsonExtra = Pick<
  JsonOutput,
  'time' | 'duration_ms' | 'changed' | 'site' | 'hostname' | 'values' | 'created' | 'hash' | 'diffs'
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

/** A site entry from what the library returned. */
export function jsonSite(
  compiled: {
    dir: string;
    site?: string;
    model?: { nodes: readonly unknown[] };
    artifacts?: readonly unknown[];
    diagnostics: readonly Diagnostic[];
  },
  built?: {
    dir: string;
    written: readonly string[];
    removed: readonly string[];
    unchanged: readonly string[];
    nodes: number;
    files: readonly string[];
    upToDate?: boolean;
  },
): JsonSite {
  const { errors, warnings } = countDiagnostics(compiled.diagnostics);
  return {
    dir: compiled.dir,
    site: compiled.site ?? null,
    ok: errors === 0,
    errors,
    warnings,
    nodes: built ? built.nodes : compiled.model ? compiled.model.nodes.length : null,
    files: built ? built.files.length : compiled.artifacts ? compiled.artifacts.length : null,
    out: built ? built.dir : null,
    written: built ? built.written : null,
    removed: built ? built.removed : null,
    unchanged: built ? built.unchanged.length : null,
    ...(built?.upToDate ? { up_to_date: true } : {}),
  };
}

/**
 * Colour on a stream: `--no-color` and NO_COLOR turn it off, FORCE_COLOR turns it on (FORCE_COLOR=0
 * off) even without a terminal, otherwise only on a terminal.
 */
export function useColor(
  flag: boolean | undefined,
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  if (flag === false || (env.NO_COLOR ?? '') !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  return stream.isTTY === true;
}
