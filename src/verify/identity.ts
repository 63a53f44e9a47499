// How verify's requests are told apart in a boot server's access log. verify says who it is in
// two ways: its User-Agent (`harvgen-verify/<version>`), which anyone can send, and the names it
// makes up to probe that nobody-built names are refused, which come from a space harvgen keeps
// for itself (MACs under a locally administered prefix, names with a fixed prefix). `status` and
// `discover` never leave a request out on the User-Agent alone (src/status/verify-requests.ts).
import { harvgenVersion } from '../util/version.ts';
import { LAYOUT } from '../derive/layout.ts';

/** The product token of verify's User-Agent. */
export const VERIFY_AGENT = 'harvgen-verify';

/**
 * The first three bytes of every MAC verify makes up: locally administered, unicast (`02`), then
 * `h` `g` (0x68 0x67). No vendor assigns a locally administered prefix; a declared node that
 * uses one is still counted as that node.
 */
export const PROBE_MAC_PREFIX = '02:68:67';

/** The start of every name verify makes up (a random file name, a hostname nobody has). */
export const PROBE_NAME_PREFIX = 'harvgen-probe-';

/**
 * Where a published site's boot server serves the materializer's state (`harvgen pull`'s
 * state.json: the artifact digest it serves, the previous one, its last verify verdict), under the
 * site's boot.server. The site's nginx config serves it, `verify --fleet` reads it first, and
 * verify's must-not probes never count it as exposed.
 */
export const STATE_PATH = LAYOUT.servedState;

/** The User-Agent verify sends: `harvgen-verify/<version>`. */
export function verifyUserAgent(): string {
  return `${VERIFY_AGENT}/${harvgenVersion()}`;
}

/** True when a User-Agent says it is harvgen's verify (of any version). */
export function isVerifyAgent(agent: string | undefined): boolean {
  return agent !== undefined && (agent === VERIFY_AGENT || agent.startsWith(`${VERIFY_AGENT}/`));
}

/** True for a MAC (lowercase colon form) in verify's probe space. */
export function isProbeMac(mac: string): boolean {
  return mac.startsWith(`${PROBE_MAC_PREFIX}:`);
}

/** True for a path that names something verify made up (a probe MAC in iPXE's hyphen form, or a probe name). */
export function namesProbe(path: string): boolean {
  return path.includes(PROBE_NAME_PREFIX) || path.includes(`${PROBE_MAC_PREFIX.replaceAll(':', '-')}-`);
}
