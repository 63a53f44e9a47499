// The installer's rules on the management network's NICs: each one the config names must be an
// interface of the machine that is not the loopback.
import type { InventoryPath } from '../../util/paths.ts';
import type { InstallerRule, RuleHit } from './subject.ts';

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
];
