// The cluster side of a site for Flux (and Rancher Fleet): the objects a Harvester cluster applies
// (`CLUSTER_SIDE`: Harvester's Version and Upgrade of a planned upgrade), published beside the
// site's tree as an artifact of their own, in the layout Flux's OCIRepository consumes: an OCI
// image manifest with Flux's config media type and one tar+gzip layer of the manifests at their
// paths in the tree (`flux push artifact` writes the same; fluxcd/pkg/oci). Tagged
// `<site>-cluster` in the site's repository, and signed for cosign like the site's index. The boot
// tree itself stays with `harvgen pull`. Deterministic: the same files and commit give the same
// digest (tar entries sorted, mtime 0, uid and gid 0; gzip without a name or time).
import { gzipSync } from 'node:zlib';
import { LAYOUT } from '../derive/layout.ts';
import type { Artifact } from '../render/artifact.ts';
import { BLOCK, roundUp, tarHeader } from '../oci/tar.ts';
import { ANNOTATION, MEDIA } from './media.ts';
import { jsonBlob, sha256, type Blob, type ManifestBlob } from './artifact.ts';

/** The files of a tree a cluster applies (`tree`), in the order they are applied, and where the cluster artifact holds each (`at`). */
export const CLUSTER_SIDE: readonly { readonly tree: string; readonly at: string }[] = [
  { tree: LAYOUT.upgradeVersion, at: 'version/version.yaml' },
  { tree: LAYOUT.upgradeUpgrade, at: 'upgrade/upgrade.yaml' },
];

/** Flux's media types (fluxcd/pkg/oci globals.go). */
export const FLUX = {
  config: 'application/vnd.cncf.flux.config.v1+json',
  content: 'application/vnd.cncf.flux.content.v1.tar+gzip',
  created: 'org.opencontainers.image.created',
  source: 'org.opencontainers.image.source',
} as const;

/** The tag of a site's cluster artifact. */
export const clusterTag = (site: string) => `${site}-cluster`;

const blob = (bytes: Buffer): Blob => ({ digest: sha256(bytes), bytes });

/** A cluster artifact: its blobs (the config and the layer), its manifest, and the files it holds. */
export interface ClusterArtifact {
  readonly blobs: readonly Blob[];
  readonly manifest: ManifestBlob;
  readonly files: readonly string[];
}

/** A deterministic tar of `files` (their directories first), as Flux's untar reads it. */
export function clusterTar(files: readonly { readonly path: string; readonly bytes: Buffer }[]): Buffer {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const dirs = [
    ...new Set(
      sorted.flatMap((f) =>
        f.path
          .split('/')
          .slice(0, -1)
          .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
      ),
    ),
  ].sort();
  const out: Buffer[] = [];
  for (const d of dirs) out.push(tarHeader(`${d}/`, 0, 0o755, '5'));
  for (const f of sorted) {
    out.push(tarHeader(f.path, f.bytes.length, 0o644, '0'), f.bytes, Buffer.alloc(roundUp(f.bytes.length) - f.bytes.length));
  }
  out.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(out);
}

/** gzip with no name and no time, and the operating system byte fixed (zlib writes the build's own). */
function gzipFixed(bytes: Buffer): Buffer {
  const z = gzipSync(bytes, { level: 9 });
  z[9] = 3;
  return z;
}

/**
 * The cluster artifact of a deploy tree, or undefined when the tree holds no cluster-side object.
 * `created` is the commit's time (RFC 3339), `revision` the commit: the same inputs, the same digest.
 */
export function clusterArtifact(
  site: string,
  deploy: readonly Artifact[],
  meta: { readonly created: string; readonly revision?: string; readonly source: string },
): ClusterArtifact | undefined {
  const files = CLUSTER_SIDE.flatMap(({ tree, at }) => {
    const a = deploy.find((x) => x.path === tree);
    return a ? [{ path: at, bytes: Buffer.from(a.contents) }] : [];
  });
  if (files.length === 0) return undefined;
  const layer = blob(gzipFixed(clusterTar(files)));
  // Flux never reads the config; an empty JSON object, as for OCI artifacts.
  const config = blob(jsonBlob({}));
  const manifest = blob(
    jsonBlob({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: FLUX.config, digest: config.digest, size: config.bytes.length },
      layers: [{ mediaType: FLUX.content, digest: layer.digest, size: layer.bytes.length }],
      annotations: {
        [FLUX.created]: meta.created,
        ...(meta.revision !== undefined ? { [ANNOTATION.revision]: meta.revision } : {}),
        [FLUX.source]: meta.source,
        [ANNOTATION.site]: site,
      },
    }),
  );
  return { blobs: [config, layer], manifest: { ...manifest, mediaType: MEDIA.manifest }, files: files.map((f) => f.path) };
}
