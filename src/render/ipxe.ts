// iPXE scripts of the site (those of each node are its kind's, src/render/kinds/): the entry script,
// the unknown-machine script, the embedded script for networks without harvgen's DHCP and the OCI launch script.
// Every script starts with the bytes `#!ipxe\n` (a BOM before it hangs BIOS iPXE).
import { ipv4Dns, type ResolvedNode, type SiteModel } from '../model/index.ts';
import { computeAlways, type NodeMemo } from './fragments.ts';
import { installerScript } from './kinds/harvester/index.ts';
import { namesKeyed, nodeScriptUrl } from '../derive/file-names.ts';
import { macToHyphen } from '../util/mac.ts';
import { DIRS, LAYOUT } from '../derive/layout.ts';
import { failoverBases } from '../derive/failover.ts';
import { renderPart, renderTemplate, type Keep } from './templates.ts';

/** boot.ipxe. */
export function renderEntryScript(model: SiteModel): string {
  return renderTemplate('boot.ipxe', {
    site: model.site,
    server: model.boot.server,
    scripts: DIRS.scripts,
    unknownScript: LAYOUT.unknownScript,
    retries: model.boot.retries,
    retryDelay: model.boot.retryDelay,
    ipv6: model.network.ipv6 !== undefined,
    failover: failoverEntry(model),
  });
}

/** boot.ipxe's bases with `failover:` (src/derive/failover.ts): where it tries, and how it knows which server's DHCP sent it. */
function failoverEntry(model: SiteModel) {
  const bases = failoverBases(model);
  if (!bases) return undefined;
  const prefix = model.boot.prefix;
  return {
    ...bases,
    entryPath: `${prefix}/${LAYOUT.entryScript}`,
    scriptsPath: `${prefix}/${DIRS.scripts}`,
    unknownPath: `${prefix}/${LAYOUT.unknownScript}`,
  };
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

/** Where renderEmbedScript keeps its last lists under watch (NodeParts.state). */
const KEPT_EMBED = 'embed.ipxe';

/** The last render's static nodes, where each one's numbering started, and their texts by place. */
interface KeptEmbed {
  readonly statics: readonly ResolvedNode[];
  readonly starts: readonly number[];
  readonly matches: string[];
  readonly blocks: string[];
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
export function renderEmbedScript(model: SiteModel, memo: NodeMemo = computeAlways, keep?: Keep): string {
  const data = {
    site: model.site,
    server: model.boot.server,
    entry: `${model.boot.server}/${LAYOUT.entryScript}`,
    retryDelay: model.boot.retryDelay,
    keyed: keyedScripts(model),
    ipv6: model.network.ipv6 !== undefined,
  };
  const statics = model.nodes.filter((n) => n.method === 'static' && n.ip !== undefined && n.macs.length > 0);
  if (memo === computeAlways) {
    // Without watch's memo: each part once over every node, as one block.
    const all = embedStatics(statics, 0);
    return renderTemplate('embed.ipxe', data, {
      './embed-match.ipxe.eta': renderPart('embed-match.ipxe.eta', { statics: all }),
      './embed-static.ipxe.eta': renderPart('embed-static.ipxe.eta', { statics: all, known: '' }),
    });
  }
  // Each node's blocks rendered apart, kept across watch's rebuilds while the node and its place
  // in the numbering are unchanged, then joined in node order (the parts are loops over their
  // statics: rendered in pieces they give the same text). The last render's lists are taken by
  // place (the same node at the same start: no lookup), and are the very arrays again while no
  // block changed (the template's kept text then compares them at once).
  const state = memo.parts?.state;
  const last = state?.get(KEPT_EMBED) as KeptEmbed | undefined;
  // Copies of the last lists (cut to this many nodes) once a block differs.
  let matches: string[] | undefined;
  let blocks: string[] | undefined;
  const starts: number[] = [];
  let index = 0;
  for (let i = 0; i < statics.length; i++) {
    const n = statics[i]!;
    const start = index;
    starts.push(start);
    index += n.macs.length;
    if (last !== undefined && last.statics[i] === n && last.starts[i] === start) continue;
    const part = memo(
      'embed.ipxe',
      n,
      () => {
        const mine = embedStatics([n], start);
        return {
          start,
          match: renderPart('embed-match.ipxe.eta', { statics: mine }),
          block: renderPart('embed-static.ipxe.eta', { statics: mine, known: '' }),
        };
      },
      (kept) => kept.start === start,
    );
    (matches ??= last?.matches.slice(0, statics.length) ?? [])[i] = part.match;
    (blocks ??= last?.blocks.slice(0, statics.length) ?? [])[i] = part.block;
  }
  // No block differs: the last lists, cut when there are fewer nodes now.
  const same = last !== undefined && last.statics.length === statics.length;
  matches ??= same ? last.matches : (last?.matches.slice(0, statics.length) ?? []);
  blocks ??= same ? last.blocks : (last?.blocks.slice(0, statics.length) ?? []);
  state?.set(KEPT_EMBED, { statics, starts, matches, blocks });
  // The nodes' texts, joined only when the file is rendered again (not when its data and every
  // node's part are the ones kept).
  return renderTemplate('embed.ipxe', data, { './embed-match.ipxe.eta': matches, './embed-static.ipxe.eta': blocks }, keep);
}

/** The static MACs of `nodes` (each with an address), numbered from `start`. */
export function embedStatics(nodes: readonly ResolvedNode[], start: number): EmbedStatic[] {
  const out: EmbedStatic[] = [];
  for (const n of nodes) {
    const dns = ipv4Dns(n)[0];
    for (const mac of n.macs) {
      out.push({
        index: start + out.length,
        mac,
        hostname: n.hostname,
        ip: n.ip!,
        netmask: n.netmask,
        gateway: n.gateway,
        ...(dns !== undefined ? { dns } : {}),
      });
    }
  }
  return out;
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
