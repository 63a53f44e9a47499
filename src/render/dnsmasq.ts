// Every dnsmasq file of a site. What is global and what is a site's is dnsmasq's own rule:
// `port=`, `enable-tftp`, a `tftp-root=` without an interface and `dhcp-hostsdir=` apply to the
// whole process (the last `tftp-root=` read wins), so they are in `global.conf` and sites sharing
// a dnsmasq must agree on them (the cross-site check compares `dnsmasqGlobals`, the record
// `global.conf` is rendered from). `interface=` accumulates (each one adds an interface), and
// every other line of `harvgen.conf` is scoped by the tag its `dhcp-range` sets. The reservations
// are one file per node for `dhcp-hostsdir` (`hosts/<site>.<hostname>`), read without a restart.
//
// Proxy mode (`dnsmasq.mode: proxy`, another server gives the addresses): `dhcp-range=<net>,proxy`
// makes dnsmasq answer only PXE clients (vendor class PXEClient), with no address. Firmware gets
// iPXE from a `pxe-service` per client architecture; UEFI iPXE (user class iPXE: no pxe-service
// of its architecture matches it) gets `boot.ipxe` from the `dhcp-boot` lines, which dnsmasq's
// proxy answer carries only when no single pxe-service matches; BIOS iPXE needs a menu item of
// its own. UEFI HTTP boot clients (vendor class HTTPClient) are not PXE clients, so a proxy does
// not answer them.
import type { ResolvedNode, SiteModel } from '../model/index.ts';
import { dnsmasqGlobals } from '../derive/dnsmasq-globals.ts';
import { escapers } from '../formats/escape.ts';
import { reservation6 } from '../util/ipv6.ts';
import { hasArm64, uefiBootFile } from '../model/boot-files.ts';
import { bootFile, bootFiles6, ipxeHostBootFile, vipReservation } from '../derive/dhcp-boot.ts';
import { namesKeyed, nodeScriptUrl } from '../derive/file-names.ts';
import { LAYOUT } from '../derive/layout.ts';
import { renderTemplate } from './templates.ts';

/** Tag that scopes every dnsmasq line to this site's DHCP range. */
export function siteTag(model: SiteModel): string {
  return `harvgen-${model.site}`;
}

/** One dnsmasq option: `key=values[0],values[1],...` (escaped where it is written). */
export interface DnsmasqOption {
  readonly key: string;
  readonly values: readonly string[];
}

/**
 * The iPXE split, shared by the dnsmasq config and the libvirt network: iPXE (user class
 * "iPXE" or option 175) gets the HTTP entry script, firmware PXE gets iPXE over TFTP by
 * client architecture. `scope` limits the boot lines to one site's DHCP range.
 */
export function ipxeSplitLines(model: SiteModel, scope?: string): DnsmasqOption[] {
  const on = scope !== undefined ? [`tag:${scope}`] : [];
  // The boot files are the split's facts (dhcp-boot.ts), shared with Kea and ISC dhcpd.
  const efiFile = bootFile(model, 'efi64');
  const notKeyed = namesKeyed(model) ? [`tag:!${keyedTag(model)}`] : [];
  const http: DnsmasqOption[] = model.boot.httpBoot
    ? [
        // UEFI HTTP boot (x86-64): the client must see its own vendor class echoed (option 60),
        // and its boot file is a URL; no TFTP.
        { key: 'dhcp-vendorclass', values: ['set:efihttp', 'HTTPClient:Arch:00016'] },
        { key: 'dhcp-option-force', values: [...on, 'tag:efihttp', '60', 'HTTPClient'] },
        { key: 'dhcp-boot', values: [...on, 'tag:!ipxe', 'tag:efihttp', bootFile(model, 'efihttp')] },
      ]
    : [];
  return [
    { key: 'dhcp-userclass', values: ['set:ipxe', 'iPXE'] },
    { key: 'dhcp-match', values: ['set:ipxe', '175'] },
    { key: 'dhcp-match', values: ['set:bios', 'option:client-arch', '0'] },
    { key: 'dhcp-match', values: ['set:efi64', 'option:client-arch', '7'] },
    { key: 'dhcp-match', values: ['set:efi64', 'option:client-arch', '9'] },
    ...keyedScriptLines(model, on),
    { key: 'dhcp-boot', values: [...on, 'tag:ipxe', ...notKeyed, bootFile(model, 'ipxe')] },
    { key: 'dhcp-boot', values: [...on, 'tag:!ipxe', 'tag:bios', bootFile(model, 'bios')] },
    { key: 'dhcp-boot', values: [...on, 'tag:!ipxe', 'tag:efi64', efiFile] },
    ...http,
    ...(hasArm64(model) ? arm64Lines(model, on) : []),
  ];
}

/** The tag of one boot MAC (`nginx.file_key`): the site's name in it, so sites sharing a dnsmasq never share one. */
export function macTag(model: SiteModel, mac: string): string {
  return `harvgen-${model.site}-${mac.replaceAll(':', '')}`;
}

/** The tag of every boot MAC whose script has a keyed name (`nginx.file_key`). */
export function keyedTag(model: SiteModel): string {
  return `harvgen-${model.site}-keyed`;
}

/**
 * With `nginx.file_key`, iPXE on a known MAC gets the URL of that MAC's own script (its name is
 * keyed, so boot.ipxe cannot name it): each boot MAC is tagged, and a `dhcp-boot` per MAC names
 * its script. The entry script's line excludes the tagged MACs, so no two boot lines match one
 * request, whatever order dnsmasq tries them in.
 */
function keyedScriptLines(model: SiteModel, on: readonly string[]): DnsmasqOption[] {
  if (!namesKeyed(model)) return [];
  const lines: DnsmasqOption[] = [];
  for (const node of model.nodes) {
    for (const mac of node.macs) {
      const url = ipxeHostBootFile(model, mac);
      if (url === undefined) continue;
      const tag = macTag(model, mac);
      lines.push(
        { key: 'dhcp-mac', values: [`set:${keyedTag(model)}`, mac] },
        { key: 'dhcp-mac', values: [`set:${tag}`, mac] },
        { key: 'dhcp-boot', values: [...on, 'tag:ipxe', `tag:${tag}`, url] },
      );
    }
  }
  return lines;
}

/** arm64 UEFI (client architecture 11; HTTP boot architecture 19) gets the arm64 iPXE. */
function arm64Lines(model: SiteModel, on: string[]): DnsmasqOption[] {
  return [
    { key: 'dhcp-match', values: ['set:efiarm64', 'option:client-arch', '11'] },
    { key: 'dhcp-boot', values: [...on, 'tag:!ipxe', 'tag:efiarm64', bootFile(model, 'efiarm64')] },
    ...(model.boot.httpBoot
      ? [
          { key: 'dhcp-vendorclass', values: ['set:efihttparm64', 'HTTPClient:Arch:00019'] },
          { key: 'dhcp-option-force', values: [...on, 'tag:efihttparm64', '60', 'HTTPClient'] },
          { key: 'dhcp-boot', values: [...on, 'tag:!ipxe', 'tag:efihttparm64', bootFile(model, 'efihttparm64')] },
        ]
      : []),
  ];
}

/** The site's dnsmasq file: only lines scoped to its DHCP range (the process-wide ones are in global.conf). */
export function renderDnsmasq(model: SiteModel): string {
  return dnsmasqConf(model, undefined);
}

/**
 * The site's dnsmasq file, or with `failover` one boot server's: its own half of the pool
 * (`pool`, none: reservations only) and a header that says so; everything else the same.
 */
export function dnsmasqConf(
  model: SiteModel,
  failover: { readonly name: string; readonly peer: string; readonly pool: { start: string; end: string } | undefined } | undefined,
): string {
  const tag = siteTag(model);
  const proxy = model.dnsmasq.mode === 'proxy';
  const v4 = model.network.ipv4;
  const sitePool = v4?.dhcpStart !== undefined && v4.dhcpEnd !== undefined ? { start: v4.dhcpStart, end: v4.dhcpEnd } : undefined;
  return renderTemplate('dnsmasq.conf', {
    site: model.site,
    failover: failover && { name: failover.name, peer: failover.peer },
    proxy,
    interface: model.dnsmasq.interface,
    hostsDir: model.dnsmasq.hostsDir,
    tag,
    // Copies: the template's strict proxy cannot wrap the frozen model's own objects.
    v4: v4 ? { ...v4, dns: [...v4.dns] } : undefined,
    // The dynamic pool, absent without network.dhcp_range (reservations only); with failover this server's half.
    pool: failover ? failover.pool : sitePool,
    v6: model.network.ipv6 ? { ...model.network.ipv6, dns: [...model.network.ipv6.dns] } : undefined,
    v6Lines: ipv6Lines(model, tag),
    vlanLines: proxy ? [] : vlanLines(model),
    leaseTime: model.dnsmasq.leaseTime,
    domain: model.network.domain,
    vip: proxy ? undefined : vipReservation(model),
    // Without IPv4 only the split's tag definitions are kept (its dhcp-boot lines are DHCPv4's).
    split: proxy ? proxyBootLines(model, tag) : ipxeSplitLines(model, tag).filter((o) => v4 !== undefined || o.key !== 'dhcp-boot'),
    keyed: namesKeyed(model),
    uefiLoader: model.boot.uefiLoader,
    secureBoot: model.boot.secureBoot,
    tftpRoot: model.dnsmasq.tftpRoot,
  });
}

/** The tag of VLAN scope `id`'s range (its lines answer only there). */
export function vlanTag(model: SiteModel, id: number): string {
  return `${siteTag(model)}-v${id}`;
}

/**
 * The VLAN scopes (`network.vlans`): on each, the range (or, without a pool, `static`: the
 * reservations only), the router and DNS. No boot file: machines PXE-boot on the native network,
 * and only the installers use the VLAN. `interface=` only where the site names its own (it adds to
 * the interfaces dnsmasq serves; without any, dnsmasq serves them all).
 */
export function vlanLines(model: SiteModel): DnsmasqOption[] {
  return model.network.vlans.flatMap((v) => {
    const tag = vlanTag(model, v.id);
    const range = v.dhcpStart !== undefined && v.dhcpEnd !== undefined ? [v.dhcpStart, v.dhcpEnd] : [v.address, 'static'];
    return [
      ...(model.dnsmasq.interface !== undefined ? [{ key: 'interface', values: [v.interface] }] : []),
      { key: 'dhcp-range', values: [`set:${tag}`, ...range, v.netmask, model.dnsmasq.leaseTime] },
      { key: 'dhcp-option', values: [`tag:${tag}`, 'option:router', v.gateway] },
      { key: 'dhcp-option', values: [`tag:${tag}`, 'option:dns-server', ...v.dns] },
      ...(model.network.domain !== undefined
        ? [{ key: 'dhcp-option', values: [`tag:${tag}`, 'option:domain-name', model.network.domain] }]
        : []),
    ];
  });
}

/**
 * DHCPv6 (`network.ipv6`): the range, router advertisements, DNS, and the boot file URL (option
 * 59) by kind of client: iPXE (user class "iPXE", the split's tag) the entry script, x86-64 UEFI
 * firmware PXE (vendor class PXEClient:Arch:00007 or 00009, enterprise 343) iPXE over TFTP. The reservations (`[ip6]`) are in
 * the nodes' host files. UEFI HTTP boot over IPv6 is not answered: its firmware needs its vendor
 * class echoed with an enterprise number, which dnsmasq cannot send (Kea can).
 */
export function ipv6Lines(model: SiteModel, tag: string): DnsmasqOption[] {
  const v6 = model.network.ipv6;
  const files = bootFiles6(model);
  if (!v6 || !files) return [];
  const on = `tag:${tag}`;
  return [
    { key: 'dhcp-range', values: [`set:${tag}`, v6.dhcpStart, v6.dhcpEnd, String(v6.prefix), model.dnsmasq.leaseTime] },
    // Router lifetime 0: the advertisements carry the prefix and the flags, not a default route
    // through this host (the network's router, if any, advertises that).
    { key: 'ra-param', values: [model.dnsmasq.interface ?? '*', '0', '0'] },
    ...(v6.dns.length > 0 ? [{ key: 'dhcp-option', values: [on, 'option6:dns-server', ...v6.dns.map((d) => `[${d}]`)] }] : []),
    ...(model.network.domain !== undefined ? [{ key: 'dhcp-option', values: [on, 'option6:domain-search', model.network.domain] }] : []),
    // iPXE's tag (user class "iPXE", option 15 in DHCPv6) is set by the split's dhcp-userclass.
    // x86-64 UEFI only (architectures 7 and 9 in the class): arm64 firmware must not get x86-64 iPXE.
    { key: 'dhcp-vendorclass', values: ['set:efipxe6', 'enterprise:343', 'PXEClient:Arch:00007'] },
    { key: 'dhcp-vendorclass', values: ['set:efipxe6', 'enterprise:343', 'PXEClient:Arch:00009'] },
    { key: 'dhcp-option', values: [on, 'tag:ipxe', 'option6:bootfile-url', files.ipxe] },
    { key: 'dhcp-option', values: [on, 'tag:!ipxe', 'tag:efipxe6', 'option6:bootfile-url', files.efi64] },
  ];
}

/** PXE client system types (dnsmasq's names) of x86-64 UEFI: 7, and 9 (EBC), which some firmware sends. */
const EFI64_CSA = ['x86-64_EFI', 'BC_EFI'] as const;

/**
 * The boot lines of a proxy: iPXE's lines of the split (its tags and every `dhcp-boot` that needs
 * `tag:ipxe`), without the firmware and HTTP boot lines, which a proxy answers with `pxe-service`
 * or not at all; the menu item BIOS iPXE needs; then one `pxe-service` per firmware
 * architecture, each loading iPXE over TFTP (one per architecture: a single item boots at once,
 * several would wait at a menu).
 */
export function proxyBootLines(model: SiteModel, scope: string): DnsmasqOption[] {
  const firmwareOnly = (o: DnsmasqOption) => o.values.includes('tag:!ipxe') || o.key === 'dhcp-option-force';
  const on = [`tag:${scope}`, 'tag:!ipxe'];
  const service = (csa: string, file: string): DnsmasqOption => ({ key: 'pxe-service', values: [...on, csa, 'harvgen-iPXE', file] });
  const biosIpxe = (tags: readonly string[], url: string): DnsmasqOption => ({
    key: 'pxe-service',
    values: [`tag:${scope}`, 'tag:ipxe', ...tags, 'x86PC', 'harvgen-boot', url],
  });
  return [
    ...ipxeSplitLines(model, scope).filter((o) => !firmwareOnly(o)),
    // BIOS iPXE (client architecture 0) takes a proxy's file only from a PXE menu item: with no
    // pxe-service for it, the answer has a boot file but iPXE says "Nothing to boot" (seen with
    // Debian's iPXE, test/real/dnsmasq-proxy.test.ts). UEFI iPXE takes the dhcp-boot file above.
    // With keyed names (nginx.file_key) each known MAC's item names its own script, and the
    // entry script's item is for the others only: one item matches, so it boots at once.
    ...(namesKeyed(model)
      ? model.nodes.flatMap((n) => n.macs.map((mac) => biosIpxe([`tag:${macTag(model, mac)}`], nodeScriptUrl(model, mac))))
      : []),
    biosIpxe(namesKeyed(model) ? [`tag:!${keyedTag(model)}`] : [], `${model.boot.server}/${LAYOUT.entryScript}`),
    service('x86PC', 'undionly.kpxe'),
    ...EFI64_CSA.map((csa) => service(csa, uefiBootFile(model))),
    ...(hasArm64(model) ? [service('ARM64_EFI', model.boot.arm64Loader)] : []),
  ];
}

/** `dnsmasq/global.conf`: nothing in it names the site, so sites that agree get the same bytes. */
export function renderDnsmasqGlobal(model: SiteModel): string {
  return renderTemplate('dnsmasq-global.conf', dnsmasqGlobals(model));
}

/**
 * One reservation file per node for `dhcp-hostsdir` (a `dhcp-host=` value without the key): all
 * its boot MACs, its address when fixed, its name. None in proxy mode (`hasDnsmasqHostFiles`):
 * the other server gives the addresses. `dnsmasqHostPath` is where a node's goes; escaping may
 * refuse a value (UnsafeValueError).
 */
export function renderDnsmasqHostFile(model: SiteModel, n: ResolvedNode): string {
  // IPv6: the /126 block around ip6, bracketed (one line may hold both families: dnsmasq's
  // dhcp-host). dnsmasq gives each DUID of the MAC an address of it: firmware, iPXE and the OS are
  // each a DHCPv6 client of their own.
  const v6 = n.ip6 !== undefined ? reservation6(n.ip6)?.cidr : undefined;
  const values = [...n.macs, ...(n.ip !== undefined ? [n.ip] : []), ...(v6 !== undefined ? [`[${v6}]`] : []), n.hostname].map((v) =>
    escapers.dnsmasq(v),
  );
  const about = escapers.comment(`harvgen site ${model.site}, node ${n.hostname}. Generated by harvgen; do not edit.`);
  return `# ${about}\n${values.join(',')}\n`;
}

/** Where a node's reservation file goes (renderDnsmasqHostFile). */
export function dnsmasqHostPath(model: SiteModel, n: ResolvedNode): string {
  return LAYOUT.dnsmasqHost(model.site, n.hostname);
}

/** Whether the site writes a reservation file per node (not in proxy mode). */
export function hasDnsmasqHostFiles(model: SiteModel): boolean {
  return model.dnsmasq.mode !== 'proxy';
}
