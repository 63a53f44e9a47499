// `harvgen status`: what every node did, read from the boot servers' nginx access logs. No state
// of its own: the site's model says which requests belong to which node (scripts by MAC, configs
// and events by hostname, release files by the address that fetched the node's script), the log
// says what happened. Keyed names (nginx.file_key) are matched by their shape, so no key is read.
import type { Diagnostic } from '../diagnostics/types.ts';
import type { SiteModel } from '../model/index.ts';
import { compileModel } from '../pipeline.ts';
import type { LogRequest } from './log.ts';
import { streamLogs } from './read-logs.ts';
import { problemWords, unreadableHint } from './problems.ts';
import { streamIncremental } from './cursor.ts';
import { MAX_STRANGERS, modelFingerprint, SiteTally, type SiteAggregate } from './tally.ts';
import { HolderWatch } from './holders.ts';
import { loadUnit, newUnit, StateWriter, unitFile, unusableReason } from './state.ts';
import { lockState } from './lock.ts';
import { bmcUnreadableHint, lastBmcActions, readBmcLogs } from './bmc-log.ts';
import type { BmcLogCounts, NodeStatus, StatusResult, UnknownMachine } from './types.ts';

export type * from './types.ts';
export { parseSince } from './log.ts';

export interface StatusOptions {
  readonly sites: readonly string[];
  /** nginx access logs (combined format; plain, rotated or gzipped), of one or several boot servers. */
  readonly logs: readonly string[];
  /** Only requests at or after this time (ms since the epoch). */
  readonly since?: number;
  /** A new install this soon after a SUCCEEDED is a loop (default one hour). */
  readonly loopWindowMs?: number;
  /**
   * A directory harvgen keeps between runs (src/status/state.ts): read only what the logs gained
   * since the last run and merge it with what was read before (not with `since`).
   */
  readonly state?: string;
  /**
   * Logs the generated BMC scripts append to (`HARVGEN_BMC_LOG`): each node's newest line becomes
   * its `bmc`. Read whole at every run (not with `since`, not kept in `state`).
   */
  readonly bmcLogs?: readonly string[];
}

/** Unreadable logs as diagnostics. */
export function unreadableDiagnostics(unreadable: readonly { file: string; problem: string }[]): Diagnostic[] {
  return unreadable.map((u) => ({
    code: 'STATUS_LOG_UNREADABLE',
    severity: 'error',
    message: `the log ${u.file} cannot be read (${problemWords(u.problem)})`,
    hint: unreadableHint(u.problem),
    file: u.file,
  }));
}

/** Unreadable BMC logs as diagnostics. */
export function bmcUnreadableDiagnostics(unreadable: readonly { file: string; problem: string }[]): Diagnostic[] {
  return unreadable.map((u) => ({
    code: 'STATUS_BMC_LOG_UNREADABLE',
    severity: 'error',
    message: `the BMC log ${u.file} cannot be read (${problemWords(u.problem)})`,
    hint: bmcUnreadableHint(u.problem),
    file: u.file,
  }));
}

/** Each node's last BMC action from the BMC logs, and what reading them gave. */
function withBmc(result: StatusResult, models: readonly SiteModel[], files: readonly string[]): StatusResult & { bmc: BmcLogCounts } {
  const read = readBmcLogs(files);
  let unknownNodes = 0;
  const bySite = new Map(
    models.map((m) => {
      const a = lastBmcActions(m, read.lines);
      unknownNodes += a.unknownNodes;
      return [m.site, a.actions] as const;
    }),
  );
  const nodes = result.nodes.map((n) => {
    const bmc = bySite.get(n.site)?.get(n.hostname);
    return bmc ? { ...n, bmc } : n;
  });
  return {
    ...result,
    nodes,
    diagnostics: [...bmcUnreadableDiagnostics(read.unreadable), ...result.diagnostics],
    bmc: { lines: read.lines.length, skipped: read.skipped, unknown_nodes: unknownNodes, cut: read.cut },
  };
}

/** Read the logs and say what every node of every site did. */
export async function status(options: StatusOptions): Promise<StatusResult> {
  const { models, ...result } = await statusOfLogs(options);
  if (options.bmcLogs === undefined || options.bmcLogs.length === 0) return result;
  return withBmc(result, models, options.bmcLogs);
}

/** status without the BMC log, with the models of the sites it read (discover's stubs read their facts). */
export async function statusOfLogs(options: StatusOptions): Promise<StatusResult & { models: readonly SiteModel[] }> {
  const run = await compileSites(options);
  if (options.state === undefined) return readAll(run, options);
  // Incremental: the cursors and tallies of the last run, merged with what the logs gained since.
  const locked = await lockState(options.state);
  if ('diagnostic' in locked) {
    run.diagnostics.push(locked.diagnostic);
    const { sites, nodes, unknown, diagnostics, left, notes, models } = run;
    return { sites, nodes, unknown, diagnostics, requests: 0, ...left, skipped: 0, notes, models };
  }
  try {
    return await readSince(run, options, options.state);
  } finally {
    await locked.release();
  }
}

/** One status run: the sites compiled, and what their tallies gave so far. */
interface LogsRun {
  readonly loopWindow: number;
  readonly sites: { dir: string; site?: string; diagnostics: Diagnostic[] }[];
  readonly models: SiteModel[];
  readonly diagnostics: Diagnostic[];
  readonly notes: string[];
  readonly nodes: NodeStatus[];
  readonly unknown: UnknownMachine[];
  readonly counts: NonNullable<StatusResult['counts']>[number][];
  /** Requests left out, by why. */
  readonly left: { verifyRequests: number; serverRequests: number; foreignRequests: number };
  /** Two boot servers: when both held the shared address (src/status/holders.ts). */
  readonly holders: readonly HolderWatch[];
}

/** Each site compiled (its errors kept); the run that reads their logs. */
async function compileSites(options: StatusOptions): Promise<LogsRun> {
  const diagnostics: Diagnostic[] = [];
  const sites: LogsRun['sites'] = [];
  const models: SiteModel[] = [];
  for (const dir of options.sites) {
    const compiled = await compileModel(dir);
    const model = compiled.renderable?.model;
    const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
    sites.push({ dir, ...(compiled.site ? { site: compiled.site } : {}), diagnostics: errors });
    diagnostics.push(...errors);
    if (model) models.push(model);
  }
  const left = { verifyRequests: 0, serverRequests: 0, foreignRequests: 0 };
  const holders = HolderWatch.of(models);
  return {
    loopWindow: options.loopWindowMs ?? 3_600_000,
    sites,
    models,
    diagnostics,
    notes: [],
    nodes: [],
    unknown: [],
    counts: [],
    left,
    holders,
  };
}

/** Each request to every site's tally and split watch. */
function feed(run: LogsRun, tallies: readonly SiteTally[]): (r: LogRequest) => void {
  return (r) => {
    for (const t of tallies) t.add(r);
    for (const h of run.holders) h.add(r);
  };
}

/** What the logs gave: the unreadable ones first, the splits last; each site's nodes, unknown machines and counts. */
function takeTallies(run: LogsRun, tallies: readonly SiteTally[], unreadable: Parameters<typeof unreadableDiagnostics>[0]): void {
  run.diagnostics.unshift(...unreadableDiagnostics(unreadable));
  run.diagnostics.push(...run.holders.flatMap((h) => h.diagnostics()));
  for (const tally of tallies) {
    const a = tally.aggregate;
    run.nodes.push(...tally.nodes(run.loopWindow));
    run.unknown.push(...tally.unknownMachines());
    const c = { verifyRequests: a.verifyRequests, serverRequests: a.serverRequests ?? 0, foreignRequests: a.foreignRequests ?? 0 };
    for (const k of Object.keys(run.left) as (keyof typeof run.left)[]) run.left[k] += c[k];
    const site = tally.model.site;
    if (a.strangersOmitted)
      run.notes.push(`${site}: ${a.strangersOmitted} request(s) of unknown MACs past the first ${MAX_STRANGERS} not listed`);
    run.counts.push({ site, requests: a.requests, ...c, ...(a.lastRequest !== undefined ? { lastRequest: a.lastRequest } : {}) });
  }
}

/** The logs from their first line (or from `since`), without a state. */
async function readAll(run: LogsRun, options: StatusOptions): Promise<StatusResult & { models: readonly SiteModel[] }> {
  const tallies = run.models.map((m) => new SiteTally(m));
  const logs = await streamLogs(options.logs, feed(run, tallies), options.since);
  takeTallies(run, tallies, logs.unreadable);
  const { sites, nodes, unknown, diagnostics, left, notes, counts, models } = run;
  return { sites, nodes, unknown, diagnostics, requests: logs.requests, ...left, skipped: logs.skipped + logs.long, notes, counts, models };
}

/** The logs from where the last run stopped, onto its saved tallies (under the state's lock); the state saved when whole. */
async function readSince(run: LogsRun, options: StatusOptions, state: string): Promise<StatusResult & { models: readonly SiteModel[] }> {
  const writer = new StateWriter(state);
  const fingerprints = Object.fromEntries(run.models.map((m) => [m.site, modelFingerprint(m)]));
  const file = unitFile(state, 'logs');
  const saved = loadUnit(file, fingerprints);
  if (saved.unusable) run.notes.push(`${file}: not merged (${unusableReason(saved.unusable)}): the logs are read from their first line`);
  const tallies = run.models.map((m) => new SiteTally(m, saved.state?.sites[m.site]?.aggregate));
  const read = await streamIncremental(options.logs, feed(run, tallies), saved.state?.cursors ?? []);
  // The lines read this run only: a split the last run reported is not named again.
  takeTallies(run, tallies, read.unreadable);
  const aggregates: Record<string, { fingerprint: string; aggregate: SiteAggregate }> = {};
  for (const tally of tallies) aggregates[tally.model.site] = { fingerprint: fingerprints[tally.model.site]!, aggregate: tally.aggregate };
  const requests = (saved.state?.requests ?? 0) + read.requests;
  const skipped = (saved.state?.skipped ?? 0) + read.skipped + read.long;
  // Saved only when every log was read and every site compiled: the next run then merges into a whole.
  if (read.unreadable.length === 0 && run.models.length === options.sites.length) {
    writer.stage(file, newUnit(aggregates, read.cursors, requests, skipped));
    writer.commit();
  } else run.notes.push(`${file}: not updated (a log could not be read or a site did not compile)`);
  const { sites, nodes, unknown, diagnostics, left, notes, counts, models } = run;
  return { sites, nodes, unknown, diagnostics, requests, ...left, skipped, notes, counts, models };
}

/** One site's nodes and unknown machines, from the requests (in time order), and how many requests were verify's (left out). */
export function siteStatus(
  model: SiteModel,
  requests: readonly LogRequest[],
  loopWindow = 3_600_000,
): { nodes: NodeStatus[]; unknown: UnknownMachine[]; verifyRequests: number } {
  const tally = new SiteTally(model);
  tally.addAll(requests);
  return { nodes: tally.nodes(loopWindow), unknown: tally.unknownMachines(), verifyRequests: tally.aggregate.verifyRequests };
}
