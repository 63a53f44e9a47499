// `verify()`: does a boot server serve exactly the deploy tree? For each site, read the deploy
// tree's manifest.json (src/verify/manifest.ts), plan the requests (src/verify/plan.ts), make
// them with bounded concurrency and an idle timeout (src/verify/http.ts), and turn every
// difference into a diagnostic positioned at its URL: VERIFY_DRIFT (a served file is not what
// was built), VERIFY_EXPOSED (something answers that must not), VERIFY_UNREACHABLE (no answer:
// the job could not be done), VERIFY_NO_DEPLOY_TREE (nothing to compare with).
import { resolve, join } from 'node:path';
import { sortDiagnostics, type Diagnostic } from '../diagnostics/types.ts';
import { parseCidr, parseIpv4, inNetwork } from '../util/ipv4.ts';
import { createAgents, get, NetworkError, type Agents, type Fetched } from './http.ts';
import { readDeployManifest } from './manifest.ts';
import { CONTENT_TYPES, parseSums, planReleases, planSite, serverFor, type Check, type ReleaseSums } from './plan.ts';

export { CONTENT_TYPES, contentKind, parseSums, planSite, planReleases, serverFor, type Check, type Expect, type Server } from './plan.ts';
export { readDeployManifest, type DeployManifest } from './manifest.ts';

/** Where fetch.sh downloads releases from when HARVGEN_RELEASE_BASE is not set. */
export const DEFAULT_RELEASE_BASE = 'https://releases.rancher.com/harvester';

export interface VerifyOptions {
  /** Site directories (their `site:` name picks `<outDir>/<site>/`). */
  readonly sites: readonly string[];
  /** The deploy tree's root (default `deploy`, as `build --deploy` writes it). */
  readonly outDir?: string;
  /** Boot servers to check (default: each site's `boot.server`). A URL with a path stands for boot.server itself. */
  readonly urls?: readonly string[];
  /** Also fetch the release files and check them against the release's published SHA-512 list. */
  readonly releases?: boolean;
  /** Where the published lists are: `<base>/<version>/<list>` (default HARVGEN_RELEASE_BASE, else releases.rancher.com). */
  readonly releaseBase?: string;
  /** Requests in flight at once (default 8). */
  readonly concurrency?: number;
  /** A request with no data for this long fails (default 10,000 ms). */
  readonly timeoutMs?: number;
  /** Connect from this local address (to check a node's access from a host holding its address). */
  readonly source?: string;
  /** Called after each request. */
  readonly onProgress?: (e: { done: number; total: number; url: string }) => void;
}

/** One site of a run. */
export interface VerifySite {
  readonly dir: string;
  readonly site?: string;
  /** The deploy tree's directory of the site. */
  readonly out?: string;
  readonly nodes?: number;
  /** Files the server must serve. */
  readonly served?: number;
  readonly diagnostics: Diagnostic[];
}

/** One site on one server. */
export interface VerifyServer {
  readonly site: string;
  readonly url: string;
  /** Requests made. */
  readonly checks: number;
  /** Checks that found a difference. */
  readonly failed: number;
  /** Files refused to verify's address as their access rules say (check them from a node's address). */
  readonly refused: readonly string[];
  /** The address the server saw verify connect from. */
  readonly source?: string;
  /** False when the server did not answer (the remaining checks were not made). */
  readonly reachable: boolean;
}

export interface VerifyResult {
  /** Every server answered and matched. */
  readonly ok: boolean;
  readonly sites: readonly VerifySite[];
  readonly servers: readonly VerifyServer[];
  readonly diagnostics: readonly Diagnostic[];
  /** Requests made in all. */
  readonly checks: number;
  /** Release files not on the boot server (nginx does not serve them; not checked). */
  readonly skipped: readonly string[];
  readonly durationMs: number;
}

/** Verify every site's deploy tree against its boot server(s). Never throws for a server's answers. */
export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const started = performance.now();
  const outRoot = resolve(options.outDir ?? 'deploy');
  const concurrency = Math.max(1, Math.min(64, options.concurrency ?? 8));
  const timeoutMs = options.timeoutMs ?? 10_000;
  const sites: VerifySite[] = [];
  const checks: Check[] = [];
  const skipped: string[] = [];
  const sums = new Map<string, ReleaseSums>();
  const { loadSite } = await import('../load/index.ts');
  for (const dir of options.sites) {
    const diagnostics: Diagnostic[] = [];
    const loaded = await loadSite(dir);
    const name = (loaded.input as { site?: unknown } | undefined)?.site;
    if (typeof name !== 'string' || !/^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/.test(name)) {
      const why = loaded.diagnostics.find((d) => d.severity === 'error')?.message ?? `${dir}/site.yaml names no site (\`site:\`)`;
      diagnostics.push(treeProblem(dir, `cannot tell which deploy tree belongs to ${dir}: ${why}`));
      sites.push({ dir, diagnostics });
      continue;
    }
    const out = join(outRoot, name);
    const read = readDeployManifest(out);
    if ('problem' in read) {
      diagnostics.push(treeProblem(out, read.problem, read.committed));
      sites.push({ dir, site: name, out, diagnostics });
      continue;
    }
    const m = read.manifest;
    for (const p of read.dropped)
      diagnostics.push({
        code: 'EMIT_UNTRUSTED_PATH',
        severity: 'warning',
        message: `${out}/manifest.json names "${p}", which is not a plain path or URL of the tree; verify ignored it`,
        hint: 'Rebuild the deploy tree (`harvgen build --deploy`); nobody but harvgen should write manifest.json.',
        file: join(out, 'manifest.json'),
      });
    const secretFiles = secretFileRefs(loaded.input);
    for (const u of options.urls && options.urls.length > 0 ? options.urls : [m.boot.server]) {
      const server = serverFor(m.boot.server, u);
      checks.push(...planSite(m, server, secretFiles));
      if (options.releases) {
        const r = planReleases(m, server);
        checks.push(...r.checks);
        skipped.push(...r.skipped.filter((s) => !skipped.includes(s)));
        if (r.sums) sums.set(`${r.sums.version}/${r.sums.name}`, r.sums);
      }
    }
    sites.push({ dir, site: name, out, nodes: m.nodes.length, served: m.files.filter((f) => f.url !== undefined).length, diagnostics });
  }
  const diagnostics: Diagnostic[] = sites.flatMap((s) => s.diagnostics);
  // The same URL twice (two sites sharing release files) is fetched once.
  const unique = [...new Map(checks.map((c) => [`${c.url}\u0000${c.expect.kind}\u0000${c.site}`, c])).values()];
  const seen = new Set<string>();
  const planned = unique.filter((c) =>
    c.expect.kind === 'release' || c.expect.kind === 'sums' ? !seen.has(c.url) && !!seen.add(c.url) : true,
  );
  const agents = createAgents(concurrency);
  const run = new Run(planned, agents, { timeoutMs, concurrency, ...(options.source !== undefined ? { source: options.source } : {}) });
  try {
    const published = await run.publishedSums(
      [...sums.values()],
      options.releaseBase ?? process.env.HARVGEN_RELEASE_BASE ?? DEFAULT_RELEASE_BASE,
    );
    await run.all(published, options.onProgress);
  } finally {
    agents.destroy();
  }
  // Sorted by URL: requests finish in any order, the report does not.
  diagnostics.push(...sortDiagnostics(run.diagnostics));
  for (const s of sites) if (s.site !== undefined) s.diagnostics.push(...sortDiagnostics(run.bySite.get(s.site) ?? []));
  return {
    ok: !diagnostics.some((d) => d.severity === 'error'),
    sites,
    servers: run.servers(),
    diagnostics,
    checks: run.made,
    skipped,
    durationMs: Math.round(performance.now() - started),
  };
}

function treeProblem(where: string, message: string, committed?: true): Diagnostic {
  return {
    code: 'VERIFY_NO_DEPLOY_TREE',
    severity: 'error',
    message,
    hint: committed
      ? 'Build the deploy tree (`harvgen build --deploy <site-dir>`, into deploy/) and verify against it (`--out` names its root when it is elsewhere).'
      : 'verify compares the server with the deploy tree `harvgen build --deploy` wrote: build it first, or point `--out` at its root.',
    file: where,
  };
}

/** `cluster.token`/`password` given as `{ file }` in the inventory: paths to probe on the server. */
function secretFileRefs(input: unknown): string[] {
  const c = (input as { cluster?: Record<string, unknown> } | undefined)?.cluster ?? {};
  return ['token', 'password'].flatMap((k) => {
    const v = c[k] as { file?: unknown } | undefined;
    return typeof v?.file === 'string' ? [v.file.replace(/^\.\//, '')] : [];
  });
}

/** True when `address` is among `allow` (addresses, IPv4 networks, or `all`). */
export function allowed(address: string | undefined, allow: readonly string[]): boolean {
  if (address === undefined) return false;
  const ip = parseIpv4(address);
  return allow.some((a) => {
    if (a === 'all' || a === address) return true;
    if (ip === undefined || !a.includes('/')) return false;
    const net = parseCidr(a).net;
    return net !== undefined && inNetwork(ip, net);
  });
}

const sameType = (got: string | undefined, want: string) =>
  (got ?? '').toLowerCase().replace(/\s+/g, '').replace(/"/g, '') === want.toLowerCase().replace(/\s+/g, '');

/** The requests of one run, the servers' tallies and the diagnostics found. */
class Run {
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
    private readonly o: { timeoutMs: number; concurrency: number; source?: string },
  ) {
    for (const c of checks) this.entry(c);
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

  private fetch(url: URL, rawPath: string, hash: 'sha256' | 'sha512', kind: Check['expect']['kind']): Promise<Fetched> {
    return get(url, rawPath, {
      timeoutMs: this.o.timeoutMs,
      hash,
      // A probe needs the status and enough of the body to recognise a listing; a SHA-512 list is read whole.
      headOnly: kind === 'refused',
      keep: kind === 'sums' ? 1 << 16 : 4096,
      agents: this.agents,
      ...(this.o.source !== undefined ? { localAddress: this.o.source } : {}),
    });
  }

  /** Fetch each release's published SHA-512 list (a failure is VERIFY_UNREACHABLE at its URL). */
  async publishedSums(lists: readonly ReleaseSums[], base: string): Promise<Map<string, { text: string; sums: Map<string, string> }>> {
    const out = new Map<string, { text: string; sums: Map<string, string> }>();
    for (const s of lists) {
      const url = `${base.replace(/\/+$/, '')}/${s.version}/${s.name}`;
      try {
        const u = new URL(url);
        const r = await get(u, u.pathname + u.search, { timeoutMs: this.o.timeoutMs, hash: 'sha256', keep: 1 << 20, agents: this.agents });
        if (r.status !== 200) throw new NetworkError(`answered ${r.status}`);
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
  async all(published: Map<string, { text: string; sums: Map<string, string> }>, onProgress?: VerifyOptions['onProgress']) {
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
      r = await this.fetch(c.server.origin, c.rawPath, big ? 'sha512' : 'sha256', e.kind);
    } catch (err) {
      if (this.dead.has(c.server.origin.origin)) return;
      this.dead.add(c.server.origin.origin);
      for (const x of this.tally.values()) if (new URL(x.url).origin === c.server.origin.origin) x.reachable = false;
      t.failed++;
      this.add(c.site, {
        code: 'VERIFY_UNREACHABLE',
        severity: 'error',
        message: `${c.server.origin.origin} did not answer: ${(err as Error).message}; its other checks were not made`,
        hint: 'Is nginx running and listening there, and is the URL right (`--url`)? Network errors make verify exit 2.',
        file: c.url,
      });
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
  ): Omit<Diagnostic, 'file'>[] {
    const e = c.expect;
    const drift = (message: string, hint: string) => ({ code: 'VERIFY_DRIFT', severity: 'error' as const, message, hint });
    const exposed = (message: string, hint: string) => ({ code: 'VERIFY_EXPOSED', severity: 'error' as const, message, hint });
    const redirect = r.status >= 300 && r.status < 400;
    if (e.kind === 'refused') {
      if (r.status === 403 || r.status === 404 || r.status === 400) return [];
      if (r.status >= 200 && r.status < 400) {
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
      return [
        drift(
          `${e.what} answered ${r.status}; expected 403 or 404`,
          'Look at the server (its error log): it should refuse this path plainly.',
        ),
      ];
    }
    if (redirect)
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
      return [
        r.status === 200
          ? exposed(
              `is served to ${r.localAddress ?? 'verify'}, which its access rules leave out (it may be fetched from ${e.allow.join(', ')} only)`,
              "Deploy the generated nginx config (its allow/deny rules); behind a proxy or NAT, pass the client's address (set_real_ip_from/real_ip_header).",
            )
          : drift(
              `answered ${r.status}; expected 403 (verify's address ${r.localAddress ?? '?'} is not among ${e.allow.join(', ')})`,
              'Deploy the generated nginx config.',
            ),
      ];
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
    if (e.kind === 'served') {
      const out: Omit<Diagnostic, 'file'>[] = [];
      if (r.size !== e.size || r.digest !== e.sha256)
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
    if (e.kind === 'sums') {
      const p = published.get(e.sums);
      if (p === undefined) return [];
      const served = parseSums(r.head.toString('utf8'));
      const same = served.size === p.sums.size && [...p.sums].every(([name, hex]) => served.get(name) === hex);
      return same
        ? []
        : [
            drift(
              `is not the release's published SHA-512 list (${e.sums})`,
              'Run artifacts/fetch.sh on the server again: it downloads the list and the files and checks them.',
            ),
          ];
    }
    // A release file.
    const out: Omit<Diagnostic, 'file'>[] = [];
    if (r.contentLength !== undefined && r.contentLength !== r.size)
      out.push(
        drift(`sent ${r.size} bytes of the ${r.contentLength} it announced`, 'Check the file on the server; run artifacts/fetch.sh again.'),
      );
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
    if (!sameType(r.contentType, CONTENT_TYPES.binary))
      out.push(
        drift(
          `is served as Content-Type ${r.contentType ?? '(none)'}; the generated nginx config sends ${CONTENT_TYPES.binary}`,
          'Use the generated nginx locations as they are.',
        ),
      );
    return out;
  }
}

/** Served files first (the entry script first of all), then refusals, then release files. */
function rank(c: Check): number {
  const e = c.expect;
  if (e.kind === 'served') return e.path === 'boot.ipxe' ? 0 : 1;
  return e.kind === 'refused' ? 2 : 3;
}
