// What the Harvester installer makes of some values of its config before it reads them, so that
// harvgen judges (and writes) the value the installer uses, not the spelling it was given:
//  - `install.management_interface.method` and `install.vip_mode` are lower-cased
//    (`strings.ToLower`) on the way to `validateConfig`, and the lower-cased value is what the
//    installed system gets (console/install_panels.go, the install panel's goroutine, every
//    release v1.2-v1.9: harvester-installer v1.8.1 :2592-2593, harvester v1.9.0-rc6
//    pkg/installer :2595-2596);
//  - from v1.8, every boolean key goes through rancher/mapper's `convert.ToBool` when the config
//    is loaded (config.LoadHarvesterConfig decodes YAML with yaml.v3 into a map, so `no` stays a
//    string, then the schema mapper converts): a boolean stays itself, and anything else is true
//    only when its text, trimmed and lower-cased, is `true`, `t`, `yes` or `y` (rancher/mapper
//    convert.go ToBool, as the installer's go.mod pins it);
//  - before v1.8 the mapper converts no boolean (the installer's own code, run in CI by
//    test/real/installer-corpus.test.ts, shows it): only the text `true` itself reads true, any
//    other text reads false, and a number, a list or a map fails the config's loading.
import { getKey } from './config-keys.ts';

/** Keys the installer lower-cases before it reads them. */
export const LOWERED_KEYS = ['install.management_interface.method', 'install.vip_mode'] as const;

/**
 * Go's `strings.ToLower` on text: each character's simple lower case, which for the Latin
 * letters that matter here is JavaScript's, except that U+0130 (İ) lowers to `i` and U+212A
 * (the Kelvin sign) to `k` (Unicode's simple mapping; JavaScript's full mapping differs).
 */
export function installerLower(s: string): string {
  let out = '';
  for (const ch of s) {
    if (ch === '\u0130') out += 'i';
    else if (ch === '\u212a') out += 'k';
    else {
      const l = ch.toLowerCase();
      out += [...l].length === 1 ? l : ch;
    }
  }
  return out;
}

/** The management network's method as the installer reads a config value: `dhcp`, `static`, or undefined (anything else). */
export function installerMethod(v: unknown): 'dhcp' | 'static' | undefined {
  if (typeof v !== 'string') return undefined;
  const l = installerLower(v);
  return l === 'dhcp' || l === 'static' ? l : undefined;
}

/** rancher/mapper's `convert.ToBool`: what the installer reads for a boolean key. */
export function mapperBool(v: unknown): boolean {
  // convert.Singular (a list's first item), then a boolean as it is; else convert.ToString, which
  // takes Singular again, and Go's fmt.Sprint of what is left (a map prints as `map[...]`).
  const one = Array.isArray(v) ? v[0] : v;
  if (typeof one === 'boolean') return one;
  const two = Array.isArray(one) ? one[0] : one;
  if (two === undefined || two === null || (typeof two === 'object' && !Array.isArray(two))) return false;
  const text = (Array.isArray(two) ? `[${two.map(String).join(' ')}]` : String(two)).trim().toLowerCase();
  return text === 'true' || text === 't' || text === 'yes' || text === 'y';
}

/**
 * Boolean keys that take only a YAML boolean at every release: any text fails the config's loading
 * (`install.poweroff`, whose field the installer spells `powerOff`; shown by its own code).
 */
const BOOLEAN_ONLY: ReadonlySet<string> = new Set(['install.poweroff']);

/** What the installer of a release reads for boolean key `key`: the boolean, or `refused` (its config fails to load). */
export function installerBool(v: unknown, version: { readonly major: number; readonly minor: number }, key = ''): boolean | 'refused' {
  if (typeof v === 'boolean') return v;
  if (BOOLEAN_ONLY.has(key)) return v === null || v === undefined ? false : 'refused';
  if (version.major > 1 || version.minor >= 8) return mapperBool(v);
  if (v === null || v === undefined) return false;
  // Only a string is decoded into the boolean field (JSON's way): a number, list or map fails.
  if (typeof v !== 'string') return 'refused';
  return v === 'true';
}

/**
 * The config as the installer reads it: the lower-cased keys lower-cased, and each boolean key
 * (`booleans`, dotted) that holds something else made the boolean the release's installer reads. A new object
 * along each changed path; the rest is shared.
 */
export function asInstallerReads(
  config: Record<string, unknown>,
  booleans: readonly string[],
  version: { readonly major: number; readonly minor: number },
): Record<string, unknown> {
  let out = config;
  for (const key of LOWERED_KEYS) {
    const v = getKey(out, key);
    if (typeof v === 'string' && installerLower(v) !== v) out = setKey(out, key, installerLower(v));
  }
  for (const key of booleans) {
    const v = getKey(out, key);
    if (v === undefined || typeof v === 'boolean') continue;
    const read = installerBool(v, version, key);
    // A value the installer cannot load stays as given: the boolean-values rule refuses it.
    if (read !== 'refused') out = setKey(out, key, read);
  }
  return out;
}

/** `doc` with `value` at the dotted `key` (whose parents are maps), copied along the path. */
function setKey(doc: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = key.split('.');
  if (rest.length === 0) return { ...doc, [head!]: value };
  const child = doc[head!];
  if (child === null || typeof child !== 'object' || Array.isArray(child)) return doc;
  return { ...doc, [head!]: setKey(child as Record<string, unknown>, rest.join('.'), value) };
}
