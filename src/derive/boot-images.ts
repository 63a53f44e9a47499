// What iPXE loads for a node: the kernel, initrds and command line of each boot MAC, by kind. The
// rules (kernel-line limits, BSS), the BSS export, `explain` and the boot scripts all read it here.
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { assertNever } from '../util/assert-never.ts';
import { installerImages } from './harvester/cmdline.ts';
import { osImages } from './os/cmdline.ts';
import type { BootImages } from './types.ts';

/**
 * The kernel, initrds and command line of a node booting from `mac`; undefined when it boots its
 * disk (`state: local`) or no kernel (iSCSI).
 */
export function bootImages(model: SiteModel, node: ResolvedNode, mac: string): BootImages | undefined {
  if (node.state === 'local') return undefined;
  switch (node.boot) {
    case 'harvester':
      return installerImages(model, node, mac);
    case 'os':
      return osImages(model, node, mac);
    case 'iscsi':
      return undefined;
    default:
      return assertNever(node);
  }
}
