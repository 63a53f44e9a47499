/**
 * The content descriptor of the OCI image spec (`mediaType`, `digest`, `size`, ...), checked when
 * read from untrusted JSON, the media types and annotation of an image layout, and the layout's
 * error. Shared by the layout directory, its archive and the artifact graph.
 */
import { digestProblem } from './ref.ts';

/** A content descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly artifactType?: string;
  readonly platform?: unknown;
}

/** The annotation that names a reference in a layout's index.json. */
export const REF_NAME = 'org.opencontainers.image.ref.name';
export const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** A layout that is malformed or misses something. */
export class LayoutError extends Error {
  override name = 'LayoutError';
}

/** Validate a descriptor read from untrusted JSON. */
export function checkDescriptor(value: unknown, where: string): Descriptor {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new LayoutError(`${where} is not a descriptor object`);
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw new LayoutError(`${where} has no mediaType`);
  if (typeof d.digest !== 'string') throw new LayoutError(`${where} has no digest`);
  const p = digestProblem(d.digest);
  if (p) throw new LayoutError(`${where}: ${p}`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw new LayoutError(`${where} has no valid size`);
  if (d.annotations !== undefined) {
    if (d.annotations === null || typeof d.annotations !== 'object' || Array.isArray(d.annotations))
      throw new LayoutError(`${where}: annotations is not an object`);
    for (const [k, v] of Object.entries(d.annotations))
      if (typeof v !== 'string') throw new LayoutError(`${where}: annotation ${k} is not a string`);
  }
  return d as unknown as Descriptor;
}
