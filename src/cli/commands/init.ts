// `harvgen init`: scaffold a commented site that passes check (the scaffolding is src/cli/init.ts).
import type { CAC } from 'cac';
import type { Diagnostic } from '../../diagnostics/types.ts';
import { jsonOutput, jsonSite } from '../../report/envelope.ts';
import { EXIT } from '../../diagnostics/exit.ts';
import type { Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';
import { initSite } from '../init.ts';

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command('init <site-dir>', 'Create a commented site (site.yaml, a node file, secrets/) that passes check; never overwrites')
    .example('harvgen init sites/location_z')
    .action((dir: string, flags: Flags) => runInit(dir, flags, out));
}

async function runInit(dir: string, flags: Flags, out: CliOutput): Promise<number> {
  const r = await initSite(dir);
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
    `site ${r.site}: edit ${dir}/site.yaml, then \`harvgen check ${dir}\` (secrets/ holds a random token and password, git-ignored)`,
  );
  return EXIT.ok;
}
