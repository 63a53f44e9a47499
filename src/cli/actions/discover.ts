// `harvgen discover`: unknown machines from the boot servers' logs, as node file stubs for review (the library: src/status/discover.ts).
import { jsonOutput, jsonSite } from '../../report/envelope.ts';
import { exitCode } from '../../diagnostics/exit.ts';
import { hasFailures } from '../../diagnostics/types.ts';
import type { CliOutput } from '../output.ts';
import { logOptions, type LogFlags } from './status.ts';

export async function runDiscover(dirs: string[], flags: LogFlags & { dryRun?: boolean }, out: CliOutput): Promise<number> {
  // Startup: status loads the compiler (compileModel), so not with --version/--help.
  const { parseSince } = await import('../../status/index.ts');
  // Startup: discover loads the compiler through status, so not with --version/--help.
  const { discover } = await import('../../status/discover.ts');
  const o = logOptions(flags, Date.now(), parseSince);
  if ('problem' in o) return out.usageError(o.problem!);
  const result = await discover({ sites: dirs, ...o, write: flags.dryRun !== true });
  const ok = !hasFailures(result.diagnostics, flags.strict === true);
  if (flags.json) {
    out.printJson(
      jsonOutput({
        command: 'discover',
        ok,
        sites: result.sites.map((s) => jsonSite(s)),
        diagnostics: result.diagnostics,
        debug: flags.debug === true,
        extra: {
          unknown: result.unknown.map(({ written: _w, kept: _k, ...u }) => u),
          requests: result.requests,
          verify_requests: result.verifyRequests,
        },
      }),
    );
    return exitCode(ok, result.diagnostics);
  }
  out.report(result.diagnostics, {}, flags);
  // Each stub as it stands: written now, one there already (kept as it may be edited), or none
  // (the diagnostics above say why: discovered/ unsafe, or the most one run writes).
  const verb = (u: (typeof result.unknown)[number]) => (u.written ? 'wrote' : flags.dryRun ? 'would write' : u.kept ? 'kept' : 'no stub');
  for (const u of result.unknown) out.print(`${verb(u)}  ${u.stub}  (${u.mac})`);
  for (const n of result.notes) out.note(`note: ${n}`);
  const listed = result.notes.length > 0 ? ' listed (more were left out: note above)' : '';
  out.note(
    result.unknown.length === 0
      ? `no unknown machine in ${result.requests} request(s)${verifyNote(result.verifyRequests)}`
      : `${result.unknown.length} unknown machine(s)${listed}${verifyNote(result.verifyRequests)}: review each stub, then move it into nodes/ (\`harvgen help day-2\`)`,
  );
  return exitCode(ok, result.diagnostics);
}

const verifyNote = (n: number) => (n > 0 ? ` (${n} request(s) of harvgen verify left out)` : '');
