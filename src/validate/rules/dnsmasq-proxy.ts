// dnsmasq.mode: proxy: another DHCP server gives the addresses, so harvgen writes no reservation.
// A node that leases its address (`method: dhcp`) and has an `ip` gets that address only if the
// operator reserves it there, and nginx serves the node's files to that address alone; the VIP of
// `vip_mode: dhcp` likewise. UEFI HTTP boot clients are not PXE clients: a proxy never answers them.
import type { Rule } from '../rule.ts';
import { nodeAt } from '../../model/index.ts';

/** What a proxy cannot do for the site: reservations and HTTP boot. */
export const dnsmasqProxyRule: Rule = {
  name: 'dnsmasq-proxy',
  codes: ['NODE_IP_NOT_RESERVED', 'BOOT_HTTP_BOOT_PROXY'],
  check({ model, report }) {
    if (model.dnsmasq.mode !== 'proxy') return;
    for (const node of model.nodes) {
      if (node.ip === undefined || node.method !== 'dhcp') continue;
      report({
        code: 'NODE_IP_NOT_RESERVED',
        node: node.hostname,
        message: `node ${node.hostname} leases its address (method: dhcp) and has ip ${node.ip}, but with dnsmasq.mode: proxy harvgen's dnsmasq gives no addresses: without a reservation on the network's DHCP server it gets another address, and nginx refuses it the files served to ${node.ip} alone`,
        hint: `Reserve ${node.ip} for ${node.macs.join(', ')} (name ${node.hostname}) on the network's DHCP server, or give the node \`method: static\`.`,
        at: nodeAt(node, 'ip'),
      });
    }
    const c = model.cluster;
    if (c?.vipMode === 'dhcp' && c.vipHwAddr !== undefined) {
      report({
        code: 'NODE_IP_NOT_RESERVED',
        message: `the VIP ${c.vip} is leased by ${c.vipHwAddr} (vip_mode: dhcp), but with dnsmasq.mode: proxy harvgen's dnsmasq reserves nothing`,
        hint: `Reserve ${c.vip} for ${c.vipHwAddr} on the network's DHCP server, or use \`vip_mode: static\`.`,
        at: ['cluster', 'vip_hw_addr'],
      });
    }
    if (model.boot.httpBoot) {
      report({
        code: 'BOOT_HTTP_BOOT_PROXY',
        message:
          'boot.http_boot with dnsmasq.mode: proxy: UEFI HTTP boot clients (vendor class HTTPClient) are not PXE clients, and a proxy DHCP server answers only PXE clients, so they get no boot file',
        hint: `Give them the boot file on the network's DHCP server (vendor class HTTPClient: option 60 "HTTPClient", file ${model.boot.server}/${model.boot.secureBoot?.shim ?? model.boot.uefiLoader}), or let them boot by PXE (firmware network boot over IPv4 PXE).`,
        at: ['boot', 'http_boot'],
      });
    }
  },
};
