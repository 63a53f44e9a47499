// Boot facts that the rules, the inputs and the renderers share: which iPXE binaries a site needs
// and serves, whether it has arm64 machines, the file UEFI firmware loads first.
import type { SiteModel } from './types.ts';

/** True when some node is an arm64 machine. */
export function hasArm64(model: SiteModel): boolean {
  // Asked for by several lines of a render: the answer kept per node list, not each a pass over
  // 10,000 nodes. Only a frozen list (every model the compiler makes is deeply frozen): a list
  // that can still change is asked again.
  if (!Object.isFrozen(model.nodes)) return model.nodes.some((n) => n.arch === 'arm64');
  let arm64 = arm64Nodes.get(model.nodes);
  if (arm64 === undefined) arm64Nodes.set(model.nodes, (arm64 = model.nodes.some((n) => n.arch === 'arm64')));
  return arm64;
}

const arm64Nodes = new WeakMap<readonly unknown[], boolean>();

/** The file UEFI firmware loads first (TFTP or HTTP): the Secure Boot shim, else the iPXE loader. */
export function uefiBootFile(model: SiteModel): string {
  return model.boot.secureBoot?.shim ?? model.boot.uefiLoader;
}

/** The standard iPXE binaries `boot.ipxe_binaries` may hold (Debian's `ipxe` package). */
export const STANDARD_IPXE_BINARIES = ['ipxe.efi', 'snponly.efi', 'undionly.kpxe'] as const;

/**
 * Binaries from `boot.ipxe_binaries` the site needs: the first file its firmware loads (and, with
 * Secure Boot, the loader the shim loads next). The other standard ones are copied when present.
 */
export function requiredIpxeBinaries(model: SiteModel): string[] {
  const arm64 = hasArm64(model) ? [model.boot.arm64Loader] : [];
  if (model.boot.firmware === 'bios') return ['undionly.kpxe', ...arm64];
  const sb = model.boot.secureBoot;
  return [...(sb ? [sb.shim, sb.loader] : [model.boot.uefiLoader]), ...arm64];
}

/**
 * Boot binaries nginx serves from the tree's root: those copied into it, and with HTTP boot the
 * files the firmware fetches over HTTP (put there by hand when harvgen does not copy them).
 */
export function servedBinaries(model: SiteModel, copied: readonly string[]): string[] {
  const names = new Set(copied);
  if (model.boot.httpBoot) {
    names.add(uefiBootFile(model));
    if (model.boot.secureBoot) names.add(model.boot.secureBoot.loader);
    if (hasArm64(model)) names.add(model.boot.arm64Loader);
  }
  return [...names].sort();
}
