// `verify()`: does a boot server serve exactly the deploy tree? For each site, read the deploy
// tree's manifest.json (src/verify/manifest.ts), plan the requests (src/verify/plan.ts), make
// them with bounded concurrency and an idle timeout (src/verify/http.ts), and turn every
// difference into a diagnostic positioned at its URL: VERIFY_DRIFT (a served file is not what
// was built), VERIFY_EXPOSED (something answers that must not), VERIFY_UNREACHABLE (no answer:
// the job could not be done), VERIFY_NO_DEPLOY_TREE (nothing to compare with).
import { loadSite } from '../load/index.ts';
import { readFileSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { sortDiagnostics, type Diagnostic } from '../diagnostics/types.ts';
import { createAgents } from './http.ts';
import { readDeployManifest, type DeployManifest } from './manifest.ts';
import { planReleases, planSite, servedCheck, serverFor, type Check, type ReleaseSums } from './plan.ts';
import { isSafeRelativePath } from '../render/artifact.ts';
import { Run } from './run.ts';
import { SITE_NAME } from './fleet-record.ts';
import { checkSignature, type TrustedKey } from './signature.ts';
import type { VerifyProgress, VerifyServer } from './types.ts';

export { CONTENT_TYPES, contentKind, parseSums, planSite, planReleases, serverFor, type Check, type Expect, type Server } from './plan.ts';
export { readDeployManifest, type DeployManifest } from './manifest.ts';
export { allowed, servedCheck, treelessProbes } from './plan.ts';
export { STATE_PATH } from './identity.ts';
export {
  verifyFleet,
  readFleetRecord,
  listFleetRecords,
  type FleetRecord,
  type FleetSite,
  type FleetState,
  type FleetVerdict,
  type VerifyFleetOptions,
  type VerifyFleetResult,
} from './fleet.ts';
export type { VerifyProgress, VerifyServer } from './types.ts';
export type { TrustedKey } from './signature.ts';

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
  /**
   * The whole run's time limit (default 900,000 ms): the requests still running when it ends fail
   * (VERIFY_UNREACHABLE), the rest are not made. A server that drips its bytes never idles.
   */
  readonly deadlineMs?: number;
  /** Connect from this local address (to check a node's access from a host holding its address). */
  readonly source?: string;
  /** Called after each request. */
  readonly onProgress?: (e: VerifyProgress) => void;
  /**
   * A public key line (a `.pub` file's content) every site's manifest.json.sig must verify with,
   * in place of the sites' `signing.public_key` (`--public-key`).
   */
  readonly publicKey?: TrustedKey;
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
  const sites: VerifySite[] = [];
  const plan: SitesPlan = { checks: [], skipped: [], sums: new Map() };
  for (const dir of options.sites) sites.push(await planInventory(dir, outRoot, options, plan));
  return execute(sites, plan, options, started);
}

/** What `verifyTree` checks: one site's tree, without its inventory (the materializer, `harvgen pull`, on the boot server). */
export interface VerifyTreeOptions extends Pick<
  VerifyOptions,
  'releases' | 'releaseBase' | 'concurrency' | 'timeoutMs' | 'deadlineMs' | 'source' | 'onProgress'
> {
  /** The directory holding the site's deploy tree (its manifest.json). */
  readonly tree: string;
  /** The site's name: the tree's manifest.json must be this site's. */
  readonly site: string;
  /** manifest.json.sig must verify with this key (none: the signature is not checked). */
  readonly publicKey?: TrustedKey;
  /** Boot servers to check (default: the manifest's boot.server). A URL with a path stands for boot.server itself. */
  readonly urls?: readonly string[];
  /** Paths of the site's secret files relative to the site directory (`secrets/token`): probed as must-not. */
  readonly secretFiles?: readonly string[];
  /** Files served beside the manifest's (path under boot.server, SHA-256, size): checked as served files. */
  readonly extraServed?: readonly { readonly path: string; readonly sha256: string; readonly size: number }[];
}

/**
 * Verify one site's deploy tree (`<tree>/manifest.json`) against its boot server(s), from the tree
 * alone: what `verify()` does for each site, with the site's name, key and secret-file references
 * given instead of read from its inventory. Never throws for a server's answers.
 */
export async function verifyTree(options: VerifyTreeOptions): Promise<VerifyResult> {
  const started = performance.now();
  const plan: SitesPlan = { checks: [], skipped: [], sums: new Map() };
  const tree = resolve(options.tree);
  const site = planTree(
    { dir: tree, name: options.site, out: tree, secretFiles: options.secretFiles ?? [], extraServed: options.extraServed ?? [] },
    options.publicKey,
    options,
    plan,
  );
  return execute([site], plan, options, started);
}

/** What running the planned checks needs (the options of verify and verifyTree alike). */
type RunOptions = Pick<VerifyOptions, 'releaseBase' | 'concurrency' | 'timeoutMs' | 'deadlineMs' | 'source' | 'onProgress'>;

/** The whole run's time limit when none is given. */
export const DEFAULT_DEADLINE_MS = 900_000;

/** Make the planned requests and give each site its diagnostics. */
async function execute(sites: VerifySite[], plan: SitesPlan, options: RunOptions, started: number): Promise<VerifyResult> {
  const concurrency = Math.max(1, Math.min(64, options.concurrency ?? 8));
  const diagnostics: Diagnostic[] = sites.flatMap((s) => s.diagnostics);
  const agents = createAgents(concurrency);
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const limit = new AbortController();
  const seconds = Math.round(deadlineMs / 100) / 10;
  const timer = setTimeout(() => limit.abort(new Error(`verify's time limit of ${seconds} s (--deadline) ran out`)), deadlineMs);
  const run = new Run(uniqueChecks(plan.checks), agents, {
    timeoutMs: options.timeoutMs ?? 10_000,
    concurrency,
    signal: limit.signal,
    ...(options.source !== undefined ? { source: options.source } : {}),
  });
  try {
    const published = await run.publishedSums(
      [...plan.sums.values()],
      options.releaseBase ?? process.env.HARVGEN_RELEASE_BASE ?? DEFAULT_RELEASE_BASE,
    );
    await run.all(published, options.onProgress);
  } finally {
    clearTimeout(timer);
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
    skipped: plan.skipped,
    durationMs: Math.round(performance.now() - started),
  };
}

/** The requests of every site, the release files not checked, the release SHA-512 lists to fetch. */
interface SitesPlan {
  readonly checks: Check[];
  readonly skipped: string[];
  readonly sums: Map<string, ReleaseSums>;
}

/** One site of `verify()`: its name, key and secret files from its inventory, then its tree planned. */
async function planInventory(dir: string, outRoot: string, options: VerifyOptions, plan: SitesPlan): Promise<VerifySite> {
  const loaded = await loadSite(dir);
  const name = (loaded.input as { site?: unknown } | undefined)?.site;
  if (typeof name !== 'string' || !SITE_NAME.test(name)) {
    const why = loaded.diagnostics.find((d) => d.severity === 'error')?.message ?? `${dir}/site.yaml names no site (\`site:\`)`;
    return { dir, diagnostics: [treeProblem(dir, `cannot tell which deploy tree belongs to ${dir}: ${why}`)] };
  }
  const key = options.publicKey ?? siteKey(loaded.input, dir);
  const tree: TreeOf = { dir, name, out: join(outRoot, name), secretFiles: secretFileRefs(loaded.input), extraServed: [] };
  return planTree(tree, key, options, plan);
}

/** One site's tree as planTree reads it. */
interface TreeOf {
  /** The site directory (verify) or the tree itself (verifyTree): where the result says the site came from. */
  readonly dir: string;
  readonly name: string;
  /** The directory holding manifest.json. */
  readonly out: string;
  readonly secretFiles: readonly string[];
  readonly extraServed: NonNullable<VerifyTreeOptions['extraServed']>;
}

/** One site: its deploy tree read (its signature first, with a key) and its checks added to `plan`. */
function planTree(t: TreeOf, key: TrustedKey | undefined, options: Pick<VerifyOptions, 'urls' | 'releases'>, plan: SitesPlan): VerifySite {
  const { dir, name, out } = t;
  // With a signing key, nothing of the tree is trusted before its signature verifies for the
  // very bytes read here (src/verify/signature.ts).
  const text = key ? readText(join(out, 'manifest.json')) : undefined;
  const unsigned = key && text !== undefined ? checkSignature(out, text, key, name) : undefined;
  if (unsigned) return { dir, site: name, out, diagnostics: [unsigned] };
  const read = readDeployManifest(out, text);
  if ('problem' in read) return { dir, site: name, out, diagnostics: [treeProblem(out, read.problem, read.committed)] };
  const m = read.manifest;
  if (m.site !== name && (key || dir === out)) {
    const d: Diagnostic = {
      code: key ? 'VERIFY_SIGNATURE' : 'VERIFY_NO_DEPLOY_TREE',
      severity: 'error',
      message: `${out}/manifest.json is ${key ? 'signed, but ' : ''}for the site ${m.site}, not ${name}: verify checked nothing of ${name}`,
      hint: dir === out ? `Verify ${name}'s own tree.` : `Deploy ${name}'s own tree (\`harvgen build --deploy ${dir}\`) to ${out}.`,
      file: join(out, 'manifest.json'),
    };
    return { dir, site: name, out, diagnostics: [d] };
  }
  const diagnostics: Diagnostic[] = read.dropped.map((p) => ({
    code: 'EMIT_UNTRUSTED_PATH',
    severity: 'warning',
    message: `${out}/manifest.json names "${p}", which is not a plain path or URL of the tree; verify ignored it`,
    hint: 'Rebuild the deploy tree (`harvgen build --deploy`); nobody but harvgen should write manifest.json.',
    file: join(out, 'manifest.json'),
  }));
  const extra = t.extraServed.filter((f) => isSafeRelativePath(f.path) && /^[0-9a-f]{64}$/.test(f.sha256) && Number.isSafeInteger(f.size));
  for (const u of options.urls && options.urls.length > 0 ? options.urls : defaultServers(m)) {
    const server = serverFor(m.boot.server, u);
    plan.checks.push(...planSite(m, server, t.secretFiles), ...extra.map((f) => servedCheck(m.site, server, f.path, f)));
    if (!options.releases) continue;
    const r = planReleases(m, server);
    plan.checks.push(...r.checks);
    plan.skipped.push(...r.skipped.filter((s) => !plan.skipped.includes(s)));
    for (const s of r.sums) plan.sums.set(`${s.version}/${s.name}`, s);
  }
  return {
    dir,
    site: name,
    out,
    nodes: m.nodes.length,
    served: m.files.filter((f) => f.url !== undefined).length + extra.length,
    diagnostics,
  };
}

/**
 * The servers verify checks by default: boot.server, the boot server's address on each VLAN its
 * installers fetch from, and with failover each server at its own address (each serves the tree,
 * whichever holds the shared one).
 */
export function defaultServers(m: Pick<DeployManifest, 'boot'>): string[] {
  return [m.boot.server, ...(m.boot.vlan_servers ?? []), ...(m.boot.failover_servers ?? [])];
}

/** Each check once: the same URL twice (two sites sharing release files) is fetched once. */
function uniqueChecks(checks: readonly Check[]): Check[] {
  const unique = [...new Map(checks.map((c) => [`${c.url}\u0000${c.expect.kind}\u0000${c.site}`, c])).values()];
  const seen = new Set<string>();
  return unique.filter((c) => (c.expect.kind === 'release' || c.expect.kind === 'sums' ? !seen.has(c.url) && !!seen.add(c.url) : true));
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

/** `cluster.token`/`password` and `signing.private_key` given as `{ file }` in the inventory: paths to probe on the server. */
function secretFileRefs(input: unknown): string[] {
  const i = input as { cluster?: Record<string, unknown>; signing?: Record<string, unknown> } | undefined;
  const refs = [i?.cluster?.token, i?.cluster?.password, i?.signing?.private_key] as ({ file?: unknown } | undefined)[];
  return refs.flatMap((v) => (typeof v?.file === 'string' ? [v.file.replace(/^\.\//, '')] : []));
}

/** The site's `signing.public_key` (read raw: verify does not validate the inventory; the key is parsed when used). */
function siteKey(input: unknown, dir: string): TrustedKey | undefined {
  const line = (input as { signing?: { public_key?: unknown } } | undefined)?.signing?.public_key;
  return typeof line === 'string' ? { line, from: `signing.public_key of ${join(dir, 'site.yaml')}` } : undefined;
}

/** A file's text, or undefined (readDeployManifest then says why there is none). */
function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
