// The installer's kernel command line for one boot NIC of a node. Order is fixed so that
// outputs diff cleanly: initrd= (UEFI), network, live root, consoles, installer keys, then
// the site's and the node's extra arguments. Secrets never go here (/proc/cmdline is world
// readable): token and password stay in the node's config file.
import type { ResolvedNode, SiteModel } from '../model/index.ts';

/** The node's config URL. */
export function configUrl(model: SiteModel, node: ResolvedNode): string {
  return `${model.boot.server}/harvester/${node.hostname}.yaml`;
}

/** NIC name to use for a boot MAC: the interface with that MAC, else the one at the same position. */
export function nicNameFor(node: ResolvedNode, mac: string): string | undefined {
  const byMac = node.interfaces.find((n) => n.mac === mac && n.name !== undefined);
  if (byMac) return byMac.name;
  const k = node.macs.indexOf(mac);
  const byPos = node.interfaces[k];
  return byPos && byPos.mac === undefined ? byPos.name : undefined;
}

/** Kernel arguments for booting `node`'s installer from NIC `mac`. */
export function kernelArgs(model: SiteModel, node: ResolvedNode, mac: string): string[] {
  const args: string[] = [];
  if (model.boot.firmware === 'uefi') args.push('initrd=initrd');
  // A tagged management network needs the VLAN in the installer's initrd too (dracut
  // `vlan=<name>.<id>:<name>`); that needs the NIC's name.
  const nic = nicNameFor(node, mac);
  const vlanIf = node.vlan !== undefined && node.vlan > 1 && nic !== undefined ? `${nic}.${node.vlan}` : undefined;
  if (vlanIf) args.push(`vlan=${vlanIf}:${nic}`);
  if (node.method === 'static' && node.ip !== undefined) {
    // dracut: ip=<client>::<gateway>:<netmask>:<hostname>:<interface>:none
    args.push(`ip=${node.ip}::${node.gateway}:${node.netmask}:${node.hostname}:${vlanIf ?? nic ?? ''}:none`);
    for (const dns of node.dns) args.push(`nameserver=${dns}`);
  } else {
    args.push(vlanIf ? `ip=${vlanIf}:dhcp` : 'ip=dhcp');
  }
  args.push('net.ifnames=1', 'rd.cos.disable', 'rd.noverifyssl');
  args.push(`root=live:${model.artifacts.rootfs}`);
  for (const c of model.boot.console) args.push(`console=${c}`);
  args.push('harvester.install.automatic=true');
  if (model.boot.skipchecks) args.push('harvester.install.skipchecks=true');
  args.push(`harvester.install.config_url=${configUrl(model, node)}`);
  args.push(...model.boot.kernelArgs, ...node.kernelArgs);
  return args;
}
