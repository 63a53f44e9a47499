// cosign signatures beside harvgen's own (`publish.cosign_key`): for each site artifact, a
// signature in sigstore's tag scheme, which `cosign verify --key`, Flux's OCIRepository
// (`verify.provider: cosign`), Kyverno and Harbor read. The signed payload is cosign's "simple
// signing" JSON naming the repository and the index digest; the signature manifest is an OCI image
// manifest of one layer (the payload) whose annotation carries the signature, tagged
// `sha256-<hex>.sig` in the site's repository. harvgen's own signature (the signed provenance
// inside the index, checked by `harvgen pull`) is unchanged: this one is for other tools. The
// keys themselves are src/sign/cosign-key.ts.
import { jsonBlob, sha256, type Blob, type ManifestBlob } from './artifact.ts';
import { MEDIA } from './media.ts';
import type { CosignKey } from '../sign/cosign-key.ts';

/** What cosign reads (sigstore/cosign: pkg/types, pkg/oci/static). */
export const COSIGN = {
  payload: 'application/vnd.dev.cosign.simplesigning.v1+json',
  signatureAnnotation: 'dev.cosignproject.cosign/signature',
  config: 'application/vnd.oci.image.config.v1+json',
  type: 'cosign container image signature',
} as const;

/** The tag of the signature of `digest` (`sha256:<hex>` -> `sha256-<hex>.sig`). */
export function signatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

/**
 * The simple signing payload of `digest` in `repository` (`host[:port]/path`, no tag). cosign
 * checks that its digest is the one verified; its docker-reference names the repository.
 */
export function simpleSigningPayload(repository: string, digest: string): Buffer {
  return jsonBlob({
    critical: { identity: { 'docker-reference': repository }, image: { 'docker-manifest-digest': digest }, type: COSIGN.type },
    optional: null,
  });
}

const blob = (bytes: Buffer): Blob => ({ digest: sha256(bytes), bytes });

/**
 * The signature manifest of `digest` in `repository`: its blobs (the config and the payload) and
 * its bytes, to be pushed blobs first and tagged `signatureTag(digest)`.
 */
export function signatureManifest(
  key: CosignKey,
  repository: string,
  digest: string,
): { blobs: Blob[]; manifest: ManifestBlob; tag: string } {
  const payload = blob(simpleSigningPayload(repository, digest));
  // An image config as go-containerregistry writes for cosign's one-layer image (its layer's diff id).
  const config = blob(
    jsonBlob({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: [payload.digest] },
      config: {},
    }),
  );
  const manifest = blob(
    jsonBlob({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: COSIGN.config, size: config.bytes.length, digest: config.digest },
      layers: [
        {
          mediaType: COSIGN.payload,
          size: payload.bytes.length,
          digest: payload.digest,
          annotations: { [COSIGN.signatureAnnotation]: key.sign(payload.bytes) },
        },
      ],
    }),
  );
  return { blobs: [config, payload], manifest: { ...manifest, mediaType: MEDIA.manifest }, tag: signatureTag(digest) };
}
