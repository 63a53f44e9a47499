// cosign signatures beside harvgen's own (`publish.cosign_key`): for each site artifact, a
// signature in sigstore's tag scheme, which `cosign verify --key`, Flux's OCIRepository
// (`verify.provider: cosign`), Kyverno and Harbor read. The signed payload is cosign's "simple
// signing" JSON naming the repository and the index digest; the signature manifest is an OCI image
// manifest of one layer (the payload) whose annotation carries the signature, tagged
// `sha256-<hex>.sig` in the site's repository. harvgen's own signature (the signed provenance
// inside the index, checked by `harvgen pull`) is unchanged: this one is for other tools.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { jsonBlob, sha256, type Blob, type ManifestBlob } from './artifact.ts';
import { MEDIA } from './media.ts';

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

/** Why a cosign key cannot be used, or undefined. */
export type CosignKeyProblem = string | undefined;

/**
 * The key types harvgen signs with for cosign, as `cosign verify --key` checks them (sigstore's
 * signature package): Ed25519 (pure, over the payload: the same signature at every signing),
 * ECDSA P-256 (ASN.1 DER over its SHA-256) and RSA 2048-4096 (PKCS#1 v1.5, SHA-256).
 */
function usable(key: KeyObject): CosignKeyProblem {
  const t = key.asymmetricKeyType;
  if (t === 'ed25519') return undefined;
  if (t === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'prime256v1' ? undefined : `an ECDSA key on ${curve ?? 'an unknown curve'}, not P-256`;
  }
  if (t === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits >= 2048 && bits <= 4096 ? undefined : `an RSA key of ${bits} bits, not 2048 to 4096`;
  }
  return `a key of type ${t ?? 'unknown'}, not Ed25519, ECDSA P-256 or RSA`;
}

/** The public key of `cosign_public_key`, or why it is none harvgen signs for. */
export function cosignPublicKey(pem: string): { key: KeyObject } | { problem: string } {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    return { problem: `is not a PEM public key (${(e as Error).message})` };
  }
  const problem = usable(key);
  return problem !== undefined ? { problem: `is ${problem}` } : { key };
}

/** A cosign signing key and its public half, checked to be one pair. */
export class CosignKey {
  readonly #key: KeyObject;
  readonly publicKey: KeyObject;

  private constructor(key: KeyObject, publicKey: KeyObject) {
    this.#key = key;
    this.publicKey = publicKey;
  }

  /** The key of `cosign_key` (PEM) with `cosign_public_key`, or why it cannot sign. */
  static from(privatePem: string, publicPem: string): CosignKey | { problem: string } {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: privatePem, format: 'pem' });
    } catch (e) {
      const encrypted = /ENCRYPTED/.test(privatePem);
      return {
        problem: encrypted
          ? 'is encrypted (cosign generate-key-pair writes such keys): give an unencrypted PEM key (openssl pkcs8 -topk8 -nocrypt)'
          : `is not a PEM private key (${(e as Error).message})`,
      };
    }
    const problem = usable(key);
    if (problem !== undefined) return { problem: `is ${problem}` };
    const pub = cosignPublicKey(publicPem);
    if ('problem' in pub) return { problem: `has a cosign_public_key that ${pub.problem}` };
    const derived = createPublicKey(key).export({ type: 'spki', format: 'der' });
    if (!derived.equals(pub.key.export({ type: 'spki', format: 'der' })))
      return { problem: 'is not the private half of cosign_public_key' };
    return new CosignKey(key, pub.key);
  }

  /** The signature of `payload`, base64 (Ed25519: of the payload; ECDSA, ASN.1 DER, and RSA, PKCS#1 v1.5: of its SHA-256). */
  sign(payload: Buffer): string {
    return sign(digestOf(this.#key), payload, this.#key).toString('base64');
  }
}

/** The digest `crypto.sign` takes for a key: none for Ed25519 (it signs the message itself), else SHA-256. */
const digestOf = (key: KeyObject): string | null => (key.asymmetricKeyType === 'ed25519' ? null : 'sha256');

/** Does `signature` (base64) sign `payload` with `key`? */
export function cosignVerifies(key: KeyObject, payload: Buffer, signature: string): boolean {
  try {
    return verify(digestOf(key), payload, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
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
