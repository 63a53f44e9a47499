// The media types and annotations of a published site (docs/dev/fleet-format.md), in one place
// for publish, pull, export and import.
export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  /** The artifact type of a site's index. */
  site: 'application/vnd.harvgen.site.v1',
  /** The artifact type of each part. */
  part: 'application/vnd.harvgen.part.v1',
  /** The config of a node or release part. */
  partConfig: 'application/vnd.harvgen.part.v1+json',
  /** The config of the site part: the provenance. */
  provenance: 'application/vnd.harvgen.provenance.v1+json',
  file: 'application/vnd.harvgen.file.v1',
  fileGzip: 'application/vnd.harvgen.file.v1+gzip',
  sealed: 'application/vnd.harvgen.sealed.v1',
  /** A part's small files, public or not, sealed together (src/publish/seal.ts sealPack). */
  pack: 'application/vnd.harvgen.pack.v1',
  signature: 'application/vnd.harvgen.signature.v1',
  releaseFile: 'application/vnd.harvgen.release.file.v1',
} as const;

export const ANNOTATION = {
  title: 'org.opencontainers.image.title',
  revision: 'org.opencontainers.image.revision',
  refName: 'org.opencontainers.image.ref.name',
  part: 'io.harvgen.part',
  /** A node part of an earlier format: the one node it held. */
  node: 'io.harvgen.node',
  /** A node part: the hostnames of its nodes, sorted, separated by spaces. */
  nodes: 'io.harvgen.nodes',
  release: 'io.harvgen.release',
  site: 'io.harvgen.site',
  mode: 'io.harvgen.mode',
  sha256: 'io.harvgen.sha256',
} as const;

/** The signature namespace of a provenance (`ssh-keygen -Y sign -n`): never valid for a manifest.json. */
export const PUBLISH_SIGNATURE_NAMESPACE = 'harvgen-publish';

/** The title of the signature layer. */
export const PROVENANCE_SIGNATURE = 'provenance.sig';

/** A sealed file or a pack: its paths travel inside, the layer has no title. */
export const untitledLayer = (l: Pick<Descriptor, 'mediaType'>): boolean => l.mediaType === MEDIA.sealed || l.mediaType === MEDIA.pack;

/** A part's files up to this size travel in its one sealed pack; larger ones as layers of their own. */
export const PACK_UP_TO = 16 * 1024;

/** The site part's pack holds at most this many bytes of files (taken by path), the rest are layers of their own. */
export const SITE_PACK_UP_TO = 24 * 1024;

/** Public files above this size travel gzip-compressed. */
export const GZIP_ABOVE = 16 * 1024;

/** One OCI descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An OCI image manifest as harvgen writes and reads it. */
export interface PartManifest {
  readonly schemaVersion: 2;
  readonly mediaType: typeof MEDIA.manifest;
  readonly artifactType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An OCI image index as harvgen writes and reads it. */
export interface SiteIndex {
  readonly schemaVersion: 2;
  readonly mediaType: typeof MEDIA.index;
  readonly artifactType: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}
