// Network boot: PXE or UEFI HTTP boot with DHCP, the default.
import type { Medium } from './types.ts';

export const NETWORK: Medium = {
  name: 'network',
  description: 'network boot (PXE or UEFI HTTP boot, with DHCP; the default)',
  dhcp: true,
  tagsVlan: true,
  ipv6: true,
};
