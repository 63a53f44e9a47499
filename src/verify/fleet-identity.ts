// `verify --fleet`: what a site's boot server says it serves (the materializer's state.json at
// `<boot_server>/.harvgen/state.json`), judged against the site's fleet record.
import type { Diagnostic } from '../diagnostics/types.ts';
import { SOURCE_RE } from '../oci/ref.ts';
import { DIGEST_RE } from '../oci/ref.ts';
import type { FleetRecord } from './fleet-record.ts';
import type { Fetched } from './http.ts';
import type { FleetVerdict } from './types.ts';

/** The journal of a site's materializer on its boot server (its unit: src/render/publish.ts `pullUnitNames`). */
const pullJournal = (site: string) => `journalctl -u harvgen-${site.replace(/_/g, '-')}-pull.service`;

/** The most bytes of a state.json read. */
export const STATE_MAX_BYTES = 1 << 16;

/** What a site's state.json says, judged against its record. `other`: it serves another artifact or site. */
export function judgeState(
  rec: FleetRecord,
  r: Fetched,
  url: string,
  /** The boot server asked (`boot_server`, or one of `servers`). */
  server: string,
): { found: Diagnostic[]; served: string | null; source: string | null; verdict: FleetVerdict | null; other: boolean } {
  const none = (message: string, hint: string) => ({
    found: [{ code: 'VERIFY_FLEET_STATE', severity: 'error' as const, message: `${rec.site}: ${message}`, hint, file: url }],
    served: null,
    source: null,
    verdict: null,
    other: false,
  });
  if (r.status !== 200)
    return none(
      `the boot server answered ${r.status} for the materializer's state file; expected 200${r.status === 404 ? ' (no harvgen pull has switched this site yet, or its nginx config has no state location)' : ''}`,
      'Install the site with its pull units (out/<site>/publish/), let `harvgen pull` run once, and deploy the nginx config the site was published with.',
    );
  if (r.size > STATE_MAX_BYTES) return none(`the state file is larger than ${STATE_MAX_BYTES} bytes: not the materializer's`, STATE_HINT);
  let s: Record<string, unknown>;
  try {
    const v = JSON.parse(r.head.toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    s = v as Record<string, unknown>;
  } catch (e) {
    return none(`the state file is not JSON (${(e as Error).message})`, STATE_HINT);
  }
  if (s.format !== 1 || typeof s.site !== 'string' || typeof s.digest !== 'string' || !DIGEST_RE.test(s.digest))
    return none('the state file is not a materializer state (format 1 with `site` and a sha256 `digest`)', STATE_HINT);
  if (s.site !== rec.site) {
    const r = none(
      `the boot server ${server} serves the site ${s.site}, not ${rec.site}`,
      `Check \`boot_server\` in ${rec.file} and the pull config on that server: two sites at one address, or a server set up for another site.`,
    );
    return { ...r, served: s.digest, source: sourceOf(s), other: true };
  }
  const verdict = readVerdict(s.verdict);
  const found: Diagnostic[] = [];
  const other = s.digest !== rec.digest;
  if (other)
    found.push({
      code: 'VERIFY_FLEET_DRIFT',
      severity: 'error',
      message: `${rec.site}: serves ${s.digest}, git says ${rec.digest}`,
      hint: `The site has not pulled the published artifact yet (its timer), refused it (see \`${pullJournal(rec.site)}\` on the boot server), or was changed by hand; the record is ${rec.file}.`,
      file: url,
    });
  if (verdict === null)
    found.push({
      code: 'VERIFY_FLEET_VERDICT',
      severity: 'warning',
      message: `${rec.site}: the materializer recorded no verdict for what it serves (its own verify has not finished)`,
      hint: `Look again after the pull finishes; a pull that stops before its verdict is in \`${pullJournal(rec.site)}\` on the boot server.`,
      file: url,
    });
  else if (verdict.skipped !== undefined)
    found.push({
      code: 'VERIFY_FLEET_VERDICT',
      severity: 'warning',
      message: `${rec.site}: the materializer did not verify what it serves (${verdict.skipped.slice(0, 80)})`,
      hint: `Its pull ran with --no-verify: run \`harvgen pull\` there without it, or \`harvgen verify\` on the boot server; this fleet check sampled the served files all the same.`,
      file: url,
    });
  else if (!verdict.ok)
    found.push({
      code: 'VERIFY_FLEET_VERDICT',
      severity: 'error',
      message: `${rec.site}: the materializer's last verify failed${verdict.failed !== null ? ` (${verdict.failed} of ${verdict.checks ?? '?'} checks)` : ''}${verdict.at !== null ? ` at ${verdict.at}` : ''}`,
      hint: `Run \`harvgen verify\` on the boot server for the details, or read \`${pullJournal(rec.site)}\` there.`,
      file: url,
    });
  return { found, served: s.digest, source: sourceOf(s), verdict, other };
}

const STATE_HINT = 'The state file is written by `harvgen pull` only; look at what serves `.harvgen/state.json` on that boot server.';

/** The materializer's verdict as state.json records it (null: none, or not one). */
function readVerdict(v: unknown): FleetVerdict | null {
  if (typeof v !== 'object' || v === null || typeof (v as { ok?: unknown }).ok !== 'boolean') return null;
  const x = v as Record<string, unknown>;
  const n = (k: string) => (typeof x[k] === 'number' && Number.isSafeInteger(x[k]) ? (x[k] as number) : null);
  return {
    ok: x.ok as boolean,
    checks: n('checks'),
    failed: n('failed'),
    at: typeof x.at === 'string' ? x.at.slice(0, 64) : null,
    ...(typeof x.skipped === 'string' ? { skipped: x.skipped.slice(0, 200) } : {}),
  };
}

/** state.json's `source` when it is one (a boot server's word, printed: never more than a short reference). */
function sourceOf(s: Record<string, unknown>): string | null {
  return typeof s.source === 'string' && SOURCE_RE.test(s.source) && s.source.length <= 300 ? s.source : null;
}
