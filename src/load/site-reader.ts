// The reads of one site's load (loadSite, index.ts): each inventory file inside the repository
// boundary, stamped before it is read, its parse reused from the parse cache while its stamp
// holds; the shared layers beside the site; and the listing of a directory's YAML files.
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { readInventoryText } from './read-text.ts';
import { parseYamlFile } from './yaml/parse.ts';
import type { SourceFile } from './yaml/source-file.ts';
import { redact, SECRET_FIELDS } from './secrets.ts';
import type { createLocator } from './locate.ts';
import { outsideDiagnostic, outsideProblem, realPathOf, repoBoundary, type RepoBoundary } from './repo.ts';
import { stampNow, stampOf, type InputStamp, type Listed } from './stamps.ts';
import type { Layers } from '../types/layers.ts';
import { deepFreeze } from '../util/deep-freeze.ts';

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

/** A clean parse kept across builds: the stamp it was read at, and the watch generation that vouches for it. */
export interface KeptParse {
  readonly stamp: InputStamp;
  readonly file: SourceFile;
  readonly value: Record<string, unknown>;
  /** The directory paths were shown relative to (`file.path`): reused only under the same one. */
  readonly cwd: string;
  /** Reused without a stat while this equals ParseCache.trust. */
  readonly trust?: number;
}

/**
 * Clean parses of inventory files by absolute path. Each is reused while its stamp holds, which
 * costs a stat per file per build (a 10,000-node site: about 90 ms of each watch rebuild).
 * `trust`, set by watch only while its watcher reports every change to the inventory: a parse
 * read or found unchanged while it is set is kept at that generation and reused without a stat,
 * until watch takes the trust back (from the one file on its change event, from all of them by
 * a new generation on any other event; for good when the watcher fails). A file reached through
 * a link is always statted (its target may change where no event is reported).
 */
export type ParseCache = Map<string, KeptParse> & { trust?: number };

/** A parsed inventory file. */
export interface ParsedFile {
  readonly file: SourceFile;
  readonly value: Record<string, unknown>;
}

/** Paths as printed: relative to `cwd` when below it, else absolute, with `/`. */
export function displayFrom(cwd: string): (abs: string) => string {
  return (abs) => {
    const rel = relative(cwd, abs);
    return (rel && !rel.startsWith('..') ? rel : abs).split(sep).join('/');
  };
}

/**
 * The reads of one site's load: every file inside the repository boundary (computed once: a
 * link that stays inside is fine, so no line of a file outside it reaches a code frame), each
 * stamped before it is read, each parse reused from the parse cache while its stamp holds.
 */
export class SiteReader {
  readonly repo: RepoBoundary;
  /** LOAD_OUTSIDE_REPOSITORY for each path refused. */
  readonly refused: Diagnostic[] = [];
  readonly diagnostics: Diagnostic[] = [];
  readonly files: SourceFile[] = [];
  readonly sources: Record<string, string> = {};
  stamps: InputStamp[] | undefined;
  /** Whether each directory of this load is its own real path (trustNow). */
  readonly realDirs = new Map<string, boolean>();
  private readonly sitesDir: string;

  /** Paths as printed, relative to `cwd`. */
  private readonly display: (abs: string) => string;

  constructor(
    private readonly dir: string,
    private readonly cwd: string,
    private readonly options: LoadOptions,
  ) {
    this.display = displayFrom(cwd);
    this.repo = repoBoundary(dir);
    this.sitesDir = dirname(dir);
  }

  /** False (and a LOAD_OUTSIDE_REPOSITORY) when `abs` really is outside the boundary. */
  readonly within = (abs: string): boolean => {
    const problem = outsideProblem(abs, this.repo);
    if (problem !== undefined) this.refused.push(outsideDiagnostic(this.display(abs), problem, this.repo));
    return problem === undefined;
  };

  /**
   * An inventory file: `within`, and when it is a link, one to a YAML file. A link inside the
   * repository could otherwise point at a git-ignored secret file (`nodes/x.yaml ->
   * ../secrets/token`), whose text a YAML error's code frame would print before any secret is known.
   */
  readonly withinFile = (abs: string): boolean => {
    if (!this.within(abs)) return false;
    const real = realPathOf(abs);
    if (real === resolve(abs) || /\.ya?ml$/.test(real)) return true;
    const why = `is a link to ${real}, which is not a .yaml or .yml file (an inventory link must point at an inventory file, so that no other file of the repository, such as a secret, is read as YAML and shown)`;
    this.refused.push(outsideDiagnostic(this.display(abs), why, this.repo));
    return false;
  };

  /**
   * With `stamps`: the directories, stamped before they are listed (a directory outside the
   * boundary, `nodes -> /usr`, is neither stamped nor listed).
   */
  stampStart(nodesTree: readonly InputStamp[]): void {
    if (!this.options.stamps) return;
    const { dir, sitesDir } = this;
    this.stamps = [
      stampNow(dir),
      ...nodesTree,
      stampNow(join(sitesDir, '_defaults.yaml')),
      stampNow(join(sitesDir, '_profiles')),
      stampNow(join(dir, 'facts')),
      ...absentGitStamps(this.repo),
    ];
  }

  /** Read and parse one inventory file (or reuse its parse); undefined when it cannot be used. */
  read(abs: string): ParsedFile | undefined {
    const hit = this.cached(abs);
    if (hit) return hit;
    const display = this.display(abs);
    const { text, diagnostics: d, stats } = readInventoryText(abs, display);
    this.diagnostics.push(...d);
    const stamp = stampOf(abs, stats);
    this.stamps?.push(stamp);
    if (text === undefined) return undefined;
    const parsed = parseYamlFile(text, display, abs);
    // A file with a YAML error never gets to secret resolution, which masks the secrets in all
    // printed output: mask its inline ones here, in its code frames and in what its errors quote.
    const inline = parsed.diagnostics.length > 0 ? inlineSecrets(text) : [];
    const mask = (t: string) => (inline.length > 0 ? redact(t, inline) : t);
    this.sources[display] = mask(text);
    this.diagnostics.push(
      ...parsed.diagnostics.map((d) =>
        inline.length > 0 ? { ...d, message: mask(d.message), ...(d.hint !== undefined ? { hint: mask(d.hint) } : {}) } : d,
      ),
    );
    if (parsed.file) this.files.push(parsed.file);
    const cache = this.options.parseCache;
    if (cache && stamp[1] >= 0 && parsed.file && parsed.value && parsed.diagnostics.length === 0) {
      // Frozen: later compiles hand this very value on (secrets.ts copies only what it writes), so
      // a stage that wrote into it would throw instead of changing what the next build reads.
      cache.set(abs, { stamp, file: parsed.file, value: deepFreeze(parsed.value), cwd: this.cwd, ...trustNow(cache, abs, this.realDirs) });
    }
    return parsed.file && parsed.value ? { file: parsed.file, value: parsed.value } : undefined;
  }

  /** The parse of `abs` kept by the parse cache, when its stamp is unchanged. */
  private cached(abs: string): ParsedFile | undefined {
    const cache = this.options.parseCache;
    if (!cache) return undefined;
    let hit = cache.get(abs);
    // Shown as then (the same directory to show it from; not made again for each of 10,000 files).
    if (!hit || hit.cwd !== this.cwd) return undefined;
    if (hit.trust === undefined || hit.trust !== cache.trust) {
      const now = stampNow(abs);
      if (now[1] === -2 || !now.every((v, i) => v === hit!.stamp[i])) return undefined;
      const trust = trustNow(cache, abs, this.realDirs);
      if (trust.trust !== undefined) cache.set(abs, (hit = { ...hit, ...trust }));
    }
    // The stamp it was read at: the record then describes what was compiled (a change since, seen
    // by no event, makes the next build's up-to-date check compile the site again).
    this.stamps?.push(hit.stamp);
    this.files.push(hit.file);
    this.sources[hit.file.path] = hit.file.text;
    return { file: hit.file, value: hit.value };
  }

  /**
   * The shared layers: next to the site directories, i.e. in the site directory's parent
   * (`sites/`), when that is inside the boundary (a repository above the site).
   */
  readLayers(): { layers: Layers; layerFiles: Parameters<typeof createLocator>[2] } {
    const before = this.refused.length;
    const repoFile = join(this.sitesDir, '_defaults.yaml');
    const repoLayer =
      exists(repoFile) && this.withinFile(repoFile) && statSync(repoFile, { throwIfNoEntry: false })?.isFile()
        ? this.read(repoFile)
        : undefined;
    const profilesDir = join(this.sitesDir, '_profiles');
    const profilePaths =
      exists(profilesDir) && this.within(profilesDir) ? yamlFiles(this.sitesDir, '_profiles', false, this.withinFile) : [];
    const profiles: Record<string, Record<string, unknown>> = {};
    const profileFiles = new Map<string, SourceFile>();
    for (const rel of profilePaths) {
      const loaded = this.read(join(this.sitesDir, rel));
      if (!loaded) continue;
      const name = basename(rel, extname(rel));
      profiles[name] = loaded.value;
      profileFiles.set(name, loaded.file);
    }
    const { measured, measuredFiles } = this.readMeasured();
    this.diagnostics.push(...this.refused.slice(before));
    return {
      layers: { ...(repoLayer ? { repo: repoLayer.value } : {}), profiles, ...(measured ? { measured } : {}) },
      layerFiles: { ...(repoLayer ? { repo: repoLayer.file } : {}), profiles: profileFiles, measured: measuredFiles },
    };
  }

  /** The site's measured facts, `facts/<hostname>.yaml` (src/facts/), by hostname. */
  private readMeasured(): { measured?: Record<string, Record<string, unknown>>; measuredFiles: Map<string, SourceFile> } {
    const factsDir = join(this.dir, 'facts');
    const measuredFiles = new Map<string, SourceFile>();
    if (!exists(factsDir) || !this.within(factsDir)) return { measuredFiles };
    // By hostname, with no prototype: a file named `__proto__.yaml` or `constructor.yaml` is a key like any other.
    const measured: Record<string, Record<string, unknown>> = Object.create(null) as Record<string, Record<string, unknown>>;
    // Only `.yaml`, the name harvgen facts writes: a `.yml` beside it would otherwise be judged in its place.
    for (const rel of yamlFiles(this.dir, 'facts', false, this.withinFile).filter((r) => r.endsWith('.yaml'))) {
      const loaded = this.read(join(this.dir, rel));
      if (!loaded) continue;
      const name = basename(rel, extname(rel));
      measured[name] = loaded.value;
      measuredFiles.set(name, loaded.file);
    }
    return { measured, measuredFiles };
  }
}

/** The trust a parse of `abs` read or checked now gets: the cache's generation, unless `abs` is or goes through a link. */
function trustNow(cache: ParseCache, abs: string, realDirs: Map<string, boolean>): { trust?: number } {
  if (cache.trust === undefined) return {};
  // The file by lstat, its directory by realpath once per load (a realpath per file walked every
  // component of every path: half a second for 10,000 node files).
  const dir = dirname(abs);
  let real = realDirs.get(dir);
  if (real === undefined) {
    try {
      real = realpathSync.native(dir) === dir;
    } catch {
      real = false;
    }
    realDirs.set(dir, real);
  }
  if (!real) return {};
  const st = lstatSync(abs, { throwIfNoEntry: false });
  return st?.isFile() ? { trust: cache.trust } : {};
}

/**
 * Stamps of the `.git` paths that were absent between the site directory and its boundary (all
 * of them up to `/` without a repository): a `.git` that appears there (a submodule, a new
 * repository) moves the boundary, so the site is compiled again. The boundary's own `.git` is
 * not stamped: git changes it with every command.
 */
function absentGitStamps(repo: RepoBoundary): InputStamp[] {
  const out: InputStamp[] = [];
  for (let d = repo.site; d !== repo.root || repo.kind === 'site'; d = dirname(d)) {
    const stamp = stampNow(join(d, '.git'));
    if (stamp[1] === -1) out.push(stamp);
    if (dirname(d) === d) break;
  }
  return out;
}

/** True when something (a file, a directory, a link, dangling or not) is at `path`. */
export function exists(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

/**
 * The `*.yaml` and `*.yml` files in `base/sub` (relative to `base`, `/`-separated, code-point
 * order), in its subdirectories too when `deep`. Names starting with `.` are skipped; a link
 * to a directory is not entered; a link named like a YAML file is listed when `within` says its
 * target is inside the boundary (else `within` reported it).
 */
export function yamlFiles(
  base: string,
  sub: string,
  deep: boolean,
  within: (abs: string) => boolean,
  listings?: ReadonlyMap<string, readonly Listed[]>,
): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let entries: readonly Listed[];
    try {
      entries = listings?.get(join(base, rel)) ?? readdirSync(join(base, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (deep) walk(path);
        continue;
      }
      if (!/\.ya?ml$/.test(e.name)) continue;
      if (
        e.isFile() ||
        (e.isSymbolicLink() && within(join(base, path)) && !statSync(join(base, path), { throwIfNoEntry: false })?.isDirectory())
      ) {
        out.push(path);
      }
    }
  };
  walk(sub);
  // In code-unit order: what the default sort of strings gives, without a comparator call per pair.
  return out.sort();
}

/** Secrets shorter than this are not masked (as `MIN_REDACTED` in mask.ts). */
const MIN_MASKED = 4;

/** Values written inline for a secret key (`token: abc`, not `{ env: NAME }`), read from the text alone. */
function inlineSecrets(text: string): string[] {
  const keys = [...new Set(SECRET_FIELDS.map((p) => String(p[p.length - 1])))].join('|');
  const re = new RegExp(`(?:^|[\\s{,])(?:${keys})[ \\t]*:[ \\t]+("[^"\\n]*|'[^'\\n]*|[^\\s{[#,}\\]][^\\n]*)`, 'g');
  const found: string[] = [];
  for (const m of text.matchAll(re)) {
    const v = m[1]!;
    if (v[0] === '"' || v[0] === "'") found.push(v.slice(1));
    else {
      // A plain value ends at a comment; in a flow mapping (`{ token: abc, ... }`) also at `,` `}` `]`.
      const block = v.replace(/\s#.*$/, '').trim();
      found.push(block, block.replace(/[,}\]].*$/, '').trim());
    }
  }
  return [...new Set(found)].filter((v) => v.length >= MIN_MASKED);
}
