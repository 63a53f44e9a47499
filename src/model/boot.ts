// How a node's firmware boots: UEFI or BIOS, and with Secure Boot, which shim trusts its kernel.
import { assertNever } from '../util/assert-never.ts';
import type { ResolvedNode, SiteModel } from './types.ts';

/** The firmware a node boots with: arm64 machines are UEFI whatever the site's x86 machines use. */
export function nodeFirmware(model: SiteModel, node: ResolvedNode): 'uefi' | 'bios' {
  return node.arch === 'arm64' ? 'uefi' : model.boot.firmware;
}

/**
 * With Secure Boot (x86-64 UEFI machines): the shim iPXE's `shim` command gives the kernel to, the
 * one that trusts the kernel's signer: the release's SUSE shim for the Harvester installer, the
 * profile's `shim` for a generic OS (undefined when it has none: BOOT_SECURE_BOOT_NO_SHIM), none
 * for an iSCSI node (its firmware boots the target's own loader).
 */
export function kernelShim(model: SiteModel, node: ResolvedNode): string | undefined {
  if (!model.boot.secureBoot || node.arch !== 'x86_64' || nodeFirmware(model, node) !== 'uefi') return undefined;
  switch (node.boot) {
    case 'harvester':
      return node.release.artifacts.shim;
    case 'os':
      return node.os.shim;
    case 'iscsi':
      return undefined;
    default:
      return assertNever(node, 'node kind');
  }
}
