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
import { listFleetRecords, readFleetRecord, recordServers, type FleetRecord } from './fleet-record.ts';
import { judgeState, STATE_MAX_BYTES } from './fleet-identity.ts';
import { createAgents, get, type Agents, type Fetched } from './http.ts';
import { STATE_PATH } from './identity.ts';
import { contentKind, serverFor, treelessProbes, type Check, type Server } from './plan.ts';
import { Run } from './run.ts';
import type { FleetVerdict, VerifyServer } from './types.ts';

export { listFleetRecords, readFleetRecord, type FleetRecord } from './fleet-record.ts';
export type { FleetVerdict } from './types.ts';

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
  return Promise.all(recordServers(rec).map((url) => verifyServer(file, rec, url, o)));
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
  const ask: ServerAsk = { o, perSite, agents: createAgents(perSite), signal: abort.signal, server: serverFor(url) };
  const f: ServerFindings = { found: [], checks: 0, failed: 0, reachable: true, served: null, source: null, verdict: null };
  try {
    const r = await fetchState(rec, ask, f);
    if (r !== undefined) await checkServed(rec, url, r, ask, f);
  } finally {
    clearTimeout(timer);
    ask.agents.destroy();
  }
  const timedOut = abort.signal.aborted;
  const diagnostics = timedOut ? f.found.map((d) => (d.code === 'VERIFY_UNREACHABLE' ? { ...d, hint: TIMEOUT_HINT } : d)) : f.found;
  return {
    record: file,
    site: rec.site,
    url,
    state: fleetState(diagnostics, timedOut),
    expected: rec.digest,
    served: f.served,
    source: f.source,
    verdict: f.verdict,
    checks: f.checks,
    failed: f.failed,
    reachable: f.reachable && !timedOut,
    durationMs: Math.round(performance.now() - started),
    diagnostics,
  };
}

/** How one boot server is asked: the options, its sockets and the site's time limit. */
interface ServerAsk {
  readonly o: VerifyFleetOptions;
  readonly perSite: number;
  readonly agents: Agents;
  readonly signal: AbortSignal;
  readonly server: Server;
}

/** What one boot server's checks found so far. */
interface ServerFindings {
  readonly found: Diagnostic[];
  checks: number;
  failed: number;
  reachable: boolean;
  served: string | null;
  source: string | null;
  verdict: FleetVerdict | null;
}

/** The materializer's state.json (its head); undefined, reported, when the server does not answer. */
async function fetchState(rec: FleetRecord, { o, agents, signal, server }: ServerAsk, f: ServerFindings): Promise<Fetched | undefined> {
  f.checks++;
  try {
    return await get(server.origin, `${server.prefix}/${STATE_PATH}`, {
      timeoutMs: o.timeoutMs ?? 10_000,
      hash: 'sha256',
      keep: STATE_MAX_BYTES + 1,
      headOnly: true,
      agents,
      signal,
      ...(o.source !== undefined ? { localAddress: o.source } : {}),
    });
  } catch (e) {
    f.reachable = false;
    f.failed++;
    f.found.push({
      code: 'VERIFY_UNREACHABLE',
      severity: 'error',
      message: `${rec.site}: ${server.origin.origin} did not answer: ${(e as Error).message}; the site's other checks were not made`,
      hint: 'Is the boot server up, nginx running and listening there, and is `boot_server` in the record right? Network errors make verify exit 2.',
      file: `${server.origin.origin}${server.prefix}/${STATE_PATH}`,
    });
    return undefined;
  }
}

/** What state.json says, judged; then the sample (unless it serves another artifact or site) and the probes. */
async function checkServed(rec: FleetRecord, url: string, r: Fetched, ask: ServerAsk, f: ServerFindings): Promise<void> {
  const { o, server } = ask;
  const judged = judgeState(rec, r, `${server.origin.origin}${server.prefix}/${STATE_PATH}`, url);
  f.served = judged.served;
  f.source = judged.source;
  f.verdict = judged.verdict;
  if (judged.found.length > 0) f.failed++;
  f.found.push(...judged.found);
  // A site that serves another artifact or another site: its sample would only repeat that.
  const planned: Check[] = judged.other ? [] : rec.sample.map((s) => sampleCheck(rec.site, server, s));
  planned.push(...treelessProbes(rec.site, server, o.random));
  const run = new Run(planned, ask.agents, {
    timeoutMs: o.timeoutMs ?? 10_000,
    concurrency: ask.perSite,
    signal: ask.signal,
    ...(o.source !== undefined ? { source: o.source } : {}),
  });
  await run.all(new Map());
  f.checks += run.made;
  const tally = run.servers()[0];
  if (tally) {
    f.failed += tally.failed;
    f.reachable = tally.reachable;
  }
  f.found.push(
    ...sortDiagnostics(run.diagnostics).map((d) => ({
      ...d,
      message: `${rec.site}: ${d.message}`,
      ...(d.code === 'VERIFY_DRIFT' ? { hint: SAMPLE_HINT } : {}),
    })),
  );
}

/** The check of one sampled file: served with its size and SHA-256. */
function sampleCheck(site: string, server: Server, s: FleetRecord['sample'][number]): Check {
  return {
    site,
    server,
    rawPath: `${server.prefix}/${s.path}`,
    url: `${server.origin.origin}${server.prefix}/${s.path}`,
    expect: { kind: 'served', path: s.path, sha256: s.sha256, size: s.size, type: contentKind(s.path) },
  };
}

const TIMEOUT_HINT =
  'The server answers too slowly or not at all (a request that trickles data is not caught by --timeout); look at the boot server, or raise --site-timeout.';

const SAMPLE_HINT =
  "The boot server does not serve the published files its state says it serves: an edit on the server, or a tree changed after the switch. Run `harvgen pull` there again (it restores the artifact's tree) and look at who writes the served directory; edit the inventory, never the served files.";

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
