// `harvgen publish`, `export` and `import` (docs/fleet.md): a site's deploy tree to an OCI
// registry, to an OCI layout for an air gap, and from such a layout into the registry on the other
// side (the library: src/publish/, the OCI client: src/oci/).
import { jsonOutput, jsonSite } from '../../report/envelope.ts';
import { exitCode } from '../../diagnostics/exit.ts';
import { hasFailures } from '../../diagnostics/types.ts';
import type { Flags } from '../options.ts';
import type { CliOutput } from '../output.ts';
import type { PublishSitesResult } from '../../publish/run.ts';

/** The flags of publish, export and import (cac camel-cases them). */
export interface RegistryFlags extends Flags {
  readonly registry?: string;
  readonly releases?: string;
  readonly dryRun?: boolean;
  readonly allowDirty?: boolean;
  readonly record?: string;
  readonly to?: string;
  readonly insecure?: boolean;
  readonly certDir?: string;
  readonly concurrency?: string | number;
  readonly force?: boolean;
}

/** `harvgen publish` and `export`: the flags to options, the library's run (src/publish/run.ts), the report. */
export async function runPublish(dirs: string[], flags: RegistryFlags, out: CliOutput, command: 'publish' | 'export'): Promise<number> {
  // Startup: the compiler and the OCI client load only when the command runs.
  const { concurrencyProblem, exportSites, publishSites } = await import('../../publish/run.ts');
  const bad = concurrencyProblem(flags.concurrency);
  if (bad) return out.usageError(bad);
  const concurrency = flags.concurrency === undefined ? 8 : Number(flags.concurrency);
  const common = { sites: dirs, concurrency, ...(flags.releases !== undefined ? { releasesDir: String(flags.releases) } : {}) };
  let result;
  if (command === 'export') {
    if (flags.to === undefined) return out.usageError('export needs --to oci:<dir> or --to oci-archive:<file>');
    result = await exportSites({ ...common, to: String(flags.to) });
  } else
    result = await publishSites({
      ...common,
      dryRun: flags.dryRun === true,
      allowDirty: flags.allowDirty === true,
      force: flags.force === true,
      recordDir: flags.record === undefined ? 'published' : String(flags.record),
      insecure: flags.insecure === true,
      onWarning: (m) => out.note(`harvgen: warning: ${m}`),
      ...(flags.certDir ? { certDir: String(flags.certDir) } : {}),
      ...(flags.registry !== undefined ? { registry: String(flags.registry) } : {}),
    });
  if ('problem' in result) return out.usageError(result.problem);
  return report(result, flags, out, command);
}

function report(result: PublishSitesResult, flags: RegistryFlags, out: CliOutput, command: 'publish' | 'export'): number {
  const ok = !hasFailures(result.diagnostics, flags.strict === true);
  const counts = result.transfer;
  if (flags.json) {
    out.printJson(
      jsonOutput({
        command,
        ok,
        sites: result.sites.map((s) => ({ ...jsonSite(s), nodes: s.nodes ?? null })),
        diagnostics: result.diagnostics,
        debug: flags.debug === true,
        extra: {
          published: result.published,
          dry_run: flags.dryRun === true,
          transfer: { ...counts },
          duration_ms: result.durationMs,
        },
      }),
    );
    return exitCode(ok, result.diagnostics);
  }
  out.report(result.diagnostics, {}, flags);
  // A site with an error was not published (its digest is what it would have been): never listed as published.
  const done = new Map(result.published.map((p) => [p.site, p]));
  for (const s of result.sites) {
    if (s.digest === undefined) continue;
    const p = done.get(s.site ?? '');
    if (p === undefined) {
      out.print(`${'not published'.padEnd(13)} ${s.site} (see the error above; the tag was not moved)`);
      continue;
    }
    const what = !p.changed ? 'unchanged' : flags.dryRun ? 'would publish' : command === 'export' ? 'exported' : 'published';
    out.print(
      `${what.padEnd(13)} ${p.site} ${p.digest} -> ${p.repository}:${p.tags.join(',')} (${p.files.public} public, ${p.files.sealed} sealed files)${
        p.signature !== undefined ? `, cosign signature ${p.signature}` : ''
      }${p.cluster !== undefined ? `; cluster side ${p.cluster.digest} -> ${p.repository}:${p.cluster.tag}` : ''}`,
    );
  }
  const skipped = result.published.filter((p) => !p.compiled).length;
  const notCompiled =
    skipped > 0
      ? `; ${skipped} site(s) not compiled: unchanged since they were published (the fleet state, or this machine's; --force compiles them)`
      : '';
  out.note(
    flags.dryRun
      ? `dry run: nothing was uploaded or tagged (${counts.requests} request(s) read the registry, in ${result.durationMs} ms)${notCompiled}`
      : `${counts.blobsUploaded} blob(s) uploaded (${counts.bytesUploaded} bytes), ${counts.blobsSkipped} already there, in ${result.durationMs} ms${notCompiled}`,
  );
  return exitCode(ok, result.diagnostics);
}

export async function runImport(layout: string, flags: RegistryFlags, out: CliOutput): Promise<number> {
  if (flags.registry === undefined) return out.usageError('import needs --registry <host/namespace>');
  const stores = await import('../../publish/stores.ts');
  const bad = stores.registryProblem(String(flags.registry));
  if (bad) return out.usageError(`--registry ${String(flags.registry)}: ${bad}`);
  const result = await stores.importLayout(layout, String(flags.registry), {
    insecure: flags.insecure === true,
    ...(flags.certDir ? { certDir: String(flags.certDir) } : {}),
  });
  const ok = !hasFailures(result.diagnostics, flags.strict === true);
  if (flags.json) {
    out.printJson(
      jsonOutput({
        command: 'import',
        ok,
        sites: [],
        diagnostics: result.diagnostics,
        debug: flags.debug === true,
        extra: { imported: result.imported },
      }),
    );
    return exitCode(ok, result.diagnostics);
  }
  out.report(result.diagnostics, {}, flags);
  for (const i of result.imported) out.print(`imported     ${i.site} ${i.digest} -> ${i.repository}:${i.tags.join(',')}`);
  return exitCode(ok, result.diagnostics);
}
