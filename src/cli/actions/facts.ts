// `harvgen facts`: measure machines (their BMC over Redfish, or a dump taken on them) and write
// their facts beside their nodes, `<site>/facts/<hostname>.yaml` (the library: src/measure/).
import { exitCode } from '../../diagnostics/exit.ts';
import { hasFailures, type Diagnostic } from '../../diagnostics/types.ts';
import { jsonOutput } from '../../report/envelope.ts';
import type { CliOutput } from '../output.ts';

export interface FactsFlags {
  node?: string | string[];
  dump?: string;
  bmc?: string;
  as?: string;
  insecure?: boolean;
  system?: string;
  script?: boolean;
  dryRun?: boolean;
  timeout?: number;
  json?: boolean;
  strict?: boolean;
  debug?: boolean;
}

export async function runFacts(dir: string | undefined, flags: FactsFlags, out: CliOutput): Promise<number> {
  // Startup: the library loads the compiler, so not with --version/--help.
  const { COLLECTOR_SCRIPT, measureFacts } = await import('../../measure/index.ts');
  if (flags.script) {
    out.print(COLLECTOR_SCRIPT.trimEnd());
    return 0;
  }
  if (dir === undefined) return out.usageError('facts needs a site directory (or --script)');
  const nodes = flags.node === undefined ? [] : Array.isArray(flags.node) ? flags.node.map(String) : [String(flags.node)];
  if ((flags.bmc === undefined) !== (flags.as === undefined)) return out.usageError('--bmc and --as go together');
  if (flags.system !== undefined && flags.bmc === undefined)
    return out.usageError("--system goes with --bmc (a node's own BMC system is its `bmc.system`)");
  if (flags.bmc !== undefined && (nodes.length > 0 || flags.dump !== undefined))
    return out.usageError('--bmc measures a new machine: not with --node or --dump');
  const timeout = flags.timeout === undefined ? undefined : Number(flags.timeout);
  if (timeout !== undefined && !(timeout > 0 && timeout <= 3600)) return out.usageError('--timeout takes seconds, 1 to 3600');
  const result = await measureFacts({
    site: dir,
    nodes,
    ...(flags.dump !== undefined ? { dump: String(flags.dump) } : {}),
    ...(flags.bmc !== undefined
      ? {
          bmc: {
            address: String(flags.bmc),
            as: String(flags.as),
            insecure: flags.insecure === true,
            ...(flags.system !== undefined ? { system: String(flags.system) } : {}),
          },
        }
      : {}),
    dryRun: flags.dryRun === true,
    ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
  });
  const diagnostics: Diagnostic[] = [...result.diagnostics, ...result.machines.flatMap((m) => m.diagnostics)];
  const ok = !hasFailures(diagnostics, flags.strict === true);
  if (flags.json) {
    out.printJson(
      jsonOutput({
        command: 'facts',
        ok,
        sites: [],
        diagnostics,
        debug: flags.debug === true,
        extra: { machines: result.machines.map(({ diagnostics: _d, ...m }) => m) },
      }),
    );
    return exitCode(ok, diagnostics);
  }
  out.report(diagnostics, {}, flags);
  for (const m of result.machines) {
    if (m.status === 'failed') continue;
    const verb = m.status === 'written' ? 'wrote' : m.status === 'unchanged' ? 'unchanged' : 'would write';
    out.print(`${verb}  ${m.file}${m.status === 'unchanged' ? `  (measured ${m.facts?.measured.at})` : ''}`);
  }
  const written = result.machines.filter((m) => m.status === 'written').length;
  if (written > 0) out.note(`${written} facts file(s) written: review them, run \`harvgen check\` and commit them`);
  return exitCode(ok, diagnostics);
}
