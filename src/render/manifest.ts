// manifest.json: what was generated, for humans, tests and deploy tooling. Lists every node
// with its URLs and every file with its SHA-256. It holds no secrets and is not served.
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { computeAlways, type NodeMemo } from './fragments.ts';
import { artifactSha, artifactSize, isOnDisk, knownSha, type Artifact } from './artifact.ts';
import { uefiBootFile } from '../model/boot-files.ts';
import { releaseShim, releases } from '../model/served-releases.ts';
import { kindOf } from './kinds/index.ts';
import { configUrl } from '../derive/harvester/cmdline.ts';
import { LAYOUT } from '../derive/layout.ts';
import type { Manifest } from './manifest-types.ts';
import type { ProtectedFile } from './access.ts';
import { namesKeyed, nodeScriptPath, nodeScriptUrl } from '../derive/file-names.ts';
import type { SecretMode } from '../types/secret-mode.ts';

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

/** Render manifest.json for the given (non-manifest) artifacts. */
export function renderManifest(model: SiteModel, artifacts: readonly Artifact[], opts: ManifestOptions): string {
  const { secrets, shas } = opts;
  const allow = new Map((opts.guarded ?? []).map((g) => [g.path, g.allow]));
  const sha256 = (a: Artifact) => {
    if (isOnDisk(a)) return a.sha256;
    const known = shas?.get(a.path);
    if (known && known.contents === a.contents) {
      knownSha(a, known.sha);
      return known.sha;
    }
    const sha = artifactSha(a);
    shas?.set(a.path, { contents: a.contents, sha });
    return sha;
  };
  const head: Omit<Manifest, 'nodes' | 'files'> = {
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
  };
  // JSON.stringify(manifest, null, 2) byte for byte, from the text of each entry: a node's is
  // kept with the node (watch's memo), a file's with the file's object while its URL, SHA-256,
  // size and allow list are the same, so that a rebuild of one node serializes only what changed.
  const memo = opts.memo ?? computeAlways;
  const nodes = model.nodes.map((n) => memo('manifest-text', n, () => indented(JSON.stringify(manifestNode(model, n), null, 2))));
  const files = [...artifacts]
    .sort((a, b) => (a.path < b.path ? -1 : 1))
    .map((a) => fileEntry(a, sha256(a), artifactSize(a), allow.get(a.path), memo !== computeAlways));
  // One join into one new string: concatenating its large parts would make a string of parts,
  // which hashing and writing then copy into a flat one again (a second fresh 16 MB for a
  // 10,000-node site, whose page faults alone cost about 80 ms on these machines).
  const top = JSON.stringify(head, null, 2);
  return [top.slice(0, -2), ',\n  "nodes": ', ...list(nodes), ',\n  "files": ', ...list(files), '\n}\n'].join('');
}

/** The text of each file's entry, by the file's object (watch: the same object is the same file next time). */
const entries = new WeakMap<
  Artifact,
  { readonly sha: string; readonly size: number; readonly allow?: readonly string[]; readonly text: string }
>();

/** A file's entry as JSON.stringify writes it two levels deep (`    {` ... `    }`). */
function fileEntry(a: Artifact, sha: string, size: number, allow: readonly string[] | undefined, keep: boolean): string {
  const kept = keep ? entries.get(a) : undefined;
  if (kept && kept.sha === sha && kept.size === size && sameList(kept.allow, allow)) return kept.text;
  const text =
    `    {\n      "path": ${JSON.stringify(a.path)},\n      "sha256": ${JSON.stringify(sha)},\n      "size": ${JSON.stringify(size)}` +
    (a.url !== undefined ? `,\n      "url": ${JSON.stringify(a.url)}` : '') +
    (allow !== undefined
      ? `,\n      "allow": ${allow.length === 0 ? '[]' : `[\n${allow.map((x) => `        ${JSON.stringify(x)}`).join(',\n')}\n      ]`}`
      : '') +
    '\n    }';
  if (keep) entries.set(a, { sha, size, ...(allow !== undefined ? { allow: [...allow] } : {}), text });
  return text;
}

function sameList(x: readonly string[] | undefined, y: readonly string[] | undefined): boolean {
  if (x === undefined || y === undefined) return x === y;
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** An entry of a top-level array, two levels deep: JSON.stringify's text of it, every line indented by four. */
function indented(json: string): string {
  return `    ${json.replaceAll('\n', '\n    ')}`;
}

/** The pieces of a top-level array of entries as JSON.stringify writes it. */
function list(entries: readonly string[]): string[] {
  if (entries.length === 0) return ['[]'];
  const pieces = ['[\n'];
  for (const [i, e] of entries.entries()) {
    if (i > 0) pieces.push(',\n');
    pieces.push(e);
  }
  pieces.push('\n  ]');
  return pieces;
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
  };
}
