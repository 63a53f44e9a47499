// The one program that checks keys and verifies signatures: OpenSSH's `ssh-keygen` (Debian package
// openssh-client). An Ed25519 signature is made in this process in ssh-keygen's own format and
// bytes (src/sign/sshsig.ts, tested against ssh-keygen), once ssh-keygen has read the key. The private key is handed to it as a file
// of mode 0600 in a private temporary directory (mkdtemp: 0700, a fresh name) that is removed
// afterwards, also on failure; it never lands in the output, in printed text or in the build
// state. Every call is synchronous and bounded in time, with `-P ''` so that a key with a
// passphrase fails instead of prompting, and a minimal environment (no agent, no askpass).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEd25519Key, sshsig } from './sshsig.ts';

/** The Debian package that has ssh-keygen. */
export const SSH_KEYGEN_PACKAGE = 'openssh-client';

/** Longest a call may take (a signature takes milliseconds). */
const TIMEOUT_MS = 30_000;

/** What one run of ssh-keygen did. */
export interface KeygenRun {
  /** Exit status (undefined: it did not run to the end). */
  readonly status: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** ssh-keygen is not installed (or cannot be started). */
export class KeygenMissing extends Error {}

/** The program run: `HARVGEN_SSH_KEYGEN` (tests, an unusual install), else `ssh-keygen` from PATH. */
function program(): string {
  return process.env.HARVGEN_SSH_KEYGEN ?? 'ssh-keygen';
}

/** Run ssh-keygen with `args` and `input` on stdin. Throws KeygenMissing when it cannot be started. */
export function runKeygen(args: readonly string[], input = ''): KeygenRun {
  const r = spawnSync(program(), args, {
    input,
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', SSH_ASKPASS_REQUIRE: 'never' },
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT')
    throw new KeygenMissing(
      `${program()} was not found: install the Debian package ${SSH_KEYGEN_PACKAGE} (\`apt-get install ${SSH_KEYGEN_PACKAGE}\`)`,
    );
  // ssh-keygen may refuse before it reads its input (a key it cannot load, a bad signature file):
  // the write to its stdin then fails with EPIPE, but it ran and its failure is the answer. A
  // success without reading the whole input is no answer (verify must have read the text).
  const ranBeforeInput =
    (r.error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE' && ((r.status !== null && r.status !== 0) || r.signal !== null);
  if (r.error && !ranBeforeInput) throw new KeygenMissing(`${program()} could not be run: ${r.error.message}`);
  return { status: r.status ?? undefined, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Run `fn` with the private key in a file of mode 0600 in a new private directory, removed
 * afterwards whatever happens. `fn` gets the file's path.
 */
export function withKeyFile<T>(keyText: string, fn: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'harvgen-sign-'));
  try {
    const file = join(dir, 'key');
    writeFileSync(file, keyText.endsWith('\n') ? keyText : `${keyText}\n`, { mode: 0o600, flag: 'wx' });
    return fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ssh-keygen's complaint, one line, with the temporary key file's path named as `where`. */
export function complaint(run: KeygenRun, file: string, where: string): string {
  const text = `${run.stderr}`.split(file).join(where).replace(/\s+/g, ' ').trim();
  return text === '' ? `exit status ${run.status ?? 'none (timed out or killed)'}` : text;
}

/**
 * `ssh-keygen -Y sign` of `text` with `keyText` in `namespace`: the armored signature, or
 * ssh-keygen's complaint. An unencrypted Ed25519 key is signed in this process (src/sign/sshsig.ts:
 * the same bytes, no child process per signature); any other key by ssh-keygen.
 */
export function signText(keyText: string, keySource: string, text: string, namespace: string): { signature: string } | { problem: string } {
  const native = readEd25519Key(keyText);
  if (native) return { signature: sshsig(native, text, namespace) };
  const run = withKeyFile(keyText, (file) => ({ ...runKeygen(['-Y', 'sign', '-P', '', '-n', namespace, '-f', file], text), file }));
  if (run.status !== 0 || !run.stdout.startsWith('-----BEGIN SSH SIGNATURE-----')) return { problem: complaint(run, run.file, keySource) };
  return { signature: run.stdout };
}

/**
 * `ssh-keygen -Y verify` of `signature` over `text` for one signer (`allowedSignersLine`) in
 * `namespace`, in a private temporary directory: undefined when it verifies, else ssh-keygen's
 * words. Throws KeygenMissing when ssh-keygen cannot run.
 */
export function verifyText(
  allowedSignersLine: string,
  identity: string,
  text: string,
  signature: string | Uint8Array,
  namespace: string,
): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'harvgen-verify-'));
  try {
    writeFileSync(join(dir, 'allowed_signers'), allowedSignersLine, { mode: 0o600 });
    writeFileSync(join(dir, 'sig'), signature, { mode: 0o600 });
    const run = runKeygen(
      ['-Y', 'verify', '-f', join(dir, 'allowed_signers'), '-I', identity, '-n', namespace, '-s', join(dir, 'sig')],
      text,
    );
    if (run.status === 0) return undefined;
    return run.stderr.split(dir).join('').replace(/\s+/g, ' ').trim() || `exit status ${run.status ?? 'none'}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
