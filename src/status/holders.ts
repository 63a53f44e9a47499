// Which boot server of a pair held the shared address when (`failover:`, docs/failover.md). Each
// server's keepalived check (failover/<server>/check.sh) asks its own nginx for the entry script
// from the shared address with `?harvgen-holder=<server>`: a source address binds only where it is
// held, so the log has such a line only while that server holds it. Given both servers' access
// logs, `status` names the times both held it: a split (they could not hear each other).
import type { Diagnostic } from '../diagnostics/types.ts';
import type { SiteModel } from '../model/index.ts';
import { LAYOUT } from '../derive/layout.ts';
import { HOLDER_PARAM } from '../derive/failover.ts';
import type { LogRequest } from './log.ts';

/** Records of the two servers this close are "at once" (the check runs every 2 s on each). */
const AT_ONCE_MS = 2_500;
/** Times "at once" this close are one split. */
const SAME_SPLIT_MS = 15_000;
/**
 * Times "at once" a split needs: a failover leaves a pair of records a few seconds apart (the old
 * holder's last, the new one's first; a few more when the servers' clocks disagree by seconds), a
 * split a pair every 2 s: one of at least 8 s is named.
 */
const MIN_AT_ONCE = 5;
/** The most holder records kept per server (a long log of a healthy pair holds one every 2 s). */
const MAX_RECORDS = 1_000_000;

/** The holder records of one failover site. */
export class HolderWatch {
  private readonly path: string;
  private readonly shared: string;
  private readonly names: readonly string[];
  private readonly times = new Map<string, number[]>();

  constructor(readonly model: SiteModel) {
    const f = model.failover!;
    this.path = `${model.boot.prefix}/${LAYOUT.entryScript}`;
    this.shared = f.shared;
    this.names = f.servers.map((s) => s.name);
  }

  /** The watches of the sites that have two boot servers. */
  static of(models: readonly SiteModel[]): HolderWatch[] {
    return models.filter((m) => m.failover !== undefined).map((m) => new HolderWatch(m));
  }

  add(r: LogRequest): void {
    if (r.ip !== this.shared || r.path !== this.path) return;
    const name = r.query[HOLDER_PARAM];
    if (name === undefined || !this.names.includes(name)) return;
    let t = this.times.get(name);
    if (!t) this.times.set(name, (t = []));
    t.push(r.time);
    // A log longer than the bound keeps its newest records (a split late in it is still named).
    if (t.length > 2 * MAX_RECORDS) t.splice(0, t.length - MAX_RECORDS);
  }

  /** The splits seen: spans when both servers held the shared address. */
  splits(): { from: number; to: number }[] {
    const [a, b] = this.names.map((n) => [...(this.times.get(n) ?? [])].sort((x, y) => x - y));
    if (!a?.length || !b?.length) return [];
    // Each record of one server with a record of the other within AT_ONCE_MS (two pointers).
    const both: number[] = [];
    let j = 0;
    for (const t of a) {
      while (j < b.length && b[j]! < t - AT_ONCE_MS) j++;
      if (j < b.length && b[j]! <= t + AT_ONCE_MS) both.push(t);
    }
    const out: { from: number; to: number; n: number }[] = [];
    for (const t of both) {
      const last = out[out.length - 1];
      if (last && t - last.to <= SAME_SPLIT_MS) {
        last.to = t;
        last.n++;
      } else out.push({ from: t, to: t, n: 1 });
    }
    return out.filter((s) => s.n >= MIN_AT_ONCE).map(({ from, to }) => ({ from, to }));
  }

  /** A warning for each split. */
  diagnostics(): Diagnostic[] {
    const [a, b] = this.names;
    const iso = (t: number) => new Date(t).toISOString();
    return this.splits().map((s) => ({
      code: 'FAILOVER_SPLIT',
      severity: 'warning',
      message: `site ${this.model.site}: boot servers ${a} and ${b} both held the shared address ${this.shared} from ${iso(s.from)} to ${iso(s.to)} (they could not hear each other)`,
      hint: 'Let VRRP (IP protocol 112) pass both ways between the two servers\' own addresses, and Kea\'s HA port; both then hold it no longer (docs/failover.md, "When the servers cannot hear each other").',
    }));
  }
}
