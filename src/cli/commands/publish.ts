// `harvgen publish`, `export` and `import` (docs/fleet.md): a site's deploy tree to an OCI
// registry, to an OCI layout for an air gap, and from such a layout into the registry on the other
// side (the library: src/publish/, the OCI client: src/oci/).
import type { CAC } from 'cac';
import { overSites } from '../options.ts';
import type { CliOutput } from '../output.ts';
import type { RegistryFlags } from '../actions/publish.ts';

/** The command's implementation, loaded when it runs (src/cli/actions/publish.ts): not with the CLI. */
const implementation = () => import('../actions/publish.ts');

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
    .option(
      '--record <dir>',
      "Where the fleet record (<site>.json: the digest each site should serve, and its entry in the registry's fleet state) is written and read (default: published; commit it)",
    )
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
      "Compile every site, even one the registry's fleet state (or this machine's) answers as unchanged, and move back a tag someone else moved",
    )
    .example('harvgen publish sites/location_y')
    .example('harvgen publish sites/* --releases /srv/mirror/harvester --json')
    .example('harvgen publish sites/location_y --dry-run   # what would be uploaded')
    .action(overSites(out, async (dirs, flags) => (await implementation()).runPublish(dirs, flags as RegistryFlags, out, 'publish')));
  cli
    .command(
      'export [...site-dirs]',
      'Write each site (with --releases, its release files) into an OCI image layout directory or archive for an air-gapped site, with the digests publish gives',
    )
    .option('--to <oci:dir|oci-archive:file>', 'The OCI layout directory (oci:<dir>) or tar archive (oci-archive:<file>) to write')
    .option('--releases <dir>', 'Include the release files the sites serve, from this mirror (<dir>/<version>/<file>)')
    .example('harvgen export sites/location_y --to oci-archive:location_y.tar --releases /srv/mirror/harvester')
    .action(overSites(out, async (dirs, flags) => (await implementation()).runPublish(dirs, flags as RegistryFlags, out, 'export')));
  cli
    .command(
      'import <layout>',
      'Copy every site of an OCI layout (oci:<dir> or oci-archive:<file>, as export writes it) into a registry, same digests, same tags',
    )
    .option('--registry <host/namespace>', 'The registry and namespace to import into (each site to <namespace>/<site>)')
    .option('--insecure', 'Talk plain HTTP to the registry')
    .option('--cert-dir <dir>', 'Trust the CA certificates (*.crt) in this directory for the registry')
    .example('harvgen import oci-archive:/media/usb/location_y.tar --registry registry.site.example/harvgen')
    .action(async (layout: string, flags: RegistryFlags) => (await implementation()).runImport(layout, flags, out));
}
