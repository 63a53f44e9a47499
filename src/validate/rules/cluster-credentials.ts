// cluster: token and login credentials, with the installer's own rules.
import { isCryptHash } from '../../util/sha512-crypt.ts';
import type { Rule } from '../rule.ts';

/** Token printable ASCII; a password or SSH key exists; a `$` password is a full crypt hash. */
export const clusterCredentialsRule: Rule = {
  name: 'cluster-credentials',
  codes: ['CLUSTER_TOKEN_CHARSET', 'CLUSTER_NO_CREDENTIALS', 'CLUSTER_PASSWORD_BAD_HASH'],
  check({ input, report }) {
    if (!input.cluster) return;
    // Secret references were resolved to strings before validation (src/load/secrets.ts).
    const { ssh_authorized_keys: keys } = input.cluster;
    const token = input.cluster.token as string;
    const password = input.cluster.password as string | undefined;
    const bad = [...token].find((ch) => ch < ' ' || ch > '~');
    if (bad !== undefined) {
      const shown = bad < ' ' ? `U+${bad.codePointAt(0)!.toString(16).padStart(4, '0').toUpperCase()}` : `"${bad}"`;
      report({
        code: 'CLUSTER_TOKEN_CHARSET',
        message: `cluster.token contains ${shown}; the installer accepts printable ASCII only`,
        hint: 'Use letters, digits, spaces and ASCII punctuation.',
        at: ['cluster', 'token'],
      });
    }
    if ((password === undefined || password === '') && (keys === undefined || keys.length === 0)) {
      report({
        code: 'CLUSTER_NO_CREDENTIALS',
        message: 'neither cluster.password nor cluster.ssh_authorized_keys is set; nobody could log in to the nodes',
        hint: 'Set `password:` (plain text is hashed by harvgen) or add `ssh_authorized_keys:`.',
        at: ['cluster'],
        target: 'key',
      });
    }
    if (password !== undefined && password.startsWith('$') && !isCryptHash(password)) {
      report({
        code: 'CLUSTER_PASSWORD_BAD_HASH',
        message:
          'cluster.password starts with `$` but is not a complete crypt hash; the installer would write it verbatim and nobody could log in',
        hint: 'Give a full hash (`openssl passwd -6`) or a plain-text password that does not start with `$`.',
        at: ['cluster', 'password'],
      });
    }
  },
};
