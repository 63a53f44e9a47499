// ISC dhcpd: a DHCPv4 snippet to include into dhcpd.conf; TFTP is another server's.
import { LAYOUT } from '../layout.ts';
import type { DhcpServer } from './types.ts';

export const ISC: DhcpServer = {
  name: 'isc',
  title: 'ISC dhcpd',
  description: 'an ISC dhcpd snippet, `dhcpd/harvgen.conf`',
  files: () => [{ path: LAYOUT.dhcpd, format: 'dhcpd' }],
  reservations: () => LAYOUT.dhcpd,
  hostFiles: false,
  tftp: false,
  proxy: false,
  ipv6: 'no',
  httpBootV6: false,
  vlanOnParent: false,
  sharedHost: false,
  nextStep: { file: LAYOUT.dhcpd, verb: 'include into dhcpd.conf' },
};
