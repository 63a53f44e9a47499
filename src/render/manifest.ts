// manifest.json: what was generated, for humans, tests and deploy tooling. Lists every node
// with its URLs and every file with its SHA-256. It holds no secrets and is not served.
import { imageOf } from '../derive/media/index.ts';
import { onVlan, type ResolvedNode, type SiteModel } from '../model/index.ts';
import { computeAlways, memoEach, type NodeMemo } from './fragments.ts';
import { artifactSha, artifactSize, isOnDisk, isSpilled, knownSha, type Artifact } from './artifact.ts';
import { uefiBootFile } from '../model/boot-files.ts';
import { releaseShim, releases } from '../model/served-releases.ts';
import { kindOf } from './kinds/index.ts';
import { configUrl } from '../derive/harvester/cmdline.ts';
import { failoverUrls } from '../derive/failover.ts';
import { LAYOUT } from '../derive/layout.ts';
import type { Manifest } from './manifest-types.ts';
import type { ProtectedFile } from './access.ts';
import { mediumPath, mediumUrl, namesKeyed, nodeScriptPath, nodeScriptUrl } from '../derive/file-names.ts';
import type { SecretMode } from '../types/secret-mode.ts';
import { sameItems } from '../util/same-items.ts';

export type { Manifest, ManifestNode } from './manifest-types.ts';

/** Version of the manifest format; bump on incompatible changes. */
export const MANIFEST_VERSION = 1;

/** What manifest.json records besides the model and the files. */
export interface ManifestOptions {
  /** Which tree: secrets as markers or filled in. */
  readonly secrets: SecretMode;
  /** SHA-256 of unchanged contents from the previous render (watch's RenderCache). */
  readonly shas?: Map<string, { readonly contents: string | Uint8Array; readonly sha: string }> | undefined;
  /** Files served to some addresses only (`files[].allow`). */
  readonly guarded?: readonly ProtectedFile[];
  /** Node entries kept across renders (watch's RenderCache, src/render/fragments.ts). */
  readonly memo?: NodeMemo;
}

/**
 * Render manifest.json for the given (non-manifest) artifacts, sorted by path (renderSite sorts a
 * site's files once, for the tree and this list): the text of
 * `JSON.stringify(manifest, null, 2)` and a newline, as its parts in order (TextParts,
 * src/render/artifact.ts). Under watch (`memo`) the parts are the head, then each node's and each
 * file's entry, each serialized alone and indented as it sits in the whole, a node's entry text
 * kept with its node and a file's with its artifact; otherwise one part.
 * `test/manifest-parts.test.ts` compares both ways.
 */
export function renderManifest(model: SiteModel, artifacts: readonly Artifact[], opts: ManifestOptions): string[] {
  const allow = allowOf(opts.guarded ?? []);
  const head = manifestHead(model, opts.secrets, allow);
  const entry = (a: Artifact) => fileEntry(a, allow, opts.shas);
  // A build without watch's memo: one JSON.stringify of the whole, one part (measured: entries
  // serialized one by one cost a cold build of 10,000 nodes about 0.3 s and 12 MB more peak RSS,
  // which only the entries kept across watch's rebuilds pay back).
  if (opts.memo === undefined || opts.memo === computeAlways) {
    const nodes = model.nodes.map((n) => manifestNode(model, n));
    return [`${JSON.stringify({ ...head, nodes, files: artifacts.map(entry) }, null, 2)}\n`];
  }
  const memo = opts.memo;
  // The head as JSON.stringify writes it with both lists last, cut where each list goes.
  const whole = JSON.stringify({ ...head, nodes: 0, files: 0 }, null, 2);
  const tail = '\n  "nodes": 0,\n  "files": 0\n}';
  if (!whole.endsWith(tail)) throw new Error('manifest.json: the head does not end with its two lists');
  const parts: string[] = [`${whole.slice(0, whole.length - tail.length)}\n  "nodes": `];
  const state = memo.parts?.state;
  const nodeText = (n: ResolvedNode) => entryText(manifestNode(model, n));
  pushList(parts, state, 'manifest:node-chunks', memoEach(memo, 'manifest-text', model.nodes, nodeText));
  parts.push(',\n  "files": ');
  pushList(parts, state, 'manifest:file-chunks', fileEntryTexts(artifacts, allow, state, entry));
  parts.push('\n}\n');
  return parts;
}

/** Everything in manifest.json but its two lists: the site, its boot server's URLs, its release. */
function manifestHead(
  model: SiteModel,
  secrets: SecretMode,
  allow: ReadonlyMap<string, readonly string[]>,
): Omit<Manifest, 'nodes' | 'files'> {
  return {
    generator: 'harvgen',
    manifest_version: MANIFEST_VERSION,
    site: model.site,
    secrets,
    ...(model.release ? { harvester_version: model.release.version.raw } : {}),
    boot: {
      server: model.boot.server,
      firmware: model.boot.firmware,
      entry_url: `${model.boot.server}/${LAYOUT.entryScript}`,
      unknown_url: `${model.boot.server}/${LAYOUT.unknownScript}`,
      unknown: model.boot.unknown,
      ...(model.unknownJoin ? { unknown_config_url: configUrl(model, model.unknownJoin) } : {}),
      ...(model.boot.httpBoot ? { http_boot_url: `${model.boot.server}/${uefiBootFile(model)}` } : {}),
      ...(namesKeyed(model) ? { file_names: 'keyed' as const } : {}),
      // The boot server as each VLAN's installers reach it (`network.vlans`): verify checks these too.
      ...(model.network.vlans.length > 0 ? { vlan_servers: vlanServers(model) } : {}),
      ...(model.failover ? { failover_servers: failoverUrls(model) } : {}),
      // Whoever else reads the protected files (under `nginx.access: open`, those of the nodes that boot from an image).
      ...(model.nginx.access === 'nodes' || allow.size > 0 ? { verifiers: [...model.nginx.verifiers] } : {}),
    },
    // The site's release files, when a node installs them (nginx serves and fetch.sh downloads only those).
    ...(model.release && releases(model).includes(model.release)
      ? {
          artifacts: {
            kernel: model.release.artifacts.kernel,
            initrd: model.release.artifacts.initrd,
            rootfs: model.release.artifacts.rootfs,
            iso: model.release.artifacts.iso,
            ...(releaseShim(model, model.release) ? { shim: model.release.artifacts.shim } : {}),
          },
        }
      : {}),
    ...(model.upgrade
      ? { upgrade: { version: model.upgrade.to.version.raw, iso: model.upgrade.to.artifacts.iso, iso_sha512: model.upgrade.isoChecksum } }
      : {}),
  };
}

/** A file's SHA-256: its own when on disk, last render's for the same contents (`shas`), else computed and kept there. */
function fileSha(a: Artifact, shas: ManifestOptions['shas']): string {
  if (isOnDisk(a) || isSpilled(a)) return a.sha256;
  const known = shas?.get(a.path);
  if (known && known.contents === a.contents) {
    knownSha(a, known.sha);
    return known.sha;
  }
  const sha = artifactSha(a);
  shas?.set(a.path, { contents: a.contents, sha });
  return sha;
}

/** The manifest entry of one file. */
function fileEntry(a: Artifact, allow: ReadonlyMap<string, readonly string[]>, shas: ManifestOptions['shas']) {
  const allowed = allow.get(a.path);
  return {
    path: a.path,
    sha256: fileSha(a, shas),
    size: artifactSize(a),
    ...(a.url !== undefined ? { url: a.url } : {}),
    ...(allowed ? { allow: [...allowed] } : {}),
  };
}

/**
 * The entries joined by runs of CHUNK, each run's text kept while its entries are the same (a
 * part per entry was some 100,000 parts a render to list, compare and write).
 */
function pushList(parts: string[], state: Map<string, unknown> | undefined, name: string, texts: readonly string[]): void {
  if (texts.length === 0) {
    parts.push('[]');
    return;
  }
  const last = state?.get(name) as KeptChunks | undefined;
  const chunks: string[] = [];
  for (let from = 0, c = 0; from < texts.length; from += CHUNK, c++) {
    const to = Math.min(from + CHUNK, texts.length);
    chunks.push(last !== undefined && sameRun(last.texts, texts, from, to) ? last.chunks[c]! : texts.slice(from, to).join(',\n    '));
  }
  state?.set(name, { texts, chunks });
  parts.push('[\n    ');
  chunks.forEach((t, i) => (i === 0 ? parts.push(t) : parts.push(',\n    ', t)));
  parts.push('\n  ]');
}

/** Each file's entry text under watch, last render's where the file and who may fetch it are the same. */
function fileEntryTexts(
  artifacts: readonly Artifact[],
  allow: ReadonlyMap<string, readonly string[]>,
  state: Map<string, unknown> | undefined,
  entry: (a: Artifact) => object,
): string[] {
  // The entries of last time by place, while the files there and who may fetch them are the same
  // objects (most of a rebuild's 40,000 files): no lookup for each.
  const lastFiles = state?.get(KEPT_FILES) as KeptFiles | undefined;
  const same = lastFiles !== undefined && lastFiles.allow === allow ? lastFiles : undefined;
  const texts = artifacts.map((a, i) => {
    if (same !== undefined && same.artifacts[i] === a) return same.texts[i]!;
    const allowed = allow.get(a.path);
    const last = fileTexts.get(a);
    if (last && sameList(last.allow, allowed)) return last.text;
    const text = entryText(entry(a));
    fileTexts.set(a, { allow: allowed, text });
    return text;
  });
  // A copy: renderSite puts manifest.json itself into `artifacts` afterwards.
  state?.set(KEPT_FILES, { artifacts: artifacts.slice(), allow, texts });
  return texts;
}

/** Who may fetch each protected file, by path (kept by the list, which watch's render keeps while no owner or served path changed). */
function allowOf(guarded: readonly ProtectedFile[]): ReadonlyMap<string, readonly string[]> {
  let map = allowKept.get(guarded);
  if (!map) allowKept.set(guarded, (map = new Map(guarded.map((g) => [g.path, g.allow]))));
  return map;
}

const allowKept = new WeakMap<readonly ProtectedFile[], ReadonlyMap<string, readonly string[]>>();

/** A list entry as JSON.stringify(whole, null, 2) writes it two levels down (a newline inside a JSON text is always its own indentation). */
function entryText(entry: object): string {
  return JSON.stringify(entry, null, 2).replaceAll('\n', '\n    ');
}

/** Entries joined into one part of manifest.json's list (measured on 49,000 entries: a part per entry cost 12 ms a render, 256 a part about 1). */
const CHUNK = 256;

/** A list's last entries and their runs of CHUNK as joined then. */
interface KeptChunks {
  readonly texts: readonly string[];
  readonly chunks: readonly string[];
}

/**
 * Whether the run `b[from..to)` is the run of `a` that starts at `from`, entry for entry (the same
 * list of last time: no entry compared). A run of `a` that ends elsewhere (a list that grew or
 * shrank in its last run) is another text.
 */
function sameRun(a: readonly string[], b: readonly string[], from: number, to: number): boolean {
  if (a === b) return true;
  if (Math.min(from + CHUNK, a.length) !== to) return false;
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Where renderManifest keeps the file entries of its last render (NodeParts.state). */
const KEPT_FILES = 'manifest:files';

/** The file entries of the last render: the files in order, who could fetch them, each entry's text. */
interface KeptFiles {
  readonly artifacts: readonly Artifact[];
  readonly allow: ReadonlyMap<string, readonly string[]>;
  readonly texts: readonly string[];
}

/** Each file's entry text under watch, with the addresses it was written for (an artifact never changes). */
const fileTexts = new WeakMap<Artifact, { readonly allow: readonly string[] | undefined; readonly text: string }>();

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && sameItems(a, b));
}

/** The manifest entry of one node. */
function manifestNode(model: SiteModel, n: ResolvedNode) {
  // The kind's fields, where they have always been in an entry.
  const kind = kindOf(n).manifest(model);
  return {
    hostname: n.hostname,
    ...kind.head,
    state: n.state,
    boot: n.boot,
    ...kind.body,
    ...(n.ip !== undefined ? { ip: n.ip } : {}),
    method: n.method,
    macs: [...n.macs],
    ipxe: n.macs.map((mac) => ({ mac, path: nodeScriptPath(model, mac), url: nodeScriptUrl(model, mac) })),
    ...kind.tail,
    ...(imageOf(n) ? { medium: { path: mediumPath(model, n)!, url: mediumUrl(model, n)! } } : {}),
  };
}

/** `boot.server` at the boot server's address on each VLAN of `network.vlans` (port and path kept), once each. */
function vlanServers(model: SiteModel): string[] {
  const trailing = model.boot.server.endsWith('/');
  const at = (scope: SiteModel['network']['vlans'][number]) => {
    const url = onVlan(model, scope, model.boot.server);
    return !trailing && url.endsWith('/') ? url.slice(0, -1) : url;
  };
  return [...new Set(model.network.vlans.map(at))];
}
