// What `harvgen status` prints: a line per node, per unknown machine, per site, and its notes.
// Every value shown comes from the status result, whose reported values are bounded and printable
// (src/status/log.ts, reportedValue).
import type { SiteSummary } from './fleet.ts';
import type { BmcAction, NodeStatus, StatusResult, UnknownMachine } from './types.ts';

const hhmm = (t: string) => t.slice(0, 19).replace('T', ' ');

/** `s000  100 node(s)  installed 80 never-booted 20  unknown 2  requests 1234 last 2026-11-24 10:00:00  never booted 24 h after the deploy (...): 20: n1 n2 ...` */
export function summaryLine(s: SiteSummary, width: number): string {
  const parts = [s.site.padEnd(width), `${String(s.nodes).padStart(4)} node(s)`];
  if (!s.ok && s.nodes === 0) return `${parts.join('  ')}  (not read: see the errors above)`;
  const v = Object.entries(s.verdicts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  parts.push(v.length > 0 ? v.join(' ') : 'no nodes');
  if (s.unknown > 0) parts.push(`unknown ${s.unknown}`);
  parts.push(`requests ${s.requests}${s.last_request ? ` last ${hhmm(s.last_request)}` : ''}`);
  if (s.never_booted.length > 0) {
    const names = s.never_booted.slice(0, 5).join(' ') + (s.never_booted.length > 5 ? ` +${s.never_booted.length - 5}` : '');
    parts.push(
      `never booted ${s.never_booted_hours} h after the deploy of ${hhmm(s.deployed_at!)} (${s.deployed_from}): ${s.never_booted.length}: ${names}`,
    );
  } else if (s.deployed_at === undefined && s.verdicts['never-booted'] > 0) parts.push('deploy time unknown');
  if (!s.ok) parts.push('(incomplete: see the errors above)');
  return parts.join('  ');
}

/** `hv-1  installed  boot 2026-11-23 10:10:00 10.0.0.11 52:54:00:..  script 200 kernel 200 ...  STARTED 10:14 SUCCEEDED 10:24` */
export function nodeLine(n: NodeStatus, width: number): string {
  const parts = [n.hostname.padEnd(width), n.verdict.padEnd(12)];
  if (n.last_boot) parts.push(`boot ${hhmm(n.last_boot.time)} from ${n.last_boot.ip} (${n.last_boot.mac})`);
  const f = Object.entries(n.fetches).map(([k, v]) => `${k} ${v.status}${v.count > 1 ? ` x${v.count}` : ''}`);
  if (f.length > 0) parts.push(f.join(' '));
  if (n.medium) parts.push(`boot ISO ${n.medium.status}${n.medium.count > 1 ? ` x${n.medium.count}` : ''} (its BMC, ${n.medium.ip})`);
  if (n.events.length > 0)
    parts.push(n.events.map((e) => `${e.event} ${hhmm(e.time).slice(11)}${e.accepted ? '' : ' (ignored)'}`).join(' '));
  const indent = ' '.repeat(width + 2);
  const lines = [parts.join('  ').trimEnd()];
  if (n.bmc) lines.push(`${indent}${bmcLine(n.bmc)}`);
  for (const p of n.problems) lines.push(`${indent}! ${p}`);
  return lines.join('\n');
}

/** `bmc pxe-once ok 2026-11-25 01:30:00: boots from the network once ...`; exit 3 `NOT APPLIED (exit 3)`, else `FAILED (exit n)`. */
export function bmcLine(b: BmcAction): string {
  const how = b.exit === 0 ? 'ok' : b.exit === 3 ? 'NOT APPLIED (exit 3)' : `FAILED (exit ${b.exit})`;
  return `bmc ${b.action} ${how} ${hhmm(b.time)}: ${b.message}`;
}

export function unknownLine(u: UnknownMachine, width: number): string {
  const r = u.report;
  const what = r ? [r.manufacturer, r.product, r.serial && `serial ${r.serial}`, r.uuid && `uuid ${r.uuid}`].filter(Boolean).join(' ') : '';
  return `${'(unknown)'.padEnd(width)}  ${u.mac}  ${u.requests} request(s) ${hhmm(u.first)} .. ${hhmm(u.last)} from ${u.ips.join(', ')}${what ? `  ${what}` : ''}${u.joined ? `  joined as ${u.joined.host} (${u.joined.event})` : ''}`;
}

/** `BMC log: 12 line(s) read, 1 not of its shape (skipped), 2 naming no node of their site (ignored)` */
export function bmcNote(b: NonNullable<StatusResult['bmc']>, noAccessLog: boolean): string {
  const parts = [`BMC log: ${b.lines} line(s) read`];
  if (b.skipped > 0) parts.push(`${b.skipped} not of its shape (skipped)`);
  if (b.unknown_nodes > 0) parts.push(`${b.unknown_nodes} naming no node of their site (ignored)`);
  for (const file of b.cut) parts.push(`only the newest part of ${file} read (it is larger than the limit)`);
  if (noAccessLog) parts.push('no access log given (--log): the verdicts are not judged');
  return parts.join(', ');
}

/** `48 of them harvgen verify's (left out), 3 from the boot server itself, 2 from addresses no node of theirs uses (left out)` */
export function leftOutNote(verify: number, server: number, foreign: number): string {
  const parts = [`${verify} of them harvgen verify's (left out)`];
  if (server > 0) parts.push(`${server} from the boot server itself (left out)`);
  if (foreign > 0) parts.push(`${foreign} from addresses no node of theirs uses (left out)`);
  return parts.join(', ');
}
