// The SSH wire format's string (RFC 4251): a 32-bit big-endian length, then that many bytes.
// Read here for public key lines (ssh-public-key.ts) and private key files (src/sign/sshsig.ts);
// kept out of the public declarations (it takes a Buffer).

/** Read a 32-bit length-prefixed string at `at`; undefined rather than past the end of `blob`. */
export function sshString(blob: Buffer, at: number): { value: Buffer; next: number } | undefined {
  if (at + 4 > blob.length) return undefined;
  const n = blob.readUInt32BE(at);
  if (at + 4 + n > blob.length) return undefined;
  return { value: blob.subarray(at + 4, at + 4 + n), next: at + 4 + n };
}
