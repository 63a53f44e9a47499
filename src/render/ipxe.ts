// iPXE scripts of the site (those of each node are its kind's, src/render/kinds/): the entry script,
// the unknown-machine script, the embedded script for networks without harvgen's DHCP and the OCI launch script.
// Every script starts with the bytes `#!ipxe\n` (a BOM before it hangs BIOS iPXE).
import type { SiteModel } from '../model/index.ts';
import { installerScript } from './kinds/harvester/index.ts';
import { namesKeyed, nodeScriptUrl } from '../derive/file-names.ts';
import { macToHyphen } from '../util/mac.ts';
import { DIRS, LAYOUT } from '../derive/layout.ts';
import { renderTemplate } from './templates.ts';

/** boot.ipxe. */
export function renderEntryScript(model: SiteModel): string {
  return renderTemplate('boot.ipxe', {
    site: model.site,
    server: model.boot.server,
    scripts: DIRS.scripts,
    unknownScript: LAYOUT.unknownScript,
    retries: model.boot.retries,
    retryDelay: model.boot.retryDelay,
  });
}

/** unknown.ipxe, as `boot.unknown` says: wait (install nothing), boot the local disk, or join. */
export function renderUnknownScript(model: SiteModel): string {
  const common = { site: model.site, unknown: true };
  if (model.boot.unknown === 'local') return renderTemplate('node-local.ipxe', { ...common, hostname: '', role: '', mac: '' });
  if (model.boot.unknown === 'join' && model.unknownJoin) return installerScript(model, model.unknownJoin, undefined);
  return renderTemplate('unknown.ipxe', {
    site: model.site,
    waitSeconds: model.boot.unknownWait,
    report: model.boot.report,
    discoverUrl: `${model.boot.server}/${LAYOUT.discover}`,
  });
}

/** The script at a known MAC's plain name when names are keyed: it says where the real one is handed out. */
export function renderKeyedStub(model: SiteModel, mac: string): string {
  return renderTemplate('node-keyed-stub.ipxe', { site: model.site, mac, waitSeconds: model.boot.unknownWait });
}

/**
 * With `nginx.file_key`: each known boot MAC (iPXE's `hexhyp` form) and its script's URL, for
 * the scripts that pick a NIC's script themselves (embed.ipxe, oci/launch.ipxe: no harvgen DHCP).
 */
function keyedScripts(model: SiteModel): { mac: string; url: string }[] {
  if (!namesKeyed(model)) return [];
  return model.nodes.flatMap((n) => n.macs.map((mac) => ({ mac: macToHyphen(mac), url: nodeScriptUrl(model, mac) })));
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
    entry: `${model.boot.server}/${LAYOUT.entryScript}`,
    retryDelay: model.boot.retryDelay,
    statics,
    keyed: keyedScripts(model),
  });
}

/** oci/launch.ipxe: the script an OCI bare-metal instance runs on every boot. */
export function renderOciLaunchScript(model: SiteModel): string {
  return renderTemplate('oci-launch.ipxe', {
    site: model.site,
    server: model.boot.server,
    entry: `${model.boot.server}/${LAYOUT.entryScript}`,
    retryDelay: model.boot.retryDelay,
    keyed: keyedScripts(model),
  });
}
