// manifest.json: what was generated, for humans, tests and deploy tooling. Lists every node
// with its URLs and every file with its SHA-256. It holds no secrets and is not served.
import type { SecretMode } from '../load/secrets.ts';
import type { SiteModel } from '../model/index.ts';
import { sha256Hex, type Artifact } from './artifact.ts';
import { releaseShim, releases, uefiBootFile } from './host-configs.ts';
import { kindOf } from './kinds/index.ts';
import { configUrl } from './kinds/harvester/cmdline.ts';
import { LAYOUT } from './layout.ts';

/** One node in manifest.json. */
export interface ManifestNode {
  readonly hostname: string;
  /** Harvester nodes only. */
  readonly role?: 'create' | 'join';
  readonly harvester_role?: string;
  readonly state: 'install' | 'local' | 'install-once';
  /** What the node boots: the Harvester installer, a generic OS profile, or an iSCSI target. */
  readonly boot: 'harvester' | 'os' | 'iscsi';
  /** The OS profile of a generic node. */
  readonly os?: string;
  /** The NoCloud seed URL per boot MAC (generic nodes with cloud-init). */
  readonly cloud_init?: { mac: string; url: string }[];
  /** The iPXE root path of an iSCSI node. */
  readonly iscsi?: string;
  /** The release the node installs (the site's, or its own `harvester_version`); Harvester nodes only. */
  readonly harvester_version?: string;
  readonly ip?: string;
  readonly method: 'dhcp' | 'static';
  /** Lowercase colon form. */
  readonly macs: string[];
  readonly ipxe: { mac: string; path: string; url: string }[];
  /** The Harvester config of a Harvester node. */
  readonly config?: { path: string; url: string };
}

/** manifest.json: what a build produced. `url` is set only for files nginx serves. */
export interface Manifest {
  readonly generator: 'harvgen';
  readonly manifest_version: number;
  readonly site: string;
  /**
   * `markers`: the committed tree, every secret written as its marker (`harvgen build`);
   * `filled`: the deploy tree, secrets written (`harvgen build --deploy`).
   */
  readonly secrets: SecretMode;
  /** The site's Harvester release (absent in a site of only generic OS and iSCSI nodes). */
  readonly harvester_version?: string;
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
  readonly artifacts?: { kernel: string; initrd: string; rootfs: string; iso: string; shim?: string };
  readonly nodes: ManifestNode[];
  readonly files: { path: string; sha256: string; size: number; url?: string }[];
}

/** Version of the manifest format; bump on incompatible changes. */
export const MANIFEST_VERSION = 1;

/** Render manifest.json for the given (non-manifest) artifacts. */
export function renderManifest(
  model: SiteModel,
  artifacts: readonly Artifact[],
  secrets: SecretMode,
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
    nodes: model.nodes.map((n) => {
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
        ipxe: n.macs.map((mac) => ({ mac, path: LAYOUT.nodeScript(mac), url: `${model.boot.server}/${LAYOUT.nodeScript(mac)}` })),
        ...kind.tail,
      };
    }),
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
