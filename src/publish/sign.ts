// The provenance's signature: `ssh-keygen -Y sign` with the site's signing key (signing:) in the
// namespace `harvgen-publish`, so a provenance signature is never taken for a manifest.json's and
// the other way round. The boot server checks it with `signing.public_key` (pull.json) before it
// trusts anything else of the artifact.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SigningKey } from '../sign/key.ts';
import { allowedSigners, parsePublicKey, runKeygen, SIGNER_IDENTITY } from '../sign/index.ts';
import { complaint, withKeyFile } from '../sign/ssh-keygen.ts';
import { PUBLISH_SIGNATURE_NAMESPACE } from './media.ts';

/** Sign `bytes`; the armored signature, or why it could not be made (ssh-keygen missing or failing). */
export function signProvenance(key: SigningKey, bytes: Buffer): { signature: string } | { problem: string } {
  const run = withKeyFile(key.text, (file) => ({
    ...runKeygen(['-Y', 'sign', '-P', '', '-n', PUBLISH_SIGNATURE_NAMESPACE, '-f', file], bytes.toString('utf8')),
    file,
  }));
  if (run.status !== 0 || !run.stdout.startsWith('-----BEGIN SSH SIGNATURE-----'))
    return { problem: `ssh-keygen could not sign the provenance: ${complaint(run, run.file, key.source)}` };
  return { signature: run.stdout };
}

/** Undefined when `signature` verifies for `bytes` with `publicKeyLine`; else why not. */
export function checkProvenance(publicKeyLine: string, bytes: Buffer, signature: string): string | undefined {
  const parsed = parsePublicKey(publicKeyLine);
  if ('problem' in parsed) return `the public key ${parsed.problem}`;
  const dir = mkdtempSync(join(tmpdir(), 'harvgen-pull-'));
  try {
    writeFileSync(join(dir, 'allowed_signers'), allowedSigners(parsed), { mode: 0o600 });
    writeFileSync(join(dir, 'sig'), signature, { mode: 0o600 });
    const run = runKeygen(
      [
        '-Y',
        'verify',
        '-f',
        join(dir, 'allowed_signers'),
        '-I',
        SIGNER_IDENTITY,
        '-n',
        PUBLISH_SIGNATURE_NAMESPACE,
        '-s',
        join(dir, 'sig'),
      ],
      bytes.toString('utf8'),
    );
    if (run.status === 0) return undefined;
    return `ssh-keygen: ${run.stderr.split(dir).join('').replace(/\s+/g, ' ').trim() || `exit status ${run.status ?? 'none'}`}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
