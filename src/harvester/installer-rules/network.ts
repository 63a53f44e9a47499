// The installer's rules on the management network's NICs: each one the config names must be an
// interface of the machine that is not the loopback.
import type { InventoryPath } from '../../util/paths.ts';
import { parseIpv4 } from '../../util/ipv4.ts';
import { parseIpv6 } from '../../util/ipv6.ts';
import { inReleases, type InstallerRule, type RuleHit } from './subject.ts';

/** Why no Linux interface can have `name` (the kernel's dev_valid_name), or undefined. */
export function nicNameProblem(name: string): string | undefined {
  if (name.length > 15) return 'Linux allows at most 15 characters';
  if (name === '.' || name === '..') return 'Linux allows no `.` or `..`';
  if (/[\s/:]/.test(name)) return 'Linux allows no space, `/` or `:` in it';
  return undefined;
}

/** The NIC rules, in the order the installer meets them. */
export const NETWORK_RULES: readonly InstallerRule[] = [
  {
    id: 'nic-name',
    code: 'INSTALLER_NIC_INVALID',
    releases: '>=1.2.0',
    when: 'an `install.management_interface.interfaces` entry named `lo` (the loopback), or by a name no Linux interface can have (more than 15 characters, a space, `/` or `:`)',
    effect: 'stops the install ("interface is a loopback interface: lo", or "no interface matching name <name> found")',
    source:
      'pkg/config/config.go FindNetworkInterfaceNameAndHwAddr (net.InterfaceByName for a NIC named without a MAC), pkg/console/validator.go checkInterface (net.Interfaces by name, net.FlagLoopback: ErrMsgInterfaceIsLoop) @v1.2.0, same to v1.8.1; pkg/installer/... @harvester/harvester v1.9.0-rc6',
    check(s) {
      const nics = s.config.get('install.management_interface.interfaces');
      if (!Array.isArray(nics)) return undefined;
      const hits: RuleHit[] = [];
      nics.forEach((nic: unknown, k) => {
        const name = typeof nic === 'object' && nic !== null ? (nic as Record<string, unknown>).name : undefined;
        if (typeof name !== 'string' || name === '') return;
        const at: InventoryPath = [...s.config.at('install.management_interface.interfaces'), k];
        if (name === 'lo') {
          hits.push({
            message: `management interface ${k + 1} of node ${s.node.hostname} is \`lo\`, the loopback: the Harvester ${s.version.raw} installer refuses it ("interface is a loopback interface: lo")`,
            hint: "Name the machine's NIC (`ip -br link` on it), or give only its MAC.",
            at,
          });
          return;
        }
        const problem = nicNameProblem(name);
        if (problem === undefined) return;
        hits.push({
          message: `management interface ${k + 1} of node ${s.node.hostname} is named "${name}", which no network interface can be (${problem}): the Harvester ${s.version.raw} installer finds none and stops ("no interface matching name ${name} found")`,
          hint: "Write the NIC's name as `ip -br link` shows it on the machine, or give only its MAC.",
          at,
        });
      });
      return hits;
    },
  },
  {
    id: 'dns-ipv4',
    code: 'INSTALLER_DNS_UNUSED',
    releases: '>=1.2.0',
    when: 'an `os.dns_nameservers` entry that is not an IPv4 address: from v1.7 any (an IPv6 server too), before v1.7 one that is no IP address',
    effect:
      "takes it; from v1.7 it writes the servers into the management bridge's IPv4 settings (NetworkManager `[ipv4] dns=`), where NetworkManager drops any that is not an IPv4 address, so the node never uses it",
    source:
      'pkg/config/cos.go updateBridge (DNSServers into templates/nm-bridge.nmconnection [ipv4] dns=, [ipv6] method=disabled) @v1.7.0 to v1.8.1; pkg/installer/config @harvester/harvester v1.9.0-rc6; before v1.7 getAddStaticDNSServersCmd (NETCONFIG_DNS_STATIC_SERVERS)',
    check(s) {
      const servers = s.config.get('os.dns_nameservers');
      if (!Array.isArray(servers)) return undefined;
      const nm = inReleases(s.version, '>=1.7.0');
      const hits: RuleHit[] = [];
      servers.forEach((d: unknown, k) => {
        if (typeof d !== 'string' || parseIpv4(d) !== undefined) return;
        if (!nm && parseIpv6(d) !== undefined) return;
        hits.push({
          message: nm
            ? `DNS server ${JSON.stringify(d)} of node ${s.node.hostname} is not an IPv4 address: the Harvester ${s.version.raw} installer writes the DNS servers into the management bridge's IPv4 settings (NetworkManager \`[ipv4] dns=\`), where NetworkManager drops it, so the node would never use it`
            : `DNS server ${JSON.stringify(d)} of node ${s.node.hostname} is not an IP address`,
          hint: nm
            ? 'Give the node an IPv4 DNS server (the management network is IPv4).'
            : 'Write an IPv4 address, or an IPv6 address in canonical form.',
          at: [...s.config.at('os.dns_nameservers'), k],
        });
      });
      return hits;
    },
  },
];
