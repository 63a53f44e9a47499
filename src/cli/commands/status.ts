// `harvgen status`: what every node did, from the boot servers' access logs (the library: src/status/).
import type { CAC } from 'cac';
import { jsonOutput, jsonSite } from '../../report/envelope.ts';
import { exitCode } from '../../diagnostics/exit.ts';
import { hasFailures } from '../../diagnostics/types.ts';
import { overSites, type Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';
import type { NodeStatus, UnknownMachine } from '../../status/types.ts';

/** The flags of status and discover (cac camel-cases them). */
export interface LogFlags extends Flags {
  readonly log?: string | readonly string[];
  readonly since?: string;
  readonly loopWindow?: string;
}

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'status [...site-dirs]',
      "What every node did, read from the boot servers' nginx access logs: last boot, each file fetched, the installer's events, a verdict; and every unknown MAC that asked (default: every site under sites/)",
    )
    .option('--log <file>', "An nginx access log of a boot server (repeat for rotated, gzipped and other servers' logs)")
    .option('--since <time>', 'Only requests since an ISO 8601 time or a duration back from now (90m, 12h, 7d)')
    .option('--loop-window <minutes>', 'A new install this soon after a SUCCEEDED is a reinstall loop (default 60)')
    .example('harvgen status sites/location_x --log /var/log/nginx/harvgen-location_x.access.log')
    .example("harvgen status sites/location_x --log 'access.log' --log access.log.1 --log access.log.2.gz --since 1d --json")
    .action(overSites(out, (dirs, flags) => runStatus(dirs, flags as LogFlags, out)));
}

/** The --log, --since and --loop-window flags, or a usage error. */
export function logOptions(flags: LogFlags, now: number, parseSince: (t: string, now: number) => number | undefined) {
  const logs = flags.log === undefined ? [] : (Array.isArray(flags.log) ? flags.log : [flags.log]).map(String);
  if (logs.length === 0) return { problem: 'name at least one nginx access log with --log <file>' } as const;
  const since = flags.since === undefined ? undefined : parseSince(String(flags.since), now);
  if (flags.since !== undefined && since === undefined)
    return { problem: `--since ${String(flags.since)}: an ISO 8601 time (2026-11-23T10:00Z) or a duration (90m, 12h, 7d)` } as const;
  const window = flags.loopWindow === undefined ? 60 : Number(flags.loopWindow);
  if (!Number.isFinite(window) || window <= 0)
    return { problem: `--loop-window ${String(flags.loopWindow)}: minutes, more than 0` } as const;
  return { logs, ...(since !== undefined ? { since } : {}), loopWindowMs: window * 60_000 } as const;
}

async function runStatus(dirs: string[], flags: LogFlags, out: CliOutput): Promise<number> {
  // Startup: status loads the compiler (compileModel), so not with --version/--help.
  const { status, parseSince } = await import('../../status/index.ts');
  const o = logOptions(flags, Date.now(), parseSince);
  if ('problem' in o) return out.usageError(o.problem!);
  const result = await status({ sites: dirs, ...o });
  const ok = !hasFailures(result.diagnostics, flags.strict === true);
  if (flags.json) {
    out.printJson(
      jsonOutput({
        command: 'status',
        ok,
        sites: result.sites.map((s) => jsonSite(s)),
        diagnostics: result.diagnostics,
        debug: flags.debug === true,
        extra: { nodes: result.nodes, unknown: result.unknown, requests: result.requests, verify_requests: result.verifyRequests },
      }),
    );
    return exitCode(ok, result.diagnostics);
  }
  out.report(result.diagnostics, {}, flags);
  const width = Math.max(8, ...result.nodes.map((n) => n.hostname.length));
  for (const n of result.nodes) out.print(nodeLine(n, width));
  for (const u of result.unknown) out.print(unknownLine(u, width));
  out.note(
    `${result.nodes.length} node(s), ${result.unknown.length} unknown machine(s), ${result.requests} request(s) read, ${result.verifyRequests} of them harvgen verify's (left out)${result.skipped > 0 ? `, ${result.skipped} line(s) not in nginx's combined format` : ''}`,
  );
  return exitCode(ok, result.diagnostics);
}

const hhmm = (t: string) => t.slice(0, 19).replace('T', ' ');

/** `hv-1  installed  boot 2026-11-23 10:10:00 10.0.0.11 52:54:00:..  script 200 kernel 200 ...  STARTED 10:14 SUCCEEDED 10:24` */
export function nodeLine(n: NodeStatus, width: number): string {
  const parts = [n.hostname.padEnd(width), n.verdict.padEnd(12)];
  if (n.last_boot) parts.push(`boot ${hhmm(n.last_boot.time)} from ${n.last_boot.ip} (${n.last_boot.mac})`);
  const f = Object.entries(n.fetches).map(([k, v]) => `${k} ${v.status}${v.count > 1 ? ` x${v.count}` : ''}`);
  if (f.length > 0) parts.push(f.join(' '));
  if (n.events.length > 0)
    parts.push(n.events.map((e) => `${e.event} ${hhmm(e.time).slice(11)}${e.accepted ? '' : ' (ignored)'}`).join(' '));
  const line = parts.join('  ').trimEnd();
  return n.problems.length > 0 ? `${line}\n${n.problems.map((p) => `${' '.repeat(width + 2)}! ${p}`).join('\n')}` : line;
}

function unknownLine(u: UnknownMachine, width: number): string {
  const r = u.report;
  const what = r ? [r.manufacturer, r.product, r.serial && `serial ${r.serial}`, r.uuid && `uuid ${r.uuid}`].filter(Boolean).join(' ') : '';
  return `${'(unknown)'.padEnd(width)}  ${u.mac}  ${u.requests} request(s) ${hhmm(u.first)} .. ${hhmm(u.last)} from ${u.ips.join(', ')}${what ? `  ${what}` : ''}${u.joined ? `  joined as ${u.joined.host} (${u.joined.event})` : ''}`;
}
