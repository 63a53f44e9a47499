// publish: (docs/fleet.md). The schema checks the registry's form; here, what the boot server's
// materializer needs of the rest: a signature to check (it serves nothing unsigned), a sealing
// key it can use, and a site name that is a registry repository name.
import type { Rule, RuleContext } from '../rule.ts';
import type { SiteInput } from '../../types/site-input.ts';
import { CosignKey, cosignPublicKey } from '../../sign/cosign-key.ts';
import { FLEET_STATE_REPOSITORY } from '../../types/registry.ts';
import { REPO_COMPONENT_RE } from '../../oci/ref.ts';

/** What resolving leaves in place of a secret reference that was not read (the committed tree). */
const UNREAD = 'unresolved-secret';

export const publishRule: Rule = {
  name: 'publish',
  codes: ['PUBLISH_UNSIGNED', 'PUBLISH_KEY_INVALID', 'PUBLISH_COSIGN_KEY', 'PUBLISH_SITE_NAME'],
  check({ input, report }) {
    const p = input.publish;
    if (p === undefined) return;
    if (input.signing === undefined)
      report({
        code: 'PUBLISH_UNSIGNED',
        message: '`publish:` needs `signing:`: the boot server checks the signature of every published tree and serves nothing unsigned',
        hint: "Add `signing:` with a key (`ssh-keygen -t ed25519 -N '' -f secrets/harvgen-sign`; `private_key: { file: ../../secrets/harvgen-sign }` and its .pub line as `public_key`). docs/fleet.md.",
        at: ['publish'],
      });
    if (typeof p.key === 'string' && p.key !== UNREAD && !/^[0-9a-fA-F]{64}$/.test(p.key))
      report({
        code: 'PUBLISH_KEY_INVALID',
        message: `publish.key must be 64 hexadecimal digits (256 bits); it is ${[...p.key].length} characters${/^[0-9a-fA-F]*$/.test(p.key) ? '' : ' and not all hexadecimal'}`,
        hint: 'Make one with `(umask 077; openssl rand -hex 32 > secrets/publish-key)` (a file only you may read), name it with `key: { file: secrets/publish-key }`, and put the same file on the boot server (`publish.key_file`).',
        at: ['publish', 'key'],
      });
    checkCosign(p, report);
    if (!REPO_COMPONENT_RE.test(input.site))
      report({
        code: 'PUBLISH_SITE_NAME',
        message: `the site name ${input.site} is not a registry repository name, which the site's repository <registry>/${input.site} must be (lower-case letters and digits joined by one \`.\`, one or two \`_\`, or hyphens)`,
        hint: 'Rename the site (`site:`) so that no `_` touches a `-` and it neither starts nor ends with one.',
        at: ['site'],
      });
    else if (input.site === FLEET_STATE_REPOSITORY)
      report({
        code: 'PUBLISH_SITE_NAME',
        message: `the site name ${FLEET_STATE_REPOSITORY} is the repository where publish keeps the fleet state of the registry's namespace`,
        hint: 'Rename the site (`site:`).',
        at: ['site'],
      });
  },
};

const COSIGN_HINT =
  'Make a pair with `openssl genpkey -algorithm ed25519 -out secrets/cosign.key`; `openssl pkey -in secrets/cosign.key -pubout` prints `cosign_public_key`. docs/fleet.md, "Signatures other tools check".';

/** `cosign_public_key` is a key harvgen signs for; in the deploy build, `cosign_key` is its private half. */
function checkCosign(p: NonNullable<SiteInput['publish']>, report: RuleContext['report']): void {
  if (p.cosign_public_key === undefined) return;
  const pub = cosignPublicKey(p.cosign_public_key);
  if ('problem' in pub) {
    report({
      code: 'PUBLISH_COSIGN_KEY',
      message: `publish.cosign_public_key ${pub.problem}`,
      hint: COSIGN_HINT,
      at: ['publish', 'cosign_public_key'],
    });
    return;
  }
  if (typeof p.cosign_key !== 'string' || p.cosign_key === UNREAD) return;
  const pair = CosignKey.from(p.cosign_key, p.cosign_public_key);
  if ('problem' in pair)
    report({ code: 'PUBLISH_COSIGN_KEY', message: `publish.cosign_key ${pair.problem}`, hint: COSIGN_HINT, at: ['publish', 'cosign_key'] });
}
