// Where an artifact is written: a registry repository (publish, import) or an OCI image layout
// (export, for an air gap). Both take blobs by digest and manifests by digest and tag, and say
// what they already hold, so nothing is written twice.
import type { Readable } from 'node:stream';
import type { SinkCounts } from './types.ts';

export type { SinkCounts } from './types.ts';

/** One repository of one store. */
export interface Sink {
  /** For messages: `registry.example.net/harvgen/location_x` or `oci:/path/to/layout`. */
  readonly name: string;
  hasBlob(digest: string): Promise<boolean>;
  /** Store a blob unless the sink has it already (it checks; `unchecked`: it need not, the repository is new). */
  putBlob(digest: string, bytes: Buffer, options?: { readonly unchecked?: boolean }): Promise<void>;
  /** A large blob from a file (release files), streamed; skipped when the sink has it. */
  putBlobFile(digest: string, path: string, size: number): Promise<void>;
  /** Make a blob of another repository of the same store available here without uploading it (false: upload it instead). */
  mountBlob(digest: string, from: string): Promise<boolean>;
  hasManifest(digest: string): Promise<boolean>;
  putManifest(reference: string, mediaType: string, bytes: Buffer): Promise<void>;
  /** What `tag` names now, or undefined. */
  resolveTag(tag: string): Promise<string | undefined>;
  /** The bytes of the manifest `tag` names (one request), or undefined when there is no such tag. */
  readTag(tag: string, maxBytes: number): Promise<Buffer | undefined>;
}

/** Read side, for pull and import. */
export interface Source {
  readonly name: string;
  resolveTag(tag: string): Promise<string | undefined>;
  /** A manifest by digest, checked against it. */
  getManifest(digest: string, maxBytes: number): Promise<Buffer>;
  /** A blob by digest, checked against it, whole (small blobs). */
  getBlob(digest: string, maxBytes: number): Promise<Buffer>;
  /** A blob by digest as a stream (large blobs); the caller checks the digest. */
  streamBlob(digest: string): Promise<Readable>;
}

export const zeroCounts = (): SinkCounts => ({
  blobsUploaded: 0,
  blobsSkipped: 0,
  blobsMounted: 0,
  bytesUploaded: 0,
  manifestsPut: 0,
  requests: 0,
});
