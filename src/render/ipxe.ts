// iPXE scripts: the entry script, the unknown-machine script and one script per boot MAC.
// Every script starts with the bytes `#!ipxe\n` (a BOM before it hangs BIOS iPXE).
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { configUrl, kernelArgs } from './kernel-args.ts';
import { renderTemplate } from './templates.ts';

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

/** unknown.ipxe. */
export function renderUnknownScript(model: SiteModel): string {
  return renderTemplate('unknown.ipxe', { site: model.site, waitSeconds: UNKNOWN_WAIT_SECONDS });
}

/** ipxe/<mac>.ipxe for one boot MAC of a node. */
export function renderNodeScript(model: SiteModel, node: ResolvedNode, mac: string): string {
  const common = { site: model.site, hostname: node.hostname, role: node.role, mac, firmware: model.boot.firmware };
  if (node.state === 'local') return renderTemplate('node-local.ipxe', common);
  return renderTemplate('node-install.ipxe', {
    ...common,
    version: node.release.version.raw,
    configUrl: configUrl(model, node),
    kernelUrl: node.release.artifacts.kernel,
    initrdUrl: node.release.artifacts.initrd,
    kernelArgs: kernelArgs(model, node, mac),
    retries: model.boot.retries,
    retryDelay: model.boot.retryDelay,
    artifactsBase: node.release.artifacts.base,
  });
}
