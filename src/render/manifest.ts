// manifest.json: what was generated, for humans, tests and deploy tooling. Lists every node
// with its URLs and every file with its SHA-256. It holds no secrets and is not served.
import type { SiteModel } from '../model/index.ts';
import { macToHyphen } from '../util/mac.ts';
import { sha256Hex, type Artifact } from './artifact.ts';
import { configUrl } from './kernel-args.ts';
import { uefiBootFile } from './host-configs.ts';

/** One node in manifest.json. */
export interface ManifestNode {
  readonly hostname: string;
  readonly role: 'create' | 'join';
  readonly harvester_role: string;
  readonly state: 'install' | 'local' | 'install-once';
  /** The release the node installs (the site's, or its own `harvester_version`). */
  readonly harvester_version: string;
  readonly ip?: string;
  readonly method: 'dhcp' | 'static';
  /** Lowercase colon form. */
  readonly macs: string[];
  readonly ipxe: { mac: string; path: string; url: string }[];
  readonly config: { path: string; url: string };
}

/** manifest.json: what a build produced. `url` is set only for files nginx serves. */
export interface Manifest {
  readonly generator: 'harvgen';
  readonly manifest_version: number;
  readonly site: string;
  readonly harvester_version: string;
  readonly boot: {
    server: string;
    firmware: 'uefi' | 'bios';
    entry_url: string;
    unknown_url: string;
    /** What unknown.ipxe does: `wait`, boot the `local` disk, or `join` the cluster. */
    unknown: 'wait' | 'local' | 'join';
    /** The config unknown machines install with (`unknown: join`). */
    unknown_config_url?: string;
    /** The boot file URL UEFI HTTP boot clients get (`http_boot: true`). */
    http_boot_url?: string;
  };
  /** URLs of the release files (served by the artifacts server, not by this tree). */
  readonly artifacts: { kernel: string; initrd: string; rootfs: string; iso: string };
  readonly nodes: ManifestNode[];
  readonly files: { path: string; sha256: string; size: number; url?: string }[];
}

/** Version of the manifest format; bump on incompatible changes. */
export const MANIFEST_VERSION = 1;

/** Render manifest.json for the given (non-manifest) artifacts. */
export function renderManifest(
  model: SiteModel,
  artifacts: readonly Artifact[],
  shas?: Map<string, { readonly contents: string | Uint8Array; readonly sha: string }>,
): string {
  const sha256 = (a: Artifact) => {
    const known = shas?.get(a.path);
    if (known && known.contents === a.contents) return known.sha;
    const sha = sha256Hex(a.contents);
    shas?.set(a.path, { contents: a.contents, sha });
    return sha;
  };
  const manifest: Manifest = {
    generator: 'harvgen',
    manifest_version: MANIFEST_VERSION,
    site: model.site,
    harvester_version: model.version.raw,
    boot: {
      server: model.boot.server,
      firmware: model.boot.firmware,
      entry_url: `${model.boot.server}/boot.ipxe`,
      unknown_url: `${model.boot.server}/unknown.ipxe`,
      unknown: model.boot.unknown,
      ...(model.unknownJoin ? { unknown_config_url: configUrl(model, model.unknownJoin) } : {}),
      ...(model.boot.httpBoot ? { http_boot_url: `${model.boot.server}/${uefiBootFile(model)}` } : {}),
    },
    artifacts: { kernel: model.artifacts.kernel, initrd: model.artifacts.initrd, rootfs: model.artifacts.rootfs, iso: model.artifacts.iso },
    nodes: model.nodes.map((n) => ({
      hostname: n.hostname,
      role: n.role,
      harvester_role: n.harvesterRole,
      state: n.state,
      harvester_version: n.release.version.raw,
      ...(n.ip !== undefined ? { ip: n.ip } : {}),
      method: n.method,
      macs: [...n.macs],
      ipxe: n.macs.map((mac) => ({
        mac,
        path: `ipxe/${macToHyphen(mac)}.ipxe`,
        url: `${model.boot.server}/ipxe/${macToHyphen(mac)}.ipxe`,
      })),
      config: { path: `harvester/${n.hostname}.yaml`, url: configUrl(model, n) },
    })),
    files: [...artifacts]
      .sort((a, b) => (a.path < b.path ? -1 : 1))
      .map((a) => ({
        path: a.path,
        sha256: sha256(a),
        size: Buffer.byteLength(a.contents, 'utf8'),
        ...(a.url !== undefined ? { url: a.url } : {}),
      })),
  };
  return JSON.stringify(manifest, null, 2) + '\n';
}
