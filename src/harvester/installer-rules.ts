// The Harvester installer's own rules that stop or change an automatic (PXE) install and that
// follow from the inventory and the machine's hardware facts, one entry per rule, keyed by the
// releases it holds in. Each entry names where in the installer's source it comes from
// (harvester/harvester-installer, and harvester/harvester pkg/installer from v1.9). The `installer`
// validation rule applies them; the README's table is generated from this list
// (scripts/schema-outputs.ts), and test/installer-rules.test.ts has a case on each side of every
// release boundary and threshold.
//
// The rules live beside this file, in src/harvester/installer-rules/, one file per concern
// (subject.ts holds what a rule is and sees). A new release's rule goes into the file of its
// concern, keyed by the range of releases it holds in (`>=1.9.0`), at its place in the order the
// installer meets it; a new concern is a new file whose list is spread into INSTALLER_RULES below.
import { COMMON_CHECK_RULES } from './installer-rules/common-check.ts';
import { CONFIG_RULES } from './installer-rules/config.ts';
import { DISK_RULES } from './installer-rules/disks.ts';
import { KNOWN_ISSUE_RULES } from './installer-rules/known-issues.ts';
import { NETWORK_RULES } from './installer-rules/network.ts';
import { PREFLIGHT_RULES } from './installer-rules/preflight.ts';
import type { InstallerRule } from './installer-rules/subject.ts';

export {
  inReleases,
  installView,
  partitionMib,
  type HardwareFacts,
  type InstallerRule,
  type InstallView,
  type RuleHit,
  type RuleSubject,
} from './installer-rules/subject.ts';

/** Every rule, in the order the installer meets them. */
export const INSTALLER_RULES: readonly InstallerRule[] = [
  ...PREFLIGHT_RULES,
  ...NETWORK_RULES,
  ...COMMON_CHECK_RULES,
  ...DISK_RULES,
  ...CONFIG_RULES,
  ...KNOWN_ISSUE_RULES,
];

/**
 * How CI judges each rule against the installer's own code (../shared/installer-oracle/, built and
 * run by test/real/installer-corpus.test.ts and test/real/installer-oracle.test.ts), for the
 * rules reference: `installer` where a case of the corpus runs the installer's code on the rule,
 * `after` where the installer takes the value and a program after it is run to show the failure,
 * else why it is not run. test/installer-rules.test.ts keeps it whole.
 */
export const RULES_IN_CI: Readonly<
  Record<
    string,
    { readonly by: 'installer' } | { readonly by: 'after'; readonly why: string } | { readonly by: 'not-run'; readonly why: string }
  >
> = {
  'preflight-bios-v1.7': { by: 'installer' },
  'preflight-cpu': { by: 'installer' },
  'preflight-bios': { by: 'installer' },
  'preflight-memory': { by: 'installer' },
  'preflight-memory-v1.3.0': { by: 'not-run', why: 'v1.3: no installer source is kept for it' },
  'preflight-nic-speed': { by: 'installer' },
  'preflight-virtualized': { by: 'installer' },
  'preflight-kvm': { by: 'installer' },
  'nic-name': { by: 'installer' },
  'cordoned-create': { by: 'installer' },
  'cordoned-witness': { by: 'installer' },
  'disk-device-path': { by: 'installer' },
  'disk-device-missing': {
    by: 'not-run',
    why: 'the machine as measured facts show it: the oracle fakes every disk a config names, so it cannot show a missing one',
  },
  'disk-install-min': { by: 'installer' },
  'disk-data-min': { by: 'installer' },
  'partition-min': { by: 'installer' },
  'partition-max': { by: 'installer' },
  'force-mbr': { by: 'installer' },
  'boolean-values': { by: 'installer' },
  webhooks: { by: 'installer' },
  'tty-spaced': {
    by: 'not-run',
    why: "the installer takes the text (run); what the installed system's boot line makes of a space comes after harv-install",
  },
  'dns-ipv4': {
    by: 'after',
    why: "the installer takes it and writes it into the bridge's NetworkManager profile, where NetworkManager's own nmcli drops it (both run)",
  },
  'containerd-registry-json': { by: 'installer' },
  'skipchecks-v1.2': { by: 'not-run', why: 'v1.2: no installer source is kept for it' },
  'issue-bond-nm-online': { by: 'not-run', why: "an upstream issue of the installer's network set-up, which the oracle does not run" },
  'issue-nic-tg3': { by: 'not-run', why: 'an upstream issue of a NIC driver: hardware the oracle does not have' },
  'issue-nic-qlcnic': { by: 'not-run', why: 'an upstream issue of a NIC driver: hardware the oracle does not have' },
  'issue-nic-r8125': { by: 'not-run', why: 'an upstream issue of a NIC driver: hardware the oracle does not have' },
  'issue-nic-ice': { by: 'not-run', why: 'an upstream issue of a NIC driver: hardware the oracle does not have' },
};
