// iPXE scripts: the entry script, the unknown-machine script, one script per boot MAC, the
// embedded script for networks without harvgen's DHCP and the OCI launch script.
// Every script starts with the bytes `#!ipxe\n` (a BOM before it hangs BIOS iPXE).
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { kernelShim, releaseOf } from '../model/index.ts';
import { bootImages, configUrl } from './kernel-args.ts';
import { renderTemplate } from './templates.ts';
import { cloudInitSeed, renderIscsiScript } from './generic.ts';

/** Seconds the unknown-machine script waits before returning to the firmware. */
export const UNKNOWN_WAIT_SECONDS = 60;

/** boot.ipxe. */
export function renderEntryScript(model: SiteModel): string {
  return renderTemplate('boot.ipxe', {
    site: model.site,
    server: model.boot.server,
    retries: model.boot.retries,
    retryDelay: model.boot.retryDelay,
  });
}

/** unknown.ipxe, as `boot.unknown` says: wait (install nothing), boot the local disk, or join. */
export function renderUnknownScript(model: SiteModel): string {
  const common = { site: model.site, unknown: true };
  if (model.boot.unknown === 'local') return renderTemplate('node-local.ipxe', { ...common, hostname: '', role: '', mac: '' });
  if (model.boot.unknown === 'join' && model.unknownJoin) return renderInstall(model, model.unknownJoin, undefined, true);
  return renderTemplate('unknown.ipxe', { site: model.site, waitSeconds: UNKNOWN_WAIT_SECONDS });
}

/** ipxe/<mac>.ipxe for one boot MAC of a node. */
export function renderNodeScript(model: SiteModel, node: ResolvedNode, mac: string): string {
  // `state: local` boots the disk whatever the node is; an iSCSI node's disk is its target.
  if (node.boot === 'iscsi' && node.state !== 'local') return renderIscsiScript(model, node, mac);
  if (node.state === 'local')
    return renderTemplate('node-local.ipxe', { site: model.site, hostname: node.hostname, role: node.role, mac, unknown: false });
  return renderInstall(model, node, mac, node.state === 'install-once');
}

/** `file://<volume><file>`: the iPXE URI of the file whose presence means "installed" (UEFI). */
export function installedMarkerUri(model: SiteModel): string {
  return `file://${model.boot.installedMarker.volume}${model.boot.installedMarker.file}`;
}

/**
 * The boot script of a node's MAC: the Harvester installer, or a generic OS profile (`os:`), or
 * (mac undefined) the installer of an unknown machine joining. With `once`, the local disk is
 * probed first and booted when it holds an installed system.
 */
function renderInstall(model: SiteModel, node: ResolvedNode, mac: string | undefined, once: boolean): string {
  const common = {
    site: model.site,
    unknown: mac === undefined,
    hostname: mac === undefined ? 'this machine' : node.hostname,
    role: node.role,
    mac: mac ?? '',
    once,
    marker: installedMarkerUri(model),
    retries: model.boot.retries,
    retryDelay: model.boot.retryDelay,
    arch: node.arch,
    waitSeconds: UNKNOWN_WAIT_SECONDS,
  };
  const images = bootImages(model, node, mac);
  const shimUrl = kernelShim(model, node);
  // iPXE names a downloaded image after the last segment of its URL's path.
  const shimImage = shimUrl === undefined ? undefined : new URL(shimUrl).pathname.split('/').pop();
  const shared = { kernelUrl: images.kernel, kernelArgs: images.args, initrds: images.initrds, shimUrl, shimImage };
  if (node.boot === 'os') {
    const os = node.os!;
    return renderTemplate('node-install.ipxe', {
      ...common,
      ...shared,
      os: os.name,
      seedUrl: os.cloudInit && mac !== undefined ? cloudInitSeed(model, mac) : undefined,
      what: os.name,
      whatShort: os.name,
      artifactsBase: undefined,
    });
  }
  const release = releaseOf(node);
  return renderTemplate('node-install.ipxe', {
    ...common,
    ...shared,
    os: undefined,
    version: release.version.raw,
    configUrl: configUrl(model, node),
    what: `the Harvester ${release.version.raw} installer`,
    whatShort: 'the installer',
    artifactsBase: release.artifacts.base,
  });
}

/** A node MAC that embed.ipxe configures statically. */
interface EmbedStatic {
  readonly index: number;
  readonly mac: string;
  readonly hostname: string;
  readonly ip: string;
  readonly netmask: string;
  readonly gateway: string;
  readonly dns?: string;
}

/**
 * embed.ipxe: for networks where harvgen does not run DHCP (built into an iPXE image). Every
 * MAC of a `method: static` node gets the node's address; other NICs ask DHCP.
 */
export function renderEmbedScript(model: SiteModel): string {
  const statics: EmbedStatic[] = [];
  for (const n of model.nodes) {
    if (n.method !== 'static' || n.ip === undefined) continue;
    for (const mac of n.macs) {
      statics.push({
        index: statics.length,
        mac,
        hostname: n.hostname,
        ip: n.ip,
        netmask: n.netmask,
        gateway: n.gateway,
        ...(n.dns[0] !== undefined ? { dns: n.dns[0] } : {}),
      });
    }
  }
  return renderTemplate('embed.ipxe', {
    site: model.site,
    server: model.boot.server,
    entry: `${model.boot.server}/boot.ipxe`,
    retryDelay: model.boot.retryDelay,
    statics,
  });
}

/** oci/launch.ipxe: the script an OCI bare-metal instance runs on every boot. */
export function renderOciLaunchScript(model: SiteModel): string {
  return renderTemplate('oci-launch.ipxe', {
    site: model.site,
    server: model.boot.server,
    entry: `${model.boot.server}/boot.ipxe`,
    retryDelay: model.boot.retryDelay,
  });
}
