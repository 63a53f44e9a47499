// `harvgen status`: what every node did, read from the boot servers' nginx access logs. No state
// of its own: the site's model says which requests belong to which node (scripts by MAC, configs
// and events by hostname, release files by the address that fetched the node's script), the log
// says what happened. Keyed names (nginx.file_key) are matched by their shape, so no key is read.
import type { Diagnostic } from '../diagnostics/types.ts';
import { kindOf } from '../render/kinds/index.ts';
import { CONFIG_FORMATS, type ConfigFormat } from '../derive/configs/index.ts';
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { compileModel } from '../pipeline.ts';
import { nodeAllow, poolAllow } from '../render/access.ts';
import { DIRS, LAYOUT, UNKNOWN_EVENT_HOST } from '../derive/layout.ts';
import { namesKeyed } from '../derive/file-names.ts';
import { addressAllowed } from '../util/ipv4.ts';
import { readLogs, type LogRequest } from './log.ts';
import { VerifyFilter, type Subject } from './verify-requests.ts';
import { problemOf, unreadableHint } from './problems.ts';
import type { FetchKind, FetchSummary, NodeStatus, StatusEvent, StatusResult, UnknownMachine, Verdict } from './types.ts';

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
}

const MAC_HEX = '[0-9a-f]{2}(?:-[0-9a-f]{2}){5}';
/** A keyed name's tag (the committed tree's `x`s too). */
const TAG = '-(?:[0-9a-f]{32}|x{32})';

/** What one request of a site's tree is, by its path under the site's prefix. */
type Kind =
  | { kind: 'script'; mac: string; stub: boolean }
  | { kind: 'served'; format: ConfigFormat; owner: string }
  | { kind: 'event'; host: string; event: StatusEvent['event'] }
  | { kind: 'discover' }
  | { kind: 'file'; what: 'kernel' | 'initrd' | 'rootfs' | 'iso' };

/** How requests of one site are recognised. */
interface Matcher {
  readonly prefix: string;
  /** `nginx.file_key`: a node's files have keyed names, and the plain script name is the stub. */
  readonly keyed: boolean;
  readonly script: RegExp;
  /** Each served config format's names (src/derive/configs/), with the fetch kind it counts as. */
  readonly configs: readonly { readonly re: RegExp; readonly format: ConfigFormat }[];
  readonly event: RegExp;
  /** URL path -> kind of release or OS file. */
  readonly files: ReadonlyMap<string, 'kernel' | 'initrd' | 'rootfs' | 'iso'>;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function matcher(model: SiteModel): Matcher {
  const p = escapeRe(model.boot.prefix);
  const files = new Map<string, 'kernel' | 'initrd' | 'rootfs' | 'iso'>();
  const path = (url: string) => {
    try {
      return new URL(url).pathname;
    } catch {
      return url;
    }
  };
  // The boot files each node fetches, as its kind says (src/render/kinds/).
  for (const n of model.nodes) for (const f of kindOf(n).fetches(model)) files.set(path(f.url), f.what);
  return {
    prefix: model.boot.prefix,
    keyed: namesKeyed(model),
    // A keyed site's names carry the tag (the hostname before it); the plain script name is the stub.
    script: new RegExp(`^${p}/${DIRS.scripts}/(${MAC_HEX})(${TAG})?\\.ipxe$`),
    configs: CONFIG_FORMATS.map((format) => ({
      format,
      re: new RegExp(`^${p}/${escapeRe(format.dir)}/${format.pattern(namesKeyed(model)).status}$`),
    })),
    event: new RegExp(`^${p}/${LAYOUT.eventsDir}/([a-z0-9-]+|${UNKNOWN_EVENT_HOST})/(STARTED|SUCCEEDED|FAILED)$`),
    files,
  };
}

function classify(m: Matcher, r: LogRequest): Kind | undefined {
  let x = m.script.exec(r.path);
  if (x) return { kind: 'script', mac: x[1]!.replaceAll('-', ':'), stub: m.keyed && x[2] === undefined };
  for (const { re, format } of m.configs) {
    if (!(x = re.exec(r.path))) continue;
    return { kind: 'served', format, owner: format.owner === 'host' ? x[1]! : x[1]!.replaceAll('-', ':') };
  }
  if ((x = m.event.exec(r.path))) return { kind: 'event', host: x[1]!, event: x[2] as StatusEvent['event'] };
  if (r.path === `${m.prefix}/${LAYOUT.discover}`) return { kind: 'discover' };
  const f = m.files.get(r.path);
  return f ? { kind: 'file', what: f } : undefined;
}

const iso = (t: number) => new Date(t).toISOString();

/** Everything one node did, while the log is read. */
class NodeLog {
  readonly fetches = new Map<FetchKind, { count: number; last: LogRequest }>();
  readonly events: (StatusEvent & { at: number })[] = [];
  readonly problems: string[] = [];
  /** Requests of its own files with verify's User-Agent from its own address (counted, noted once). */
  withVerifyAgent?: LogRequest;
  lastScript?: { r: LogRequest; mac: string };
  /** Config/seed fetches and STARTED events, times (for loops). */
  readonly starts: number[] = [];
  constructor(
    readonly model: SiteModel,
    readonly node: ResolvedNode,
    readonly allow: readonly string[],
  ) {}
  fetch(kind: FetchKind, r: LogRequest): void {
    const f = this.fetches.get(kind);
    this.fetches.set(kind, { count: (f?.count ?? 0) + 1, last: r });
    if (r.status >= 400) this.problems.push(problemOf(this.model, kind, r, this.node));
  }
}

/** Read the logs and say what every node of every site did. */
export async function status(options: StatusOptions): Promise<StatusResult> {
  const loopWindow = options.loopWindowMs ?? 3_600_000;
  const logs = readLogs(options.logs, options.since);
  const diagnostics: Diagnostic[] = logs.unreadable.map((u) => ({
    code: 'STATUS_LOG_UNREADABLE',
    severity: 'error',
    message: `the log ${u.file} cannot be read (${u.problem})`,
    hint: unreadableHint(u.problem),
    file: u.file,
  }));
  const sites: { dir: string; site?: string; diagnostics: Diagnostic[] }[] = [];
  const nodes: NodeStatus[] = [];
  const unknown: UnknownMachine[] = [];
  let verifyRequests = 0;
  for (const dir of options.sites) {
    const compiled = await compileModel(dir);
    const model = compiled.renderable?.model;
    const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
    sites.push({ dir, ...(compiled.site ? { site: compiled.site } : {}), diagnostics: errors });
    diagnostics.push(...errors);
    if (!model) continue;
    const { nodes: n, unknown: u, verifyRequests: v } = siteStatus(model, logs.requests, loopWindow);
    nodes.push(...n);
    unknown.push(...u);
    verifyRequests += v;
  }
  return { sites, nodes, unknown, diagnostics, requests: logs.requests.length, verifyRequests, skipped: logs.skipped };
}

/** What a classified request is about, for telling verify's requests apart (src/status/verify-requests.ts). */
function subjectOf(k: Kind, byMac: ReadonlyMap<string, NodeLog>, byHost: ReadonlyMap<string, NodeLog>): Subject {
  switch (k.kind) {
    case 'script': {
      const l = byMac.get(k.mac);
      return l ? { of: 'node', node: l.node } : { of: 'unknown-mac', mac: k.mac };
    }
    case 'served': {
      const l = k.format.owner === 'host' ? byHost.get(k.owner) : byMac.get(k.owner);
      return l ? { of: 'node', node: l.node } : { of: 'unknown-owner', owner: k.owner };
    }
    case 'file':
      return { of: 'shared-file' };
    case 'event':
    case 'discover':
      return { of: 'report' };
  }
}

/** One site's nodes and unknown machines, from the requests (in time order), and how many requests were verify's (left out). */
export function siteStatus(
  model: SiteModel,
  requests: readonly LogRequest[],
  loopWindow = 3_600_000,
): { nodes: NodeStatus[]; unknown: UnknownMachine[]; verifyRequests: number } {
  const m = matcher(model);
  const site = new SiteLog(model);
  const verify = new VerifyFilter(new Map(site.logs.map((l) => [l.node, l.allow])));
  let verifyRequests = 0;
  for (const r of requests) {
    const k = classify(m, r);
    if (!k && !(m.prefix === '' || r.path.startsWith(`${m.prefix}/`))) continue; // another site's
    const subject = k ? subjectOf(k, site.byMac, site.byHost) : undefined;
    const judged = verify.judge(r, subject);
    if (judged === 'verify') {
      verifyRequests++;
      continue;
    }
    if (judged === 'counted-with-verify-agent' && subject?.of === 'node') {
      const l = site.logs.find((x) => x.node === subject.node)!;
      l.withVerifyAgent ??= r;
    }
    if (k) site.add(k, r);
  }
  return { nodes: site.logs.map((l) => summarize(model.site, l, loopWindow)), unknown: site.unknownMachines(), verifyRequests };
}

/** A machine of no node that asked for a script, reported itself or joined (an unknown machine). */
interface Stranger {
  mac: string;
  first: number;
  last: number;
  requests: number;
  ips: Set<string>;
  report?: UnknownMachine['report'];
  joined?: UnknownMachine['joined'];
}

/** What one site's log says, request by request: each node's log, and the strangers. */
class SiteLog {
  readonly logs: NodeLog[];
  readonly byMac = new Map<string, NodeLog>();
  readonly byHost = new Map<string, NodeLog>();
  /** Release files are shared: a request belongs to the node that last fetched its script from that address. */
  private readonly byIp = new Map<string, NodeLog>();
  private readonly strangers = new Map<string, Stranger>();
  private readonly pool: ReturnType<typeof poolAllow>;

  constructor(private readonly model: SiteModel) {
    this.logs = model.nodes.map((n) => new NodeLog(model, n, nodeAllow(model, n)));
    for (const l of this.logs) {
      for (const mac of l.node.macs) this.byMac.set(mac, l);
      this.byHost.set(l.node.hostname, l);
    }
    this.pool = poolAllow(model);
  }

  /** One request of this site, classified. */
  add(k: Kind, r: LogRequest): void {
    switch (k.kind) {
      case 'script':
        return this.script(k, r);
      case 'served': {
        const l = k.format.owner === 'host' ? this.byHost.get(k.owner) : this.byMac.get(k.owner);
        if (!l) return;
        l.fetch(k.format.fetch, r);
        if (r.status < 400 && k.format.startsInstall) l.starts.push(r.time);
        return;
      }
      case 'file': {
        const l = this.byIp.get(r.ip) ?? this.logs.find((x) => x.node.ip === r.ip);
        if (l) l.fetch(k.what, r);
        return;
      }
      case 'event':
        return this.event(k, r);
      case 'discover':
        return this.discover(r);
    }
  }

  /** A boot script: a node's (or its keyed stub), or a stranger's 404. */
  private script(k: Extract<Kind, { kind: 'script' }>, r: LogRequest): void {
    const l = this.byMac.get(k.mac);
    if (!l) {
      if (r.status === 404) this.stranger(k.mac, r);
      return;
    }
    if (k.stub) {
      // The stub boots nothing: this NIC's DHCP answer was not its per-MAC one.
      l.problems.push(
        `${iso(r.time)} from ${r.ip}: ${k.mac} fetched the stub at its plain script name, not its keyed script: another DHCP server answered it, or the DHCP config predates nginx.file_key`,
      );
      return;
    }
    l.fetch('script', r);
    if (r.status < 400) {
      l.lastScript = { r, mac: k.mac };
      this.byIp.set(r.ip, l);
    }
  }

  /** An install event: a node's (kept, and judged by its address) or an unknown machine's join. */
  private event(k: Extract<Kind, { kind: 'event' }>, r: LogRequest): void {
    if (r.status >= 400) return;
    const mac = r.query.mac?.toLowerCase();
    if (k.host === UNKNOWN_EVENT_HOST) {
      if (mac && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) && addressAllowed(r.ip, this.pool)) {
        this.stranger(mac, r).joined = { host: r.query.host ?? '', event: k.event, time: iso(r.time) };
      }
      return;
    }
    const l = this.byHost.get(k.host);
    if (!l) return;
    const accepted = addressAllowed(r.ip, l.allow);
    l.events.push({ event: k.event, time: iso(r.time), ip: r.ip, ...(mac ? { mac } : {}), accepted, at: r.time });
    if (!accepted)
      l.problems.push(
        `${k.event} event ${iso(r.time)} from ${r.ip}, which is not the node's address: ignored (a forged or misrouted report?)`,
      );
    else if (k.event === 'STARTED') l.starts.push(r.time);
  }

  /** What an unknown machine reported of itself (`harvgen-discover`). */
  private discover(r: LogRequest): void {
    const hex = r.query.mac?.toLowerCase() ?? '';
    if (!/^[0-9a-f]{2}(-[0-9a-f]{2}){5}$/.test(hex) || this.byMac.has(hex.replaceAll('-', ':'))) return;
    const q = r.query;
    this.stranger(hex.replaceAll('-', ':'), r).report = {
      ...(q.uuid ? { uuid: q.uuid } : {}),
      ...(q.serial ? { serial: q.serial } : {}),
      ...(q.manufacturer ? { manufacturer: q.manufacturer } : {}),
      ...(q.product ? { product: q.product } : {}),
      ...(q.platform ? { platform: q.platform } : {}),
    };
  }

  /** The stranger of `mac`, with this request counted. */
  private stranger(mac: string, r: LogRequest): Stranger {
    const s: Stranger = this.strangers.get(mac) ?? { mac, first: r.time, last: r.time, requests: 0, ips: new Set<string>() };
    s.last = r.time;
    s.requests++;
    s.ips.add(r.ip);
    this.strangers.set(mac, s);
    return s;
  }

  /** The unknown machines, first seen first. */
  unknownMachines(): UnknownMachine[] {
    return [...this.strangers.values()]
      .sort((a, b) => a.first - b.first || (a.mac < b.mac ? -1 : 1))
      .map((s) => ({
        site: this.model.site,
        mac: s.mac,
        first: iso(s.first),
        last: iso(s.last),
        requests: s.requests,
        ips: [...s.ips].sort(),
        ...(s.report ? { report: s.report } : {}),
        ...(s.joined ? { joined: s.joined } : {}),
      }));
  }
}

function summarize(site: string, l: NodeLog, loopWindow: number): NodeStatus {
  const { node } = l;
  const accepted = l.events.filter((e) => e.accepted);
  const successes = accepted.filter((e) => e.event === 'SUCCEEDED').map((e) => e.at);
  // A loop is judged from the last install: one that looped once and was mended is not one now.
  const lastSuccess = successes[successes.length - 1];
  const loopAt =
    lastSuccess !== undefined && l.starts.some((t) => t > lastSuccess && t - lastSuccess <= loopWindow) ? lastSuccess : undefined;
  const problems = [...l.problems];
  if (l.withVerifyAgent)
    problems.push(
      `${iso(l.withVerifyAgent.time)} from ${l.withVerifyAgent.ip}: its files were fetched with harvgen verify's User-Agent from the node's own address, so they count as the node's (verify run from the node's address, or the node claims to be verify)`,
    );
  let verdict: Verdict;
  const fetched = (k: FetchKind) => (l.fetches.get(k)?.last.status ?? 999) < 400;
  if (loopAt !== undefined) {
    verdict = 'loop';
    problems.push(
      `installed at ${iso(loopAt)}, then started installing again within ${Math.round(loopWindow / 60000)} min: it network-boots first and its script installs every time (set state: install-once or local, or put the disk first in the boot order)`,
    );
  } else if (accepted.length > 0) {
    const last = accepted[accepted.length - 1]!.event;
    verdict = last === 'STARTED' ? 'installing' : last === 'SUCCEEDED' ? 'installed' : 'failed';
  } else if (fetched('config') && l.fetches.get('config')!.last.time >= (l.lastScript?.r.time ?? 0)) verdict = 'installing';
  else if (!l.lastScript) verdict = 'never-booted';
  else if (node.boot !== 'harvester' && fetched('kernel') && (node.boot !== 'os' || fetched('initrd'))) verdict = 'booted';
  else if (node.boot === 'iscsi') verdict = 'booted';
  else if (node.state !== 'install' && (l.fetches.get('kernel')?.last.time ?? -1) < l.lastScript.r.time) verdict = 'local';
  else verdict = 'booting';
  const fetches: Partial<Record<FetchKind, FetchSummary>> = {};
  for (const k of ['script', 'kernel', 'initrd', 'rootfs', 'iso', 'config', 'seed'] as const) {
    const f = l.fetches.get(k);
    if (f) fetches[k] = { count: f.count, last: iso(f.last.time), status: f.last.status, ip: f.last.ip };
  }
  return {
    site,
    hostname: node.hostname,
    boot: node.boot,
    state: node.state,
    verdict,
    ...(l.lastScript
      ? { last_boot: { time: iso(l.lastScript.r.time), ip: l.lastScript.r.ip, mac: l.lastScript.mac, status: l.lastScript.r.status } }
      : {}),
    fetches,
    events: l.events.map(({ at: _at, ...e }) => e),
    installs: successes.length,
    problems,
  };
}
