// Signed trees (README "Signed trees"): a deploy build with `signing:` writes
// `manifest.json.sig` next to manifest.json, made by `ssh-keygen -Y sign` with the site's key in
// the namespace `harvgen-manifest`; `harvgen verify` checks it before it trusts the manifest
// (src/verify/signature.ts). An Ed25519 (or RSA) signature has no timestamp: the same inventory
// and key give the same bytes. Two steps, one per pass of the pipeline: the first checks that
// the key is one ssh-keygen can use and matches `signing.public_key` (so a wrong key stops the
// site before anything is rendered); the second signs the rendered manifest.json.
import { createHash } from 'node:crypto';
import type { Diagnostic } from '../diagnostics/types.ts';
import type { Locator } from '../load/locate.ts';
import type { Artifact } from '../render/artifact.ts';
import { LAYOUT } from '../derive/layout.ts';
import type { SigningKey } from './key.ts';
import { fingerprint, parsePublicKey, sameKey, SIGNATURE_NAMESPACE } from '../util/ssh-public-key.ts';
import { complaint, KeygenMissing, runKeygen, signText, withKeyFile } from './ssh-keygen.ts';

export { keyMaskValues, resolveSigningKey, SigningKey, type KeyResolution } from './key.ts';
export {
  allowedSigners,
  fingerprint,
  KEY_TYPES,
  parsePublicKey,
  PUBLIC_KEY_PATTERN,
  SIGNATURE_NAMESPACE,
  SIGNER_IDENTITY,
  signingKeyProblem,
  type PublicKey,
} from '../util/ssh-public-key.ts';
export { KeygenMissing, runKeygen, signText, SSH_KEYGEN_PACKAGE, verifyText } from './ssh-keygen.ts';

/** What a site signs with: its key and the public key the inventory says it has. */
export interface Signing {
  readonly key: SigningKey;
  readonly publicKey: string;
}

const where = (locate: Locator, field: 'private_key' | 'public_key') => ({
  path: `signing.${field}`,
  ...(locate(['signing', field]) ?? {}),
});

/** The diagnostic of ssh-keygen missing or failing (exit 2: the job could not be done). */
function failed(message: string, locate: Locator): Diagnostic {
  return {
    code: 'SIGNING_FAILED',
    severity: 'error',
    message,
    hint: "Install OpenSSH's ssh-keygen (Debian: `apt-get install openssh-client`) on the machine that builds the deploy tree, then build again.",
    ...where(locate, 'private_key'),
  };
}

/**
 * Check the key before anything is rendered: ssh-keygen reads it without a passphrase
 * (`ssh-keygen -y -P ''`) and its public half is `signing.public_key`. Diagnostics, or none.
 */
export function checkSigningKey(signing: Signing, locate: Locator): Diagnostic[] {
  const configured = parsePublicKey(signing.publicKey);
  if ('problem' in configured) return []; // the schema and the signing rule report it
  const { key } = signing;
  // A key ssh-keygen read and matched once in this process (a fleet's sites often share one) is not read again.
  const identity = keyIdentity(key.text);
  if (checkedKeys.get(identity) === signing.publicKey) return [];
  let run;
  try {
    run = withKeyFile(key.text, (file) => ({ ...runKeygen(['-y', '-P', '', '-f', file]), file }));
  } catch (e) {
    if (e instanceof KeygenMissing) return [failed(`cannot check signing.private_key: ${e.message}`, locate)];
    throw e;
  }
  if (run.status !== 0) {
    return [
      {
        code: 'SIGNING_KEY_INVALID',
        severity: 'error',
        message: `signing.private_key (${key.source}) is not a private key ssh-keygen can read without a passphrase: ${complaint(run, run.file, key.source)}`,
        hint: "Make one with `ssh-keygen -t ed25519 -N '' -f secrets/harvgen-sign` (no passphrase: the build runs unattended; keep the file out of git) and put the content of secrets/harvgen-sign.pub into signing.public_key.",
        ...where(locate, 'private_key'),
      },
    ];
  }
  const actual = parsePublicKey(run.stdout.trim());
  if ('problem' in actual || !sameKey(actual, configured)) {
    const shown =
      'problem' in actual
        ? 'a key harvgen cannot read'
        : `${actual.type} ${fingerprint(actual)}, not ${configured.type} ${fingerprint(configured)}`;
    return [
      {
        code: 'SIGNING_KEY_INVALID',
        severity: 'error',
        message: `signing.public_key is not the public half of signing.private_key (${key.source}), whose public key is ${shown}: its signatures would never verify`,
        hint: 'Set signing.public_key to the line `ssh-keygen -y -f <private key file>` prints (the content of its .pub file), or name the private key that belongs to it.',
        ...where(locate, 'public_key'),
      },
    ];
  }
  if (checkedKeys.size >= 64) checkedKeys.clear();
  checkedKeys.set(identity, signing.publicKey);
  return [];
}

/** The keys ssh-keygen accepted in this process (by a digest of the key and the program run), with their public line. */
const checkedKeys = new Map<string, string>();

const keyIdentity = (text: string) =>
  createHash('sha256')
    .update(`${process.env.HARVGEN_SSH_KEYGEN ?? 'ssh-keygen'}\0${process.env.PATH ?? ''}\0${text}`)
    .digest('hex');

/** Sign the rendered manifest.json: the signature file, or why it could not be made. */
export function signManifest(
  signing: Signing,
  artifacts: readonly Artifact[],
  locate: Locator,
): { artifact: Artifact; diagnostics?: undefined } | { diagnostics: Diagnostic[] } {
  const manifest = artifacts.find((a) => a.path === LAYOUT.manifest);
  if (!manifest || typeof manifest.contents !== 'string') throw new Error('signManifest: no manifest.json among the artifacts');
  let signed;
  try {
    signed = signText(signing.key.text, signing.key.source, manifest.contents, SIGNATURE_NAMESPACE);
  } catch (e) {
    if (e instanceof KeygenMissing) return { diagnostics: [failed(`cannot sign manifest.json: ${e.message}`, locate)] };
    throw e;
  }
  if ('problem' in signed) return { diagnostics: [failed(`ssh-keygen could not sign manifest.json: ${signed.problem}`, locate)] };
  return { artifact: { path: LAYOUT.manifestSignature, contents: signed.signature, mode: 0o644 } };
}
