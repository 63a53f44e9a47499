// What the boot servers serve, for the fleet part of the report (`--verified <file>`): the JSON
// document `harvgen verify --fleet <dir> --json` printed, saved to a file. Read as untrusted
// data, like the fleet record: one bounded read of a regular file, every value checked for what
// it is (a site name, a digest, a URL, a state of the list) before a page shows it, texts cut.
import type { Diagnostic } from '../diagnostics/types.ts';
import { baseUrlFault } from '../util/base-url.ts';
import { readRegularFile } from '../util/read-bounded.ts';
import { DIGEST_RE } from '../oci/ref.ts';
import { SITE_NAME } from '../verify/fleet-record.ts';
import type { FleetSite, FleetState } from '../verify/fleet.ts';

/**
 * One site on one boot server as `verify --fleet` found it: its result's own fields (`FleetSite`,
 * whose `expected` is the digest the record said when verify ran), the materializer's verdict as
 * far as a page shows it, and the site's first problem as verify worded it.
 */
export interface VerifiedServer extends Pick<FleetSite, 'site' | 'url' | 'state' | 'expected' | 'served' | 'source' | 'checks' | 'failed'> {
  readonly verdict: { readonly ok: boolean; readonly at: string | null } | null;
  readonly problem: string | null;
}

/** What a verify run says. */
export interface Verified {
  readonly servers: readonly VerifiedServer[];
}

/** A document larger than this is no verify --fleet result (10,000 sites take about 5 MB). */
const VERIFIED_MAX_BYTES = 64 << 20;
/** The most entries read (a site a line per boot server). */
const VERIFIED_MAX_ENTRIES = 100_000;
/** Texts are cut here: a page shows a line, not a server's whole answer. */
const TEXT_MAX = 300;

const STATES: ReadonlySet<string> = new Set<FleetState>([
  'ok',
  'drift',
  'differs',
  'identity',
  'verdict',
  'unreachable',
  'timeout',
  'record',
]);

const cut = (s: string) => (s.length > TEXT_MAX ? `${s.slice(0, TEXT_MAX)}…` : s);
const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const digestOrNull = (v: unknown) => v === null || (typeof v === 'string' && DIGEST_RE.test(v));
const textOrNull = (v: unknown) => v === null || v === undefined || typeof v === 'string';

/** One entry of `fleet`, checked: its values, or what is wrong with it. */
function serverOf(raw: unknown, i: number): VerifiedServer | string {
  const at = `fleet[${i}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `${at} is not an object`;
  const e = raw as Record<string, unknown>;
  if (typeof e.site !== 'string' || !SITE_NAME.test(e.site)) return `${at}.site is not a site name`;
  if (e.url !== null && (typeof e.url !== 'string' || baseUrlFault(e.url) !== undefined)) return `${at}.url is not a boot server URL`;
  if (typeof e.state !== 'string' || !STATES.has(e.state)) return `${at}.state is not one of ${[...STATES].join(', ')}`;
  if (!digestOrNull(e.expected) || !digestOrNull(e.served)) return `${at}: expected and served are sha256:<64 hex digits> or null`;
  if (!textOrNull(e.source) || !textOrNull(e.problem)) return `${at}: source and problem are text or null`;
  if (!count(e.checks) || !count(e.failed)) return `${at}: checks and failed are counts`;
  let verdict: VerifiedServer['verdict'] = null;
  if (e.verdict !== null) {
    const v = e.verdict as Record<string, unknown> | undefined;
    if (typeof v !== 'object' || v === null || typeof v.ok !== 'boolean' || !textOrNull(v.at))
      return `${at}.verdict is not the materializer's verdict ({ ok, checks, failed, at }) or null`;
    verdict = { ok: v.ok, at: typeof v.at === 'string' ? cut(v.at) : null };
  }
  const problem = typeof e.problem === 'string' ? e.problem : null;
  return {
    site: e.site,
    url: e.url as string | null,
    state: e.state as FleetState,
    expected: e.expected as string | null,
    served: e.served as string | null,
    source: typeof e.source === 'string' ? cut(e.source) : null,
    verdict,
    checks: e.checks as number,
    failed: e.failed as number,
    problem: problem !== null ? cut(problem) : null,
  };
}

/** The bytes of `file` when it is a regular file of at most `max` bytes (links followed), or why not. */
function readDocument(file: string, max: number): Uint8Array | string {
  const read = readRegularFile(file, max, { follow: true });
  if ('bytes' in read) return read.bytes;
  if (read.problem === 'unreadable') return 'cannot be read (no such file, or no permission)';
  if (read.problem === 'not-file') return 'is not a regular file';
  if (read.problem === 'too-large') return `is larger than ${max} bytes: not a verify --fleet result`;
  return 'changed while it was read, or cannot be read';
}

/** The saved `verify --fleet --json` document at `file`, checked; or a diagnostic saying why it cannot be used. */
export function readVerified(file: string): Verified | { diagnostic: Diagnostic } {
  const problem = (message: string): { diagnostic: Diagnostic } => ({
    diagnostic: {
      code: 'REPORT_VERIFIED',
      severity: 'error',
      message: `--verified ${file} ${message}`,
      hint: 'give --verified the output of `harvgen verify --fleet <dir> --json`, saved to a file',
      file,
    },
  });
  const bytes = readDocument(file, VERIFIED_MAX_BYTES);
  if (typeof bytes === 'string') return problem(bytes);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    return problem(`is not JSON (${(e as Error).message})`);
  }
  const doc = raw as Record<string, unknown> | null;
  if (typeof doc !== 'object' || doc === null || doc.command !== 'verify' || !Array.isArray(doc.fleet))
    return problem('is not the JSON of `harvgen verify --fleet` (no `command: "verify"` with a `fleet` list)');
  if (doc.fleet.length > VERIFIED_MAX_ENTRIES)
    return problem(`names ${doc.fleet.length} servers; at most ${VERIFIED_MAX_ENTRIES} are read`);
  const servers: VerifiedServer[] = [];
  const seen = new Set<string>();
  for (const [i, e] of (doc.fleet as unknown[]).entries()) {
    const s = serverOf(e, i);
    if (typeof s === 'string') return problem(s);
    // verify --fleet names each site on each server once: two answers for one are two documents joined.
    const key = `${s.site} ${s.url ?? ''}`;
    if (seen.has(key)) return problem(`fleet[${i}] names ${s.site} at ${s.url ?? 'no server'} again`);
    seen.add(key);
    servers.push(s);
  }
  return { servers };
}
