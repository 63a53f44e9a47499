// Known upstream issues of particular releases that may break an install on some hardware or
// network (warnings, each naming its issue): a release that fixes one ends its range.
import type { InstallerRule } from './subject.ts';

/** The known issues, in the order the installer meets them. */
export const KNOWN_ISSUE_RULES: readonly InstallerRule[] = [
  {
    id: 'issue-bond-nm-online',
    code: 'INSTALLER_KNOWN_ISSUE',
    releases: '>=1.7.0',
    when: 'DHCP management network on an 802.3ad (LACP) bond',
    effect: 'may fail intermittently: "Can\'t apply networks" (`nm-online -x` times out while LACP negotiates)',
    source: 'pkg/config/cos.go UpdateManagementInterfaceConfig @v1.7.0; harvester#10885, harvester#11662 (open)',
    check(s) {
      const method = s.config.get('install.management_interface.method');
      if (method !== 'dhcp' || s.config.get('install.management_interface.bond_options.mode') !== '802.3ad') return undefined;
      return {
        message: `node ${s.node.hostname} gets its management address by DHCP on an 802.3ad bond, which Harvester ${s.version.raw} may fail to bring up in time ("Can't apply networks"; v1.7.0 and later, harvester#10885, #11662, open)`,
        hint: 'Use `method: static` for nodes on LACP bonds, or `bond.mode: active-backup`, until the upstream issue is fixed.',
        at: s.config.at('install.management_interface.bond_options.mode'),
        severity: 'warning',
      };
    },
  },
  ...(
    [
      [
        'tg3',
        '>=1.8.0 <1.9.0',
        'harvester#11266 (Broadcom 5719: dracut never brings the NIC up; fixed by harvester/os2#257, the v1.8 release that ships it unconfirmed)',
      ],
      ['qlcnic', '>=1.7.0', 'harvester#9846 (QLogic qlcnic driver missing, open)'],
      [
        'r8125',
        '>=1.7.1',
        'harvester#10518 (Realtek RTL8125 driver missing, open; `nic_driver: r8125` names that chip, which mainline kernels drive with r8169)',
      ],
      ['ice', '=1.7.0', 'harvester#9694 (Intel E810/E825 driver too old for their newer device IDs)'],
    ] as const
  ).map(([driver, releases, issue]): InstallerRule => ({
    id: `issue-nic-${driver}`,
    code: 'INSTALLER_KNOWN_ISSUE',
    releases,
    when: `management NIC driver \`${driver}\` (\`hardware.nic_driver\`)`,
    effect: 'the NIC may not come up in the installer',
    source: issue,
    check(s) {
      if (s.facts.nicDriver !== driver) return undefined;
      return {
        message: `node ${s.node.hostname}'s management NIC uses ${driver}, which Harvester ${s.version.raw} is known to break (releases ${releases}): ${issue}`,
        hint: 'Install a release outside that range (the node may set its own `harvester_version`), or boot from another NIC.',
        at: s.factAt('nicDriver'),
        severity: 'warning',
      };
    },
  })),
];
