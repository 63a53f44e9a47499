// One site's tally of its requests: each node's fetches, events and problems, and the unknown
// machines, kept as plain data (`SiteAggregate`) so that `status --state` can save it and merge
// the requests of the next run into it: an incremental run then says what a run over every line
// would say. The site's model says which request belongs to which node (src/status/requests.ts
// reads each path back by the declaration of the node's file names; release files belong to the
// node whose address last fetched its script).
import { createHash } from 'node:crypto';
import type { SiteModel } from '../model/index.ts';
import { nodeAllow, poolsAllow } from '../render/access.ts';
import { imageOf, mediumAllow } from '../derive/media/index.ts';
import { UNKNOWN_EVENT_HOST } from '../derive/layout.ts';
import type { FileKind } from '../derive/file-kinds.ts';
import { addressAllowed } from '../util/ipv4.ts';
import { classify, matcher, type Matcher, type RequestKind as Kind } from './requests.ts';
import type { LogRequest } from './log.ts';
import { completeNode, emptyNode, iso, NodeLog, seen, summarize, type NodeAggregate } from './node-tally.ts';

export type { NodeAggregate, Seen } from './node-tally.ts';
import { VerifyFilter, type Subject } from './verify-requests.ts';
import { Origins, serverAddresses, type Origin } from './origin.ts';
import { problemOf } from './problems.ts';
import type { NodeStatus, UnknownMachine } from './types.ts';

/** The unknown machines a site keeps (a log can name any number of made-up MACs), and the addresses kept of each. */
export const MAX_STRANGERS = 10_000;
const MAX_STRANGER_IPS = 16;

/** A machine of no node that asked for a script, reported itself or joined (an unknown machine). */
export interface StrangerAggregate {
  mac: string;
  first: number;
  last: number;
  requests: number;
  ips: string[];
  report?: UnknownMachine['report'];
  joined?: UnknownMachine['joined'];
}

/** What one site's requests said so far: what `status --state` saves per site. */
export interface SiteAggregate {
  /** By hostname. */
  nodes: Record<string, NodeAggregate>;
  /** By MAC. */
  strangers: Record<string, StrangerAggregate>;
  /** Release files are shared: a request belongs to the node that last fetched its script from that address (address -> hostname). */
  byIp: Record<string, string>;
  /** Requests of this site's tree counted (verify's left out). */
  requests: number;
  /** Requests judged harvgen verify's (left out). */
  verifyRequests: number;
  /** Requests of unknown MACs past MAX_STRANGERS (counted, not listed). */
  strangersOmitted?: number;
  /** Requests from the boot server itself (loopback, boot.server's address): left out. */
  serverRequests?: number;
  /** Requests from an address no node of theirs can be using: left out. */
  foreignRequests?: number;
  /** The newest request of this site counted (ms), if any. */
  lastRequest?: number;
}

/** An empty tally. */
export function emptyAggregate(): SiteAggregate {
  return { nodes: {}, strangers: {}, byIp: {}, requests: 0, verifyRequests: 0 };
}

/**
 * What status's tally of a site depends on besides the requests: how requests are recognised and
 * judged (prefix, names, boot files, each node's MACs, addresses, kind and state, the DHCP pool).
 * A saved tally whose fingerprint differs was made for another inventory and is not merged.
 */
export function modelFingerprint(model: SiteModel): string {
  const m = matcher(model);
  const facts = {
    site: model.site,
    prefix: m.prefix,
    keyed: m.keyed,
    names: m.names.sources,
    files: [...m.files].sort(),
    pool: poolsAllow(model),
    server: serverAddresses(model),
    nodes: model.nodes.map((n) => [
      n.hostname,
      n.macs,
      n.ip ?? null,
      n.boot,
      n.state,
      nodeAllow(model, n),
      n.medium,
      n.mediumImage,
      mediumAllow(n),
    ]),
  };
  return createHash('sha256').update(JSON.stringify(facts)).digest('hex');
}

/** One site's tally: requests in (in time order), node statuses out; `aggregate` is what to save. */
export class SiteTally {
  readonly aggregate: SiteAggregate;
  private readonly logs: NodeLog[];
  private readonly byMac = new Map<string, NodeLog>();
  private readonly byHost = new Map<string, NodeLog>();
  /** The nodes that share the image of each extension, in inventory order (made when first asked). */
  private readonly sharers = new Map<string, NodeLog[]>();
  private sharing(ext: string): NodeLog[] {
    let list = this.sharers.get(ext);
    if (!list) {
      list = [...this.byHost.values()].filter((l) => l.node.mediumImage === 'shared' && imageOf(l.node)?.ext === ext);
      this.sharers.set(ext, list);
    }
    return list;
  }
  private readonly pool: ReturnType<typeof poolsAllow>;
  private readonly m: Matcher;
  private readonly verify: VerifyFilter;
  private readonly origins: Origins;
  private strangerCount: number | undefined;

  /** @param kinds the node files' kinds to recognise: the declared ones (src/derive/file-kinds.ts) unless given. */
  constructor(
    readonly model: SiteModel,
    saved?: SiteAggregate,
    kinds?: readonly FileKind[],
  ) {
    this.aggregate = saved ?? emptyAggregate();
    this.logs = model.nodes.map((n) => {
      const agg = completeNode((this.aggregate.nodes[n.hostname] ??= emptyNode()));
      return new NodeLog(model, n, nodeAllow(model, n), agg);
    });
    for (const l of this.logs) {
      for (const mac of l.node.macs) this.byMac.set(mac, l);
      this.byHost.set(l.node.hostname, l);
    }
    this.pool = poolsAllow(model);
    this.m = matcher(model, kinds);
    const allows = new Map(this.logs.map((l) => [l.node, l.allow]));
    this.verify = new VerifyFilter(allows);
    this.origins = new Origins(model, allows, this.pool);
  }

  /** Count the requests (in time order); those of other sites' prefixes are passed over. */
  addAll(requests: readonly LogRequest[]): void {
    for (const r of requests) this.add(r);
  }

  add(r: LogRequest): void {
    const m = this.m;
    const k = classify(m, r);
    if (!k && !(m.prefix === '' || r.path.startsWith(`${m.prefix}/`))) return; // another site's
    const subject = k ? this.subjectOf(k) : undefined;
    const judged = this.verify.judge(r, subject);
    if (judged === 'verify') {
      this.aggregate.verifyRequests++;
      return;
    }
    // A boot medium is its BMC's to fetch (from the BMC's address), not the node's: counted apart.
    if (k?.kind === 'medium') return this.medium(k, r);
    const origin = this.origins.of(
      r.ip,
      subject?.of === 'node'
        ? { node: subject.node, script: k?.kind === 'script' }
        : subject?.of === 'report' || subject?.of === 'unknown-mac'
          ? 'any'
          : 'other',
    );
    if (origin !== 'counted') {
      this.leftOut(origin, k, r);
      return;
    }
    this.aggregate.requests++;
    if (this.aggregate.lastRequest === undefined || r.time > this.aggregate.lastRequest) this.aggregate.lastRequest = r.time;
    if (judged === 'counted-with-verify-agent' && subject?.of === 'node') {
      const l = this.logs.find((x) => x.node === subject.node)!;
      l.agg.verifyAgent ??= seen(r);
    }
    if (k) this.addKind(k, r);
  }

  /**
   * A node's boot medium asked for: from its BMC's address (`mediumAllow`), the node's `medium`
   * (the BMC's download, not a boot: what starts a boot is the script the medium's iPXE fetches);
   * from the boot server, a server request; from anywhere else, a foreign one.
   */
  private medium(k: Extract<Kind, { kind: 'medium' }>, r: LogRequest): void {
    // A node's own image is its own; a shared one is the node's whose BMC fetched it.
    const l = k.shared ? this.sharing(k.ext).find((n) => addressAllowed(r.ip, mediumAllow(n.node))) : this.byHost.get(k.host);
    const origin = this.origins.of(r.ip, 'other');
    if (origin === 'server') {
      this.aggregate.serverRequests = (this.aggregate.serverRequests ?? 0) + 1;
      return;
    }
    if (!l || imageOf(l.node)?.ext !== k.ext || (l.node.mediumImage === 'own') === k.shared || !addressAllowed(r.ip, mediumAllow(l.node))) {
      this.aggregate.foreignRequests = (this.aggregate.foreignRequests ?? 0) + 1;
      return;
    }
    this.aggregate.requests++;
    if (this.aggregate.lastRequest === undefined || r.time > this.aggregate.lastRequest) this.aggregate.lastRequest = r.time;
    l.mediumFetch(r);
  }

  /** A request of no node's (src/status/origin.ts): counted apart; a node's config refused to another address is still its problem. */
  private leftOut(origin: Exclude<Origin, 'counted'>, k: Kind | undefined, r: LogRequest): void {
    if (origin === 'server') this.aggregate.serverRequests = (this.aggregate.serverRequests ?? 0) + 1;
    else this.aggregate.foreignRequests = (this.aggregate.foreignRequests ?? 0) + 1;
    if (origin !== 'foreign' || k?.kind !== 'served' || r.status !== 403) return;
    const l = this.ownerLog(k.file, k.owner);
    l?.problem(problemOf(this.model, k.use.fetch, r, l.node));
  }

  /** The node a file of `file`'s kind belongs to, by its owner (a hostname or a boot MAC). */
  private ownerLog(file: FileKind, owner: string): NodeLog | undefined {
    return file.owner === 'host' ? this.byHost.get(owner) : file.owner === 'mac' ? this.byMac.get(owner) : undefined;
  }

  /** What a classified request is about, for telling verify's requests apart (src/status/verify-requests.ts). */
  private subjectOf(k: Kind): Subject {
    switch (k.kind) {
      case 'script': {
        const l = this.byMac.get(k.mac);
        return l ? { of: 'node', node: l.node } : { of: 'unknown-mac', mac: k.mac };
      }
      case 'served': {
        const l = this.ownerLog(k.file, k.owner);
        return l ? { of: 'node', node: l.node } : { of: 'unknown-owner', owner: k.owner };
      }
      case 'file':
        return { of: 'shared-file' };
      case 'event':
      case 'discover':
        return { of: 'report' };
      case 'medium': {
        // verify's own fetch of an ISO from an address no machine uses is verify's.
        const l = this.byHost.get(k.host);
        return l ? { of: 'node', node: l.node } : { of: 'shared-file' };
      }
    }
  }

  private addKind(k: Kind, r: LogRequest): void {
    switch (k.kind) {
      case 'script':
        return this.script(k, r);
      case 'served': {
        const l = this.ownerLog(k.file, k.owner);
        if (!l) return;
        l.fetch(k.use.fetch, r);
        if (r.status < 400 && k.use.startsInstall) l.start(r.time);
        return;
      }
      case 'file': {
        const host = this.aggregate.byIp[r.ip];
        const l = (host !== undefined ? this.byHost.get(host) : undefined) ?? this.logs.find((x) => x.node.ip === r.ip);
        if (l) l.fetch(k.what, r);
        return;
      }
      case 'event':
        return this.event(k, r);
      case 'discover':
        return this.discover(r);
      case 'medium':
        return;
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
      l.problem(
        `${iso(r.time)} from ${r.ip}: ${k.mac} fetched the stub at its plain script name, not its keyed script: another DHCP server answered it, or the DHCP config predates nginx.file_key`,
      );
      return;
    }
    l.fetch('script', r);
    if (r.status < 400) {
      l.agg.lastScript = { ...seen(r), mac: k.mac };
      this.aggregate.byIp[r.ip] = l.node.hostname;
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
    l.event({ event: k.event, time: iso(r.time), ip: r.ip, ...(mac ? { mac } : {}), accepted, at: r.time });
    if (!accepted)
      l.problem(`${k.event} event ${iso(r.time)} from ${r.ip}, which is not the node's address: ignored (a forged or misrouted report?)`);
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
  private stranger(mac: string, r: LogRequest): StrangerAggregate {
    const strangers = this.aggregate.strangers;
    const known = Object.hasOwn(strangers, mac);
    const s: StrangerAggregate = known ? strangers[mac]! : { mac, first: r.time, last: r.time, requests: 0, ips: [] };
    s.last = r.time;
    s.requests++;
    if (!s.ips.includes(r.ip) && s.ips.length < MAX_STRANGER_IPS) s.ips.push(r.ip);
    // Past the bound a new MAC is counted, not kept (the one returned is dropped).
    if (known || (this.strangerCount ??= Object.keys(strangers).length) < MAX_STRANGERS) {
      if (!known) this.strangerCount = (this.strangerCount ?? 0) + 1;
      strangers[mac] = s;
    } else this.aggregate.strangersOmitted = (this.aggregate.strangersOmitted ?? 0) + 1;
    return s;
  }

  /** The unknown machines, first seen first. */
  unknownMachines(): UnknownMachine[] {
    return Object.values(this.aggregate.strangers)
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

  /** Every node's status, in inventory order. */
  nodes(loopWindow: number): NodeStatus[] {
    return this.logs.map((l) => summarize(this.model.site, l.node, l.agg, loopWindow));
  }
}
