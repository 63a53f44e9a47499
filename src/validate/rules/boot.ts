// boot: how machines enter the tree (unknown machines, Secure Boot, leaving iPXE for the disk).
import type { Rule } from '../rule.ts';

/** `unknown: join` has what an unknown machine needs; Secure Boot fits the site; UEFI `exit` with ipxe.efi. */
export const bootRule: Rule = {
  name: 'boot',
  codes: ['BOOT_UNKNOWN_JOIN_INCOMPLETE', 'BOOT_SECURE_BOOT_INVALID', 'BOOT_EXIT_MAY_HANG'],
  check({ model, report }) {
    const join = model.unknownJoin;
    if (join && (!model.cluster || !model.release)) {
      report({
        code: 'BOOT_UNKNOWN_JOIN_INCOMPLETE',
        message: '`boot.unknown: join` installs Harvester on unknown machines, but the site has no `harvester:` and `cluster:` to join',
        hint: 'Add the `harvester:` and `cluster:` sections, or use `unknown: wait` or `local`.',
        at: ['boot', 'unknown'],
      });
    } else if (join) {
      // Its MACs are unknown, so neither a MAC-pinned NIC nor a per-node disk can be used.
      if (join.install.device === undefined) {
        report({
          code: 'BOOT_UNKNOWN_JOIN_INCOMPLETE',
          message: '`boot.unknown: join` needs an install device for machines the inventory does not know',
          hint: 'Set `install: { device: ... }` in `defaults` (or the repo defaults): the disk every unknown machine is installed on.',
          at: ['boot', 'unknown'],
        });
      }
      if (!join.interfaces.some((nic) => nic.name !== undefined)) {
        report({
          code: 'BOOT_UNKNOWN_JOIN_INCOMPLETE',
          message: "`boot.unknown: join` needs the management NIC's name for machines the inventory does not know",
          hint: 'Set `interfaces: [{ name: eno1 }]` in `defaults` (their MACs are unknown, so only a name can pick the NIC).',
          at: ['boot', 'unknown'],
        });
      }
    }
    const sb = model.boot.secureBoot;
    if (sb && model.boot.firmware === 'bios') {
      report({
        code: 'BOOT_SECURE_BOOT_INVALID',
        message: 'boot.secure_boot is set on a BIOS site: Secure Boot is a UEFI feature',
        hint: 'Set `boot.firmware: uefi`, or remove `secure_boot`.',
        at: ['boot', 'secure_boot'],
        target: 'key',
      });
    }
    if (sb && sb.shim === sb.loader) {
      report({
        code: 'BOOT_SECURE_BOOT_INVALID',
        message: `boot.secure_boot names ${sb.shim} as both the shim and the loader it loads`,
        hint: 'The shim loads a second file (distribution shims load grubx64.efi): store the signed iPXE under that name.',
        at: ['boot', 'secure_boot', 'loader'],
      });
    }
    // Local boots on UEFI leave iPXE with `exit`; Debian's ipxe.efi (1.0.0+git-20190125) never
    // returned to OVMF's boot manager in harvgen's QEMU tests, snponly.efi did.
    if (model.boot.firmware === 'uefi' && model.boot.uefiLoader === 'ipxe.efi' && !sb) {
      const node = model.nodes.find((n) => n.state !== 'install');
      const unknownLeaves = model.boot.unknown === 'local' || model.boot.unknown === 'join';
      if (node || unknownLeaves) {
        report({
          code: 'BOOT_EXIT_MAY_HANG',
          message: `${node ? `node ${node.hostname} (state: ${node.state})` : `boot.unknown: ${model.boot.unknown}`} boots its local disk by leaving iPXE with \`exit\`, and with \`uefi_loader: ipxe.efi\` some firmware never gets control back`,
          hint: 'Set `boot.uefi_loader: snponly.efi` (it returns to the firmware cleanly), or make the disk the first boot entry.',
          ...(node ? { node: node.hostname, at: node.sources.state ?? ['nodes', node.index] } : { at: ['boot', 'unknown'] }),
        });
      }
    }
  },
};
