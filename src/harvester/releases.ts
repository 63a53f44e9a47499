// Every Harvester release harvgen knows was published, to the patch: the one table the
// `harvester-version` rule (HARVESTER_RELEASE_UNKNOWN) and the README's list are made from.
// Each entry names where it was seen (a final, non-rc tag of harvester/harvester-installer, or a
// release of harvester/harvester) and where its installer's rules were read: repository, tag or
// commit, files. A new release is a new entry here, with the installer's config, console and
// preflight code diffed against the previous patch; a rule it changes gets a new range in
// src/harvester/installer-rules/.
import type { HarvesterVersion } from './versions.ts';

/** One published release, where harvgen saw it and where its installer's rules were read. */
export interface KnownRelease {
  readonly version: string;
  readonly source: string;
  /** Repository, tag (or commit) and files the installer rules of this release were read from. */
  readonly rulesFrom: string;
}

/** The installer's files the rules come from, in harvester/harvester-installer. */
const INSTALLER_FILES = 'pkg/config, pkg/console, pkg/preflight, pkg/util, package/harvester-os/files/usr/sbin/harv-install';

const tag = (version: string): KnownRelease => ({
  version,
  source: `harvester/harvester-installer tag ${version}`,
  rulesFrom: `harvester/harvester-installer ${version}: ${INSTALLER_FILES}`,
});

/**
 * A release built from a harvester-installer tag that the copy read lacks (taken 2026-07-02,
 * before the tag): its rules are read from the newest commit of its branch there.
 */
const untagged = (version: string, seen: string, branch: string, commit: string, same: string): KnownRelease => ({
  version,
  source: `harvester/harvester release ${version} (${seen}; its scripts/build-iso builds harvester-installer tag ${version}, newer than the copy read, of 2026-07-02)`,
  rulesFrom: `harvester/harvester-installer branch ${branch} at ${commit}, its newest commit in the copy of 2026-07-02 (${same}): ${INSTALLER_FILES}`,
});

/** Published releases, oldest first. */
export const KNOWN_RELEASES: readonly KnownRelease[] = [
  tag('v1.2.0'),
  tag('v1.2.1'),
  tag('v1.2.2'),
  tag('v1.3.0'),
  tag('v1.3.1'),
  tag('v1.3.2'),
  tag('v1.4.0'),
  tag('v1.4.1'),
  tag('v1.4.2'),
  tag('v1.4.3'),
  tag('v1.5.0'),
  tag('v1.5.1'),
  tag('v1.5.2'),
  tag('v1.6.0'),
  tag('v1.6.1'),
  tag('v1.7.0'),
  tag('v1.7.1'),
  untagged('v1.7.2', 'tag v1.7.2, 2026-07-08', 'v1.7', '565f4047', "tag v1.7.2-rc3, whose pkg/ is v1.7.1's"),
  untagged('v1.7.3', 'tag v1.7.3, 2026-08-07', 'v1.7', '565f4047', "tag v1.7.2-rc3, whose pkg/ is v1.7.1's"),
  tag('v1.8.0'),
  tag('v1.8.1'),
  untagged('v1.8.2', 'tag v1.8.2, 2026-08-06', 'v1.8', '2350d532', 'tag v1.8.1'),
  {
    version: 'v1.9.0',
    source:
      'harvester/harvester release v1.9.0 (September 2026; the installer moved into that repository: the copy read, of 2026-08-22, holds v1.9 tags up to v1.9.0-rc6)',
    rulesFrom:
      'harvester/harvester v1.9.0-rc6 (e65077906, 2026-08-19; no v1.9.0 tag in the copy read): pkg/installer/config, pkg/installer/console, pkg/installer/preflight, pkg/installer/util, package/harvester-os/files/usr/sbin/harv-install; against v1.8.1 it adds install.cordoned (config.go Install, console/validator.go commonCheck) and install.iso_url: local (harv-install)',
  },
];

const known = new Set(KNOWN_RELEASES.map((r) => r.version));

/** Whether `v` (its x.y.z; a release candidate counts as its release) was published. */
export function isKnownRelease(v: HarvesterVersion): boolean {
  return known.has(`v${v.major}.${v.minor}.${v.patch}`);
}

/** The newest published release of `v`'s line, or undefined when the line has none. */
export function newestOfLine(v: HarvesterVersion): string | undefined {
  const prefix = `v${v.major}.${v.minor}.`;
  return [...KNOWN_RELEASES].reverse().find((r) => r.version.startsWith(prefix))?.version;
}

/** The newest release harvgen knows. */
export function newestRelease(): string {
  return KNOWN_RELEASES[KNOWN_RELEASES.length - 1]!.version;
}
