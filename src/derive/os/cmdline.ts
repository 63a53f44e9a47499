// The kernel command line of a generic OS node, and its cloud-init NoCloud seed.
import { mediumOf } from '../media/index.ts';
import type { OsNode, SiteModel } from '../../model/index.ts';
import { ipv4Dns, nodeFirmware } from '../../model/index.ts';
import { macToHyphen } from '../../util/mac.ts';
import type { BootImages } from '../types.ts';
import { cloudInitPath, configFilePath } from '../file-names.ts';
import { servedConfigs, type ConfigFormat } from '../configs/index.ts';

/** The NoCloud seed URL of one boot MAC (`ds=nocloud;s=<this>`), ending in `/`. */
export function cloudInitSeed(model: SiteModel, mac: string): string {
  return `${model.boot.server}/${cloudInitPath(model, mac)}`;
}

/** Kernel arguments harvgen writes itself on a generic node's command line; a profile's `params` may not set them. */
export const RESERVED_OS_PARAMS: Readonly<Record<string, string>> = {
  BOOTIF: 'nothing: harvgen pins each script to the NIC it is served for',
  initrd: 'nothing: harvgen names the initrds on UEFI',
  ds: '`cloud_init: false` on the profile, to leave cloud-init to something else',
  root: "the profile's `root`",
};

/** The URL of one owner's served config of `format` (a NoCloud seed directory ends in `/`). */
export function servedConfigUrl(model: SiteModel, format: ConfigFormat, owner: string): string {
  return `${model.boot.server}/${configFilePath(model, format, owner)}`;
}

/** The owner of a node's file of `format` for its boot NIC `mac`: the MAC, or the node's hostname. */
export function ownerFor(format: ConfigFormat, node: OsNode, mac: string): string {
  return format.owner === 'mac' ? mac : node.hostname;
}

/** The `ip=` of a generic node that boots from a medium without DHCP (`medium: iso`, a static address), else undefined. */
export function mediaStaticIp(node: OsNode): string | undefined {
  if (mediumOf(node).dhcp || node.method !== 'static' || node.ip === undefined) return undefined;
  // IPv4 ones only: `ip=` splits its fields at `:`.
  const dns = ipv4Dns(node).slice(0, 2);
  return `ip=${node.ip}::${node.gateway}:${node.netmask}:${node.hostname}::none${dns.length > 0 ? `:${dns.join(':')}` : ''}`;
}

/**
 * cloud-init's network config of a generic node with a boot ISO, on its kernel line
 * (`network-config=<base64>`, version 2: the static address on the NIC with this boot MAC, the
 * default route, the DNS servers). cloud-init reads it in its local stage, before any network
 * (cloudinit/net/cmdline.py, read_kernel_cmdline_config), so the system it sets up asks no DHCP
 * either; test/real/media-cloud-init.test.ts runs that code of each Debian release on it.
 */
export function mediaNetworkConfig(node: OsNode, mac: string): string | undefined {
  if (!node.os.cloudInit || mediumOf(node).dhcp || node.method !== 'static' || node.ip === undefined) return undefined;
  return networkConfigArg(node, mac, {
    addresses: [`${node.ip}/${node.prefix}`],
    routes: [{ to: '0.0.0.0/0', via: node.gateway }],
    ...(node.dns.length > 0 ? { nameservers: { addresses: [...node.dns] } } : {}),
  });
}

/**
 * `network-config=<base64>`: a version 2 network config of one NIC, matched by the boot MAC; none
 * when the profile's `params` give their own (the profile's is kept).
 */
function networkConfigArg(node: OsNode, mac: string, nic: Record<string, unknown>): string | undefined {
  if (node.os.params.some((p) => p.startsWith('network-config='))) return undefined;
  const config = { version: 2, ethernets: { [`boot-${macToHyphen(mac)}`]: { match: { macaddress: mac }, ...nic } } };
  return `network-config=${Buffer.from(JSON.stringify(config)).toString('base64')}`;
}

/**
 * cloud-init's network config of a generic node on an IPv6-only network, on its kernel line
 * (`network-config=<base64>`, version 2: DHCPv6 and router advertisements on the NIC with this
 * boot MAC, no DHCPv4). Without it cloud-init's fallback config asks DHCPv4 only (before 24.1),
 * so the network stage would never reach the seed; test/real/ipv6-cloud-init.test.ts runs the
 * code of each Debian release on it.
 */
export function ipv6NetworkConfig(model: SiteModel, node: OsNode, mac: string): string | undefined {
  if (!node.os.cloudInit || model.network.ipv4 || !model.network.ipv6) return undefined;
  return networkConfigArg(node, mac, { dhcp4: false, dhcp6: true, 'accept-ra': true });
}

/** The kernel, initrds (named `initrd<k>`, as iPXE and the command line call them on UEFI) and command line of a generic node booting from NIC `mac`. */
export function osImages(model: SiteModel, node: OsNode, mac: string): BootImages {
  const os = node.os;
  const names = os.initrds.map((_, i) => `initrd${i}`);
  const args: string[] = [];
  if (nodeFirmware(model, node) === 'uefi') for (const n of names) args.push(`initrd=${n}`);
  args.push(...os.params);
  // A node that boots from its own ISO gets no DHCP after it either: its static address, in the
  // form the kernel's own ipconfig and dracut both read (ip=<ip>::<gateway>:<mask>:<host>::none[:<dns>]).
  const staticIp = mediaStaticIp(node);
  if (staticIp !== undefined) args.push(staticIp);
  const network = mediaNetworkConfig(node, mac) ?? ipv6NetworkConfig(model, node, mac);
  if (network !== undefined) args.push(network);
  if (os.root !== undefined) args.push(`root=${os.root}`);
  // The config format the profile names (src/derive/configs/) points the boot at its file.
  for (const { format } of servedConfigs(node)) args.push(format.kernelArg(servedConfigUrl(model, format, ownerFor(format, node, mac))));
  args.push(`BOOTIF=01-${macToHyphen(mac)}`);
  return { kernel: os.kernel, initrds: os.initrds.map((url, i) => ({ name: names[i] ?? `initrd${i}`, url })), args };
}
