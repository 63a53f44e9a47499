// `harvgen status`: what every node did, from the boot servers' access logs (the library: src/status/).
import { jsonOutput, jsonSite, type JsonOutput } from '../../report/envelope.ts';
import { exitCode } from '../../diagnostics/exit.ts';
import { hasFailures, type Diagnostic } from '../../diagnostics/types.ts';
import type { Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';
import type { NodeStatus, UnknownMachine } from '../../status/types.ts';
import type { FleetSite, SiteSummary } from '../../status/fleet.ts';

/** The flags of status and discover (cac camel-cases them). */
export interface LogFlags extends Flags {
  readonly log?: string | readonly string[];
  readonly since?: string;
  readonly loopWindow?: string;
}

/** The flags of status alone. */
export interface StatusFlags extends LogFlags {
  readonly logDir?: string;
  readonly state?: string;
  readonly nodes?: boolean;
  readonly neverBooted?: string;
  readonly deployedAt?: string;
  readonly metrics?: string;
  readonly bmcLog?: string | readonly string[];
}

/** The --log, --since and --loop-window flags, or a usage error (`noLogs`: no --log is needed). */
export function logOptions(flags: LogFlags, now: number, parseSince: (t: string, now: number) => number | undefined, noLogs = false) {
  const logs = flags.log === undefined ? [] : (Array.isArray(flags.log) ? flags.log : [flags.log]).map(String);
  if (logs.length === 0 && !noLogs) return { problem: 'name at least one nginx access log with --log <file>' } as const;
  const since = flags.since === undefined ? undefined : parseSince(String(flags.since), now);
  if (flags.since !== undefined && since === undefined)
    return { problem: `--since ${String(flags.since)}: an ISO 8601 time (2026-11-23T10:00Z) or a duration (90m, 12h, 7d)` } as const;
  const window = flags.loopWindow === undefined ? 60 : Number(flags.loopWindow);
  if (!Number.isFinite(window) || window <= 0)
    return { problem: `--loop-window ${String(flags.loopWindow)}: minutes, more than 0` } as const;
  return { logs, ...(since !== undefined ? { since } : {}), loopWindowMs: window * 60_000 } as const;
}

/** The flags only status has, or a usage error. */
function fleetOptions(flags: StatusFlags) {
  const one = (v: unknown, name: string): string | undefined | { problem: string } => {
    if (v === undefined) return undefined;
    if (Array.isArray(v)) return { problem: `${name} is given once` };
    if (typeof v !== 'string' || v === '') return { problem: `${name} needs a value` };
    return v;
  };
  const logDir = one(flags.logDir, '--log-dir');
  const state = one(flags.state, '--state');
  const metrics = one(flags.metrics, '--metrics');
  const outDir = one(flags.out, '--out') ?? 'out';
  for (const v of [logDir, state, metrics, outDir]) if (typeof v === 'object') return v;
  if (logDir !== undefined && flags.log !== undefined) return { problem: '--log and --log-dir: give one of them' };
  const bmcRaw: readonly unknown[] = flags.bmcLog === undefined ? [] : Array.isArray(flags.bmcLog) ? flags.bmcLog : [flags.bmcLog];
  if (bmcRaw.some((f) => typeof f !== 'string' || f === '')) return { problem: '--bmc-log needs a file' };
  const bmcLogs = bmcRaw as string[];
  if (logDir !== undefined && bmcLogs.length > 0) return { problem: '--bmc-log is read with --log (or alone), not with --log-dir' };
  if (state !== undefined && flags.since !== undefined)
    return { problem: '--since and --state: a state keeps every request since its first run; give one of them' };
  const hours = flags.neverBooted === undefined ? 24 : Number(flags.neverBooted);
  if (!Number.isFinite(hours) || hours < 0) return { problem: `--never-booted ${String(flags.neverBooted)}: hours, 0 or more` };
  let deployedAt: number | undefined;
  if (flags.deployedAt !== undefined) {
    const text = String(flags.deployedAt);
    deployedAt = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
    if (Number.isNaN(deployedAt)) return { problem: `--deployed-at ${text}: an ISO 8601 time (2026-11-23T10:00Z)` };
  }
  return {
    ...(logDir !== undefined ? { logDir: logDir as string } : {}),
    ...(state !== undefined ? { state: state as string } : {}),
    ...(metrics !== undefined ? { metrics: metrics as string } : {}),
    outDir: outDir as string,
    bmcLogs,
    neverBootedMs: hours * 3_600_000,
    ...(deployedAt !== undefined ? { deployedAt } : {}),
  };
}

export async function runStatus(dirs: string[], flags: StatusFlags, out: CliOutput): Promise<number> {
  // Startup: status loads the compiler (compileModel), so not with --version/--help.
  const { status, parseSince } = await import('../../status/index.ts');
  const { summariesOf, writeMetrics } = await import('../../status/report.ts');
  const { bmcNote, leftOutNote, nodeLine, summaryLine, unknownLine } = await import('../../status/text.ts');
  const f = fleetOptions(flags);
  if ('problem' in f) return out.usageError(f.problem);
  if (f.logDir !== undefined) return runFleet(dirs, flags, f as typeof f & { logDir: string }, out);
  // --bmc-log alone: the BMC actions without the access logs (every verdict then says no request was read).
  const o = logOptions(flags, Date.now(), parseSince, f.bmcLogs.length > 0);
  if ('problem' in o) return out.usageError(o.problem!.replace('--log <file>', '--log <file> (or --log-dir <dir>)'));
  const result = await status({
    sites: dirs,
    ...o,
    ...(f.state !== undefined ? { state: f.state } : {}),
    ...(f.bmcLogs.length > 0 ? { bmcLogs: f.bmcLogs } : {}),
  });
  // A log that could not be read leaves every site of the run short of its requests.
  const unreadable = result.diagnostics.some((d) => d.code === 'STATUS_LOG_UNREADABLE');
  const many = result.sites.length > 1;
  const summaries =
    many || f.metrics !== undefined
      ? summariesOf(result, { logFiles: o.logs.length, outDir: f.outDir, deployedAt: f.deployedAt, neverMs: f.neverBootedMs })
      : undefined;
  const failed = f.metrics !== undefined ? await writeMetrics(f.metrics, summaries!) : undefined;
  const diagnostics = failed ? [...result.diagnostics, failed] : result.diagnostics;
  const ok = !hasFailures(diagnostics, flags.strict === true);
  if (flags.json) {
    const doc = jsonOutput({
      command: 'status',
      ok,
      sites: result.sites.map((s) => jsonSite(s)),
      diagnostics,
      debug: flags.debug === true,
      extra: {
        nodes: result.nodes,
        unknown: result.unknown,
        requests: result.requests,
        verify_requests: result.verifyRequests,
        server_requests: result.serverRequests,
        foreign_requests: result.foreignRequests,
        ...(result.bmc ? { bmc_log: result.bmc } : {}),
      },
    });
    out.printJson((summaries ? { ...doc, summaries } : doc) as JsonOutput);
    return exitCode(ok, diagnostics);
  }
  out.report(diagnostics, {}, flags);
  for (const n of result.notes ?? []) out.note(`note: ${n}`);
  // A log that could not be read: every verdict would be judged without its requests (a node that
  // booted would read never-booted), so none is printed; --json still carries them, with ok false.
  if (unreadable) {
    out.note('no verdicts: a log could not be read, and without its requests they would be wrong (fix the log above and run again)');
    return exitCode(ok, diagnostics);
  }
  if (many && flags.nodes !== true) {
    const width = Math.max(8, ...summaries!.map((s) => s.site.length));
    for (const s of summaries!) out.print(summaryLine(s, width));
  } else {
    const width = Math.max(8, ...result.nodes.map((n) => n.hostname.length));
    for (const n of result.nodes) out.print(nodeLine(n, width));
    for (const u of result.unknown) out.print(unknownLine(u, width));
  }
  out.note(
    `${result.nodes.length} node(s), ${result.unknown.length} unknown machine(s), ${result.requests} request(s) read, ${leftOutNote(result.verifyRequests, result.serverRequests, result.foreignRequests)}${result.skipped > 0 ? `, ${result.skipped} line(s) not in nginx's combined format` : ''}`,
  );
  if (result.bmc) out.note(bmcNote(result.bmc, o.logs.length === 0));
  return exitCode(ok, diagnostics);
}

/** The flags of `--log-dir` once read. */
interface FleetFlags {
  logDir: string;
  state?: string;
  metrics?: string;
  outDir: string;
  neverBootedMs: number;
  deployedAt?: number;
}

/** What a fleet run gathers from its sites, for the totals and `--json`. */
interface FleetGathered {
  readonly summaries: SiteSummary[];
  readonly diagnostics: Diagnostic[];
  readonly sites: ReturnType<typeof jsonSite>[];
  readonly nodes: NodeStatus[];
  readonly unknown: UnknownMachine[];
}

/** How one site is printed: the flags, whether with its nodes, the site column's width, the text forms. */
interface FleetPrint {
  readonly flags: StatusFlags;
  readonly detail: boolean;
  readonly many: boolean;
  readonly width: number;
  readonly text: typeof import('../../status/text.ts');
  readonly out: CliOutput;
}

/** `--log-dir`: one site at a time, a summary line each as it is done. */
async function runFleet(dirs: string[], flags: StatusFlags, f: FleetFlags, out: CliOutput): Promise<number> {
  const { parseSince } = await import('../../status/index.ts');
  const { statusFleet } = await import('../../status/fleet.ts');
  const text = await import('../../status/text.ts');
  // The logs are the site directories' (--log-dir), not --log.
  const o = logOptions(flags, Date.now(), parseSince, true);
  if ('problem' in o) return out.usageError(o.problem!);
  const { since, loopWindowMs } = o as { since?: number; loopWindowMs: number };
  const detail = flags.nodes === true || dirs.length === 1;
  const got: FleetGathered = { summaries: [], diagnostics: [], sites: [], nodes: [], unknown: [] };
  const width = Math.max(8, ...dirs.map((d) => d.split('/').pop()!.length));
  const print: FleetPrint = { flags, detail, many: dirs.length > 1, width, text, out };
  for await (const s of statusFleet({
    sites: dirs,
    logDir: f.logDir,
    outDir: f.outDir,
    ...(f.state !== undefined ? { state: f.state } : {}),
    ...(since !== undefined ? { since } : {}),
    loopWindowMs,
    neverBootedMs: f.neverBootedMs,
    ...(f.deployedAt !== undefined ? { deployedAt: f.deployedAt } : {}),
    detail,
  }))
    takeSite(s, got, print);
  return await fleetEnd(got, f, print);
}

/** One site as the fleet run yields it: gathered, and printed unless `--json`. */
function takeSite(s: FleetSite, got: FleetGathered, { flags, detail, many, width, text, out }: FleetPrint): void {
  got.diagnostics.push(...s.diagnostics);
  if (s.fatal) {
    if (!flags.json) out.report(s.diagnostics, {}, flags);
    return;
  }
  const site = jsonSite({ dir: s.summary.dir, site: s.summary.site, summary: { nodes: s.summary.nodes }, diagnostics: s.diagnostics });
  // A log of the site that could not be read: its verdicts would be judged without its requests
  // (as with --log): none are given, in text, JSON or metrics.
  if (s.diagnostics.some((d) => d.code === 'STATUS_LOG_UNREADABLE')) {
    got.sites.push(site);
    if (!flags.json) {
      out.report(s.diagnostics, {}, flags);
      out.note(
        `${s.summary.site}: no verdicts: a log could not be read, and without its requests they would be wrong (fix the log above and run again)`,
      );
    }
    return;
  }
  got.summaries.push(s.summary);
  got.sites.push(site);
  if (flags.json) {
    if (detail) (got.nodes.push(...(s.nodes ?? [])), got.unknown.push(...(s.unknown ?? [])));
    return;
  }
  out.report(s.diagnostics, {}, flags);
  for (const n of s.notes) out.note(`note: ${n}`);
  if (detail) {
    const w = Math.max(8, ...(s.nodes ?? []).map((n) => n.hostname.length));
    for (const n of s.nodes ?? []) out.print(text.nodeLine(n, w));
    for (const u of s.unknown ?? []) out.print(text.unknownLine(u, w));
  }
  if (!detail || many) out.print(text.summaryLine(s.summary, width));
}

/** After the last site: the metrics file, then the totals (a JSON document with `--json`, else a note); the exit code. */
async function fleetEnd(got: FleetGathered, f: FleetFlags, { flags, text, out }: FleetPrint): Promise<number> {
  const { summaries, diagnostics } = got;
  if (f.metrics !== undefined) {
    const { writeMetrics } = await import('../../status/report.ts');
    const failed = await writeMetrics(f.metrics, summaries);
    if (failed) {
      diagnostics.push(failed);
      if (!flags.json) out.report([failed], {}, flags);
    }
  }
  const ok = !hasFailures(diagnostics, flags.strict === true);
  const sum = (of: (s: SiteSummary) => number) => summaries.reduce((a, s) => a + of(s), 0);
  const requests = sum((s) => s.requests);
  const verifyRequests = sum((s) => s.verify_requests);
  const serverRequests = sum((s) => s.server_requests);
  const foreignRequests = sum((s) => s.foreign_requests);
  if (flags.json) {
    const doc = jsonOutput({
      command: 'status',
      ok,
      sites: got.sites,
      diagnostics,
      debug: flags.debug === true,
      extra: {
        nodes: got.nodes,
        unknown: got.unknown,
        requests,
        verify_requests: verifyRequests,
        server_requests: serverRequests,
        foreign_requests: foreignRequests,
      },
    });
    out.printJson({ ...doc, summaries } as JsonOutput);
    return exitCode(ok, diagnostics);
  }
  out.note(
    `${summaries.length} site(s), ${sum((s) => s.nodes)} node(s), ${sum((s) => s.never_booted.length)} never booted ${f.neverBootedMs / 3_600_000} h after their deploy, ${requests} request(s) counted; left out: ${text.leftOutNote(verifyRequests, serverRequests, foreignRequests)}`,
  );
  return exitCode(ok, diagnostics);
}
