// The cosign keys harvgen signs with (`publish.cosign_key`, `publish.cosign_public_key`): a key's
// format and type checked as `cosign verify --key` takes them, the pair checked to be one, and a
// signature made and checked. A format concern: the inventory's rule reads it to judge the keys,
// publish to sign with them (src/publish/cosign.ts, the signature manifest).
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

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
