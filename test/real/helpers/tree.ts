/**
 * The trees under test: `build()` output for both example sites and the two boot-mode fixtures,
 * built once per process into a temp dir.
 */
import { existsSync } from 'node:fs';
import { cp, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from './initramfs.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { EXAMPLE_SECRETS, exampleWithSecrets } from '../../helpers/example.ts';
import { build, type Manifest } from '../../../src/index.ts';

export type { Manifest, ManifestNode } from '../../../src/index.ts';

/** One built site: where it is and what it says about itself. */
export interface SiteTree {
  /** Label used in test titles, e.g. `location_x` or `fixture real_bios`. */
  label: string;
  site: string;
  /** Absolute directory of the built site (`<out>/<site>`). */
  dir: string;
  manifest: Manifest;
  /** The inventory as written (site.yaml), for values the manifest does not carry (network). */
  input: Record<string, unknown> & { network: { cidr: string; gateway: string } };
  sourceDir: string;
}

/**
 * Site directories under test: the two examples (copies with their secret files written, as on
 * the machine that deploys) and the per-boot-mode fixtures. The trees are deploy trees (secrets
 * filled in): what a boot server serves.
 */
export const SITE_SOURCES = {
  location_x: exampleWithSecrets('location_x'),
  location_y: exampleWithSecrets('location_y'),
  bios: path.join(REPO_ROOT, 'test/fixtures/real/bios'),
  uefi: path.join(REPO_ROOT, 'test/fixtures/real/uefi'),
} as const;

/** Keys of SITE_SOURCES. */
export type SiteKey = keyof typeof SITE_SOURCES;

/** Every built site, keyed like SITE_SOURCES. */
export type Trees = Record<SiteKey, SiteTree>;

let cached: Promise<Trees> | undefined;

/** Build all sites once per process (uvu runs every test file in one process). */
export function getTrees(): Promise<Trees> {
  cached ??= buildTrees();
  return cached;
}

async function buildTrees(): Promise<Trees> {
  const outDir = path.join(tempDir('tree'), 'out');
  const keys = Object.keys(SITE_SOURCES) as SiteKey[];
  const prebuilt = process.env.HARVGEN_REAL_OUT;
  const dirs = new Map<SiteKey, string>();
  if (prebuilt) {
    // Debugging aid: test an already built tree (`harvgen build <the four site dirs> --out DIR`).
    for (const k of keys) dirs.set(k, path.join(path.resolve(prebuilt), await siteName(SITE_SOURCES[k])));
  } else {
    const result = await build({ sites: keys.map((k) => SITE_SOURCES[k]), outDir, secrets: 'filled' });
    if (!result.ok) {
      const diags = result.diagnostics.map((d) => JSON.stringify(d)).join('\n');
      throw new Error(`build() failed for the real-program test sites:\n${diags}`);
    }
    for (const k of keys) {
      const name = await siteName(SITE_SOURCES[k]);
      const s = result.sites.find((x) => x.site === name);
      if (!s) throw new Error(`build() returned no site "${name}" (from ${SITE_SOURCES[k]})`);
      dirs.set(k, s.dir);
    }
  }
  const entries = await Promise.all(keys.map(async (k) => [k, await loadTree(k, dirs.get(k)!)] as const));
  return Object.fromEntries(entries) as Trees;
}

/**
 * Build a set of fixture sites (label -> site directory) once into a temp dir, or take them from
 * HARVGEN_REAL_OUT when every one of them is there (a debugging aid, as for getTrees).
 */
export async function buildFixtureTrees<K extends string>(label: string, sources: Record<K, string>): Promise<Record<K, SiteTree>> {
  const keys = Object.keys(sources) as K[];
  const names = Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await siteName(sources[k])] as const))) as Record<K, string>;
  const prebuilt = process.env.HARVGEN_REAL_OUT;
  const dirs = {} as Record<K, string>;
  if (prebuilt && keys.every((k) => existsSync(path.join(prebuilt, names[k])))) {
    for (const k of keys) dirs[k] = path.resolve(prebuilt, names[k]);
  } else {
    const outDir = path.join(tempDir(`${label}-tree`), 'out');
    const result = await build({ sites: keys.map((k) => sources[k]), outDir, secrets: 'filled' });
    if (!result.ok) {
      const diags = result.diagnostics
        .filter((d) => d.severity === 'error')
        .map((d) => `${d.code} ${d.file ?? ''}:${d.line ?? ''}:${d.col ?? ''} ${d.message}`)
        .join('\n');
      throw new Error(`build() failed for the ${label} fixtures:\n${diags}`);
    }
    for (const k of keys) {
      const s = result.sites.find((x) => x.site === names[k]);
      if (!s) throw new Error(`build() returned no site "${names[k]}"`);
      dirs[k] = s.dir;
    }
  }
  const out = {} as Record<K, SiteTree>;
  for (const k of keys) {
    const manifest = JSON.parse(await readFile(path.join(dirs[k], 'manifest.json'), 'utf8')) as Manifest;
    const input = parseYaml(await readFile(path.join(sources[k], 'site.yaml'), 'utf8')) as SiteTree['input'];
    out[k] = { label: `fixture ${manifest.site}`, site: manifest.site, dir: dirs[k], manifest, input, sourceDir: sources[k] };
  }
  return out;
}

async function siteName(sourceDir: string): Promise<string> {
  const input = parseYaml(await readFile(path.join(sourceDir, 'site.yaml'), 'utf8')) as { site: string };
  return input.site;
}

async function loadTree(key: SiteKey, dir: string): Promise<SiteTree> {
  const sourceDir = SITE_SOURCES[key];
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const input = parseYaml(await readFile(path.join(sourceDir, 'site.yaml'), 'utf8')) as SiteTree['input'];
  const label = key.startsWith('location_') ? key : `fixture ${manifest.site}`;
  return { label, site: manifest.site, dir, manifest, input, sourceDir };
}

/**
 * Copy a built tree to a fresh temp dir so a test can break it (mutation tests) without
 * touching the shared build. The manifest is re-read from the copy.
 */
export async function copyTree(tree: SiteTree, label: string): Promise<SiteTree> {
  const dir = path.join(tempDir(`mut-${label}`), tree.site);
  await cp(tree.dir, dir, { recursive: true });
  return { ...tree, label: `${tree.label} (${label})`, dir };
}

/** All regular files under dir, as paths relative to it (posix separators). */
export async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** All directories under dir (relative, including '' for the root). */
export async function listDirs(dir: string, rel = ''): Promise<string[]> {
  const out = [rel];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await listDirs(dir, rel ? `${rel}/${e.name}` : e.name)));
  }
  return out;
}

/** True if the path exists. */
export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** The site's nginx snippet, dnsmasq config etc. by their fixed paths in the layout. */
export function treeFile(tree: SiteTree, rel: string): string {
  return path.join(tree.dir, rel);
}

/** Host and port of an http:// URL (port 80 by default). */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: u.port ? Number(u.port) : 80 };
}

/**
 * The secret values a tree's configs hold: the inline token and password of a fixture, or the
 * values the example sites get in tests (theirs are files, written by exampleWithSecrets).
 */
export function clusterSecrets(tree: SiteTree): string[] {
  const c = (tree.input.cluster ?? {}) as { token?: unknown; password?: unknown };
  const inline = [c.token, c.password].filter((v): v is string => typeof v === 'string' && v !== '');
  const example = EXAMPLE_SECRETS[tree.site];
  return [...inline, ...(example ? [example.token, example.password ?? ''].filter(Boolean) : [])];
}
