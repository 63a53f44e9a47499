// Stage 1, load: find the site's files (site.yaml, then nodes/**/*.yaml in code-point order
// of their relative paths), read and parse them, and merge them into one raw inventory value.
import { join, resolve, sep } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { SourceFile } from './yaml/source-file.ts';
import { createLocator, locatedIn, NO_SOURCE, type Locator, type NodeOrigin, type SourceLocation } from './locate.ts';
import type { RepoBoundary } from './repo.ts';
import { stampTree, type InputStamp, type Listed } from './stamps.ts';
import type { Layers } from '../types/layers.ts';
import { statOrUndefined } from '../util/lstat.ts';
import { displayFrom, exists, SiteReader, yamlFiles, type LoadOptions, type ParsedFile } from './site-reader.ts';

export type { SourceFile } from './yaml/source-file.ts';
export type { Locator, SourceLocation, LocateTarget } from './locate.ts';
export type { RepoBoundary } from './repo.ts';
export { NO_SOURCE } from './locate.ts';
export type { KeptParse, LoadOptions, ParseCache } from './site-reader.ts';

/** The result of loading one site directory. */
export interface LoadedSite {
  /** Absolute site directory. */
  readonly dir: string;
  /** The merged inventory as written (not yet validated); undefined when loading failed. */
  readonly input?: Record<string, unknown>;
  readonly files: readonly SourceFile[];
  /**
   * Text of every inventory file read, by displayed path, whether it parsed or not (code frames:
   * a file with a YAML error is not in `files`).
   */
  readonly sources: Readonly<Record<string, string>>;
  readonly locate: Locator;
  readonly diagnostics: readonly Diagnostic[];
  /** The shared layers the site may draw on (empty when there are none). */
  readonly layers: Layers;
  /** With `stamps`: every file read and every directory listed, as found before reading. */
  readonly stamps?: readonly InputStamp[];
  /**
   * The repository boundary (`src/load/repo.ts`): nothing outside it was read, and nothing
   * outside it may be read for this site (secret, user-data and binary files). Absent when the
   * site directory or its site.yaml was not found.
   */
  readonly repo?: RepoBoundary;
}

/** Load a site directory: site.yaml plus nodes/**\/*.yaml, merged. Never throws for bad input. */
export async function loadSite(siteDir: string, options: LoadOptions = {}): Promise<LoadedSite> {
  const cwd = options.cwd ?? process.cwd();
  const dir = resolve(cwd, siteDir);
  const display = displayFrom(cwd);
  const missing = await siteDirProblem(dir, display);
  if (missing) return failed(dir, missing);
  const sitePath = join(dir, 'site.yaml');
  const r = new SiteReader(dir, cwd, options);
  if (!r.withinFile(sitePath)) return { ...failed(dir, r.refused[0]!), repo: r.repo };

  const nodesDir = join(dir, 'nodes');
  const nodesIn = !exists(nodesDir) || r.within(nodesDir);
  // The node tree listed once: stamped, each directory before its listing, then walked.
  const listings = new Map<string, readonly Listed[]>();
  r.stampStart(nodesIn ? stampTree(nodesDir, listings) : []);
  const nodePaths = nodesIn ? yamlFiles(dir, 'nodes', true, r.withinFile, listings) : [];
  r.diagnostics.push(...r.refused);
  const site = r.read(sitePath);
  const nodeFiles: NodeFile[] = [];
  // Each path by concatenation (its names come from listings, never `.`, `..` or empty: join's
  // normalising walk was a tenth of a watch rebuild's load), its stem the name without `.yaml`/`.yml`.
  const under = dir.endsWith(sep) ? dir : dir + sep;
  for (const rel of nodePaths) {
    const loaded = r.read(under + (sep === '/' ? rel : rel.split('/').join(sep)));
    if (loaded) nodeFiles.push({ file: loaded.file, value: loaded.value, stem: rel.slice(rel.lastIndexOf('/') + 1, rel.lastIndexOf('.')) });
  }
  const { layers, layerFiles } = r.readLayers();
  const { files, sources, diagnostics, stamps, repo } = r;
  const rest = { files, sources, diagnostics, layers, ...(stamps ? { stamps } : {}), repo };
  if (!site || diagnostics.length > 0) {
    const locate = site ? createLocator(site.file, [], layerFiles) : NO_SOURCE;
    return { dir, locate, ...rest };
  }
  const { input, origins } = mergeNodeFiles(site, nodeFiles);
  const locate = createLocator(site.file, origins, layerFiles);
  return { dir, input, locate, ...rest };
}

/** A node file, with its file name's stem (the node's hostname when it has none). */
type NodeFile = ParsedFile & { readonly stem: string };

/** A site that could not be loaded at all. */
function failed(dir: string, d: Diagnostic): LoadedSite {
  return { dir, files: [], sources: {}, locate: NO_SOURCE, diagnostics: [d], layers: { profiles: {} } };
}

/** Why `dir` is no site directory (it is missing, not a directory, or has no site.yaml). */
async function siteDirProblem(dir: string, display: (abs: string) => string): Promise<Diagnostic | undefined> {
  const dirStat = statOrUndefined(dir);
  if (!dirStat?.isDirectory()) {
    return {
      code: 'LOAD_SITE_DIR_NOT_FOUND',
      severity: 'error',
      message: `site directory ${display(dir)} ${dirStat ? 'is not a directory' : 'does not exist'}`,
      hint: 'Pass the directory that holds site.yaml (`harvgen check sites/<site>`); `harvgen init sites/<site>` creates a new one.',
      file: display(dir),
    };
  }
  const siteStat = statOrUndefined(join(dir, 'site.yaml'));
  if (siteStat?.isFile()) return undefined;
  return {
    code: 'LOAD_SITE_YAML_MISSING',
    severity: 'error',
    message: `${display(dir)} has no site.yaml`,
    hint: 'Pass the directory that holds site.yaml, or create a commented starting site there with `harvgen init <dir>` (it never overwrites a file).',
    file: display(dir),
  };
}

/** site.yaml's value with the node files' nodes appended, and where each node was written. */
function mergeNodeFiles(site: ParsedFile, nodeFiles: readonly NodeFile[]): { input: Record<string, unknown>; origins: NodeOrigin[] } {
  const input: Record<string, unknown> = { ...site.value };
  const origins: NodeOrigin[] = [];
  const siteNodes = Array.isArray(input.nodes) ? (input.nodes as unknown[]) : undefined;
  siteNodes?.forEach((_, i) => origins.push({ file: site.file, base: ['nodes', i] }));
  // A malformed `nodes:` is kept so that the schema stage reports it at its own position.
  if (nodeFiles.length === 0 || (input.nodes !== undefined && !siteNodes)) return { input, origins };
  const merged = [...(siteNodes ?? [])];
  for (const nf of nodeFiles) {
    // A node file may omit its hostname: the file name is the node's name (the same object for
    // the same parse, as the node itself is when it has one).
    merged.push(nf.value.hostname === undefined ? named(nf.value, nf.stem) : nf.value);
    origins.push({ file: nf.file, base: NO_BASE });
  }
  input.nodes = merged;
  return { input, origins };
}

/** Where a node file's node is in its file: at its top (one list for all of them; never written to). */
const NO_BASE: readonly (string | number)[] = Object.freeze([]);

/** Node values named by their file, by parse (watch reuses a parse while its file is unchanged). */
const namedNodes = new WeakMap<object, { readonly stem: string; readonly node: Record<string, unknown> }>();

function named(value: Record<string, unknown>, stem: string): Record<string, unknown> {
  const kept = namedNodes.get(value);
  if (kept?.stem === stem) return kept.node;
  const node = { hostname: stem, ...value };
  if (Object.isFrozen(value)) Object.freeze(node);
  namedNodes.set(value, { stem, node });
  return node;
}

/**
 * The text of the file at a location a site's Locator returned (`locate(path)`), as written: a
 * value that YAML turned into a number (`mac: 001122334455` is 1122334455) still shows its digits.
 */
export function writtenText(loc: SourceLocation | undefined): string | undefined {
  const file = loc && locatedIn(loc);
  if (!loc || !file) return undefined;
  const starts = file.lineCounter.lineStarts;
  const at = (line: number, col: number) => (starts[line - 1] ?? file.text.length) + col - 1;
  const from = at(loc.line, loc.col);
  return file.text.slice(from, loc.endLine !== undefined ? at(loc.endLine, loc.endCol ?? 1) : from);
}
