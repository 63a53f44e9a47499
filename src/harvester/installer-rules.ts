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
  ...COMMON_CHECK_RULES,
  ...DISK_RULES,
  ...CONFIG_RULES,
  ...KNOWN_ISSUE_RULES,
];
