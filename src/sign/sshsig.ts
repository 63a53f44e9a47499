// Ed25519 signatures in OpenSSH's SSHSIG format (PROTOCOL.sshsig), made with Node's crypto: the
// same bytes `ssh-keygen -Y sign` writes (an Ed25519 signature is deterministic, and the armour
// is fixed), without a child process per signature. Only an unencrypted Ed25519 key in the
// `openssh-key-v1` format is read here; anything else (RSA, ECDSA, a key with a passphrase, a
// malformed file) returns undefined and the caller hands the key to ssh-keygen, whose words then
// explain what is wrong. Verification is always ssh-keygen's (src/sign/ssh-keygen.ts).
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { sshString } from '../util/ssh-wire.ts';

const AUTH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const SIG_MAGIC = Buffer.from('SSHSIG', 'latin1');
const ED25519 = 'ssh-ed25519';

/** An Ed25519 key read from its OpenSSH file: the private key and the public key's wire blob. */
export interface Ed25519Key {
  readonly privateKey: KeyObject;
  /** `string "ssh-ed25519" || string pk`, as in an authorized_keys line. */
  readonly publicBlob: Buffer;
}

/** An SSH wire string: its 32-bit length, then its bytes. */
const str = (b: Buffer | string): Buffer => {
  const v = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  const n = Buffer.alloc(4);
  n.writeUInt32BE(v.length);
  return Buffer.concat([n, v]);
};

/** The Ed25519 key of an unencrypted OpenSSH private key file; undefined for anything else. */
export function readEd25519Key(text: string): Ed25519Key | undefined {
  const m = /^-----BEGIN OPENSSH PRIVATE KEY-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END OPENSSH PRIVATE KEY-----\s*$/.exec(text.trim() + '\n');
  if (!m) return undefined;
  try {
    const raw = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
    if (!raw.subarray(0, AUTH_MAGIC.length).equals(AUTH_MAGIC)) return undefined;
    // Each read is sshString's (src/util/ssh-wire.ts): undefined rather than past the buffer.
    const field = (at: number | undefined) => (at === undefined ? undefined : sshString(raw, at));
    const cipher = field(AUTH_MAGIC.length);
    const kdf = field(cipher?.next);
    const kdfOptions = field(kdf?.next);
    if (!kdfOptions || cipher!.value.toString('latin1') !== 'none' || kdf!.value.toString('latin1') !== 'none') return undefined;
    if (kdfOptions.next + 4 > raw.length || raw.readUInt32BE(kdfOptions.next) !== 1) return undefined; // one key
    const pub = field(kdfOptions.next + 4);
    const section = field(pub?.next);
    if (!pub || !section) return undefined;
    // The private section: two equal check integers (a decrypted key), the type, the public and the private key.
    const priv = section.value;
    if (priv.length < 8 || priv.readUInt32BE(0) !== priv.readUInt32BE(4)) return undefined;
    const type = sshString(priv, 8);
    const pkField = type && sshString(priv, type.next);
    const skField = pkField && sshString(priv, pkField.next);
    if (!skField || type!.value.toString('latin1') !== ED25519) return undefined;
    const pk = pkField!.value;
    const sk = skField.value;
    const publicBlob = Buffer.concat([str(ED25519), str(pk)]);
    if (pk.length !== 32 || sk.length !== 64 || !sk.subarray(32).equals(pk) || !pub.value.equals(publicBlob)) return undefined;
    const privateKey = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: sk.subarray(0, 32).toString('base64url'), x: pk.toString('base64url') },
      format: 'jwk',
    });
    // The seed's own public key is the one the file names (a file whose halves disagree is ssh-keygen's to refuse).
    const derived = createPublicKey(privateKey).export({ format: 'jwk' }).x;
    if (derived !== pk.toString('base64url')) return undefined;
    return { privateKey, publicBlob };
  } catch {
    return undefined;
  }
}

/** The armoured SSHSIG signature of `message` in `namespace` (SHA-512, as ssh-keygen's default). */
export function sshsig(key: Ed25519Key, message: Buffer | string, namespace: string): string {
  const hash = createHash('sha512').update(message).digest();
  const signed = Buffer.concat([SIG_MAGIC, str(namespace), str(''), str('sha512'), str(hash)]);
  const sig = sign(null, signed, key.privateKey);
  const blob = Buffer.concat([
    SIG_MAGIC,
    Buffer.from([0, 0, 0, 1]),
    str(key.publicBlob),
    str(namespace),
    str(''),
    str('sha512'),
    str(Buffer.concat([str(ED25519), str(sig)])),
  ]);
  const b64 = blob.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 70) lines.push(b64.slice(i, i + 70));
  return `-----BEGIN SSH SIGNATURE-----\n${lines.join('\n')}\n-----END SSH SIGNATURE-----\n`;
}
