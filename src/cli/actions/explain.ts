// `harvgen explain`: every resolved value of one node, and the file and line that set it.
import { jsonOutput, jsonSite } from '../../report/envelope.ts';
import { exitCode, EXIT } from '../../diagnostics/exit.ts';
import type { Flags } from '../options.ts';
import { sourcesOf, type CliOutput } from '../output.ts';

export async function runExplain(dir: string, query: string, flags: Flags, out: CliOutput): Promise<number> {
  // Startup: explain loads the compiler (pipeline.ts, render), so not with --version/--help.
  const { explain } = await import('../../explain/api.ts');
  const { formatExplanation } = await import('../../explain/index.ts');
  const r = await explain({ site: dir, node: query });
  const site = r.compiled;
  const debug = flags.debug === true;
  if (!site.model) {
    if (flags.json)
      out.printJson(jsonOutput({ command: 'explain', ok: false, sites: [jsonSite(site)], diagnostics: site.diagnostics, debug }));
    else out.report(site.diagnostics, sourcesOf([site]), flags);
    return exitCode(false, site.diagnostics);
  }
  const e = r.explanation;
  if (!e) return out.usageError(r.problem ?? `no node "${query}"`);
  if (flags.json) {
    // The inventory may have errors (counted in `errors`): the node was explained all the same.
    const extra = { site: e.site, hostname: e.hostname, values: e.values };
    out.printJson(jsonOutput({ command: 'explain', ok: true, sites: [jsonSite(site)], diagnostics: site.diagnostics, debug, extra }));
  } else {
    // Explaining works on an inventory with errors too; they are shown on stderr.
    out.report(site.diagnostics, sourcesOf([site]), flags);
    out.print(formatExplanation(e));
  }
  return EXIT.ok;
}
