// The public half of the signing key, as the inventory (`signing.public_key`) or a `.pub` file
// gives it: one OpenSSH public key line, `<type> <base64> [comment]`. Parsed here, never copied:
// the allowed-signers file verify hands to `ssh-keygen -Y verify` is rebuilt from the parsed
// type and base64 alone, so nothing of the comment, and no option (`cert-authority`,
// `namespaces=`), principal or second line can reach it. Pure: no I/O.
import { createHash } from 'node:crypto';
import { sshString } from './ssh-wire.ts';

/** The `ssh-keygen -Y` namespace of harvgen's manifest signatures (a signature made for another use does not verify). */
export const SIGNATURE_NAMESPACE = 'harvgen-manifest';

/** The principal verify writes into its allowed-signers file and asks for with `-I`. */
export const SIGNER_IDENTITY = 'harvgen';

/** The key types harvgen accepts (OpenSSH names). */
export const KEY_TYPES = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521'] as const;

/** One key type. */
export type KeyType = (typeof KEY_TYPES)[number];

/** Longest public key line (an RSA key of 16384 bits is about 2.8 KB). */
export const MAX_PUBLIC_KEY = 4096;

/**
 * The line's form, for the schema: a type, one space, base64, optionally one space and a
 * comment of printable ASCII words separated by single spaces. No newline, tab or control
 * character anywhere.
 */
export const PUBLIC_KEY_PATTERN = `^(${KEY_TYPES.join('|')}) [A-Za-z0-9+/]+={0,2}( [!-~]+)*$`;

/** A parsed public key. */
export interface PublicKey {
  readonly type: KeyType;
  /** The key blob, base64 as written. */
  readonly base64: string;
}

/**
 * The key of a public key line, or why it is not one: the form of PUBLIC_KEY_PATTERN, a base64
 * blob that decodes exactly, whose own type name is the line's, and (ECDSA) whose curve is the
 * type's; Ed25519 keys are 32 bytes.
 */
export function parsePublicKey(text: string): PublicKey | { readonly problem: string } {
  if (text.length > MAX_PUBLIC_KEY)
    return { problem: `is ${text.length} characters long (a public key line is at most ${MAX_PUBLIC_KEY})` };
  const bad = /[^ -~]/.exec(text);
  if (bad) return { problem: `holds the character ${JSON.stringify(bad[0])} at ${bad.index + 1} (one line of printable ASCII)` };
  if (!new RegExp(PUBLIC_KEY_PATTERN).test(text))
    return {
      problem: `is not one OpenSSH public key line "<type> <base64> [comment]" with a type of ${KEY_TYPES.join(', ')} (no options, principal or second key)`,
    };
  const [type, base64] = text.split(' ') as [KeyType, string];
  const blob = Buffer.from(base64, 'base64');
  if (blob.toString('base64') !== base64) return { problem: 'has a key part that is not canonical base64' };
  const name = sshString(blob, 0);
  if (!name || name.value.toString('latin1') !== type)
    return { problem: `has a key part that is not a ${type} key (it names ${JSON.stringify(name?.value.toString('latin1') ?? '')})` };
  if (type === 'ssh-ed25519') {
    const pk = sshString(blob, name.next);
    if (!pk || pk.value.length !== 32 || pk.next !== blob.length) return { problem: 'has a key part that is not a 32-byte Ed25519 key' };
  } else if (type.startsWith('ecdsa-sha2-')) {
    const curve = sshString(blob, name.next);
    if (!curve || curve.value.toString('latin1') !== type.slice('ecdsa-sha2-'.length))
      return { problem: `has a key part whose curve is not ${type.slice('ecdsa-sha2-'.length)}` };
  } else {
    const e = sshString(blob, name.next);
    const n = e && sshString(blob, e.next);
    if (!n || n.next !== blob.length) return { problem: 'has a key part that is not an RSA key (exponent and modulus)' };
  }
  return { type, base64 };
}

/** The same key (type and blob; comments differ freely). */
export function sameKey(a: PublicKey, b: PublicKey): boolean {
  return a.type === b.type && a.base64 === b.base64;
}

/** The key's fingerprint as OpenSSH prints it (`SHA256:` and the unpadded base64 of the blob's SHA-256), for messages. */
export function fingerprint(key: PublicKey): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(key.base64, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** The allowed-signers file of one key (`ssh-keygen -Y verify -f`): built from the parsed parts only. */
export function allowedSigners(key: PublicKey): string {
  return `${SIGNER_IDENTITY} ${key.type} ${key.base64}\n`;
}

/**
 * Why a key cannot sign harvgen's trees, or nothing: ECDSA signatures take a random nonce, so the
 * signature (and with it the deploy tree) would differ at every build.
 */
export function signingKeyProblem(key: PublicKey): string | undefined {
  return key.type.startsWith('ecdsa-')
    ? `is an ECDSA key, whose signatures take a random nonce: manifest.json.sig would differ at every deploy build, so the tree would never be the same twice (\`build --deploy --check\` would always fail)`
    : undefined;
}
