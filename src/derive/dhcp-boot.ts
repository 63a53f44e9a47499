// What a site's DHCP server must answer, whatever the server: the boot file of each kind of client
// (the iPXE split) and the reservations. dnsmasq (dnsmasq.ts), the libvirt network, Kea
// (kea.ts) and ISC dhcpd (dhcpd.ts) each write these facts in their own syntax; none decides them.
import { mediumOf } from './media/index.ts';
import { hasArm64, uefiBootFile } from '../model/boot-files.ts';
import type { ResolvedNode, SiteModel, VlanScope } from '../model/index.ts';
import { scopeOf } from '../model/index.ts';
import { namesKeyed, nodeScriptUrl } from './file-names.ts';
import { LAYOUT } from './layout.ts';

/** The VIP's DHCP reservation (`vip_mode: dhcp`): the installer leases the VIP with `vip_hw_addr`. */
export function vipReservation(model: SiteModel): { mac: string; ip: string } | undefined {
  const c = model.cluster;
  return c && c.vipMode === 'dhcp' && c.vipHwAddr !== undefined ? { mac: c.vipHwAddr, ip: c.vip } : undefined;
}

/** The kinds of DHCP client the split tells apart. */
export type BootClassId = 'ipxe' | 'bios' | 'efi64' | 'efihttp' | 'efiarm64' | 'efihttparm64';

/** How a DHCP server recognises one kind of client. */
export type BootMatch =
  /** iPXE: user class (option 77) "iPXE", or option 175 (iPXE's own encapsulated options). */
  | { readonly kind: 'ipxe' }
  /** Firmware PXE by client architecture (option 93), and not iPXE. */
  | { readonly kind: 'arch'; readonly arch: readonly number[] }
  /** UEFI HTTP boot: vendor class (option 60) starting with `prefix`, and not iPXE. */
  | { readonly kind: 'http'; readonly prefix: string };

/** One kind of client and the boot file it gets. */
export interface BootClass {
  readonly id: BootClassId;
  readonly match: BootMatch;
  /** A TFTP file name (from the TFTP server) or an http:// URL (iPXE, UEFI HTTP boot). */
  readonly file: string;
  /** UEFI HTTP boot: the answer must echo vendor class `HTTPClient` (option 60) or the firmware ignores it. */
  readonly echoVendorClass: boolean;
}

/**
 * The iPXE split: iPXE gets the HTTP entry script (so it never loads itself again: the loop of a
 * missing split), firmware PXE gets iPXE over TFTP by client architecture (0 BIOS, 7/9 x86-64
 * UEFI, 11 arm64 UEFI when the site has arm64 nodes), UEFI HTTP boot (with `boot.http_boot`) the
 * loader's URL. Every class but `ipxe` excludes iPXE, so exactly one class matches a client.
 */
export function bootClasses(model: SiteModel): BootClass[] {
  const url = (file: string) => `${model.boot.server}/${file}`;
  const efiFile = uefiBootFile(model);
  const arm64 = hasArm64(model);
  const http = model.boot.httpBoot;
  const cls = (id: BootClassId, match: BootMatch, file: string): BootClass => ({
    id,
    match,
    file,
    echoVendorClass: match.kind === 'http',
  });
  return [
    cls('ipxe', { kind: 'ipxe' }, url(LAYOUT.entryScript)),
    cls('bios', { kind: 'arch', arch: [0] }, 'undionly.kpxe'),
    cls('efi64', { kind: 'arch', arch: [7, 9] }, efiFile),
    ...(http ? [cls('efihttp', { kind: 'http', prefix: 'HTTPClient:Arch:00016' }, url(efiFile))] : []),
    ...(arm64 ? [cls('efiarm64', { kind: 'arch', arch: [11] }, model.boot.arm64Loader)] : []),
    ...(arm64 && http ? [cls('efihttparm64', { kind: 'http', prefix: 'HTTPClient:Arch:00019' }, url(model.boot.arm64Loader))] : []),
  ];
}

/** The boot file of one class (the class exists: `bootClasses` always has ipxe, bios and efi64). */
export function bootFile(model: SiteModel, id: BootClassId): string {
  const c = bootClasses(model).find((x) => x.id === id);
  if (!c) throw new Error(`no DHCP boot class ${id} in site ${model.site}`);
  return c.file;
}

/**
 * What iPXE on one of a node's boot MACs is sent instead of the entry script: with
 * `nginx.file_key`, the URL of that MAC's own script (its keyed name is one boot.ipxe cannot
 * know); else nothing (undefined). Every form writes it in its host's entry, for iPXE only.
 */
export function ipxeHostBootFile(model: SiteModel, mac: string): string | undefined {
  return namesKeyed(model) ? nodeScriptUrl(model, mac) : undefined;
}

/** One node's DHCP reservation: its boot MACs, its address when fixed, its name. */
export interface DhcpHost {
  readonly hostname: string;
  readonly macs: readonly string[];
  readonly ip?: string;
}

/**
 * The reservations of the site's nodes on the (native) network, in node order. A node on a VLAN
 * scope has its address there (`scopeHosts`): here it has its name only, and PXE-boots from the pool.
 */
export function dhcpHosts(model: SiteModel): DhcpHost[] {
  return model.nodes.map((n) => ({
    hostname: n.hostname,
    macs: n.macs,
    ...(n.ip !== undefined && scopeOf(model, n) === undefined ? { ip: n.ip } : {}),
  }));
}

/** The reservations of VLAN scope `scope`: the nodes on it, each with its address when fixed. */
export function scopeHosts(model: SiteModel, scope: VlanScope): DhcpHost[] {
  return model.nodes
    .filter((n) => scopeOf(model, n) === scope)
    .map((n) => ({ hostname: n.hostname, macs: n.macs, ...(n.ip !== undefined ? { ip: n.ip } : {}) }));
}

/** A lease time as dnsmasq spells it (`12h`, `30m`, `3600`, `infinite`) in seconds; undefined for `infinite`. */
export function leaseSeconds(time: string): number | undefined {
  if (time === 'infinite') return undefined;
  const m = /^([0-9]+)([smhdw]?)$/.exec(time);
  if (!m) throw new Error(`lease time ${JSON.stringify(time)} passed validation but is not one`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as '' | 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

/**
 * What DHCPv6 answers on a network with `network.ipv6` (option 59, bootfile-url, always a URL):
 * iPXE gets the entry script over HTTP, UEFI firmware PXE gets iPXE over TFTP, UEFI HTTP boot the
 * loader over HTTP (Kea only: dnsmasq cannot echo the vendor class those clients need). Each URL
 * names the boot server by its IPv6 address (`network.ipv6.server`): firmware has no DNS yet.
 * BIOS firmware PXE has no IPv6 (PXE 2.1); BIOS machines boot over IPv6 only from an iPXE ROM.
 */
export interface BootFiles6 {
  readonly ipxe: string;
  readonly efi64: string;
  readonly efihttp: string;
}

/** The DHCPv6 boot files (undefined without `network.ipv6`). */
export function bootFiles6(model: SiteModel): BootFiles6 | undefined {
  const v6 = model.network.ipv6;
  if (!v6) return undefined;
  const base = serverBase6(model);
  const efiFile = uefiBootFile(model);
  return { ipxe: `${base}/${LAYOUT.entryScript}`, efi64: `tftp://[${v6.server}]/${efiFile}`, efihttp: `${base}/${efiFile}` };
}

/** `boot.server` with its host replaced by the server's IPv6 address, in brackets (its port and path kept). */
export function serverBase6(model: SiteModel): string {
  const server = model.network.ipv6?.server ?? '';
  const url = new URL(model.boot.server);
  url.hostname = `[${server}]`;
  return url.href.replace(/\/+$/, '');
}

/**
 * Whether a node's files are served over IPv6: on a network with IPv6, not to a Harvester node
 * (its installer config has no IPv6 fields), nor to one whose address is static or on its boot
 * ISO (IPv4, with no DHCPv6), unless it has an `ip6`.
 */
export function servedOverIpv6(model: SiteModel, node: ResolvedNode): boolean {
  if (!model.network.ipv6 || node.boot === 'harvester') return false;
  return node.ip6 !== undefined || (node.method !== 'static' && mediumOf(node).dhcp);
}
