// `harvgen publish`, `export` and `import` (docs/fleet.md): a site's deploy tree to an OCI
// registry, to an OCI layout for an air gap, and from such a layout into the registry on the other
// side (the library: src/publish/, the OCI client: src/oci/).
import type { CAC } from 'cac';
import { jsonOutput, jsonSite } from '../../report/envelope.ts';
import { exitCode } from '../../diagnostics/exit.ts';
import { hasFailures } from '../../diagnostics/types.ts';
import { overSites, type Flags } from '../options.ts';
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

export function register(cli: CAC, out: CliOutput): void {
  cli
    .command(
      'publish [...site-dirs]',
      "Push each site's deploy tree to its OCI registry (publish.registry) by digest: secret-bearing files sealed to the site's key, signed, tagged <site> and <site>-<commit>; record the digest in published/ (default: every site under sites/)",
    )
    .option('--registry <host/namespace>', "In place of each site's publish.registry (a mirror, a test registry)")
    .option(
      '--releases <dir>',
      'Also publish the release files the sites serve, from this mirror (<dir>/<version>/<file>, as fetch.sh downloads them)',
    )
    .option('--record <dir>', 'Where the fleet record (<site>.json: the digest each site should serve) is written (default: published)')
    .option('--dry-run', 'Build, sign and compare with the registry; upload nothing, move no tag, write no record')
    .option(
      '--allow-dirty',
      'Publish a site whose inputs have uncommitted changes, tagged <site>-<commit>-dirty-<digest> instead of <site>-<commit> (without it: PUBLISH_DIRTY)',
    )
    .option('--insecure', 'Talk plain HTTP to the registry (a lab registry on a trusted network; never for one across networks)')
    .option('--cert-dir <dir>', "Trust the CA certificates (*.crt) in this directory for the registry, as skopeo's --cert-dir")
    .option('--concurrency <n>', 'Uploads in flight at once (default 8)')
    .option(
      '--force',
      'Compile every site, even one whose inputs, harvgen and registry tag are as when this machine last published it (those are skipped otherwise)',
    )
    .example('harvgen publish sites/location_y')
    .example('harvgen publish sites/* --releases /srv/mirror/harvester --json')
    .example('harvgen publish sites/location_y --dry-run   # what would be uploaded')
    .action(overSites(out, (dirs, flags) => runPublish(dirs, flags as RegistryFlags, out, 'publish')));
  cli
    .command(
      'export [...site-dirs]',
      'Write each site (with --releases, its release files) into an OCI image layout directory or archive for an air-gapped site, with the digests publish gives',
    )
    .option('--to <oci:dir|oci-archive:file>', 'The OCI layout directory (oci:<dir>) or tar archive (oci-archive:<file>) to write')
    .option('--releases <dir>', 'Include the release files the sites serve, from this mirror (<dir>/<version>/<file>)')
    .example('harvgen export sites/location_y --to oci-archive:location_y.tar --releases /srv/mirror/harvester')
    .action(overSites(out, (dirs, flags) => runPublish(dirs, flags as RegistryFlags, out, 'export')));
  cli
    .command(
      'import <layout>',
      'Copy every site of an OCI layout (oci:<dir> or oci-archive:<file>, as export writes it) into a registry, same digests, same tags',
    )
    .option('--registry <host/namespace>', 'The registry and namespace to import into (each site to <namespace>/<site>)')
    .option('--insecure', 'Talk plain HTTP to the registry')
    .option('--cert-dir <dir>', 'Trust the CA certificates (*.crt) in this directory for the registry')
    .example('harvgen import oci-archive:/media/usb/location_y.tar --registry registry.site.example/harvgen')
    .action((layout: string, flags: RegistryFlags) => runImport(layout, flags, out));
}

/** `harvgen publish` and `export`: the flags to options, the library's run (src/publish/run.ts), the report. */
async function runPublish(dirs: string[], flags: RegistryFlags, out: CliOutput, command: 'publish' | 'export'): Promise<number> {
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
      `${what.padEnd(13)} ${p.site} ${p.digest} -> ${p.repository}:${p.tags.join(',')} (${p.files.public} public, ${p.files.sealed} sealed files)`,
    );
  }
  const skipped = result.published.filter((p) => !p.compiled).length;
  const notCompiled =
    skipped > 0 ? `; ${skipped} site(s) not compiled: unchanged since this machine published them (--force compiles them)` : '';
  out.note(
    flags.dryRun
      ? `dry run: nothing was uploaded or tagged (${counts.requests} request(s) read the registry, in ${result.durationMs} ms)${notCompiled}`
      : `${counts.blobsUploaded} blob(s) uploaded (${counts.bytesUploaded} bytes), ${counts.blobsSkipped} already there, in ${result.durationMs} ms${notCompiled}`,
  );
  return exitCode(ok, result.diagnostics);
}

async function runImport(layout: string, flags: RegistryFlags, out: CliOutput): Promise<number> {
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
