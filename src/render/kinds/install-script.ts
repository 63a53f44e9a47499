// The install script of a boot MAC (templates/node-install.ipxe): what the kinds that boot a
// kernel (the Harvester installer, an OS profile) share. With `once`, the local disk is probed
// first and booted when it holds an installed system.
import type { ResolvedNode, SiteModel } from '../../model/index.ts';
import { kernelShim } from '../../model/index.ts';
import { renderTemplate } from '../templates.ts';
import type { BootImages } from '../../derive/types.ts';
import { failoverBases, sharedOrigins } from '../../derive/failover.ts';

/** `file://<volume><file>`: the iPXE URI of the file whose presence means "installed" (UEFI). */
export function installedMarkerUri(model: SiteModel): string {
  return `file://${model.boot.installedMarker.volume}${model.boot.installedMarker.file}`;
}

/** What the script boots, as its kind says it. */
export interface InstallTarget {
  readonly images: BootImages;
  /** The node's role as its comment names it. */
  readonly role: string;
  readonly os?: string;
  /** The configs the node is served, for the script's header (src/derive/configs/). */
  readonly served?: readonly { readonly what: string; readonly url: string; readonly after: string }[];
  readonly version?: string;
  readonly configUrl?: string;
  /** What is booted, in messages: `the Harvester v1.4.1 installer`, `debian`. */
  readonly what: string;
  readonly whatShort: string;
  readonly artifactsBase?: string;
  /** A reinstall generation: its number and the marker URI probed instead of `boot.installed_marker`. */
  readonly generation?: { readonly n: number; readonly marker: string };
}

/** The script of `node` booting from `mac` (undefined: an unknown machine joining). */
export function renderInstallScript(model: SiteModel, node: ResolvedNode, mac: string | undefined, target: InstallTarget): string {
  const shimUrl = kernelShim(model, node);
  // iPXE names a downloaded image after the last segment of its URL's path.
  const shimImage = shimUrl === undefined ? undefined : new URL(shimUrl).pathname.split('/').pop();
  return renderTemplate('node-install.ipxe', {
    site: model.site,
    unknown: mac === undefined,
    hostname: mac === undefined ? 'this machine' : node.hostname,
    role: target.role,
    mac: mac ?? '',
    once: node.state === 'install-once' || mac === undefined,
    marker: target.generation?.marker ?? installedMarkerUri(model),
    generation: target.generation?.n,
    retries: model.boot.retries,
    retryDelay: model.boot.retryDelay,
    arch: node.arch,
    waitSeconds: model.boot.unknownWait,
    kernelUrl: target.images.kernel,
    kernelArgs: target.images.args,
    initrds: target.images.initrds,
    shimUrl,
    shimImage,
    os: target.os,
    served: target.served ?? [],
    version: target.version,
    configUrl: target.configUrl,
    what: target.what,
    whatShort: target.whatShort,
    artifactsBase: target.artifactsBase,
    // failover: the boot server's URLs on ${harvgen_base}, moved on to the next server when a try fails.
    origins: sharedOrigins(model),
    failover: failoverBases(model),
  });
}
