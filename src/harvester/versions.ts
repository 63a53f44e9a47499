// Harvester release versions: parsing and comparison. Feature gates elsewhere compare
// against "minor" strings such as '1.5', which is the granularity the installer changed at.

/** A parsed Harvester release such as v1.4.1 or v1.8.0-rc2. */
export interface HarvesterVersion {
  readonly raw: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** The oldest and newest release lines harvgen knows the installer of. */
export const SUPPORTED_RANGE = { oldest: '1.2', newest: '1.9' } as const;

/** Parse `v1.4.1` (also `1.4.1`, `v1.8.0-rc1`); undefined when it is not a version. */
export function parseVersion(raw: string): HarvesterVersion | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-rc\d+)?$/.exec(raw);
  if (!m) return undefined;
  return { raw, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** True when `v` is release line `minor` (e.g. '1.5') or newer. */
export function atLeast(v: HarvesterVersion, minor: string): boolean {
  const [maj = 0, min = 0] = minor.split('.').map(Number);
  return v.major > maj || (v.major === maj && v.minor >= min);
}

/** True when the version's release line is one harvgen knows. */
export function isSupported(v: HarvesterVersion): boolean {
  return atLeast(v, SUPPORTED_RANGE.oldest) && !atLeast(v, nextMinor(SUPPORTED_RANGE.newest));
}

function nextMinor(minor: string): string {
  const [maj = 0, min = 0] = minor.split('.').map(Number);
  return `${maj}.${min + 1}`;
}

/**
 * `version` as a whole word of `s` (a URL): not followed by another digit or letter, nor preceded
 * by one or a dot, so that v1.8.2 is not found in v1.8.20 or in v11.8.2.
 */
function versionWord(version: string): RegExp {
  let re = words.get(version);
  if (re === undefined) {
    re = new RegExp(`(?<![0-9A-Za-z.])${version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9A-Za-z])`, 'g');
    words.set(version, re);
  }
  // A global expression keeps its place between calls: each use starts at the beginning.
  re.lastIndex = 0;
  return re;
}

/** One expression per release asked about (a handful per run, asked once per node). */
const words = new Map<string, RegExp>();

/** Whether `s` (a URL) names release `version` as a whole word. */
export function namesVersion(s: string, version: string): boolean {
  return versionWord(version).test(s);
}

/** `s` (a URL) with release `from` replaced by `to` wherever it is a whole word. */
export function swapVersion(s: string, from: string, to: string): string {
  return from === to ? s : s.replace(versionWord(from), to);
}
