// Kea: a DHCPv4 config (and DHCPv6 with network.ipv6) whose classes and subnets merge into an
// existing Kea; TFTP is another server's (`dhcp.next_server`).
import { LAYOUT } from '../layout.ts';
import type { DhcpServer } from './types.ts';

export const KEA: DhcpServer = {
  name: 'kea',
  title: 'Kea',
  description:
    'a Kea DHCPv4 config, `kea/harvgen.json` (`kea-dhcp4 -t` accepts it; its `client-classes` and `subnet4` entries merge into an existing Kea), and `kea/harvgen6.json` with `network.ipv6`',
  files: (model) => [
    ...(model.network.ipv4 ? [{ path: LAYOUT.kea, format: 'kea4' as const }] : []),
    ...(model.network.ipv6 ? [{ path: LAYOUT.kea6, format: 'kea6' as const }] : []),
  ],
  reservations: () => LAYOUT.kea,
  hostFiles: false,
  tftp: false,
  proxy: false,
  ipv6: 'named',
  httpBootV6: true,
  // kea-dhcp4 puts boot-file-name in the BOOTP file field and refuses more than 127 bytes.
  bootFileMax: 127,
  vlanOnParent: true,
  sharedHost: false,
  nextStep: { file: LAYOUT.kea, verb: 'merge into Kea' },
  failover: {
    file: 'kea-dhcp4.json',
    format: 'kea4',
    how: "the site's config with Kea's high-availability hook in hot-standby (the first server the primary), each Kea talking to the other on `failover.kea_ha_port`",
    unit: 'kea-dhcp4-server.service',
  },
};
