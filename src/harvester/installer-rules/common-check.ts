// The installer's common check of its config (commonCheck, run by validateConfig before the
// install starts): from v1.9.0, `install.cordoned` is refused on the node that creates the cluster
// and on a witness. The installer returns the first error it meets, mode before role, so a
// create-mode witness is told about its mode only. Before v1.9.0 the installer has no `cordoned`
// (its config struct drops the key): the inventory gate refuses the setting there
// (HARVESTER_KEY_TOO_NEW, src/harvester/inventory-gates.ts), and these rules have nothing to judge.
import { installView, type InstallerRule, type RuleHit, type RuleSubject } from './subject.ts';

/** Where the installer's common check was read. */
const COMMON_CHECK = 'harvester/harvester pkg/installer/console/validator.go commonCheck';

/** `install.cordoned: true` in the config the installer parses. */
function cordoned(s: RuleSubject): boolean {
  return s.config.get('install.cordoned') === true;
}

const isCreate = (s: RuleSubject): boolean => s.config.get('install.mode') === 'create';

/**
 * What both rules find. One message and hint for both: a value in `defaults:` or a profile is
 * reported once for every node it reaches (the create node and the witnesses together).
 */
function refused(s: RuleSubject, why: string): RuleHit {
  return {
    message: `install.cordoned is set for node ${s.node.hostname}, ${why}: the Harvester ${s.version.raw} installer refuses it on the node that creates the cluster and on a witness, and stops the install`,
    hint: 'Set `install.cordoned` only on joining nodes that are not witnesses (a profile they share); a value from `defaults:` can be undone with `install.cordoned: false` on the create node and the witnesses.',
    at: s.config.at('install.cordoned'),
  };
}

/** The common check's rules, in the order the installer meets them. */
export const COMMON_CHECK_RULES: readonly InstallerRule[] = [
  {
    id: 'cordoned-create',
    code: 'INSTALLER_CORDONED_INVALID',
    releases: '>=1.9.0',
    when: '`install.cordoned: true` on the node that creates the cluster (`install.mode: create`)',
    effect: `stops the install before it starts ("Invalid configuration: install.cordoned can't be set in create mode")`,
    source: `${COMMON_CHECK} (ErrMsgCordonedInvalidMode) @v1.9.0-rc6`,
    check(s) {
      if (!cordoned(s) || !isCreate(s)) return undefined;
      return refused(s, 'which creates the cluster');
    },
  },
  {
    id: 'cordoned-witness',
    code: 'INSTALLER_CORDONED_INVALID',
    releases: '>=1.9.0',
    when: '`install.cordoned: true` on a witness node (`install.role: witness`, `harvester_role: witness`) that joins',
    effect: `stops the install before it starts ("Invalid configuration: install.cordoned can't be set for nodes with the witness role")`,
    source: `${COMMON_CHECK} (ErrMsgCordonedInvalidRole) @v1.9.0-rc6`,
    check(s) {
      if (!cordoned(s) || isCreate(s) || installView(s).role !== 'witness') return undefined;
      return refused(s, 'a witness');
    },
  },
];
