// One node's tally, as plain data (`NodeAggregate`, saved by `status --state`), and its verdict.
// What one node keeps does not grow with the log: its newest problems and events are kept (with
// counts of those left out), its installs counted, and of its install starts only those since its
// last install (what a loop is judged by).
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import type { LogRequest } from './log.ts';
import { problemOf } from './problems.ts';
import type { FetchKind, FetchSummary, NodeStatus, StatusEvent, Verdict } from './types.ts';

/** The newest problems of a node kept (older ones counted in `problemsOmitted`). */
export const MAX_NODE_PROBLEMS = 50;
/** The newest events of a node kept (older ones counted in `eventsOmitted`). */
export const MAX_NODE_EVENTS = 100;

/** What a request leaves of itself in the tally. */
export interface Seen {
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly ip: string;
  readonly status: number;
}

/** Everything one node did, as plain data. */
export interface NodeAggregate {
  fetches: Partial<Record<FetchKind, { count: number; last: Seen }>>;
  events: (StatusEvent & { at: number })[];
  problems: string[];
  /** Problems left out (older than the MAX_NODE_PROBLEMS kept). */
  problemsOmitted?: number;
  /** Events left out (older than the MAX_NODE_EVENTS kept). */
  eventsOmitted?: number;
  /** SUCCEEDED events accepted (the events kept may be fewer). */
  installs?: number;
  /** The last accepted SUCCEEDED (ms). */
  lastSuccess?: number;
  /** The first request of its own files with verify's User-Agent from its own address (counted, noted once). */
  verifyAgent?: Seen;
  lastScript?: Seen & { mac: string };
  /** Its boot medium fetched by its BMC (`medium: iso`): counted apart from what the node fetched. */
  medium?: { count: number; last: Seen };
  /** Config/seed fetches and STARTED events since the last install, times (for loops: the first two kept). */
  starts: number[];
}

/** A node's empty tally. */
export function emptyNode(): NodeAggregate {
  return { fetches: {}, events: [], problems: [], starts: [], installs: 0 };
}

/** A tally saved before these bounds: its counts made whole. */
export function completeNode(agg: NodeAggregate): NodeAggregate {
  if (agg.installs === undefined) {
    const successes = agg.events.filter((e) => e.accepted && e.event === 'SUCCEEDED');
    agg.installs = successes.length;
    if (successes.length > 0) agg.lastSuccess = successes[successes.length - 1]!.at;
  }
  return agg;
}

export const iso = (t: number) => new Date(t).toISOString();

/** A time as `iso` writes it. */
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;
/** What a problem says apart from its times. */
const shapeOf = (text: string) => text.replace(new RegExp(ISO_TIME.source, 'g'), '<time>');
/** The count `problem()` appends to a problem seen again. */
const AGAIN = / \(and (\d+) more times? in a row(?:, the last at [^)]*)?\)$/;

/** A kept problem: its first occurrence's text, its shape, and how many more times it came in a row. */
function repeated(line: string): { first: string; shape: string; more: number } {
  const m = AGAIN.exec(line);
  const first = m ? line.slice(0, m.index) : line;
  return { first, shape: shapeOf(first), more: m ? Number(m[1]) : 0 };
}
export const seen = (r: LogRequest): Seen => ({ time: r.time, ip: r.ip, status: r.status });

/** A node's tally while requests are added. */
export class NodeLog {
  constructor(
    readonly model: SiteModel,
    readonly node: ResolvedNode,
    readonly allow: readonly string[],
    readonly agg: NodeAggregate,
  ) {}
  fetch(kind: FetchKind, r: LogRequest): void {
    const f = this.agg.fetches[kind];
    this.agg.fetches[kind] = { count: (f?.count ?? 0) + 1, last: seen(r) };
    if (r.status >= 400) this.problem(problemOf(this.model, kind, r, this.node));
  }
  /** Its boot medium fetched by its BMC: no boot of the node's (its script starts one). */
  mediumFetch(r: LogRequest): void {
    this.agg.medium = { count: (this.agg.medium?.count ?? 0) + 1, last: seen(r) };
    if (r.status >= 400)
      this.problem(
        `${iso(r.time)} from ${r.ip}: its BMC's download of the boot ISO got ${r.status} (the BMC cannot mount it: \`media-boot\` fails with the BMC's reason)`,
      );
  }
  /**
   * A problem, the newest MAX_NODE_PROBLEMS kept. The same problem again at another time (a boot
   * script retrying a download) is counted on the line before, not written again.
   */
  problem(text: string): void {
    const p = this.agg.problems;
    const before = p.length > 0 ? repeated(p[p.length - 1]!) : undefined;
    if (before !== undefined && before.shape === shapeOf(text)) {
      const at = text.match(ISO_TIME)?.[0];
      p[p.length - 1] =
        `${before.first} (and ${before.more + 1} more time${before.more === 0 ? '' : 's'} in a row${at !== undefined ? `, the last at ${at}` : ''})`;
      return;
    }
    p.push(text);
    if (p.length > MAX_NODE_PROBLEMS) {
      p.splice(0, p.length - MAX_NODE_PROBLEMS);
      this.agg.problemsOmitted = (this.agg.problemsOmitted ?? 0) + 1;
    }
  }
  /** An event, the newest MAX_NODE_EVENTS kept. */
  event(e: StatusEvent & { at: number }): void {
    const list = this.agg.events;
    list.push(e);
    if (list.length > MAX_NODE_EVENTS) {
      list.splice(0, list.length - MAX_NODE_EVENTS);
      this.agg.eventsOmitted = (this.agg.eventsOmitted ?? 0) + 1;
    }
    if (!e.accepted) return;
    if (e.event === 'SUCCEEDED') {
      this.agg.installs = (this.agg.installs ?? 0) + 1;
      this.agg.lastSuccess = e.at;
      this.agg.starts = [];
    } else if (e.event === 'STARTED') this.start(e.at);
  }
  /** An install start (a config or seed served, a STARTED event): only the first two since the last install matter. */
  start(time: number): void {
    if (this.agg.starts.length < 2) this.agg.starts.push(time);
  }
}

/** Did the node ask for a kernel, config or seed at or after `time` (whatever the answer)? */
function askedSince(l: NodeAggregate, time: number): boolean {
  return (['kernel', 'config', 'seed'] as const).some((k) => (l.fetches[k]?.last.time ?? -1) >= time);
}

export function summarize(site: string, node: ResolvedNode, l: NodeAggregate, loopWindow: number): NodeStatus {
  const accepted = l.events.filter((e) => e.accepted);
  // A loop is judged from the last install: one that looped once and was mended is not one now.
  const lastSuccess = l.lastSuccess;
  const loopAt =
    lastSuccess !== undefined && l.starts.some((t) => t > lastSuccess && t - lastSuccess <= loopWindow) ? lastSuccess : undefined;
  const problems = l.problemsOmitted
    ? [`${l.problemsOmitted} earlier problems not shown (the newest ${l.problems.length} are)`, ...l.problems]
    : [...l.problems];
  if (l.verifyAgent)
    problems.push(
      `${iso(l.verifyAgent.time)} from ${l.verifyAgent.ip}: its files were fetched with harvgen verify's User-Agent from the node's own address, so they count as the node's (verify run from the node's address, or the node claims to be verify)`,
    );
  let verdict: Verdict;
  const fetched = (k: FetchKind) => (l.fetches[k]?.last.status ?? 999) < 400;
  if (loopAt !== undefined) {
    verdict = 'loop';
    problems.push(
      `installed at ${iso(loopAt)}, then started installing again within ${Math.round(loopWindow / 60000)} min: it network-boots first and its script installs every time (set state: install-once or local, or put the disk first in the boot order)`,
    );
  } else if (accepted.length > 0) {
    const last = accepted[accepted.length - 1]!.event;
    verdict = last === 'STARTED' ? 'installing' : last === 'SUCCEEDED' ? 'installed' : 'failed';
  } else if (fetched('config') && l.fetches.config!.last.time >= (l.lastScript?.time ?? 0)) verdict = 'installing';
  // A boot starts with the node's script, from the network or from its boot ISO (whose iPXE
  // fetches it on both firmwares); the BMC's download of the ISO is no boot.
  else if (!l.lastScript) verdict = 'never-booted';
  else if (node.boot !== 'harvester' && fetched('kernel') && (node.boot !== 'os' || fetched('initrd'))) verdict = 'booted';
  else if (node.boot === 'iscsi') verdict = 'booted';
  // `local`: its script, then its disk; a kernel, config or seed asked for since (even refused) is no disk boot.
  else if (l.lastScript && node.state !== 'install' && !askedSince(l, l.lastScript.time)) verdict = 'local';
  else verdict = 'booting';
  const fetches: Partial<Record<FetchKind, FetchSummary>> = {};
  for (const k of ['script', 'kernel', 'initrd', 'rootfs', 'iso', 'config', 'seed'] as const) {
    const f = l.fetches[k];
    if (f) fetches[k] = { count: f.count, last: iso(f.last.time), status: f.last.status, ip: f.last.ip };
  }
  return {
    site,
    hostname: node.hostname,
    boot: node.boot,
    state: node.state,
    verdict,
    ...(l.lastScript
      ? { last_boot: { time: iso(l.lastScript.time), ip: l.lastScript.ip, mac: l.lastScript.mac, status: l.lastScript.status } }
      : {}),
    fetches,
    ...(l.medium
      ? { medium: { count: l.medium.count, last: iso(l.medium.last.time), status: l.medium.last.status, ip: l.medium.last.ip } }
      : {}),
    events: l.events.map(({ at: _at, ...e }) => e),
    installs: l.installs ?? 0,
    ...(l.eventsOmitted ? { events_omitted: l.eventsOmitted } : {}),
    problems,
  };
}
