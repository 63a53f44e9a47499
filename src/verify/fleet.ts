// `verify --fleet <dir>`: does every published site serve what git says it should? `<dir>` is
// the fleet record (docs/dev/fleet-format.md, "The fleet record in git"): one `<site>.json` per
// site naming its boot server, the artifact digest it should serve and a sample of its public
// files. For each site, with bounded concurrency across sites and a whole-site time limit:
// identity first (the materializer's state.json at `<boot_server>/.harvgen/state.json`: this
// site, this digest, a good last verdict), then the sample (size and SHA-256; never a release
// file), then the must-not probes that need no deploy tree (src/verify/plan.ts, treelessProbes).
// No deploy tree, no inventory, no key: what the center holds is the record.
import { resolve } from 'node:path';
import { sortDiagnostics, type Diagnostic } from '../diagnostics/types.ts';
import { DIGEST, listFleetRecords, readFleetRecord, type FleetRecord } from './fleet-record.ts';
import { createAgents, get, type Fetched } from './http.ts';
import { STATE_PATH } from './identity.ts';
import { SOURCE_RE } from '../oci/ref.ts';
import { contentKind, serverFor, treelessProbes, type Check } from './plan.ts';
import { Run } from './run.ts';
import type { VerifyServer } from './types.ts';

export { listFleetRecords, readFleetRecord, type FleetRecord } from './fleet-record.ts';

/** The materializer's last verdict, as its state.json says. */
export interface FleetVerdict {
  readonly ok: boolean;
  readonly checks: number | null;
  readonly failed: number | null;
  readonly at: string | null;
  /** Why the materializer did not verify (`not verified: --no-verify`), when it said so. */
  readonly skipped?: string;
}

/** The journal of a site's materializer on its boot server (its unit: src/render/publish.ts `pullUnitNames`). */
const pullJournal = (site: string) => `journalctl -u harvgen-${site.replace(/_/g, '-')}-pull.service`;

/** How a site fared, worst first in the order of the union (see `fleetState`). */
export type FleetState = 'record' | 'unreachable' | 'timeout' | 'identity' | 'drift' | 'differs' | 'verdict' | 'ok';

/** One site of a fleet run. */
export interface FleetSite {
  /** The record file. */
  readonly record: string;
  /** The site (the record's `site`, else its file name). */
  readonly site: string;
  /** The boot server (null when the record could not be read). */
  readonly url: string | null;
  readonly state: FleetState;
  /** The digest git says (the record's). */
  readonly expected: string | null;
  /** The digest the site serves (its state.json's), when it said. */
  readonly served: string | null;
  /** Where the site's boot server read what it serves (its state.json's `source`: its mirror, the central registry, a layout), when it said. */
  readonly source: string | null;
  readonly verdict: FleetVerdict | null;
  /** Requests made. */
  readonly checks: number;
  /** Checks that found a difference. */
  readonly failed: number;
  readonly reachable: boolean;
  readonly durationMs: number;
  readonly diagnostics: Diagnostic[];
}

export interface VerifyFleetOptions {
  /** The fleet record directory (`published/`). */
  readonly dir: string;
  /** Sites checked at once (default 32). */
  readonly concurrency?: number;
  /** Requests in flight at once per site (default 4). */
  readonly perSite?: number;
  /** A site whose checks have not finished after this long is reported and left (default 30,000 ms). */
  readonly siteTimeoutMs?: number;
  /** A request with no data for this long fails (default 10,000 ms). */
  readonly timeoutMs?: number;
  /** Connect from this local address. */
  readonly source?: string;
  /** Called when a site is done (in the order they finish). */
  readonly onSite?: (site: FleetSite, done: number, total: number) => void;
  /** Made-up names for the probes (tests). */
  readonly random?: () => string;
}

export interface VerifyFleetResult {
  /** Every site serves what git says, with a good verdict, and nothing it must not. */
  readonly ok: boolean;
  /** One per record file, by file name. */
  readonly sites: readonly FleetSite[];
  /** Each site on its boot server, with its tallies (as `verify` reports servers). */
  readonly servers: readonly VerifyServer[];
  readonly diagnostics: readonly Diagnostic[];
  readonly checks: number;
  readonly durationMs: number;
}

/** The most bytes of a state.json read. */
const STATE_MAX_BYTES = 1 << 16;

/** Verify every site of the fleet record against its boot server. Never throws for a server's answers. */
export async function verifyFleet(options: VerifyFleetOptions): Promise<VerifyFleetResult> {
  const started = performance.now();
  const dir = resolve(options.dir);
  const listed = listFleetRecords(dir);
  if (listed.problem !== undefined) {
    const d: Diagnostic = {
      code: 'VERIFY_FLEET_RECORD',
      severity: 'error',
      message: `no fleet record to verify: ${listed.problem}`,
      hint: '`harvgen publish --record <dir>` writes one <site>.json per site (default published/); pass that directory.',
      file: dir,
    };
    return { ok: false, sites: [], servers: [], diagnostics: [d], checks: 0, durationMs: Math.round(performance.now() - started) };
  }
  const concurrency = Math.max(1, options.concurrency ?? 32);
  const perRecord: FleetSite[][] = new Array(listed.files.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < listed.files.length) {
      const i = next++;
      perRecord[i] = await verifyRecord(listed.files[i]!, options);
      done++;
      for (const s of perRecord[i]) options.onSite?.(s, done, listed.files.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, listed.files.length) }, worker));
  // A site with failover is one line per boot server: the shared address first, then each server's own.
  const sites = perRecord.flat();
  const diagnostics = sites.flatMap((s) => s.diagnostics);
  return {
    ok: !diagnostics.some((d) => d.severity === 'error'),
    sites,
    servers: sites.flatMap((s) =>
      s.url === null
        ? []
        : [{ site: s.site, url: s.url, checks: s.checks, failed: s.failed, refused: [], reachable: s.reachable } satisfies VerifyServer],
    ),
    diagnostics,
    checks: sites.reduce((n, s) => n + s.checks, 0),
    durationMs: Math.round(performance.now() - started),
  };
}

/** One site: its record read, then each of its boot servers checked (the shared address and, with failover, each server's own). */
async function verifyRecord(file: string, o: VerifyFleetOptions): Promise<FleetSite[]> {
  const started = performance.now();
  const read = readFleetRecord(file);
  if ('problem' in read) {
    const stem = file.slice(file.lastIndexOf('/') + 1).replace(/\.json$/, '');
    const d: Diagnostic = {
      code: 'VERIFY_FLEET_RECORD',
      severity: 'error',
      message: `${file} ${read.problem}; the site was not checked`,
      hint: '`harvgen publish --record` writes the record; restore the file from git (`git checkout -- <file>`) or publish the site again.',
      file,
    };
    return [
      {
        record: file,
        site: stem,
        url: null,
        state: 'record',
        expected: null,
        served: null,
        source: null,
        verdict: null,
        checks: 0,
        failed: 0,
        reachable: true,
        durationMs: Math.round(performance.now() - started),
        diagnostics: [d],
      },
    ];
  }
  const rec = read.record;
  return Promise.all([rec.boot_server, ...rec.servers].map((url) => verifyServer(file, rec, url, o)));
}

/** One boot server of a site: identity, sample and probes within the site's time limit. */
async function verifyServer(file: string, rec: FleetRecord, url: string, o: VerifyFleetOptions): Promise<FleetSite> {
  const started = performance.now();
  const limitMs = o.siteTimeoutMs ?? 30_000;
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new Error(`its checks did not finish in ${Math.round(limitMs / 100) / 10} s (the site time limit, --site-timeout)`)),
    limitMs,
  );
  const perSite = Math.max(1, o.perSite ?? 4);
  const agents = createAgents(perSite);
  const server = serverFor(url);
  const found: Diagnostic[] = [];
  let checks = 0;
  let failed = 0;
  let reachable = true;
  let served: string | null = null;
  let source: string | null = null;
  let verdict: FleetVerdict | null = null;
  try {
    const stateUrl = `${server.origin.origin}${server.prefix}/${STATE_PATH}`;
    let r: Fetched | undefined;
    try {
      checks++;
      r = await get(server.origin, `${server.prefix}/${STATE_PATH}`, {
        timeoutMs: o.timeoutMs ?? 10_000,
        hash: 'sha256',
        keep: STATE_MAX_BYTES + 1,
        headOnly: true,
        agents,
        signal: abort.signal,
        ...(o.source !== undefined ? { localAddress: o.source } : {}),
      });
    } catch (e) {
      reachable = false;
      failed++;
      found.push({
        code: 'VERIFY_UNREACHABLE',
        severity: 'error',
        message: `${rec.site}: ${server.origin.origin} did not answer: ${(e as Error).message}; the site's other checks were not made`,
        hint: 'Is the boot server up, nginx running and listening there, and is `boot_server` in the record right? Network errors make verify exit 2.',
        file: stateUrl,
      });
    }
    if (r !== undefined) {
      const judged = judgeState(rec, r, stateUrl, url);
      served = judged.served;
      source = judged.source;
      verdict = judged.verdict;
      if (judged.found.length > 0) failed++;
      found.push(...judged.found);
      const planned: Check[] = [];
      // A site that serves another artifact or another site: its sample would only repeat that.
      if (!judged.other)
        for (const s of rec.sample)
          planned.push({
            site: rec.site,
            server,
            rawPath: `${server.prefix}/${s.path}`,
            url: `${server.origin.origin}${server.prefix}/${s.path}`,
            expect: { kind: 'served', path: s.path, sha256: s.sha256, size: s.size, type: contentKind(s.path) },
          });
      planned.push(...treelessProbes(rec.site, server, o.random));
      const run = new Run(planned, agents, {
        timeoutMs: o.timeoutMs ?? 10_000,
        concurrency: perSite,
        signal: abort.signal,
        ...(o.source !== undefined ? { source: o.source } : {}),
      });
      await run.all(new Map());
      checks += run.made;
      const tally = run.servers()[0];
      if (tally) {
        failed += tally.failed;
        reachable = tally.reachable;
      }
      found.push(
        ...sortDiagnostics(run.diagnostics).map((d) => ({
          ...d,
          message: `${rec.site}: ${d.message}`,
          ...(d.code === 'VERIFY_DRIFT' ? { hint: SAMPLE_HINT } : {}),
        })),
      );
    }
  } finally {
    clearTimeout(timer);
    agents.destroy();
  }
  const timedOut = abort.signal.aborted;
  const diagnostics = timedOut ? found.map((d) => (d.code === 'VERIFY_UNREACHABLE' ? { ...d, hint: TIMEOUT_HINT } : d)) : found;
  return {
    record: file,
    site: rec.site,
    url,
    state: fleetState(diagnostics, timedOut),
    expected: rec.digest,
    served,
    source,
    verdict,
    checks,
    failed,
    reachable: reachable && !timedOut,
    durationMs: Math.round(performance.now() - started),
    diagnostics,
  };
}

const TIMEOUT_HINT =
  'The server answers too slowly or not at all (a request that trickles data is not caught by --timeout); look at the boot server, or raise --site-timeout.';

/** What a site's state.json says, judged against its record. `other`: it serves another artifact or site. */
function judgeState(
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
  if (s.format !== 1 || typeof s.site !== 'string' || typeof s.digest !== 'string' || !DIGEST.test(s.digest))
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

const SAMPLE_HINT =
  "The boot server does not serve the published files its state says it serves: an edit on the server, or a tree changed after the switch. Run `harvgen pull` there again (it restores the artifact's tree) and look at who writes the served directory; edit the inventory, never the served files.";

const STATE_HINT = 'The state file is written by `harvgen pull` only; look at what serves `.harvgen/state.json` on that boot server.';

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

/** The worst of a site's findings. */
function fleetState(diagnostics: readonly Diagnostic[], timedOut: boolean): FleetState {
  const errors = new Set(diagnostics.filter((d) => d.severity === 'error').map((d) => d.code));
  if (timedOut) return 'timeout';
  if (errors.has('VERIFY_UNREACHABLE')) return 'unreachable';
  if (errors.has('VERIFY_FLEET_STATE')) return 'identity';
  if (errors.has('VERIFY_FLEET_DRIFT')) return 'drift';
  if (errors.has('VERIFY_DRIFT') || errors.has('VERIFY_EXPOSED')) return 'differs';
  if (errors.has('VERIFY_FLEET_VERDICT')) return 'verdict';
  return 'ok';
}

/** state.json's `source` when it is one (a boot server's word, printed: never more than a short reference). */
function sourceOf(s: Record<string, unknown>): string | null {
  return typeof s.source === 'string' && SOURCE_RE.test(s.source) && s.source.length <= 300 ? s.source : null;
}
