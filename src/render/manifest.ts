// manifest.json: what was generated, for humans, tests and deploy tooling. Lists every node
// with its URLs and every file with its SHA-256. It holds no secrets and is not served.
import { createHash } from 'node:crypto';
import type { SiteModel } from '../model/index.ts';
import { macToHyphen } from '../util/mac.ts';
import type { Artifact } from './artifact.ts';
import { configUrl } from './kernel-args.ts';

/** Version of the manifest format; bump on incompatible changes. */
export const MANIFEST_VERSION = 1;

/** Render manifest.json for the given (non-manifest) artifacts. */
export function renderManifest(model: SiteModel, artifacts: readonly Artifact[]): string {
  const manifest = {
    generator: 'harvgen',
    manifest_version: MANIFEST_VERSION,
    site: model.site,
    harvester_version: model.version.raw,
    boot: {
      server: model.boot.server,
      firmware: model.boot.firmware,
      entry_url: `${model.boot.server}/boot.ipxe`,
      unknown_url: `${model.boot.server}/unknown.ipxe`,
    },
    artifacts: { kernel: model.artifacts.kernel, initrd: model.artifacts.initrd, rootfs: model.artifacts.rootfs, iso: model.artifacts.iso },
    nodes: model.nodes.map((n) => ({
      hostname: n.hostname,
      role: n.role,
      harvester_role: n.harvesterRole,
      state: n.state,
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
        sha256: createHash('sha256').update(a.contents, 'utf8').digest('hex'),
        size: Buffer.byteLength(a.contents, 'utf8'),
        ...(a.url !== undefined ? { url: a.url } : {}),
      })),
  };
  return JSON.stringify(manifest, null, 2) + '\n';
}
