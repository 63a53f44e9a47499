// Putting cosign signatures into a sink (src/publish/cosign.ts makes them). Every manifest publish
// pushes is signed, not only the index: containers/image (podman, skopeo, CRI-O) checks, under a
// `sigstoreSigned` policy, the signature of each manifest an index names as it copies them all.
// A signature already there is kept when it is this key's, for this repository and digest (read in
// one request: its tag's manifest), so a republish asks one request per manifest it does not
// send, and a key changed since, or a signature tag removed, is signed again.
import { sha256 } from './artifact.ts';
import { COSIGN, signatureManifest, signatureTag, simpleSigningPayload } from './cosign.ts';
import { cosignVerifies, type CosignKey } from '../sign/cosign-key.ts';
import type { Sink } from './sink.ts';

/** Who signs, for which repository (the `docker-reference` of every payload). */
export interface CosignSigner {
  readonly key: CosignKey;
  readonly repository: string;
}

/** A signature manifest is a few hundred bytes a signature; more is not one harvgen reads. */
const MAX_SIGNATURE_MANIFEST = 256 * 1024;

/** Whether `manifest` (a signature manifest's bytes) holds a layer of `signer`'s signature of `digest`. */
export function holdsSignature(manifest: Buffer, signer: CosignSigner, digest: string): boolean {
  const payload = simpleSigningPayload(signer.repository, digest);
  const want = sha256(payload);
  let layers: unknown;
  try {
    layers = (JSON.parse(manifest.toString('utf8')) as { layers?: unknown }).layers;
  } catch {
    return false;
  }
  if (!Array.isArray(layers)) return false;
  return layers.some((l: unknown) => {
    const layer = l as { digest?: unknown; mediaType?: unknown; annotations?: Record<string, unknown> } | null;
    const signature = layer?.annotations?.[COSIGN.signatureAnnotation];
    return (
      layer?.digest === want &&
      layer.mediaType === COSIGN.payload &&
      typeof signature === 'string' &&
      cosignVerifies(signer.key.publicKey, payload, signature)
    );
  });
}

/** Whether `sink` holds `signer`'s signature of `digest` at its tag (one request). */
export async function signedThere(sink: Sink, signer: CosignSigner, digest: string): Promise<boolean> {
  const bytes = await sink.readTag(signatureTag(digest), MAX_SIGNATURE_MANIFEST);
  return bytes !== undefined && holdsSignature(bytes, signer, digest);
}

/**
 * Push the signature of `digest`: its two blobs, then its manifest under its tag. `unchecked`: the
 * blobs are new (a fresh repository, or a manifest sent just now), so they are not asked for first.
 */
export async function pushSignature(sink: Sink, signer: CosignSigner, digest: string, unchecked: boolean): Promise<void> {
  const s = signatureManifest(signer.key, signer.repository, digest);
  for (const b of s.blobs) await sink.putBlob(b.digest, b.bytes, { unchecked });
  await sink.putManifest(s.tag, s.manifest.mediaType, s.manifest.bytes);
}

/** Sign `digest` unless the sink holds this signer's signature of it (`fresh`: nothing is there, nothing asked). */
export async function ensureSignature(sink: Sink, signer: CosignSigner, digest: string, fresh: boolean): Promise<void> {
  if (!fresh && (await signedThere(sink, signer, digest))) return;
  await pushSignature(sink, signer, digest, fresh);
}
