// Reinstall generations (`reinstall: <n>`, src/derive/harvester/reinstall.ts) work only
// where the node's script can see the marker: an install-once script (the only one that probes
// the disk) on UEFI (iPXE's `file://` reads the firmware's FAT volumes; on BIOS iPXE has no file
// access to a disk, only `sanboot`, which boots any bootable first sector whatever its
// generation). Every supported release (v1.2 and later) runs `os.after_install_chroot_commands`,
// so none is refused. OS profile and iSCSI nodes ignore the field (NODE_SETTING_IGNORED).
import { nodeFirmware } from '../../model/index.ts';
import { nodeAt } from '../../model/index.ts';
import { eachNode, type Rule } from '../rule.ts';

export const reinstallRule: Rule = {
  name: 'reinstall',
  codes: ['NODE_REINSTALL_NEEDS_ONCE', 'NODE_REINSTALL_BIOS'],
  check(ctx) {
    const { model } = ctx;
    eachNode(ctx, 'reinstall', (node, report) => {
      if (node.boot !== 'harvester' || node.reinstall === undefined) return;
      const at = nodeAt(node, 'reinstall');
      if (node.state !== 'install-once') {
        report({
          code: 'NODE_REINSTALL_NEEDS_ONCE',
          node: node.hostname,
          message: `\`reinstall: ${node.reinstall}\` on node ${node.hostname}, whose state is \`${node.state}\`: only an install-once script looks for the marker of its generation`,
          hint:
            node.state === 'local'
              ? 'Set `state: install-once` to reinstall through generations, or remove `reinstall` to keep booting the disk.'
              : 'Set `state: install-once` (with `state: install` the node installs on every network boot, whatever its generation).',
          at,
          target: 'key',
        });
      }
      if (nodeFirmware(model, node) === 'bios') {
        report({
          code: 'NODE_REINSTALL_BIOS',
          node: node.hostname,
          message: `\`reinstall\` on node ${node.hostname}, which boots BIOS: iPXE cannot read the marker of a generation there (it has no file access to a disk, only sanboot of a bootable first sector)`,
          hint: 'Boot the machines UEFI (`boot.firmware: uefi`), or remove `reinstall` and reinstall with `state: install` for one boot.',
          at,
          target: 'key',
        });
      }
    });
  },
};
