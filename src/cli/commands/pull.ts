// `harvgen pull` (docs/fleet.md): the boot server's materializer, run by the generated
// publish/harvgen-<site>-pull.timer (the library: src/pull/).
import type { CAC } from 'cac';
import { jsonOutput } from '../../report/envelope.ts';
import { exitCode } from '../../diagnostics/exit.ts';
import { hasFailures } from '../../diagnostics/types.ts';
import type { Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';

interface PullFlags extends Flags {
  readonly config?: string;
  readonly digest?: string;
  readonly from?: string;
  readonly rollback?: string | boolean;
  readonly allowOlder?: boolean;
  readonly verify?: boolean;
  readonly verifyUrl?: string;
  readonly insecure?: boolean;
  readonly certDir?: string;
  readonly list?: boolean;
  readonly timeout?: string;
}

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'pull',
      "On the boot server: fetch the site's published tree by digest, check every digest and the signature, unpack it into a new version, switch nginx to it atomically, verify it, and keep the last versions",
    )
    .option('--config <file>', "The site's pull.json (out/<site>/publish/pull.json, installed as /etc/harvgen/<site>/pull.json)")
    .option('--digest <sha256:...>', 'Pull this artifact instead of what the tag names now')
    .option('--from <oci:dir|oci-archive:file>', "Read from an OCI layout (an air-gapped site's export) instead of the registry")
    .option('--rollback [digest]', 'Serve the previous version again (or the kept version with this digest); nothing is fetched')
    .option('--list', 'List the versions kept, newest first, and which one is served')
    .option('--allow-older', 'Accept an artifact built from an older commit than the one served (a deliberate downgrade)')
    .option('--no-verify', 'Do not verify the local server after the switch')
    .option('--verify-url <url>', "Verify the local server at this URL (default: the site's boot.server)")
    .option('--insecure', "Talk plain HTTP to the registry (for the timer: pull.json's `insecure: true`)")
    .option('--timeout <duration>', 'Stop the whole pull after this long (90s, 10m, 1h; default 30m); what was served stays served')
    .option('--cert-dir <dir>', 'Trust the CA certificates (*.crt) in this directory for the registry')
    .example('harvgen pull --config /etc/harvgen/location_y/pull.json')
    .example('harvgen pull --config /etc/harvgen/location_y/pull.json --rollback')
    .example('harvgen pull --config /etc/harvgen/location_y/pull.json --from oci-archive:/media/usb/location_y.tar')
    .action((flags: PullFlags) => runPull(flags, out));
}

async function runPull(flags: PullFlags, out: CliOutput): Promise<number> {
  if (flags.config === undefined)
    return out.usageError('pull needs --config <pull.json> (out/<site>/publish/pull.json as installed on the boot server)');
  if (flags.digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(String(flags.digest)))
    return out.usageError(`--digest ${String(flags.digest)}: sha256:<64 hexadecimal digits>`);
  const rollbackTo = typeof flags.rollback === 'string' && flags.rollback !== '' ? flags.rollback : undefined;
  if (rollbackTo !== undefined && !/^sha256:[0-9a-f]{64}$/.test(rollbackTo))
    return out.usageError(`--rollback ${rollbackTo}: sha256:<64 hexadecimal digits>`);
  // Startup: the OCI client and the verifier load only when the command runs.
  const { pull, listVersions, parseDuration, DEFAULT_TIMEOUT_MS } = await import('../../pull/index.ts');
  const stores = await import('../../publish/stores.ts');
  if (flags.list) {
    const listed = listVersions(String(flags.config));
    if ('problem' in listed) return out.usageError(listed.problem);
    if (flags.json) {
      out.printJson(
        jsonOutput({ command: 'pull', ok: true, sites: [], diagnostics: [], debug: false, extra: { versions: listed.versions } }),
      );
      return 0;
    }
    for (const v of listed.versions) out.print(`${v.served ? '*' : ' '} sha256:${v.hex}${v.previous ? '  (previous)' : ''}`);
    return 0;
  }
  let source;
  if (flags.from !== undefined) {
    const layout = stores.layoutSource(String(flags.from));
    if ('problem' in layout) return out.usageError(`--from ${String(flags.from)}: ${layout.problem}`);
    source = layout.sourceFor;
  }
  const timeoutMs = flags.timeout !== undefined ? parseDuration(String(flags.timeout)) : DEFAULT_TIMEOUT_MS;
  if (timeoutMs === undefined) return out.usageError(`--timeout ${String(flags.timeout)}: a duration such as 90s, 10m or 1h`);
  const result = await pull({
    config: String(flags.config),
    ...(source ? { source: (c: { repository: string }) => source(c.repository) } : {}),
    ...(flags.insecure === true ? { insecure: true } : {}),
    ...(flags.certDir ? { certDir: String(flags.certDir) } : {}),
    timeoutMs,
    ...(flags.digest !== undefined ? { digest: String(flags.digest) } : {}),
    ...(flags.rollback !== undefined && flags.rollback !== false ? { rollback: true } : {}),
    ...(rollbackTo !== undefined ? { rollbackTo } : {}),
    allowOlder: flags.allowOlder === true,
    verify: flags.verify !== false,
    ...(flags.verifyUrl !== undefined ? { verifyUrl: String(flags.verifyUrl) } : {}),
    onStep: (s) => (flags.json ? undefined : out.note(`harvgen: ${s}`)),
    onWarning: (m) => out.note(`harvgen: warning: ${m}`),
  });
  const ok = result.ok && !hasFailures(result.diagnostics, flags.strict === true);
  if (flags.json) {
    out.printJson(
      jsonOutput({
        command: 'pull',
        ok,
        sites: [],
        diagnostics: result.diagnostics,
        debug: flags.debug === true,
        extra: {
          ...(result.site !== undefined ? { site: result.site } : {}),
          action: result.action,
          digest: result.digest ?? null,
          previous: result.previous ?? null,
          files: result.files ?? null,
          releases_written: result.releasesWritten ?? null,
          verdict: result.verdict ?? null,
        },
      }),
    );
    return exitCode(ok, result.diagnostics);
  }
  out.report(result.diagnostics, {}, flags);
  const verdict = result.verdict;
  const v = !verdict
    ? ''
    : verdict.skipped !== undefined
      ? `, ${verdict.skipped}`
      : `, verify: ${verdict.ok ? 'ok' : 'FAILED'} (${verdict.checks} checks)`;
  const what = result.ok ? (result.digest ?? '(nothing served)') : result.digest ? `${result.digest} (stays served)` : '(nothing served)';
  out.print(`${result.action.padEnd(12)} ${result.site ?? '?'} ${what}${v}`);
  return exitCode(ok, result.diagnostics);
}
