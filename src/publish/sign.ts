// The provenance's signature: `ssh-keygen -Y sign` with the site's signing key (signing:) in the
// namespace `harvgen-publish`, so a provenance signature is never taken for a manifest.json's and
// the other way round. The boot server checks it with `signing.public_key` (pull.json) before it
// trusts anything else of the artifact. The ssh-keygen calls are src/sign/'s, as for manifest.json.
import type { SigningKey } from '../sign/key.ts';
import { allowedSigners, parsePublicKey, signText, SIGNER_IDENTITY, verifyText } from '../sign/index.ts';
import { PUBLISH_SIGNATURE_NAMESPACE } from './media.ts';

/** Sign `bytes`; the armored signature, or why it could not be made (ssh-keygen missing or failing). */
export function signProvenance(key: SigningKey, bytes: Buffer): { signature: string } | { problem: string } {
  const signed = signText(key.text, key.source, bytes.toString('utf8'), PUBLISH_SIGNATURE_NAMESPACE);
  return 'problem' in signed ? { problem: `ssh-keygen could not sign the provenance: ${signed.problem}` } : signed;
}

/** Undefined when `signature` verifies for `bytes` with `publicKeyLine`; else why not. */
export function checkProvenance(publicKeyLine: string, bytes: Buffer, signature: string): string | undefined {
  const parsed = parsePublicKey(publicKeyLine);
  if ('problem' in parsed) return `the public key ${parsed.problem}`;
  const why = verifyText(allowedSigners(parsed), SIGNER_IDENTITY, bytes.toString('utf8'), signature, PUBLISH_SIGNATURE_NAMESPACE);
  return why === undefined ? undefined : `ssh-keygen: ${why}`;
}
