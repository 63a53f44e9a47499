// `harvgen init`: scaffold a commented site that passes check (the scaffolding is src/cli/init.ts).
import type { Diagnostic } from '../../diagnostics/types.ts';
import { jsonOutput, jsonSite } from '../../report/envelope.ts';
import { EXIT } from '../../diagnostics/exit.ts';
import type { Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';
import type { InitOptions } from '../init.ts';
import { MAX_INIT_NODES } from '../../util/init-placeholders.ts';

/** The flags of init (cac camel-cases them). */
export interface InitFlags extends Flags {
  readonly lab?: boolean;
  readonly nodes?: string | number;
  readonly release?: string | number;
}

/** The site kind the flags ask for; cac gives a bare `--nodes 3` as a number and `--nodes x` as a string. */
function initOptions(flags: InitFlags): InitOptions {
  return {
    lab: flags.lab === true,
    ...(flags.nodes !== undefined ? { nodes: Number(flags.nodes) } : {}),
    ...(flags.release !== undefined ? { release: String(flags.release) } : {}),
  };
}

export async function runInit(dir: string, flags: InitFlags, out: CliOutput): Promise<number> {
  if (flags.nodes !== undefined && !/^\d+$/.test(String(flags.nodes)))
    return out.usageError(`--nodes ${String(flags.nodes)}: a whole number of Harvester nodes from 1 to ${MAX_INIT_NODES}`);
  // The scaffolding loads when init runs, not with every command.
  const { initSite } = await import('../init.ts');
  const r = await initSite(dir, initOptions(flags));
  if ('error' in r && r.io) {
    const d: Diagnostic = {
      code: 'EMIT_WRITE_FAILED',
      severity: 'error',
      message: r.error,
      hint: 'Pick a directory you can write to (init creates it when it is missing).',
    };
    if (flags.json) out.printJson(jsonOutput({ command: 'init', ok: false, sites: [], diagnostics: [d] }));
    else out.report([d], {}, flags);
    return EXIT.failed;
  }
  if ('error' in r) return out.usageError(r.error);
  if (flags.json) {
    const site = jsonSite({ dir, site: r.site, diagnostics: [] });
    out.printJson(jsonOutput({ command: 'init', ok: true, sites: [site], diagnostics: [], extra: { created: r.files } }));
    return EXIT.ok;
  }
  for (const f of r.files) out.print(`created ${f}`);
  out.note(
    `site ${r.site}: edit ${dir}/site.yaml${flags.lab === true ? '' : " and each node file (the servers' MACs and install disk)"}, then \`harvgen check ${dir}\` (secrets/ holds a random token and password, git-ignored)`,
  );
  return EXIT.ok;
}
