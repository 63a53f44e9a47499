// Which upgrades Harvester runs: the minimum release each target accepts, and the version guard
// that compares them. Both are Harvester's own (docs/dev/research-upgrade.md, §2b and §3b):
//  - each release tag's `package/upgrade-matrix.yaml` names its `minUpgradableVersion`, which the
//    build writes into the ISO's `harvester-release.yaml`;
//  - the upgrade controller (and the target's upgrade image) refuses the hop with
//    `CheckUpgradeEligibility` of harvester/go-common `version/upgrade.go` (strict): from a
//    version below the minimum, a downgrade, and from a prerelease to another release. The same
//    version is allowed. Harvester checks this only after the cluster downloaded the target ISO.

/**
 * `minUpgradableVersion` of each release harvgen knows, read from harvester/harvester
 * `package/upgrade-matrix.yaml` at the release's own tag (research-upgrade.md §3b).
 */
export const MIN_UPGRADABLE: Readonly<Record<string, string>> = {
  'v1.4.0': 'v1.3.2',
  'v1.4.1': 'v1.4.0',
  'v1.4.2': 'v1.4.1',
  'v1.4.3': 'v1.4.1',
  'v1.5.0': 'v1.4.2',
  'v1.5.1': 'v1.4.2',
  'v1.5.2': 'v1.4.2',
  'v1.6.0': 'v1.5.0',
  'v1.6.1': 'v1.5.0',
  'v1.7.0': 'v1.6.0',
  'v1.7.1': 'v1.6.0',
  'v1.7.2': 'v1.6.0',
  'v1.7.3': 'v1.6.0',
  'v1.8.0': 'v1.7.0',
  'v1.8.1': 'v1.7.0',
  'v1.8.2': 'v1.7.0',
  'v1.9.0-rc1': 'v1.8.0',
  'v1.9.0-rc2': 'v1.8.0',
  'v1.9.0-rc3': 'v1.8.0',
  'v1.9.0-rc4': 'v1.8.0',
  'v1.9.0-rc5': 'v1.8.0',
  'v1.9.0-rc6': 'v1.8.0',
  // No v1.9.0 tag in the copy read (research-upgrade.md §3b): every v1.9.0 release candidate says
  // v1.8.0, and the v1.8-to-v1.9 upgrade page says v1.8.x clusters upgrade to v1.9.x directly.
  'v1.9.0': 'v1.8.0',
};

/** The minimum release `target` upgrades from, or undefined when harvgen does not know it. */
export function minUpgradable(target: string): string | undefined {
  return MIN_UPGRADABLE[target];
}

/** Why Harvester refuses the hop from `installed` to `target` (with minimum `min`), or undefined when it runs it. */
export function hopRefusal(installed: string, target: string, min: string | undefined): string | undefined {
  const from = parseVersion(installed);
  const to = parseVersion(target);
  if (!from || !to) return `${!from ? installed : target} is not a release version`;
  if (sameVersion(from, to)) return undefined;
  if (compareVersions(from, to) > 0) return 'downgrading is prohibited';
  const least = min !== undefined ? parseVersion(min) : undefined;
  if (least && compareVersions(from, least) < 0) return `current version does not meet minimum upgrade requirement (${min})`;
  if (from.rc !== undefined && !sameRelease(from, to)) return 'cross-version upgrades from/to any prerelease version are prohibited';
  return undefined;
}

/** Whether `target` is older than `installed` (a downgrade, which the guard always refuses). */
export function isDowngrade(installed: string, target: string): boolean {
  const from = parseVersion(installed);
  const to = parseVersion(target);
  return from !== undefined && to !== undefined && compareVersions(from, to) > 0;
}

/** A release as the guard reads it: semver after a leading `v`, with its prerelease (`rc3`). */
interface Semver {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly rc?: string;
}

function parseVersion(raw: string): Semver | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-(rc\d+))?$/.exec(raw);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), ...(m[4] !== undefined ? { rc: m[4] } : {}) };
}

/** Semantic version order: a prerelease before its release, prereleases compared as text (semver's rule for identifiers with letters). */
function compareVersions(a: Semver, b: Semver): number {
  const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (d !== 0) return d;
  if (a.rc === b.rc) return 0;
  if (a.rc === undefined) return 1;
  if (b.rc === undefined) return -1;
  return a.rc < b.rc ? -1 : 1;
}

const sameRelease = (a: Semver, b: Semver): boolean => a.major === b.major && a.minor === b.minor && a.patch === b.patch;
const sameVersion = (a: Semver, b: Semver): boolean => sameRelease(a, b) && a.rc === b.rc;
