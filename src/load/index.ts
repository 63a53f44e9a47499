// Stage 1, load: find the site's files (site.yaml, then nodes/**/*.yaml in code-point order
// of their relative paths), read and parse them, and merge them into one raw inventory value.
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import fg from 'fast-glob';
import type { Diagnostic } from '../diagnostics/types.ts';
import { readInventoryText } from './read-text.ts';
import { parseYamlFile, type SourceFile } from './parse-yaml.ts';
import { createLocator, NO_SOURCE, type Locator, type NodeOrigin } from './locate.ts';
import { stampNow, stampOf, stampTree, type InputStamp } from './stamps.ts';

export type { SourceFile } from './parse-yaml.ts';
export type { Locator, InventoryPath, SourceLocation, LocateTarget } from './locate.ts';
export { NO_SOURCE, PROFILE_LAYER, REPO_LAYER } from './locate.ts';

/** Shared layers next to the site directories (`sites/_defaults.yaml`, `sites/_profiles/*.yaml`), as written. */
export interface Layers {
  readonly repo?: Record<string, unknown>;
  /** Profiles by name (the file name without `.yaml`). */
  readonly profiles: Readonly<Record<string, Record<string, unknown>>>;
}

/** The result of loading one site directory. */
export interface LoadedSite {
  /** Absolute site directory. */
  readonly dir: string;
  /** The merged inventory as written (not yet validated); undefined when loading failed. */
  readonly input?: Record<string, unknown>;
  readonly files: readonly SourceFile[];
  readonly locate: Locator;
  readonly diagnostics: readonly Diagnostic[];
  /** The shared layers the site may draw on (empty when there are none). */
  readonly layers: Layers;
  /** With `stamps`: every file read and every directory listed, as found before reading. */
  readonly stamps?: readonly InputStamp[];
}

/** Options for loading. */
export interface LoadOptions {
  /** Directory that displayed file paths are relative to (default: process.cwd()). */
  readonly cwd?: string;
  /** Record input stamps (for build's up-to-date check). */
  readonly stamps?: boolean;
  /**
   * Files parsed before, by absolute path (watch keeps one for its session): a file whose stamp
   * is unchanged is not read or parsed again. Only clean parses are kept.
   */
  readonly parseCache?: ParseCache;
}

/** Clean parses of inventory files by absolute path, with the stamp they were read at. */
export type ParseCache = Map<string, { readonly stamp: InputStamp; readonly file: SourceFile; readonly value: Record<string, unknown> }>;

/** Load a site directory: site.yaml plus nodes/**\/*.yaml, merged. Never throws for bad input. */
export async function loadSite(siteDir: string, options: LoadOptions = {}): Promise<LoadedSite> {
  const cwd = options.cwd ?? process.cwd();
  const dir = resolve(cwd, siteDir);
  const display = (abs: string) => {
    const rel = relative(cwd, abs);
    return (rel && !rel.startsWith('..') ? rel : abs).split(sep).join('/');
  };
  const none: Locator = NO_SOURCE;
  const noLayers: Layers = { profiles: {} };
  const fail = (d: Diagnostic): LoadedSite => ({ dir, files: [], locate: none, diagnostics: [d], layers: noLayers });

  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat?.isDirectory()) {
    return fail({
      code: 'LOAD_SITE_DIR_NOT_FOUND',
      severity: 'error',
      message: `site directory ${display(dir)} ${dirStat ? 'is not a directory' : 'does not exist'}`,
      hint: 'Pass the directory that holds site.yaml, e.g. `harvgen check sites/location_x`.',
      file: display(dir),
    });
  }
  const sitePath = join(dir, 'site.yaml');
  const siteStat = await stat(sitePath).catch(() => undefined);
  if (!siteStat?.isFile()) {
    return fail({
      code: 'LOAD_SITE_YAML_MISSING',
      severity: 'error',
      message: `${display(dir)} has no site.yaml`,
      hint: 'Create site.yaml in the site directory (copy sites/location_x/site.yaml to start).',
      file: display(dir),
    });
  }

  // Directories are stamped before they are listed, files before they are read.
  const sitesDir = dirname(dir);
  const stamps: InputStamp[] | undefined = options.stamps
    ? [stampNow(dir), ...stampTree(join(dir, 'nodes')), stampNow(join(sitesDir, '_defaults.yaml')), stampNow(join(sitesDir, '_profiles'))]
    : undefined;
  const nodePaths = (
    await fg(['nodes/**/*.yaml', 'nodes/**/*.yml'], { cwd: dir, onlyFiles: true, dot: false, followSymbolicLinks: false })
  ).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const diagnostics: Diagnostic[] = [];
  const files: SourceFile[] = [];
  const cache = options.parseCache;
  const readOne = async (abs: string) => {
    if (cache) {
      const now = stampNow(abs);
      const hit = cache.get(abs);
      if (hit && hit.file.path === display(abs) && now[1] !== -2 && now.every((v, i) => v === hit.stamp[i])) {
        stamps?.push(hit.stamp);
        files.push(hit.file);
        return { file: hit.file, value: hit.value };
      }
    }
    const { text, diagnostics: d, stats } = readInventoryText(abs, display(abs));
    diagnostics.push(...d);
    const stamp = stampOf(abs, stats);
    stamps?.push(stamp);
    if (text === undefined) return undefined;
    const parsed = parseYamlFile(text, display(abs), abs);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.file) files.push(parsed.file);
    if (cache && stamp[1] >= 0 && parsed.file && parsed.value && parsed.diagnostics.length === 0) {
      cache.set(abs, { stamp, file: parsed.file, value: parsed.value });
    }
    return parsed.file && parsed.value ? { file: parsed.file, value: parsed.value } : undefined;
  };

  const site = await readOne(sitePath);
  const nodeFiles: { file: SourceFile; value: Record<string, unknown>; stem: string }[] = [];
  for (const rel of nodePaths) {
    const loaded = await readOne(join(dir, rel));
    if (loaded) nodeFiles.push({ ...loaded, stem: basename(rel, extname(rel)) });
  }
  // Layers: next to the site directories, i.e. in the site directory's parent (`sites/`).
  const repoFile = join(sitesDir, '_defaults.yaml');
  const repo = (await stat(repoFile).catch(() => undefined))?.isFile() ? await readOne(repoFile) : undefined;
  const profilePaths = (
    await fg(['_profiles/*.yaml', '_profiles/*.yml'], { cwd: sitesDir, onlyFiles: true, followSymbolicLinks: false })
  ).sort();
  const profiles: Record<string, Record<string, unknown>> = {};
  const profileFiles = new Map<string, SourceFile>();
  for (const rel of profilePaths) {
    const loaded = await readOne(join(sitesDir, rel));
    if (!loaded) continue;
    const name = basename(rel, extname(rel));
    profiles[name] = loaded.value;
    profileFiles.set(name, loaded.file);
  }
  const layers: Layers = { ...(repo ? { repo: repo.value } : {}), profiles };
  const layerFiles = { ...(repo ? { repo: repo.file } : {}), profiles: profileFiles };
  if (!site || diagnostics.length > 0) {
    const locate = site ? createLocator(site.file, [], layerFiles) : none;
    return { dir, files, locate, diagnostics, layers, ...(stamps ? { stamps } : {}) };
  }

  const input: Record<string, unknown> = { ...site.value };
  const origins: NodeOrigin[] = [];
  const siteNodes = Array.isArray(input.nodes) ? (input.nodes as unknown[]) : undefined;
  siteNodes?.forEach((_, i) => origins.push({ file: site.file, base: ['nodes', i] }));
  if (nodeFiles.length > 0) {
    if (input.nodes !== undefined && !siteNodes) {
      // Keep the malformed value so the schema stage reports it at its own position.
    } else {
      const merged = [...(siteNodes ?? [])];
      for (const nf of nodeFiles) {
        // A node file may omit its hostname: the file name is the node's name.
        merged.push(nf.value.hostname === undefined ? { hostname: nf.stem, ...nf.value } : nf.value);
        origins.push({ file: nf.file, base: [] });
      }
      input.nodes = merged;
    }
  }
  return { dir, input, files, locate: createLocator(site.file, origins, layerFiles), diagnostics, layers, ...(stamps ? { stamps } : {}) };
}
