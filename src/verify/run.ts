// One run of verify's requests: made with bounded concurrency and an idle timeout
// (src/verify/http.ts), each answer judged against what its Check expects, tallied per server.
import { getMaxListeners, setMaxListeners } from 'node:events';
import { type Diagnostic } from '../diagnostics/types.ts';
import { get, NetworkError, type Agents, type Fetched } from './http.ts';
import { allowed, CONTENT_TYPES, parseSums, type Check, type ReleaseSums } from './plan.ts';
import type { VerifyProgress, VerifyServer } from './types.ts';

const sameType = (got: string | undefined, want: string) =>
  (got ?? '').toLowerCase().replace(/\s+/g, '').replace(/"/g, '') === want.toLowerCase().replace(/\s+/g, '');

/** The requests of one run, the servers' tallies and the diagnostics found. */
export class Run {
  readonly diagnostics: Diagnostic[] = [];
  /** The diagnostics of each site's checks. */
  readonly bySite = new Map<string, Diagnostic[]>();
  made = 0;
  private readonly tally = new Map<
    string,
    { site: string; url: string; checks: number; failed: number; refused: string[]; source?: string; reachable: boolean }
  >();
  private readonly dead = new Set<string>();

  constructor(
    private readonly checks: readonly Check[],
    private readonly agents: Agents,
    private readonly o: { timeoutMs: number; concurrency: number; source?: string; signal?: AbortSignal },
  ) {
    for (const c of checks) this.entry(c);
    // Each request in flight listens to the run's signal until it closes: as many as the
    // concurrency, and a few of a request closing as the next starts; not a leak to warn about.
    if (o.signal !== undefined) setMaxListeners(Math.max(getMaxListeners(o.signal), 2 * o.concurrency + 4), o.signal);
  }

  private entry(c: Check) {
    const key = `${c.site}\u0000${c.server.url}`;
    let t = this.tally.get(key);
    if (!t) this.tally.set(key, (t = { site: c.site, url: c.server.url, checks: 0, failed: 0, refused: [], reachable: true }));
    return t;
  }

  servers(): VerifyServer[] {
    return [...this.tally.values()].map((t) => ({ ...t, refused: [...t.refused].sort() }));
  }

  private fetch(url: URL, rawPath: string, hash: 'sha256' | 'sha512', e: Check['expect']): Promise<Fetched> {
    const kind = e.kind;
    const maxBytes = e.kind === 'served' ? e.size : e.kind === 'sums' ? SUMS_MAX_BYTES : undefined;
    return get(url, rawPath, {
      timeoutMs: this.o.timeoutMs,
      hash,
      // A probe needs the status and enough of the body to recognise a listing; a SHA-512 list is read whole.
      headOnly: kind === 'refused',
      keep: kind === 'sums' ? SUMS_MAX_BYTES : 4096,
      // A body longer than it may be is a difference already: read no further (an endless body ends here).
      ...(maxBytes !== undefined ? { maxBytes } : {}),
      agents: this.agents,
      ...(this.o.source !== undefined ? { localAddress: this.o.source } : {}),
      ...(this.o.signal !== undefined ? { signal: this.o.signal } : {}),
    });
  }

  /** Fetch each release's published SHA-512 list (a failure is VERIFY_UNREACHABLE at its URL). */
  async publishedSums(lists: readonly ReleaseSums[], base: string): Promise<Map<string, { text: string; sums: Map<string, string> }>> {
    const out = new Map<string, { text: string; sums: Map<string, string> }>();
    for (const s of lists) {
      const url = `${base.replace(/\/+$/, '')}/${s.version}/${s.name}`;
      try {
        const u = new URL(url);
        const r = await get(u, u.pathname + u.search, {
          timeoutMs: this.o.timeoutMs,
          hash: 'sha256',
          keep: PUBLISHED_SUMS_MAX_BYTES,
          maxBytes: PUBLISHED_SUMS_MAX_BYTES,
          agents: this.agents,
          ...(this.o.signal !== undefined ? { signal: this.o.signal } : {}),
        });
        if (r.status !== 200) throw new NetworkError(`answered ${r.status}`);
        if (r.cut === 'over') throw new NetworkError(`it is larger than ${PUBLISHED_SUMS_MAX_BYTES} bytes: not a SHA-512 list`);
        if (r.cut === 'short') throw new NetworkError(`the connection closed after ${r.size} bytes, before the end of the list`);
        const text = r.head.toString('utf8');
        out.set(`${s.version}/${s.name}`, { text, sums: parseSums(text) });
      } catch (e) {
        this.diagnostics.push({
          code: 'VERIFY_UNREACHABLE',
          severity: 'error',
          message: `the published SHA-512 list of Harvester ${s.version} could not be fetched: ${(e as Error).message}`,
          hint: 'Set --release-base (or HARVGEN_RELEASE_BASE, as for fetch.sh) to a mirror that has <version>/<list>.',
          file: url,
        });
      }
    }
    return out;
  }

  /** Every check, `concurrency` at a time; each server's entry script first, so a dead server is found with one request. */
  async all(published: Map<string, { text: string; sums: Map<string, string> }>, onProgress?: (e: VerifyProgress) => void) {
    const order = [...this.checks].sort((a, b) => rank(a) - rank(b));
    const total = order.length;
    let done = 0;
    const step = async (c: Check) => {
      if (!this.dead.has(c.server.origin.origin)) await this.one(c, `${c.site}\u0000${c.server.url}`, published);
      onProgress?.({ done: ++done, total, url: c.url });
    };
    // The first request of each server alone: an unreachable one then costs one timeout, not hundreds.
    const byOrigin = new Map<string, Check>();
    for (const c of order) if (!byOrigin.has(c.server.origin.origin)) byOrigin.set(c.server.origin.origin, c);
    const firsts = [...byOrigin.values()];
    await Promise.all(firsts.map(step));
    const first = new Set(firsts);
    const rest = order.filter((c) => !first.has(c));
    let next = 0;
    const worker = async () => {
      while (next < rest.length) await step(rest[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, rest.length) }, worker));
  }

  private async one(c: Check, key: string, published: Map<string, { text: string; sums: Map<string, string> }>) {
    const t = this.tally.get(key)!;
    const e = c.expect;
    const big = e.kind === 'release';
    let r: Fetched;
    try {
      this.made++;
      t.checks++;
      r = await this.fetch(c.server.origin, c.rawPath, big ? 'sha512' : 'sha256', e);
    } catch (err) {
      if (this.dead.has(c.server.origin.origin)) return;
      this.dead.add(c.server.origin.origin);
      for (const x of this.tally.values()) if (new URL(x.url).origin === c.server.origin.origin) x.reachable = false;
      t.failed++;
      const f = this.o.signal?.aborted ? cutOff(err as Error) : unreachable(c.server.origin.origin, err as Error);
      this.add(c.site, { ...f, file: c.url });
      return;
    }
    if (r.localAddress !== undefined) t.source ??= r.localAddress;
    const found = this.judge(c, r, published, t);
    if (found.length > 0) t.failed++;
    for (const d of found) this.add(c.site, { ...d, file: c.url });
  }

  private add(site: string, d: Diagnostic) {
    this.diagnostics.push(d);
    const list = this.bySite.get(site) ?? [];
    list.push(d);
    this.bySite.set(site, list);
  }

  private judge(
    c: Check,
    r: Fetched,
    published: Map<string, { text: string; sums: Map<string, string> }>,
    t: { refused: string[] },
  ): Finding[] {
    const e = c.expect;
    if (e.kind === 'refused') return judgeRefused(e, r);
    if (r.status >= 300 && r.status < 400)
      return [
        drift(
          `redirects (${r.status}) to ${r.location ?? '(no Location)'}; iPXE, UEFI HTTP boot and the installer do not follow redirects`,
          'Serve the file itself at this URL: no `return 30x`/`rewrite ... redirect` in front of the generated locations.',
        ),
      ];
    if (e.kind === 'served' && e.allow !== undefined && !allowed(r.localAddress, e.allow)) {
      if (r.status === 403) {
        t.refused.push(c.url);
        return [];
      }
      return judgeOutsideAllow(e.allow, r);
    }
    if (r.status !== 200)
      return [
        drift(
          `answered ${r.status}; expected 200${r.status === 404 ? ' (the file is missing on the server)' : r.status === 403 ? ' (refused: check the file permissions and the allow rules)' : ''}`,
          e.kind === 'served'
            ? 'Copy the deploy tree to the server again (`rsync -a --delete deploy/<site>/ <server>:<nginx.root>/`).'
            : 'Run artifacts/fetch.sh on the server; it downloads and verifies the release files.',
        ),
      ];
    if (e.kind === 'served') return judgeServed(e, r);
    if (e.kind === 'sums') return judgeSums(e, r, published);
    return judgeRelease(e, r, published);
  }
}

/** What one answer shows wrong, without the file (the caller adds it). */
type Finding = Omit<Diagnostic, 'file'>;
/** What a check expects, by kind. */
type Expect<K extends Check['expect']['kind']> = Extract<Check['expect'], { kind: K }>;

/** The most bytes of a SHA-512 list a boot server serves (a list is a few hundred bytes). */
const SUMS_MAX_BYTES = 1 << 16;
/** The most bytes of a release's published SHA-512 list. */
const PUBLISHED_SUMS_MAX_BYTES = 1 << 20;

/** No answer from a server: the job could not be done. */
const unreachable = (origin: string, err: Error): Finding => ({
  code: 'VERIFY_UNREACHABLE',
  severity: 'error',
  message: `${origin} did not answer: ${err.message}; its other checks were not made`,
  hint: 'Is nginx running and listening there, and is the URL right (`--url`)? Network errors make verify exit 2.',
});

/** The run's time limit (the caller's signal) ran out while this request was made: the job could not be done. */
const cutOff = (err: Error): Finding => ({
  code: 'VERIFY_UNREACHABLE',
  severity: 'error',
  message: `no whole answer before ${err.message}; this server's remaining checks were not made`,
  hint: 'The server answers too slowly (a body that trickles in keeps every request alive): look at the server and the network, or give verify longer (`--deadline`).',
});

/** The server does not serve what the deploy tree holds. */
const drift = (message: string, hint: string): Finding => ({ code: 'VERIFY_DRIFT', severity: 'error', message, hint });
/** The server serves what it must not. */
const exposed = (message: string, hint: string): Finding => ({ code: 'VERIFY_EXPOSED', severity: 'error', message, hint });

/** A path the server must refuse (403 or 404): a listing, a redirect or a file served is exposed. */
function judgeRefused(e: Expect<'refused'>, r: Fetched): Finding[] {
  if (r.status === 403 || r.status === 404 || r.status === 400) return [];
  if (r.status < 200 || r.status >= 400)
    return [
      drift(
        `${e.what} answered ${r.status}; expected 403 or 404`,
        'Look at the server (its error log): it should refuse this path plainly.',
      ),
    ];
  const redirect = r.status >= 300;
  const listing = r.status === 200 && /<title>\s*Index of|<h1>\s*Index of/i.test(r.head.toString('latin1'));
  const what = listing ? 'a directory listing' : redirect ? `a redirect (${r.status}) to ${r.location ?? '?'}` : `status ${r.status}`;
  return [
    exposed(
      `${e.what} is answered with ${what}; it must be 403 or 404`,
      listing
        ? 'Turn autoindex off; serve the tree only through the generated locations (nginx/harvgen.conf or nginx/locations.conf), with `location / { return 404; }`.'
        : 'Serve the tree only through the generated locations, ending in `location / { return 404; }`; do not copy other files into the served directories.',
    ),
  ];
}

/** A node's file asked for from an address its access rules leave out: anything but 403 is wrong. */
function judgeOutsideAllow(allow: readonly string[], r: Fetched): Finding[] {
  return [
    r.status === 200
      ? exposed(
          `is served to ${r.localAddress ?? 'verify'}, which its access rules leave out (it may be fetched from ${allow.join(', ')} only)`,
          "Deploy the generated nginx config (its allow/deny rules); behind a proxy or NAT, pass the client's address (set_real_ip_from/real_ip_header).",
        )
      : drift(
          `answered ${r.status}; expected 403 (verify's address ${r.localAddress ?? '?'} is not among ${allow.join(', ')})`,
          'Deploy the generated nginx config.',
        ),
  ];
}

/** How a body cut off (longer than it may be, or ended early) differs from `size` bytes; undefined: it is whole. */
function cutMessage(r: Fetched, size: number): string | undefined {
  const announced = r.contentLength !== undefined ? `its Content-Length announced ${r.contentLength} bytes` : undefined;
  if (r.cut === 'over')
    return r.contentLength !== undefined && r.contentLength > size
      ? `${announced}, more than the ${size} built; verify read no further`
      : `sent more than the ${size} bytes built (${r.size} received); verify read no further`;
  if (r.cut === 'long')
    return `${announced ?? 'its Content-Length'} and more bytes came after them (built: ${size} bytes): the Content-Length disagrees with the body`;
  if (r.cut === 'short')
    return announced !== undefined
      ? `${announced} but the body ended after ${r.size} when the server closed the connection (built: ${size} bytes): the Content-Length disagrees with the body`
      : `the body ended after ${r.size} bytes when the server closed the connection, before its end (built: ${size} bytes)`;
  return undefined;
}

/** A file of the deploy tree: its bytes and its Content-Type. */
function judgeServed(e: Expect<'served'>, r: Fetched): Finding[] {
  const out: Finding[] = [];
  const cut = cutMessage(r, e.size);
  if (cut !== undefined)
    out.push(
      drift(
        `${cut}: not the deploy tree's ${e.path}`,
        'Look at the file on the server and at what answers for it (a proxy, a handler that is not the generated location); then copy the deploy tree again (`rsync -a --delete deploy/<site>/ <server>:<nginx.root>/`).',
      ),
    );
  else if (r.size !== e.size || r.digest !== e.sha256)
    out.push(
      drift(
        `differs from the deploy tree's ${e.path} (${r.size} bytes, sha256 ${r.digest.slice(0, 12)}…; built: ${e.size} bytes, ${e.sha256.slice(0, 12)}…): a stale copy or an edit on the server`,
        'Copy the deploy tree to the server again (`rsync -a --delete deploy/<site>/ <server>:<nginx.root>/`); edit the inventory, never the served files.',
      ),
    );
  const want = CONTENT_TYPES[e.type];
  if (!sameType(r.contentType, want))
    out.push(
      drift(
        `is served as Content-Type ${r.contentType ?? '(none)'}; the generated nginx config sends ${want}`,
        'Use the generated nginx locations as they are (their `types { }`/`default_type`/`charset` lines decide the type).',
      ),
    );
  return out;
}

/** A release's SHA-512 list: the one the release published. */
function judgeSums(e: Expect<'sums'>, r: Fetched, published: Map<string, { text: string; sums: Map<string, string> }>): Finding[] {
  if (r.cut !== undefined)
    return [
      drift(
        r.cut === 'over'
          ? `is larger than ${SUMS_MAX_BYTES} bytes: not the release's SHA-512 list (${e.sums}); verify read no further`
          : r.cut === 'long'
            ? `sent more bytes than its Content-Length (${r.contentLength ?? '?'}) announced`
            : `ended after ${r.size} bytes when the server closed the connection${r.contentLength !== undefined ? ` (its Content-Length announced ${r.contentLength})` : ''}`,
        'Run artifacts/fetch.sh on the server again: it downloads the list and the files and checks them.',
      ),
    ];
  const p = published.get(e.sums);
  if (p === undefined) return [];
  const served = parseSums(r.head.toString('utf8'));
  const same = served.size === p.sums.size && [...p.sums].every(([name, hex]) => served.get(name) === hex);
  if (same) return [];
  return [
    drift(
      `is not the release's published SHA-512 list (${e.sums})`,
      'Run artifacts/fetch.sh on the server again: it downloads the list and the files and checks them.',
    ),
  ];
}

/** A release file: whole, in the release's SHA-512 list, served as bytes. */
function judgeRelease(e: Expect<'release'>, r: Fetched, published: Map<string, { text: string; sums: Map<string, string> }>): Finding[] {
  if (r.cut !== undefined)
    return [
      drift(
        r.cut === 'long'
          ? `sent more bytes than its Content-Length (${r.contentLength ?? '?'}) announced: the Content-Length disagrees with the body`
          : r.contentLength !== undefined
            ? `sent ${r.size} bytes of the ${r.contentLength} its Content-Length announced, then closed the connection: the Content-Length disagrees with the body`
            : `ended after ${r.size} bytes when the server closed the connection, before its end`,
        'Check the file on the server; run artifacts/fetch.sh again.',
      ),
    ];
  const out: Finding[] = [];
  if (r.size === 0) out.push(drift('is empty', 'Run artifacts/fetch.sh on the server again.'));
  const p = published.get(e.sums);
  const want = p?.sums.get(e.name);
  if (p !== undefined && want === undefined && !/-shim-/.test(e.name))
    out.push(drift(`${e.name} is not in the release's published SHA-512 list ${e.sums}`, 'Check the release version and the file name.'));
  if (want !== undefined && want !== r.digest)
    out.push(
      drift(
        `SHA-512 differs from the release's published list ${e.sums} (${r.size} bytes): a corrupt, truncated or different file`,
        'Delete it on the server and run artifacts/fetch.sh again (it keeps files it already has).',
      ),
    );
  if (e.pinned !== undefined && e.pinned !== r.digest)
    out.push(
      drift(
        `SHA-512 is not the one the upgrade pins (harvester.upgrade.iso_checksum): the cluster would be given another ISO than the commit names`,
        "Put the target release's ISO on the server (artifacts/fetch.sh checks it against the pin), or fix the pin.",
      ),
    );
  if (!sameType(r.contentType, CONTENT_TYPES.binary))
    out.push(
      drift(
        `is served as Content-Type ${r.contentType ?? '(none)'}; the generated nginx config sends ${CONTENT_TYPES.binary}`,
        'Use the generated nginx locations as they are.',
      ),
    );
  return out;
}

/** Served files first (the entry script first of all), then refusals, then release files. */
function rank(c: Check): number {
  const e = c.expect;
  if (e.kind === 'served') return e.path === 'boot.ipxe' ? 0 : 1;
  return e.kind === 'refused' ? 2 : 3;
}
