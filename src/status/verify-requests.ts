// Which requests of a log are `harvgen verify`'s, to be left out of what the nodes did. verify
// sends its User-Agent (src/verify/identity.ts), but anyone may send that one, so it is never
// enough: a request is verify's only when it also carries something no node can use to hide
// itself. Either it names a probe (a MAC or name from verify's reserved space that no declared
// node has), or it comes from an address that cannot be the node's: for a node's own file (its
// script, config, seed), an address outside that node's `nodeAllow`; for a shared boot file (a
// release or OS file), an address of no node at all. A node fetching its own files from its own
// address with verify's User-Agent is counted as the node (and noted). Events and discover
// reports are never verify's: verify sends neither.
import type { ResolvedNode } from '../model/index.ts';
import { addressAllowed } from '../util/ipv4.ts';
import { isProbeMac, isVerifyAgent, namesProbe, PROBE_NAME_PREFIX } from '../verify/identity.ts';
import type { LogRequest } from './log.ts';

/** What a request is about, as status classified it (undefined: a path status does not count). */
export type Subject =
  | { readonly of: 'node'; readonly node: ResolvedNode }
  | { readonly of: 'unknown-mac'; readonly mac: string }
  | { readonly of: 'unknown-owner'; readonly owner: string }
  | { readonly of: 'shared-file' }
  | { readonly of: 'report' }
  | undefined;

/** The verdict on one request: verify's (left out), a node's sent with verify's User-Agent (counted, noted), or neither. */
export type VerifyJudgement = 'verify' | 'counted-with-verify-agent' | 'other';

/** Judges the requests of one site. */
export class VerifyFilter {
  /** @param allows each node's addresses (`nodeAllow`, computed once by the caller). */
  constructor(private readonly allows: ReadonlyMap<ResolvedNode, readonly string[]>) {}

  /** True when `ip` may be some node's address (a static one, or the DHCP pool when a node has none). */
  private anyNode(ip: string): boolean {
    for (const a of this.allows.values()) if (addressAllowed(ip, a)) return true;
    return false;
  }

  judge(r: LogRequest, subject: Subject): VerifyJudgement {
    if (!isVerifyAgent(r.agent)) return 'other';
    if (subject === undefined) return namesProbe(r.path) || !this.anyNode(r.ip) ? 'verify' : 'other';
    switch (subject.of) {
      case 'node':
        return addressAllowed(r.ip, this.allows.get(subject.node) ?? []) ? 'counted-with-verify-agent' : 'verify';
      case 'unknown-mac':
        // A MAC outside the probe space is a machine's, whoever it says it is.
        return isProbeMac(subject.mac) ? 'verify' : 'other';
      case 'unknown-owner':
        return isProbeMac(subject.owner) || subject.owner.startsWith(PROBE_NAME_PREFIX) ? 'verify' : 'other';
      case 'shared-file':
        return this.anyNode(r.ip) ? 'other' : 'verify';
      case 'report':
        return 'other';
    }
  }
}
