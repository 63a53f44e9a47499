// The installer's kernel command line for one boot NIC of a Harvester node. Order is fixed so that
// outputs diff cleanly: initrd= (UEFI), network (pinned to the boot NIC), live root, consoles,
// installer keys, then the site's and the node's extra arguments. Secrets never go here
// (/proc/cmdline is world readable): token and password stay in the node's config file.
import { mediumOf } from '../media/index.ts';
import type { HarvesterNode, ResolvedNode, SiteModel } from '../../model/index.ts';
import { HARVESTER_CONFIG } from '../configs/index.ts';
import { ipv4Dns, nodeFirmware, onVlan, scopeOf } from '../../model/index.ts';
import { macToHyphen } from '../../util/mac.ts';
import { kernelArgKey } from '../kernel-args.ts';
import { LAYOUT } from '../layout.ts';
import type { BootImages } from '../types.ts';
import { harvesterConfigPath } from '../file-names.ts';

/**
 * Kernel arguments harvgen writes itself; `kernel_args` may not set them (a second `ip=` or
 * `config_url=` would silently win or conflict). Keys are compared up to the first `=`.
 */
export const RESERVED_KERNEL_ARGS: Readonly<Record<string, string>> = {
  ip: 'the network settings (`method`, `ip`, `prefix`, `gateway`, `dns`, `vlan`)',
  BOOTIF: 'nothing: harvgen pins each script to the NIC it is served for',
  vlan: '`vlan`',
  ifname: 'nothing: the installed system would keep a name that is gone after its reboot',
  nameserver: '`dns`',
  root: '`harvester.artifacts` (the live root)',
  initrd: 'nothing: harvgen names the initrd on UEFI',
  'rd.net.dhcp.retry': '`boot.dhcp_retry`',
  'harvester.install.config_url': 'nothing: every node gets its own config URL',
  'harvester.install.automatic': 'nothing: harvgen installs automatically',
  'harvester.install.skipchecks': '`boot.skipchecks`',
};

/** What to set instead of a reserved kernel argument, or undefined when `arg` is free to use. */
export function reservedKernelArg(arg: string): string | undefined {
  const key = kernelArgKey(arg);
  // The installer reads every `harvester.*` argument as a config key that beats the file.
  return RESERVED_KERNEL_ARGS[key] ?? (key.startsWith('harvester.') ? "the key under `config:` (the node's config file)" : undefined);
}

/** The node's config file in the tree (the shared one for the unknown-machine node). */
export function configPath(model: SiteModel, node: HarvesterNode): string {
  return node === model.unknownJoin ? LAYOUT.unknownJoinConfig : harvesterConfigPath(model, node);
}

/** The node's config URL (on `boot.server`: what the manifest lists and `verify` fetches). */
export function configUrl(model: SiteModel, node: HarvesterNode): string {
  return `${model.boot.server}/${configPath(model, node)}`;
}

/**
 * The node's config URL as its installer fetches it: on a VLAN scope, at the boot server's
 * address on the VLAN (its installer tags the VLAN: the rules refuse a scoped node that cannot).
 */
export function installerConfigUrl(model: SiteModel, node: HarvesterNode): string {
  const scope = scopeOf(model, node);
  return scope ? onVlan(model, scope, configUrl(model, node)) : configUrl(model, node);
}

/**
 * Whether the installer's initrd takes the node's address (and mask and gateway) from its kernel
 * line rather than from DHCP: a static node, and every Harvester node where several DHCP servers
 * answer (`network.dhcp_servers: several`; Harvester's seeder does the same, a4b0884), whatever the
 * installed system does. The node-address rule checks what this puts on the line.
 */
export function installerTakesAddress(model: SiteModel, node: ResolvedNode): boolean {
  return node.method === 'static' || (node.boot === 'harvester' && model.network.dhcpServers === 'several');
}

/** NIC name given for exactly this MAC (an `interfaces` entry with both `name` and `mac`). */
export function pinnedNicName(node: HarvesterNode, mac: string): string | undefined {
  return node.interfaces.find((n) => n.mac === mac && n.name !== undefined)?.name;
}

/** NIC name to use for a boot MAC: the interface with that MAC, else the one at the same position. */
export function nicNameFor(node: HarvesterNode, mac: string): string | undefined {
  const byMac = node.interfaces.find((n) => n.mac === mac && n.name !== undefined);
  if (byMac) return byMac.name;
  const k = node.macs.indexOf(mac);
  const byPos = node.interfaces[k];
  return byPos && byPos.mac === undefined ? byPos.name : undefined;
}

/**
 * Kernel arguments for booting `node`'s installer from NIC `mac`. Without a MAC (an unknown
 * machine joining) there is no BOOTIF here: the script appends `BOOTIF=01-${mac:hexhyp}`, which
 * iPXE fills in with the NIC that booted.
 */
export function kernelArgs(model: SiteModel, node: HarvesterNode, mac: string | undefined): string[] {
  const args: string[] = [];
  if (nodeFirmware(model, node) === 'uefi') args.push('initrd=initrd');
  // A tagged management network needs the VLAN in the installer's initrd too, in the seeder's
  // form: `vlan=vlan<id>:<nic>`, the address (or DHCP) on `vlan<id>` alone, so the NIC itself
  // gets none (test/real/installer-network.test.ts runs NetworkManager's initrd generator on it).
  // That needs the NIC's name from the inventory: a NIC renamed for the installer (`ifname=`) keeps
  // that name in the installed system's bond, where it no longer exists after the reboot. Without
  // a name (and for an unknown machine) the installer runs untagged (NODE_VLAN_INSTALLER_UNTAGGED).
  const nic = mac !== undefined ? nicNameFor(node, mac) : undefined;
  // A node booting from a medium that tags no VLAN installs untagged, as its loader reaches the
  // boot server (MEDIA_VLAN_UNTAGGED): the installed system tags the VLAN.
  const vlanIf = node.vlan !== undefined && node.vlan > 1 && nic !== undefined && mediumOf(node).tagsVlan ? `vlan${node.vlan}` : undefined;
  // On a VLAN scope of the site (`network.vlans`), the installer reaches the boot server at its
  // address on the VLAN: the URLs on boot.server's origin name that address.
  const scope = vlanIf !== undefined ? scopeOf(model, node) : undefined;
  const reach = (url: string) => (scope ? onVlan(model, scope, url) : url);
  if (vlanIf) args.push(`vlan=${vlanIf}:${nic}`);
  if (node.ip !== undefined && installerTakesAddress(model, node)) {
    // dracut: ip=<client>::<gateway>:<netmask>:<hostname>:<interface>:none
    args.push(`ip=${node.ip}::${node.gateway}:${node.netmask}:${node.hostname}:${vlanIf ?? nic ?? ''}:none`);
    // IPv4 ones only: the initrd's network is IPv4 (NetworkManager's initrd generator drops the others).
    for (const dns of ipv4Dns(node)) args.push(`nameserver=${dns}`);
  } else {
    // A name is put on `ip=` only when the inventory ties it to this MAC; otherwise BOOTIF
    // alone pins DHCP to the boot NIC (dracut configures only the NIC with that MAC).
    const pinned = vlanIf ?? (mac !== undefined ? pinnedNicName(node, mac) : undefined);
    args.push(pinned ? `ip=${pinned}:dhcp` : 'ip=dhcp');
  }
  // pxelinux's form (01 = Ethernet): the NIC this script is served for.
  if (mac !== undefined) args.push(`BOOTIF=01-${macToHyphen(mac)}`);
  if (model.boot.dhcpRetry !== undefined) args.push(`rd.net.dhcp.retry=${model.boot.dhcpRetry}`);
  args.push('net.ifnames=1', 'rd.cos.disable', 'rd.noverifyssl');
  args.push(`root=live:${reach(node.release.artifacts.rootfs)}`);
  for (const c of model.boot.console) args.push(`console=${c}`);
  args.push('harvester.install.automatic=true');
  if (model.boot.skipchecks) args.push('harvester.install.skipchecks=true');
  args.push(HARVESTER_CONFIG.kernelArg(reach(configUrl(model, node))));
  args.push(...model.boot.kernelArgs, ...node.kernelArgs);
  return args;
}

/** The installer's kernel, initrd and command line for `node` booting from `mac` (undefined: an unknown machine joining). */
export function installerImages(model: SiteModel, node: HarvesterNode, mac: string | undefined): BootImages {
  return {
    kernel: node.release.artifacts.kernel,
    initrds: [{ name: 'initrd', url: node.release.artifacts.initrd }],
    args: kernelArgs(model, node, mac),
  };
}
