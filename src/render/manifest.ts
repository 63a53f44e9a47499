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
  const manifest: Manifest = {
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
    nodes: model.nodes.map((n) => (opts.memo ?? computeAlways)('manifest', n, () => manifestNode(model, n))),
    files: [...artifacts]
      .sort((a, b) => (a.path < b.path ? -1 : 1))
      .map((a) => ({
        path: a.path,
        sha256: sha256(a),
        size: artifactSize(a),
        ...(a.url !== undefined ? { url: a.url } : {}),
        ...(allow.has(a.path) ? { allow: [...allow.get(a.path)!] } : {}),
      })),
  };
  return JSON.stringify(manifest, null, 2) + '\n';
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
