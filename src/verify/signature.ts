// Before verify trusts anything of a deploy tree whose site has a signing key (`signing.public_key`,
// or `--public-key`): its manifest.json.sig must verify for the manifest.json bytes verify then
// reads, with `ssh-keygen -Y verify` (the allowed-signers file rebuilt from the parsed key alone,
// src/util/ssh-public-key.ts), in harvgen's namespace. A missing or bad signature is VERIFY_SIGNATURE
// at the manifest and the site is not checked further: an unsigned manifest is trusted for nothing.
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { LAYOUT } from '../derive/layout.ts';
import { allowedSigners, KeygenMissing, parsePublicKey, SIGNATURE_NAMESPACE, SIGNER_IDENTITY, verifyText } from '../sign/index.ts';

/** Largest signature file read (an RSA-4096 signature is under 2 KiB). */
const MAX_SIGNATURE = 64 * 1024;

/** Where the key verify checks with came from, for messages. */
export interface TrustedKey {
  /** The public key line. */
  readonly line: string;
  /** `signing.public_key of <site.yaml>` or `--public-key <file>`. */
  readonly from: string;
}

/**
 * Check `<siteOut>/manifest.json.sig` against `manifestText` (the bytes verify goes on to read).
 * Undefined when it verifies; else the diagnostic, at the manifest.
 */
export function checkSignature(siteOut: string, manifestText: string, key: TrustedKey, site: string): Diagnostic | undefined {
  const file = join(siteOut, LAYOUT.manifest);
  const sigFile = join(siteOut, LAYOUT.manifestSignature);
  const problem = (message: string, hint: string): Diagnostic => ({ code: 'VERIFY_SIGNATURE', severity: 'error', message, hint, file });
  const rebuild =
    'Build the deploy tree from the repository with the key (`harvgen build --deploy`, which signs it) and deploy that tree whole; never edit or copy a manifest.json by hand.';
  const parsed = parsePublicKey(key.line);
  if ('problem' in parsed)
    return problem(`cannot check ${sigFile}: ${key.from} ${parsed.problem}`, "Give the one line of the signing key's .pub file.");
  const st = lstatSync(sigFile, { throwIfNoEntry: false });
  if (!st?.isFile() || st.size > MAX_SIGNATURE)
    return problem(
      `${sigFile} is ${st ? `not a regular file of at most ${MAX_SIGNATURE} bytes` : 'missing'}: the site has a signing key (${key.from}), so verify trusts no unsigned manifest.json and checked nothing of ${site}`,
      rebuild,
    );
  try {
    const why = verifyText(allowedSigners(parsed), SIGNER_IDENTITY, manifestText, readFileSync(sigFile), SIGNATURE_NAMESPACE);
    if (why === undefined) return undefined;
    return problem(
      `${sigFile} does not verify for this manifest.json with ${key.from} (ssh-keygen: ${why}): the tree was edited after it was built, or signed with another key or for another use; verify checked nothing of ${site}`,
      rebuild,
    );
  } catch (e) {
    if (!(e instanceof KeygenMissing)) throw e;
    return {
      code: 'SIGNING_FAILED',
      severity: 'error',
      message: `cannot check ${sigFile}: ${e.message}`,
      hint: "Install OpenSSH's ssh-keygen (Debian: `apt-get install openssh-client`) where verify runs.",
      file,
    };
  }
}
