// signing.public_key: the schema checks the line's form; here, that its key part is the key its
// type names (decoded), and that it can sign a deterministic tree (not ECDSA). The private key
// is checked against it by the deploy build only (src/sign/index.ts), which alone reads it.
import { parsePublicKey, signingKeyProblem } from '../../util/ssh-public-key.ts';
import type { Rule } from '../rule.ts';

/** A public key ssh-keygen can verify harvgen's signatures with. */
export const signingRule: Rule = {
  name: 'signing',
  codes: ['SIGNING_PUBLIC_KEY_INVALID'],
  check({ input, report }) {
    const text = input.signing?.public_key;
    if (text === undefined) return;
    const key = parsePublicKey(text);
    const problem = 'problem' in key ? key.problem : signingKeyProblem(key);
    if (problem === undefined) return;
    report({
      code: 'SIGNING_PUBLIC_KEY_INVALID',
      message: `signing.public_key ${problem}`,
      hint: "Paste the one line of the key's .pub file (`ssh-keygen -y -f <private key file>` prints it); make an Ed25519 key with `ssh-keygen -t ed25519 -N '' -f secrets/harvgen-sign`.",
      at: ['signing', 'public_key'],
    });
  },
};
