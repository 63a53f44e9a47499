// dnsmasq: DHCP (v4 and v6, router advertisements) and TFTP in one, the default.
import { LAYOUT } from '../layout.ts';
import type { DhcpServer } from './types.ts';

export const DNSMASQ: DhcpServer = {
  name: 'dnsmasq',
  title: 'dnsmasq',
  description: '`dnsmasq/harvgen.conf` (and `dnsmasq/global.conf`, once per dnsmasq), DHCP and TFTP',
  files: () => [
    { path: LAYOUT.dnsmasq, format: 'dnsmasq' },
    { path: LAYOUT.dnsmasqGlobal, format: 'dnsmasq-global' },
  ],
  reservations: () => LAYOUT.dnsmasq,
  hostFiles: true,
  tftp: true,
  proxy: true,
  ipv6: 'any',
  httpBootV6: false,
  vlanOnParent: false,
  sharedHost: true,
  nextStep: { file: LAYOUT.dnsmasq, verb: `include ${LAYOUT.dnsmasqGlobal} (once per dnsmasq) and` },
  failover: {
    file: 'dnsmasq.conf',
    format: 'dnsmasq',
    how: "the site's config with half of the pool each (the first server the lower half) and the same reservations, neither authoritative",
    unit: 'dnsmasq.service',
  },
};
