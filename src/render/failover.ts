// failover/<server>/ (`failover:`, docs/failover.md): each boot server's keepalived.conf and, as its
// DHCP server's declaration says (src/derive/dhcp-servers/: `failover`), its DHCP config: dnsmasq
// with its half of the pool, or Kea with the high-availability hook in hot-standby. Never served.
import type { FailoverServer, Release, SiteModel } from '../model/index.ts';
import { LAYOUT } from '../derive/layout.ts';
import { CHECK_SCRIPT, HOLDER_PARAM, NOTIFY_SCRIPT, peerOf, poolOf, serverView } from '../derive/failover.ts';
import { dhcpServerOf } from '../derive/dhcp-servers/index.ts';
import { installers, releases, servesRelease } from '../model/served-releases.ts';
import { escapers } from '../formats/escape.ts';
import { dnsmasqConf } from './dnsmasq.ts';
import { keaConfig } from './kea.ts';
import { renderTemplate } from './templates.ts';

/**
 * The URL keepalived's check asks on this server, by its own address (inside the network, so
 * `nginx.access` lets it in): the tree's entry script, which nginx serves from the tree whenever
 * this server can serve the site at all (a site's tree always has it).
 */
export function healthUrl(model: SiteModel, server: FailoverServer): string {
  return `http://${server.address}:${model.boot.port}${model.boot.prefix}/${LAYOUT.entryScript}`;
}

/**
 * One server's check.sh (keepalived's check, installed as CHECK_SCRIPT): nginx here serves the
 * entry script, and each release file the nodes fetch with the size artifacts/fetch.sh verified.
 */
export function renderCheckScript(model: SiteModel, server: FailoverServer): string {
  return renderTemplate('keepalived-check.sh', {
    site: model.site,
    name: server.name,
    path: CHECK_SCRIPT,
    entry: healthUrl(model, server),
    shared: model.failover!.shared,
    holder: `${model.boot.server}/${LAYOUT.entryScript}?${HOLDER_PARAM}=${server.name}`,
    releases: checkedReleases(model).flatMap((r) => {
      const a = r.artifacts;
      const path = new URL(a.base).pathname.replace(/\/+$/, '');
      return [a.kernelName, a.initrdName, a.rootfsName, a.isoName].map((file) => ({
        url: `http://${server.address}:${model.boot.port}${path}/${file}`,
        dir: r.artifactsDir,
        list: a.checksumName,
        file,
      }));
    }),
  });
}

/**
 * The releases check.sh asks for: those the site's nodes install and this nginx serves (not a
 * planned upgrade's target, which no node fetches).
 */
function checkedReleases(model: SiteModel): readonly Release[] {
  const key = (r: Release) => `${r.version.raw}/${r.arch}`;
  const installed = new Set(installers(model).map((n) => key(n.release)));
  return releases(model).filter((r) => servesRelease(model, r) && installed.has(key(r)));
}

/** keepalived's time limit for check.sh: its requests, 2 s each at most, and a margin. */
function checkTimeout(model: SiteModel): number {
  return 4 + 2 * (2 + 4 * checkedReleases(model).length);
}

/** One server's notify.sh (installed as NOTIFY_SCRIPT): its DHCP server runs only while keepalived's check passes. */
export function renderNotifyScript(model: SiteModel, server: FailoverServer): string {
  const dhcp = dhcpServerOf(model);
  return renderTemplate('keepalived-notify.sh', {
    site: model.site,
    name: server.name,
    path: NOTIFY_SCRIPT,
    dhcp: dhcp.title,
    file: LAYOUT.failover(server.name, dhcp.failover!.file),
    unit: dhcp.failover!.unit,
    // The entry script through the shared address: only the other server answers it while this one is in FAULT.
    shared: `${model.boot.server}/${LAYOUT.entryScript}`,
    check: CHECK_SCRIPT,
  });
}

/** One server's nftables.conf: VRRP (and Kea's HA port) only from the other server (its MAC too, where the inventory gives it). */
export function renderNftables(model: SiteModel, server: FailoverServer): string {
  const f = model.failover!;
  const peer = peerOf(f, server);
  const kea = model.outputs.dhcp && dhcpServerOf(model).failover?.format === 'kea4';
  return renderTemplate('nftables.conf', {
    site: model.site,
    name: server.name,
    interface: f.interface,
    peer: { name: peer.name, address: peer.address, mac: peer.mac },
    haPort: kea ? f.keaHaPort : undefined,
  });
}

/** One server's keepalived.conf. */
export function renderKeepalived(model: SiteModel, server: FailoverServer): string {
  const f = model.failover!;
  const peer = peerOf(f, server);
  const url = healthUrl(model, server);
  return renderTemplate('keepalived.conf', {
    site: model.site,
    name: server.name,
    address: server.address,
    shared: f.shared,
    sharedCidr: `${f.shared}/${model.network.ipv4!.prefix}`,
    interface: f.interface,
    virtualRouterId: f.virtualRouterId,
    priority: server.priority,
    peer: { name: peer.name, address: peer.address },
    routerId: `harvgen-${model.site}-${server.name}`,
    instance: `harvgen_${model.site}`,
    check: url,
    checkPath: CHECK_SCRIPT,
    script: [CHECK_SCRIPT],
    timeout: checkTimeout(model),
    // Its DHCP server runs only while the check passes (its answers send nodes to this server).
    notify: model.outputs.dhcp && dhcpServerOf(model).failover ? NOTIFY_SCRIPT : undefined,
  });
}

/** One server's DHCP config: its DHCP server's failover format. */
export function renderFailoverDhcp(model: SiteModel, server: FailoverServer, format: 'dnsmasq' | 'kea4'): string {
  const peer = peerOf(model.failover!, server);
  // Its boot files name this server's own address (serverView).
  const view = serverView(model, server);
  return format === 'dnsmasq'
    ? dnsmasqConf(view, { name: server.name, peer: peer.name, pool: poolOf(model, server) })
    : renderKeaFailover(view, server);
}

/**
 * The site's Kea config with the high-availability hook in hot-standby: the lease commands hook
 * it needs, Kea's multi-threading (the HA hook's own HTTP listener, with no control agent, needs
 * it), and each peer at its address and `failover.kea_ha_port`. Failure is detected from the
 * heartbeats alone (`max-unacked-clients: 0`: iPXE does not count seconds in `secs`), soon enough
 * for a machine that starts as the primary dies: iPXE sends its last DHCP discover about 7 s after
 * its first and then gives up, so the standby must serve within that (a heartbeat a second, 4 s
 * without an answer; with 10 s it came too late: test/real/failover-install.test.ts). The listener
 * refuses the commands HA does not use (`restrict-commands`); the ones it uses (lease updates) are
 * answered to whoever reaches the port, so only the peer should (docs/failover.md).
 */
function renderKeaFailover(model: SiteModel, server: FailoverServer): string {
  const f = model.failover!;
  const k = escapers.kea;
  const base = keaConfig(model);
  const lib = (name: string) => k(`${f.keaHooksDir}/${name}`);
  const config = {
    Dhcp4: {
      ...base.Dhcp4,
      comment: k(
        `harvgen: Kea DHCPv4 config of boot server ${server.name} (failover, ${server.role}) of site ${model.site}. Generated by harvgen; do not edit.`,
      ),
      'multi-threading': { 'enable-multi-threading': true, 'thread-pool-size': 4, 'packet-queue-size': 64 },
      'hooks-libraries': [
        { library: lib('libdhcp_lease_cmds.so') },
        {
          library: lib('libdhcp_ha.so'),
          parameters: {
            'high-availability': [
              {
                'this-server-name': k(server.name),
                mode: 'hot-standby',
                // Its listener answers the commands HA uses, and refuses every other (config-write, shutdown, ...).
                'restrict-commands': true,
                'heartbeat-delay': 1000,
                'max-response-delay': 4000,
                'max-ack-delay': 5000,
                'max-unacked-clients': 0,
                'multi-threading': {
                  'enable-multi-threading': true,
                  'http-dedicated-listener': true,
                  'http-listener-threads': 2,
                  'http-client-threads': 2,
                },
                peers: f.servers.map((s) => ({
                  name: k(s.name),
                  url: k(`http://${s.address}:${f.keaHaPort}/`),
                  role: s.role,
                  'auto-failover': true,
                })),
              },
            ],
          },
        },
      ],
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
