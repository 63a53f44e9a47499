// `harvgen pull` (docs/fleet.md): the boot server's materializer, run by the generated
// publish/harvgen-<site>-pull.timer (the library: src/pull/).
import { jsonOutput } from '../../report/envelope.ts';
import { exitCode } from '../../diagnostics/exit.ts';
import { hasFailures } from '../../diagnostics/types.ts';
import type { Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';

export interface PullFlags extends Flags {
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

export async function runPull(flags: PullFlags, out: CliOutput): Promise<number> {
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
