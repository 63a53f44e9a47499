// Facts of a node's boot ISO (`medium: iso`) that the rules and the renderers share.
import type { HarvesterNode, ResolvedNode, SiteModel } from '../model/index.ts';
import { effectiveConfig } from './harvester/effective.ts';
import type { BootImages } from './types.ts';
import { parseIpv4 } from '../util/ipv4.ts';

/**
 * Who fetches a node's boot ISO: its BMC, which mounts it as virtual media, at its address when
 * that is an IPv4 address (otherwise nobody under `nginx.access: nodes`: MEDIA_BMC_REFUSED).
 */
export function mediumAllow(node: ResolvedNode): string[] {
  return node.bmc !== undefined && parseIpv4(node.bmc.host) !== undefined ? [node.bmc.host] : [];
}

/** A URL of the boot files as GRUB names a file over HTTP, `(http,host[:port])/path`; undefined for any other scheme (GRUB's http module has no TLS). */
export function grubHttpPath(url: string): string | undefined {
  const m = /^http:\/\/([^/]+)(\/.*)?$/.exec(url);
  return m ? `(http,${m[1]})${m[2] ?? '/'}` : undefined;
}

/**
 * The kernel arguments the ISO's GRUB passes: the node's, less iPXE's `initrd=<name>` (the EFI
 * stub's own initrd loading, which names files GRUB does not have: GRUB hands the initrds over).
 */
export function grubArgs(images: BootImages): string[] {
  return images.args.filter((a) => !a.startsWith('initrd='));
}

/**
 * The command line the kernel gets from the ISO's GRUB: GRUB's x86 `linux` puts
 * `BOOT_IMAGE=<kernel path>` first and drops whole arguments from the end that do not fit the
 * kernel's limit (grub-core/loader/i386/linux.c), so that prefix counts against it.
 */
export function grubCmdline(images: BootImages): string {
  return [`BOOT_IMAGE=${grubHttpPath(images.kernel) ?? images.kernel}`, ...grubArgs(images)].join(' ');
}

/**
 * Whether a Harvester node's installer takes the Harvester ISO from a local device
 * (`install.iso_url: local` in its effective config, set by `install.iso_url` or `config:`).
 */
export function isoFromLocal(model: SiteModel, node: ResolvedNode): node is HarvesterNode {
  return node.boot === 'harvester' && effectiveConfig(model, node).get('install.iso_url') === 'local';
}
