// artifacts/fetch.sh: the script that downloads and checks the release files the site serves.
import type { SiteModel } from '../model/index.ts';
import { releases, releaseShim } from '../model/served-releases.ts';
import { renderTemplate } from './templates.ts';

/** artifacts/fetch.sh. */
export function renderFetchScript(model: SiteModel): string {
  const rel = releases(model);
  return renderTemplate('fetch.sh', {
    site: model.site,
    versions: rel.map((r) => r.version.raw).join(', '),
    targets: [...new Set(rel.map((r) => r.artifactsDir))].join(', '),
    releases: rel.map((r) => ({
      version: r.version.raw,
      arch: r.arch,
      target: r.artifactsDir,
      checksumName: r.artifacts.checksumName,
      files: [r.artifacts.kernelName, r.artifacts.initrdName, r.artifacts.rootfsName, r.artifacts.isoName],
      ...(releaseShim(model, r) ? { shim: { iso: r.artifacts.isoName, name: r.artifacts.shimName } } : { shim: undefined }),
    })),
    // The upgrade's target ISO must be the one the inventory pins (harvester.upgrade.iso_checksum).
    pinned: model.upgrade
      ? {
          version: model.upgrade.to.version.raw,
          arch: model.upgrade.to.arch,
          iso: model.upgrade.to.artifacts.isoName,
          sha512: model.upgrade.isoChecksum,
        }
      : undefined,
  });
}
