// A plain build's reuse of the nodes its last build rendered: the up-to-date record of a site
// (src/cache/record.ts) lists which files each node's render gave, under a keyed digest of what that
// render read (the resolved node and its user-data text; the rest of the site's model, under its
// own digest). A site that is not up to date is compiled, but each node whose digest and site
// digest are as recorded is not rendered again: its files are the ones on disk, each checked
// against the record (a regular file of its size and mode, whose status and directories have not
// changed since the record was settled), known by the SHA-256 recorded, and read back only if
// something asks for its contents (src/render/artifact.ts, OnDiskArtifact). The digests are keyed
// with the state key: the record names no secret, and no one without the key can forge a match.
// ARCHITECTURE.md, "Up-to-date check".
import { lstatSync } from 'node:fs';
import { join, sep } from 'node:path';
import { isOnDisk, isSafeRelativePath, isSpilled, OnDiskArtifact, regularFileSha, sha256Hex, type Artifact } from '../render/artifact.ts';
import { renderCache, type RenderCache } from '../render/index.ts';
import { settledDirectories } from '../emit/tree.ts';
import { lstatOrUndefined } from '../util/lstat.ts';
import { JOURNAL_FILE } from '../emit/journal.ts';
import { LOCK_FILE } from '../durable/index.ts';
import type { SecretMode } from '../types/secret-mode.ts';
import { codeStamp } from './code.ts';
import { loadRecord, recordNodes, sameSiteDir, type RenderedNode, type RenderedNodes } from './record.ts';

export type { RenderedNode, RenderedNodes } from './record.ts';
import { stateKey, stateMac } from './key.ts';

/**
 * The keyed digest a render cache read back from a record keeps its keys as: SHA-256 of a secret
 * salt (the state key's MAC of a fixed text) and the key, one hash per node. The salt keeps a
 * guess at a secret in the key from being checked against the record without the state key; the
 * digest needs no MAC of its own, as the record that holds it is one.
 */
let salt: string | undefined;
const digest = (key: string): string => sha256Hex((salt ??= stateMac('render', 'node keys')!) + key);

/**
 * The render cache of a plain build of `siteDir` into `outRoot` (a real path): the nodes its last
 * build recorded, when that record verifies and is about this harvgen, this tree kind and this
 * site, and the site's output is not mid-build; else an empty one, which records what this render
 * gives. Undefined without a state key (nothing is recorded then).
 */
export function reusableRender(
  outRoot: string,
  siteDir: string,
  site: string,
  server: string,
  secrets: SecretMode,
): RenderCache | undefined {
  if (!stateKey()) return undefined;
  const cache: RenderCache = { ...renderCache(), digest, touched: new Set() };
  const record = loadRecord(outRoot, siteDir, false);
  if (!record || record.code !== codeStamp() || record.secrets !== secrets || record.site !== site) return cache;
  const dir = join(outRoot, site);
  if (!sameSiteDir(dir, record) || present(join(dir, JOURNAL_FILE)) || present(join(dir, LOCK_FILE))) return cache;
  const companion = recordNodes(outRoot, siteDir, record);
  const render = companion?.render;
  if (!companion || !render) return cache;
  const { paths: recordedPaths, sizes, modes } = record.files;
  const recorded = new Map(recordedPaths.map((path, i) => [path, [path, sizes[i]!, modes[i]!, companion.shas[i]!] as const]));
  const settled = record.settled;
  const dirsSettled = settledDirectories(dir, settled);
  const asWritten = (f: OnDiskArtifact): boolean => {
    const st = lstatOrUndefined(f.file);
    if (!st?.isFile() || st.size !== f.size || (st.mode & 0o777) !== f.mode || st.ctimeMs > settled) return false;
    if (!dirsSettled(f.path)) return false;
    // Changed in the clock tick the record was settled: as likely an edit right after the build, so read and hashed.
    if (st.ctimeMs === settled && regularFileSha(f.file, f.size) !== f.sha256) return false;
    f.checked = true;
    return true;
  };
  cache.site = render.site;
  const under = dir + sep; // each path below is checked to be a safe relative one
  for (const [hostname, key, configBytes, paths, served] of render.nodes) {
    const files: OnDiskArtifact[] = [];
    for (const [i, path] of paths.entries()) {
      const f = recorded.get(path);
      if (!f || !isSafeRelativePath(path)) break;
      files.push(new OnDiskArtifact(path, f[2], served[i] === '1' ? `${server}/${path}` : undefined, under + path, f[3], f[1]));
    }
    if (files.length !== paths.length) continue;
    const usable = () => files.every(asWritten);
    cache.nodes.set(hostname, { key, userData: undefined, files, configBytes, usable });
  }
  return cache;
}

/**
 * What a render with `cache` (from reusableRender) gave per node, in the order of `hostnames`:
 * for the record. A node whose files are not all text (never so today) is left out: it is rendered.
 */
export function renderedNodes(cache: RenderCache, hostnames: readonly string[]): RenderedNodes | undefined {
  if (cache.site === undefined || !cache.touched) return undefined;
  const nodes: RenderedNode[] = [];
  for (const hostname of hostnames) {
    const e = cache.nodes.get(hostname);
    if (!e || !cache.touched.has(hostname) || !e.files.every(isText)) continue;
    nodes.push([
      hostname,
      e.key,
      e.configBytes,
      e.files.map((f) => f.path),
      e.files.map((f) => (f.url !== undefined ? '1' : '0')).join(''),
    ]);
  }
  return { site: cache.site, nodes };
}

const isText = (a: Artifact): boolean => isOnDisk(a) || isSpilled(a) || typeof a.contents === 'string';

function present(p: string): boolean {
  return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}
