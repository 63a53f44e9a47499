// `harvgen verify`: does each boot server serve exactly the deploy tree? (the library: src/verify/)
import { readFileSync, statSync } from 'node:fs';
import { jsonOutput, jsonSite } from '../../report/envelope.ts';
import { exitCode } from '../../diagnostics/exit.ts';
import { hasFailures } from '../../diagnostics/types.ts';
import type { Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';
import { startProgress } from '../progress.ts';
import { parsePublicKey } from '../../util/ssh-public-key.ts';
import type { FleetSite, FleetState, VerifyFleetResult } from '../../verify/fleet.ts';
import type { VerifyResult } from '../../verify/index.ts';
import { baseUrlFault, type BaseUrlFault } from '../../util/base-url.ts';

/** The flags of verify (cac camel-cases them). */
export interface VerifyFlags extends Flags {
  readonly url?: string | readonly string[];
  readonly releases?: boolean;
  readonly releaseBase?: string;
  readonly concurrency?: number | string;
  readonly timeout?: number | string;
  readonly deadline?: number | string;
  readonly source?: string;
  readonly publicKey?: string;
  readonly fleet?: string;
  readonly siteTimeout?: number | string;
}

/** The single-site verify's flags, checked. */
interface VerifyInputs {
  readonly urls: string[];
  readonly concurrency: number;
  readonly timeout: number;
  readonly deadline: number;
  readonly publicKey?: { line: string; from: string };
}

/** A numeric flag (`fallback` when not given), or undefined when `fits` refuses it. */
function numberFlag(value: number | string | undefined, fallback: number, fits: (n: number) => boolean): number | undefined {
  const n = value === undefined ? fallback : Number(value);
  return fits(n) ? n : undefined;
}

/** A whole number from 1 to `max`. */
const wholeUpTo = (max: number) => (n: number) => Number.isInteger(n) && n >= 1 && n <= max;
/** Seconds, more than 0, at most `max`. */
const secondsUpTo = (max: number) => (n: number) => Number.isFinite(n) && n > 0 && n <= max;

/** Why --source is not an address of this machine (undefined: it is, or it is not given). */
async function sourceProblem(flags: VerifyFlags): Promise<string | undefined> {
  if (flags.source !== undefined && (await import('node:net')).isIP(String(flags.source)) === 0)
    return `--source ${String(flags.source)}: an IP address of this machine`;
  return undefined;
}

/** The flags of the single-site verify, checked in order: what verify() takes from them, or the first usage error. */
async function verifyInputs(flags: VerifyFlags): Promise<VerifyInputs | string> {
  if (flags.siteTimeout !== undefined) return '--site-timeout applies to --fleet only (a whole site of the fleet record)';
  const urls = flags.url === undefined ? [] : (Array.isArray(flags.url) ? flags.url : [flags.url]).map(String);
  for (const u of urls) {
    const problem = badUrl(u);
    if (problem) return `--url ${u}: ${problem}`;
  }
  const releaseBaseProblem = flags.releaseBase === undefined ? undefined : badUrl(String(flags.releaseBase));
  if (releaseBaseProblem) return `--release-base ${String(flags.releaseBase)}: ${releaseBaseProblem}`;
  const concurrency = numberFlag(flags.concurrency, 8, wholeUpTo(64));
  if (concurrency === undefined) return `--concurrency ${String(flags.concurrency)}: a whole number from 1 to 64`;
  const timeout = numberFlag(flags.timeout, 10, secondsUpTo(3600));
  if (timeout === undefined) return `--timeout ${String(flags.timeout)}: seconds, more than 0`;
  const deadline = numberFlag(flags.deadline, 900, secondsUpTo(86_400));
  if (deadline === undefined) return `--deadline ${String(flags.deadline)}: seconds, more than 0 (at most 86400)`;
  const source = await sourceProblem(flags);
  if (source !== undefined) return source;
  if (flags.publicKey === undefined) return { urls, concurrency, timeout, deadline };
  const file = String(flags.publicKey);
  const text = readPublicKeyFile(file);
  if (text.problem !== undefined) return `--public-key ${file}: ${text.problem}`;
  const parsed = parsePublicKey(text.line);
  if ('problem' in parsed) return `--public-key ${file}: its line ${parsed.problem}`;
  return { urls, concurrency, timeout, deadline, publicKey: { line: text.line, from: `the key of --public-key ${file}` } };
}

/** `harvgen verify <site>...`: each site's boot servers against its deploy tree. */
export async function runVerify(dirs: string[], flags: VerifyFlags, out: CliOutput): Promise<number> {
  const inputs = await verifyInputs(flags);
  if (typeof inputs === 'string') return out.usageError(inputs);
  const { urls, concurrency, timeout, deadline, publicKey } = inputs;
  // Startup: the command modules load with --version/--help; verify (node:https) only when it runs.
  const { verify } = await import('../../verify/index.ts');
  const progress = flags.json ? undefined : startProgress(out.io.err);
  const result = await verify({
    sites: dirs,
    outDir: flags.out ?? 'deploy',
    urls,
    releases: flags.releases === true,
    ...(flags.releaseBase !== undefined ? { releaseBase: String(flags.releaseBase) } : {}),
    concurrency,
    timeoutMs: Math.round(timeout * 1000),
    deadlineMs: Math.round(deadline * 1000),
    ...(flags.source !== undefined ? { source: String(flags.source) } : {}),
    ...(publicKey ? { publicKey } : {}),
    onProgress: (p) => progress?.update(`harvgen: verifying ${p.done}/${p.total} ${p.url}`),
  }).finally(() => progress?.done());
  const ok = !hasFailures(result.diagnostics, flags.strict === true);
  if (flags.json) {
    const sites = result.sites.map((s) => ({
      ...jsonSite({ dir: s.dir, ...(s.site !== undefined ? { site: s.site } : {}), diagnostics: s.diagnostics }),
      nodes: s.nodes ?? null,
      files: s.served ?? null,
      out: s.out ?? null,
    }));
    const servers = result.servers.map((s) => ({ ...s, source: s.source ?? null }));
    const extra = { servers, checks: result.checks, skipped: result.skipped, duration_ms: result.durationMs };
    out.printJson(jsonOutput({ command: 'verify', ok, sites, diagnostics: result.diagnostics, debug: flags.debug === true, extra }));
    return exitCode(ok, result.diagnostics);
  }
  printVerify(result, flags, out);
  return exitCode(ok, result.diagnostics);
}

/** verify's text report: the diagnostics, a line per server, the files refused to verify's address, the totals. */
function printVerify(result: VerifyResult, flags: VerifyFlags, out: CliOutput): void {
  out.report(result.diagnostics, {}, flags);
  for (const s of result.servers) {
    const state = !s.reachable ? 'UNREACHABLE' : s.failed > 0 ? 'DIFFERS' : 'ok';
    out.print(`${state.padEnd(11)} ${s.site} at ${s.url}: ${s.checks} check(s), ${s.failed} difference(s)`);
  }
  for (const s of result.servers.filter((x) => x.refused.length > 0)) {
    const site = result.sites.find((x) => x.site === s.site);
    out.note(
      `${s.site} at ${s.url}: ${s.refused.length} file(s) only their nodes may fetch were refused to ${s.source ?? 'verify'}, as their access rules say (e.g. ${s.refused[0]}); their bytes were not checked.\n` +
        `  To check them all, run verify on the boot server itself, or from a host listed in nginx.verify_from.\n` +
        `  To check that a node gets its own files, run verify from its address on a host that has it:\n` +
        `  harvgen verify ${site?.dir ?? '<site-dir>'} --url ${s.url} --source <node-address>   (or: curl --interface <node-address> ${s.refused[0]})`,
    );
  }
  if (result.skipped.length > 0) out.note(`not checked (not on the boot server, so not served by its nginx): ${result.skipped.join(', ')}`);
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  out.note(
    `${result.checks} check(s) on ${result.servers.length} server(s) in ${result.durationMs} ms: ${errors === 0 ? 'every server serves the deploy tree' : `${errors} difference(s) or failure(s)`}`,
  );
}

/** Flags of the single-site verify that mean nothing with --fleet (the record names each site's server; no tree is read). */
const NOT_WITH_FLEET: readonly (readonly [keyof VerifyFlags, string, string?])[] = [
  ['url', '--url'],
  ['out', '--out'],
  ['releases', '--releases'],
  ['releaseBase', '--release-base'],
  ['publicKey', '--public-key'],
  ['deadline', '--deadline', 'each site of the fleet has its own time limit, --site-timeout'],
];

/** The flags of `verify --fleet`, checked in order: what verifyFleet() takes from them, or the first usage error. */
async function fleetInputs(
  given: string[],
  flags: VerifyFlags,
): Promise<{ dir: string; concurrency: number; timeout: number; siteTimeout: number } | string> {
  const dir = String(flags.fleet);
  if ((flags.fleet as unknown) === true || dir === '' || dir === 'true')
    return '--fleet needs the fleet record directory (e.g. --fleet published/)';
  if (given.length > 0)
    return `--fleet ${dir} verifies the sites of its records; site directories (${given.join(' ')}) cannot be given with it`;
  for (const [k, name, why] of NOT_WITH_FLEET)
    if (flags[k] !== undefined && flags[k] !== false)
      return `${name} cannot be used with --fleet (${why ?? "the record names each site's boot server; no deploy tree is read"})`;
  const concurrency = numberFlag(flags.concurrency, 32, wholeUpTo(1024));
  if (concurrency === undefined)
    return `--concurrency ${String(flags.concurrency)}: with --fleet, the sites checked at once, a whole number from 1 to 1024`;
  const timeout = numberFlag(flags.timeout, 10, secondsUpTo(3600));
  if (timeout === undefined) return `--timeout ${String(flags.timeout)}: seconds, more than 0`;
  const siteTimeout = numberFlag(flags.siteTimeout, 30, secondsUpTo(86_400));
  if (siteTimeout === undefined) return `--site-timeout ${String(flags.siteTimeout)}: seconds, more than 0`;
  return (await sourceProblem(flags)) ?? { dir, concurrency, timeout, siteTimeout };
}

/** `verify --fleet <dir>`: every site of the fleet record, one line each, then a summary. */
export async function runFleet(given: string[], flags: VerifyFlags, out: CliOutput): Promise<number> {
  const inputs = await fleetInputs(given, flags);
  if (typeof inputs === 'string') return out.usageError(inputs);
  const { verifyFleet } = await import('../../verify/fleet.ts');
  const progress = flags.json ? undefined : startProgress(out.io.err);
  const result = await verifyFleet({
    dir: inputs.dir,
    concurrency: inputs.concurrency,
    timeoutMs: Math.round(inputs.timeout * 1000),
    siteTimeoutMs: Math.round(inputs.siteTimeout * 1000),
    ...(flags.source !== undefined ? { source: String(flags.source) } : {}),
    onSite: (s, done, total) => progress?.update(`harvgen: verified ${done}/${total} sites (${s.site})`),
  }).finally(() => progress?.done());
  const ok = !hasFailures(result.diagnostics, flags.strict === true);
  if (flags.json) printFleetJson(result, ok, flags, out);
  else printFleet(result, ok, flags, out);
  return exitCode(ok, result.diagnostics);
}

/** verify --fleet's JSON document: the envelope, and `fleet`, a line per site and boot server. */
function printFleetJson(result: VerifyFleetResult, ok: boolean, flags: VerifyFlags, out: CliOutput): void {
  const sites = result.sites.map((s) => ({
    ...jsonSite({ dir: s.record, site: s.site, diagnostics: s.diagnostics }),
    nodes: null,
    files: null,
    out: null,
  }));
  const fleet = result.sites.map((s) => ({
    site: s.site,
    record: s.record,
    url: s.url,
    state: s.state,
    expected: s.expected,
    served: s.served,
    source: s.source,
    verdict: s.verdict,
    checks: s.checks,
    failed: s.failed,
    reachable: s.reachable,
    duration_ms: s.durationMs,
    problem: firstProblem(s),
  }));
  const servers = result.servers.map((s) => ({ ...s, source: s.source ?? null }));
  // `fleet` is verify --fleet's own field (schema/cli-output.schema.json), beside the envelope's.
  const extra = { servers, checks: result.checks, duration_ms: result.durationMs, fleet };
  out.printJson(jsonOutput({ command: 'verify', ok, sites, diagnostics: result.diagnostics, debug: flags.debug === true, extra }));
}

/** verify --fleet's text report: the diagnostics, a line per site and boot server, the totals. */
function printFleet(result: VerifyFleetResult, ok: boolean, flags: VerifyFlags, out: CliOutput): void {
  out.report(result.diagnostics, {}, flags);
  const width = Math.max(0, ...result.sites.map((s) => s.site.length));
  // A site with several boot servers (failover) has a line for each: each says which.
  const lines = new Map<string, number>();
  for (const s of result.sites) lines.set(s.site, (lines.get(s.site) ?? 0) + 1);
  for (const s of result.sites) {
    const digest = s.served !== null ? s.served.slice(0, 15) : '-'.padEnd(15);
    const problem = firstProblem(s);
    const why = problem !== null ? `  ${problem}` : '';
    const from = `${(lines.get(s.site) ?? 0) > 1 ? `  at ${s.url}` : ''}${s.source !== null ? `  from ${s.source}` : ''}`;
    out.print(
      `${FLEET_LABEL[s.state].padEnd(11)} ${s.site.padEnd(width)}  ${digest}  ${plural(s.checks, 'check')}  ${s.durationMs} ms${from}${why}`,
    );
  }
  const counts = new Map<string, number>();
  for (const s of result.sites) counts.set(FLEET_LABEL[s.state], (counts.get(FLEET_LABEL[s.state]) ?? 0) + 1);
  const tally = [...counts].map(([label, n]) => `${n} ${label}`).join(', ');
  out.note(
    `${plural(result.sites.length, 'site')} (${tally || 'none'}), ${plural(result.checks, 'check')} in ${(result.durationMs / 1000).toFixed(1)} s: ${result.sites.length === 0 ? 'nothing verified' : ok ? 'every site serves what git says' : 'see the sites above'}`,
  );
}

/** A site's first error as its line shows it (without the site's name in front), or null. */
function firstProblem(s: FleetSite): string | null {
  const problem = s.diagnostics.find((d) => d.severity === 'error');
  if (problem === undefined) return null;
  return problem.message.startsWith(`${s.site}: `) ? problem.message.slice(s.site.length + 2) : problem.message;
}

/** How a site's state reads in the one-line report. */
const FLEET_LABEL: Readonly<Record<FleetState, string>> = {
  ok: 'ok',
  drift: 'DRIFT',
  differs: 'DIFFERS',
  identity: 'IDENTITY',
  verdict: 'VERDICT',
  unreachable: 'UNREACHABLE',
  timeout: 'TIMEOUT',
  record: 'RECORD',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The one public key line of a .pub file (at most 16 KiB, one line), or why not. */
function readPublicKeyFile(file: string): { line: string; problem?: undefined } | { problem: string } {
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > 16 * 1024)
      return { problem: 'not a public key file (a regular file of one line, like ssh-keygen writes .pub)' };
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    if (lines.length !== 1) return { problem: `holds ${lines.length} lines; a public key file holds one` };
    return { line: lines[0]!.trim() };
  } catch (e) {
    return { problem: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
}

/** Why a base URL is not one verify can use (undefined: it is). */
const BAD_URL: Readonly<Record<BaseUrlFault, string>> = {
  'not-url': 'not a URL (e.g. http://10.20.0.5:8080)',
  scheme: 'an http:// or https:// URL',
  parts: 'a URL without query, fragment or credentials',
};
const badUrl = (u: string): string | undefined => {
  const fault = baseUrlFault(u);
  return fault && BAD_URL[fault];
};
