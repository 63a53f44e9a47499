// `harvgen verify`: does each boot server serve exactly the deploy tree? (the library: src/verify/)
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import type { CAC } from 'cac';
import { jsonOutput, jsonSite } from '../../report/envelope.ts';
import { exitCode } from '../../diagnostics/exit.ts';
import { hasFailures } from '../../diagnostics/types.ts';
import { overSites, type Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';
import { startProgress } from '../progress.ts';
import { parsePublicKey } from '../../util/ssh-public-key.ts';

/** The flags of verify (cac camel-cases them). */
interface VerifyFlags extends Flags {
  readonly url?: string | readonly string[];
  readonly releases?: boolean;
  readonly releaseBase?: string;
  readonly concurrency?: number | string;
  readonly timeout?: number | string;
  readonly source?: string;
  readonly publicKey?: string;
}

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'verify [...site-dirs]',
      "Check that each boot server serves exactly the deploy tree: every served file's bytes, status and type, and nothing else (default: every site under sites/)",
    )
    .option('--url <base-url>', "A boot server to check (repeat for each mirror; default: the site's boot.server)")
    .option('--out <dir>', 'Root of the deploy tree to compare with (default: deploy)')
    .option('--releases', "Also fetch the release files and check them against the release's published SHA-512 list")
    .option(
      '--release-base <url>',
      'Where the published lists are, as for fetch.sh (default: HARVGEN_RELEASE_BASE, else releases.rancher.com)',
    )
    .option('--concurrency <n>', 'Requests in flight at once (default 8)')
    .option('--timeout <seconds>', 'Give up on a request that receives nothing for this long (default 10)')
    .option('--source <address>', "Connect from this local address (a node's, to check the files only it may fetch)")
    .option(
      '--public-key <file>',
      "The signing key's public half (its .pub file): every manifest.json.sig must verify with it (default: each site's signing.public_key)",
    )
    .example('harvgen verify sites/location_x')
    .example('harvgen verify sites/location_x --url http://10.20.0.5:8080 --url http://10.20.0.6:8080 --json')
    .example('harvgen verify sites/location_x --releases')
    .example('harvgen verify sites/location_x --public-key ~/harvgen-sign.pub   # trust this key, whatever the inventory says')
    .action(overSites(out, (dirs, flags) => runVerify(dirs, flags as VerifyFlags, out)));
}

async function runVerify(dirs: string[], flags: VerifyFlags, out: CliOutput): Promise<number> {
  const urls = flags.url === undefined ? [] : (Array.isArray(flags.url) ? flags.url : [flags.url]).map(String);
  for (const u of urls) {
    const problem = badUrl(u);
    if (problem) return out.usageError(`--url ${u}: ${problem}`);
  }
  if (flags.releaseBase !== undefined && badUrl(String(flags.releaseBase)))
    return out.usageError(`--release-base ${String(flags.releaseBase)}: ${badUrl(String(flags.releaseBase))}`);
  const concurrency = flags.concurrency === undefined ? 8 : Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    return out.usageError(`--concurrency ${String(flags.concurrency)}: a whole number from 1 to 64`);
  const timeout = flags.timeout === undefined ? 10 : Number(flags.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 3600)
    return out.usageError(`--timeout ${String(flags.timeout)}: seconds, more than 0`);
  if (flags.source !== undefined && isIP(String(flags.source)) === 0)
    return out.usageError(`--source ${String(flags.source)}: an IP address of this machine`);

  let publicKey: { line: string; from: string } | undefined;
  if (flags.publicKey !== undefined) {
    const file = String(flags.publicKey);
    const text = readPublicKeyFile(file);
    if (text.problem !== undefined) return out.usageError(`--public-key ${file}: ${text.problem}`);
    const parsed = parsePublicKey(text.line);
    if ('problem' in parsed) return out.usageError(`--public-key ${file}: its line ${parsed.problem}`);
    publicKey = { line: text.line, from: `the key of --public-key ${file}` };
  }
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
    ...(flags.source !== undefined ? { source: String(flags.source) } : {}),
    ...(publicKey ? { publicKey } : {}),
    onProgress: (p) => progress?.update(`harvgen: verifying ${p.done}/${p.total} ${p.url}`),
  }).finally(() => progress?.done());
  const strict = flags.strict === true;
  const ok = !hasFailures(result.diagnostics, strict);
  if (flags.json) {
    const sites = result.sites.map((s) => ({
      ...jsonSite({ dir: s.dir, ...(s.site !== undefined ? { site: s.site } : {}), diagnostics: s.diagnostics }),
      nodes: s.nodes ?? null,
      files: s.served ?? null,
      out: s.out ?? null,
    }));
    const servers = result.servers.map((s) => ({ ...s, source: s.source ?? null }));
    out.printJson(
      jsonOutput({
        command: 'verify',
        ok,
        sites,
        diagnostics: result.diagnostics,
        debug: flags.debug === true,
        extra: { servers, checks: result.checks, skipped: result.skipped, duration_ms: result.durationMs },
      }),
    );
    return exitCode(ok, result.diagnostics);
  }
  out.report(result.diagnostics, {}, flags);
  for (const s of result.servers) {
    const state = !s.reachable ? 'UNREACHABLE' : s.failed > 0 ? 'DIFFERS' : 'ok';
    out.print(`${state.padEnd(11)} ${s.site} at ${s.url}: ${s.checks} check(s), ${s.failed} difference(s)`);
  }
  for (const s of result.servers.filter((x) => x.refused.length > 0)) {
    const site = result.sites.find((x) => x.site === s.site);
    out.note(
      `${s.site} at ${s.url}: ${s.refused.length} file(s) only their nodes may fetch were refused to ${s.source ?? 'verify'}, as their access rules say (e.g. ${s.refused[0]}).\n` +
        `  To check that a node gets its own files, run verify from its address on a host that has it:\n` +
        `  harvgen verify ${site?.dir ?? '<site-dir>'} --url ${s.url} --source <node-address>   (or: curl --interface <node-address> ${s.refused[0]})`,
    );
  }
  if (result.skipped.length > 0) out.note(`not checked (not on the boot server, so not served by its nginx): ${result.skipped.join(', ')}`);
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  out.note(
    `${result.checks} check(s) on ${result.servers.length} server(s) in ${result.durationMs} ms: ${errors === 0 ? 'every server serves the deploy tree' : `${errors} difference(s) or failure(s)`}`,
  );
  return exitCode(ok, result.diagnostics);
}

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
function badUrl(u: string): string | undefined {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return 'not a URL (e.g. http://10.20.0.5:8080)';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'an http:// or https:// URL';
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '')
    return 'a URL without query, fragment or credentials';
  return undefined;
}
