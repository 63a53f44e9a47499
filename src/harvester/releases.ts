// Every Harvester release harvgen knows was published, to the patch: the one table the
// `harvester-version` rule (HARVESTER_RELEASE_UNKNOWN) and the README's list are made from.
// Each entry names where it was seen: a final (non-rc) tag of harvester/harvester-installer, or
// for releases built after the installer moved into harvester/harvester, that project's release.
import type { HarvesterVersion } from './versions.ts';

/** One published release and where harvgen saw it. */
export interface KnownRelease {
  readonly version: string;
  readonly source: string;
}

const tag = (version: string): KnownRelease => ({ version, source: `harvester/harvester-installer tag ${version}` });

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
  {
    version: 'v1.7.2',
    source:
      'harvester/harvester release v1.7.2 (July 2026; the installer repository has only its rc tags, the same installer code as v1.7.1)',
  },
  tag('v1.8.0'),
  tag('v1.8.1'),
  {
    version: 'v1.9.0',
    source: 'harvester/harvester release v1.9.0 (September 2026; its installer code is that of the v1.9.0-dev tags, the same as v1.8.1)',
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
