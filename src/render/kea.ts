// The site's Kea DHCPv4 config (`dhcp.server: kea`), kea/harvgen.json: a whole kea-dhcp4 config
// that `kea-dhcp4 -t` accepts as it is, whose `client-classes` entries and one `subnet4` entry
// are the site's part to merge into an existing Kea (README "Choosing a DHCP form"). Built as an
// object and serialized once by JSON.stringify; every inventory string goes through
// `escapers.kea` on its way in.
import { ipv4Of, type SiteModel } from '../model/index.ts';
import { parseIpv4 } from '../util/ipv4.ts';
import { formatIpv6, reservation6 } from '../util/ipv6.ts';
import {
  bootClasses,
  bootFiles6,
  dhcpHosts,
  scopeHosts,
  ipxeHostBootFile,
  leaseSeconds,
  vipReservation,
  type BootClass,
  type BootMatch,
  type DhcpHost,
} from '../derive/dhcp-boot.ts';
import { namesKeyed } from '../derive/file-names.ts';
import { escapers } from '../formats/escape.ts';

const k = escapers.kea;

/** iPXE's request: user class "iPXE" (option 77, sent as is, not RFC 3004 encoded) or option 175. */
const IPXE_TEST = "(option[77].hex == 'iPXE' or option[175].exists)";

/** A Kea expression (constants only: no inventory value is ever part of one). */
function classTest(m: BootMatch): string {
  switch (m.kind) {
    case 'ipxe':
      return IPXE_TEST;
    case 'arch': {
      const arch = m.arch.map((a) => `option[93].hex == 0x${a.toString(16).padStart(4, '0')}`).join(' or ');
      return `not ${IPXE_TEST} and (${arch})`;
    }
    case 'http':
      if (!/^[A-Za-z0-9:]+$/.test(m.prefix)) throw new Error(`vendor class prefix ${m.prefix} is not a constant harvgen writes`);
      return `not ${IPXE_TEST} and substring(option[60].hex,0,${m.prefix.length}) == '${m.prefix}'`;
  }
}

/** Name of one of the site's classes, unique among the sites merged into one Kea. */
export function keaClassName(model: SiteModel, c: BootClass): string {
  return k(`harvgen-${model.site}-${c.id}`);
}

/**
 * A client class: evaluated only in the site's subnet (`only-if-required`, the subnet's
 * `require-client-classes`), so several sites' classes in one Kea never answer each other's
 * clients; its boot file goes into the `file` field, which iPXE and UEFI firmware read.
 */
function keaClass(model: SiteModel, c: BootClass): Record<string, unknown> {
  // With keyed MACs (nginx.file_key) their own classes answer their iPXE: the site's leaves them out.
  const keyed = c.match.kind === 'ipxe' && namesKeyed(model) ? ` and not member('${keyedClassName(model)}')` : '';
  return {
    name: keaClassName(model, c),
    test: `${classTest(c.match)}${keyed}`,
    'only-if-required': true,
    'boot-file-name': k(c.file),
    ...(c.echoVendorClass ? { 'option-data': [{ name: 'vendor-class-identifier', data: 'HTTPClient', 'always-send': true }] } : {}),
  };
}

/** The class every reservation with its own iPXE boot file is in (assigned by the reservation, no test). */
function keyedClassName(model: SiteModel): string {
  return k(`harvgen-${model.site}-keyed`);
}

/** What one node adds to the site's Kea config: its reservations and its own classes. */
export interface KeaHostEntry {
  readonly reservations: Record<string, unknown>[];
  readonly classes: Record<string, unknown>[];
}

/**
 * The entry of one node, the one place a host's Kea entry is written: a reservation per boot MAC
 * (Kea identifies a host by one hardware address), each with the node's name and address, so
 * whichever NIC boots gets the address its files are served to (nginx.access). A MAC with its own
 * iPXE boot file (`ipxeHostBootFile`: `nginx.file_key`) is in the keyed class, which the site's
 * iPXE class leaves out, and has a class of its own that sends iPXE on that MAC its script;
 * firmware PXE on it still gets iPXE by architecture.
 */
export function keaHost(model: SiteModel, h: DhcpHost, onVlan = false): KeaHostEntry {
  const reservations: Record<string, unknown>[] = [];
  const classes: Record<string, unknown>[] = [];
  for (const mac of h.macs) {
    // On a VLAN scope (network.vlans) nothing boots: no boot file of its own.
    const own = onVlan ? undefined : ipxeHostBootFile(model, mac);
    reservations.push({
      'hw-address': k(mac),
      hostname: k(h.hostname),
      ...(h.ip !== undefined ? { 'ip-address': k(h.ip) } : {}),
      ...(own !== undefined ? { 'client-classes': [keyedClassName(model)] } : {}),
    });
    if (own !== undefined) {
      classes.push({
        name: k(`harvgen-${model.site}-ipxe-${mac.replace(/:/g, '')}`),
        test: `${IPXE_TEST} and pkt4.mac == ${escapers.keaMac(mac)}`,
        'only-if-required': true,
        'boot-file-name': k(own),
      });
    }
  }
  return { reservations, classes };
}

/** Some node reserves its address for several MACs: Kea refuses that unless `ip-reservations-unique` is false (a global setting). */
function sharedAddresses(hosts: readonly DhcpHost[]): boolean {
  return hosts.some((h) => h.ip !== undefined && h.macs.length > 1);
}

/** A stable subnet id, unique per network: its address as a 32-bit number (never 0 or 2^32-1 for a valid network). */
function subnetId(model: SiteModel): number {
  return subnetIdOf(ipv4Of(model).address);
}

/** The subnet id of the network at `address`. */
function subnetIdOf(address: string): number {
  const n = parseIpv4(address);
  if (n === undefined || n === 0) throw new Error(`network address ${address} has no Kea subnet id`);
  return n;
}

/** Kea knows no wildcard but `*` (all interfaces): no `dnsmasq.interface`, or a pattern such as `eth*`, is `*`. */
function keaInterface(model: SiteModel): string {
  const i = model.dnsmasq.interface;
  return i === undefined || i.includes('*') ? '*' : i;
}

/** kea/harvgen.json. */
export function renderKea(model: SiteModel): string {
  return `${JSON.stringify(keaConfig(model), null, 2)}\n`;
}

/** The site's Kea DHCPv4 config as an object (kea/harvgen.json; with failover, each server's adds its hooks). */
export function keaConfig(model: SiteModel): { Dhcp4: Record<string, unknown> } {
  const classes = bootClasses(model);
  const lease = leaseSeconds(model.dnsmasq.leaseTime) ?? 0xffffffff;
  const net = { ...ipv4Of(model), domain: model.network.domain };
  const vip = vipReservation(model);
  const hosts = dhcpHosts(model);
  const entries = hosts.map((h) => keaHost(model, h));
  const hostClasses = entries.flatMap((e) => e.classes);
  const siteClasses = classes.map((c) => keaClass(model, c));
  // Defined before use: the keyed class first (member() names it), then every host's own class.
  const allClasses = [...(namesKeyed(model) ? [{ name: keyedClassName(model) }] : []), ...hostClasses, ...siteClasses];
  const subnet = {
    id: subnetId(model),
    subnet: k(`${net.address}/${net.prefix}`),
    // Beside VLAN scopes, the native subnet names its interface too (where the site gives one).
    ...(model.network.vlans.length > 0 && keaInterface(model) !== '*' ? { interface: k(keaInterface(model)) } : {}),
    // Without a pool (network.dhcp_range) the subnet answers its reservations only.
    ...(net.dhcpStart !== undefined && net.dhcpEnd !== undefined ? { pools: [{ pool: k(`${net.dhcpStart} - ${net.dhcpEnd}`) }] } : {}),
    'valid-lifetime': lease,
    ...(model.dhcp.nextServer !== undefined ? { 'next-server': k(model.dhcp.nextServer) } : {}),
    'option-data': [
      // Installers need a default route from DHCP (Harvester's stops without one).
      { name: 'routers', data: k(net.gateway) },
      { name: 'domain-name-servers', data: net.dns.map(k).join(', ') },
      ...(net.domain !== undefined ? [{ name: 'domain-name', data: k(net.domain) }] : []),
    ],
    'require-client-classes': [...hostClasses, ...siteClasses].map((c) => c.name),
    reservations: [
      ...entries.flatMap((e) => e.reservations),
      // The cluster VIP (vip_mode: dhcp): the create node leases it with vip_hw_addr.
      ...(vip ? [{ 'hw-address': k(vip.mac), 'ip-address': k(vip.ip) }] : []),
    ],
  };
  // The VLAN scopes (network.vlans): a subnet each on the boot server's interface on the VLAN
  // (Kea picks a directly connected client's subnet by interface), with the reservations of the
  // nodes on it: the same MAC may be reserved once in each subnet. No boot classes: machines
  // PXE-boot on the native network, only the installers use the VLAN.
  const scopes = model.network.vlans.map((v) => {
    const scoped = scopeHosts(model, v).flatMap((h) => keaHost(model, h, true).reservations);
    return {
      id: subnetIdOf(v.address),
      subnet: k(`${v.address}/${v.prefix}`),
      interface: k(v.interface),
      ...(v.dhcpStart !== undefined && v.dhcpEnd !== undefined ? { pools: [{ pool: k(`${v.dhcpStart} - ${v.dhcpEnd}`) }] } : {}),
      'valid-lifetime': lease,
      'option-data': [
        { name: 'routers', data: k(v.gateway) },
        { name: 'domain-name-servers', data: v.dns.map(k).join(', ') },
        ...(net.domain !== undefined ? [{ name: 'domain-name', data: k(net.domain) }] : []),
      ],
      reservations: scoped,
    };
  });
  const iface = keaInterface(model);
  const interfaces = iface === '*' ? ['*'] : [iface, ...model.network.vlans.map((v) => v.interface)];
  const config = {
    Dhcp4: {
      comment: k(`harvgen: Kea DHCPv4 config of site ${model.site}. Generated by harvgen; do not edit.`),
      'interfaces-config': { interfaces: interfaces.map(k) },
      'lease-database': { type: 'memfile', persist: true, name: '/var/lib/kea/kea-leases4.csv', 'lfc-interval': 3600 },
      'control-socket': { 'socket-type': 'unix', 'socket-name': '/run/kea/kea4-ctrl-socket' },
      'valid-lifetime': lease,
      ...(sharedAddresses([...hosts, ...model.network.vlans.flatMap((v) => scopeHosts(model, v))])
        ? { 'ip-reservations-unique': false }
        : {}),
      'client-classes': allClasses,
      subnet4: [subnet, ...scopes],
    },
  };
  return config;
}

/** iPXE over DHCPv6: user class (option 15) "iPXE", its one item after the item's 2-byte length. */
const IPXE6_TEST = "(substring(option[15].hex,2,4) == 'iPXE')";

/**
 * A DHCPv6 vendor class (option 16) of enterprise 343 (Intel: PXE and UEFI HTTP boot) starting
 * with one of `prefixes` (constants): the class and the client architecture, x86-64 UEFI only.
 */
function vendor343(prefixes: readonly string[]): string {
  const one = (p: string) => `substring(vendor-class[343].data,0,${p.length}) == '${p}'`;
  return `vendor-class[343].exists and (${prefixes.map(one).join(' or ')})`;
}

/**
 * UEFI HTTP boot's vendor class as the answer must carry it: enterprise 343, then the class as a
 * length-prefixed item (`000a` = 10, "HTTPClient"). The firmware ignores an offer without it.
 */
const HTTP_CLIENT_VENDOR_CLASS = '343, 000a48545450436c69656e74';

/** A stable DHCPv6 subnet id: a 31-bit hash of the prefix (Kea's DHCPv6 subnets are a set of their own). */
function subnetId6(prefix: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < prefix.length; i++) h = Math.imul(h ^ prefix.charCodeAt(i), 0x01000193) >>> 0;
  return (h % 0x7ffffffe) + 1;
}

/**
 * kea/harvgen6.json (`network.ipv6` with `dhcp.server: kea`): a whole kea-dhcp6 config. Kea picks
 * the subnet of a directly connected DHCPv6 client by the interface the request came in on (the
 * client's own address is link-local), so the subnet names `dnsmasq.interface` (DHCP_IPV6_KEA
 * refuses a site without one). Reservations are by MAC: Kea learns it from the DUID, or from the
 * link-local address when that is built from a universally administered MAC. Kea sends no router
 * advertisements: the network's router must send them, with the M flag.
 */
export function renderKea6(model: SiteModel): string {
  const v6 = model.network.ipv6;
  const files = bootFiles6(model);
  if (!v6 || !files) throw new Error(`site ${model.site} has no IPv6 network for kea/harvgen6.json`);
  const lease = leaseSeconds(model.dnsmasq.leaseTime) ?? 0xffffffff;
  const site = (id: string) => k(`harvgen-${model.site}-v6-${id}`);
  const url = (file: string) => [{ name: 'bootfile-url', data: k(file) }];
  const classes = [
    { name: site('ipxe'), test: IPXE6_TEST, 'only-if-required': true, 'option-data': url(files.ipxe) },
    {
      name: site('efi64'),
      test: `not ${IPXE6_TEST} and ${vendor343(['PXEClient:Arch:00007', 'PXEClient:Arch:00009'])}`,
      'only-if-required': true,
      'option-data': url(files.efi64),
    },
    ...(model.boot.httpBoot
      ? [
          {
            name: site('efihttp'),
            test: `not ${IPXE6_TEST} and ${vendor343(['HTTPClient:Arch:00016'])}`,
            'only-if-required': true,
            'option-data': [...url(files.efihttp), { name: 'vendor-class', data: HTTP_CLIENT_VENDOR_CLASS, 'always-send': true }],
          },
        ]
      : []),
  ];
  // The /126 block around a node's ip6: one address per boot stage (each a DHCPv6 client of its
  // own; Kea gives a client a reserved address no other client holds).
  const reservations = model.nodes.flatMap((n) => {
    const block = n.ip6 !== undefined ? reservation6(n.ip6) : undefined;
    if (!block) return [];
    const addresses: string[] = [];
    for (let a = block.first; a <= block.last; a++) addresses.push(k(formatIpv6(a)));
    return n.macs.map((mac) => ({ 'hw-address': k(mac), hostname: k(n.hostname), 'ip-addresses': addresses }));
  });
  const subnet = {
    id: subnetId6(v6.cidr),
    subnet: k(v6.cidr),
    interface: k(keaInterface(model)),
    pools: [{ pool: k(`${v6.dhcpStart} - ${v6.dhcpEnd}`) }],
    'preferred-lifetime': lease,
    'valid-lifetime': lease,
    'option-data': [
      ...(v6.dns.length > 0 ? [{ name: 'dns-servers', data: v6.dns.map(k).join(', ') }] : []),
      ...(model.network.domain !== undefined ? [{ name: 'domain-search', data: k(model.network.domain) }] : []),
    ],
    'require-client-classes': classes.map((c) => c.name),
    reservations,
  };
  const config = {
    Dhcp6: {
      comment: k(`harvgen: Kea DHCPv6 config of site ${model.site}. Generated by harvgen; do not edit.`),
      'interfaces-config': { interfaces: [k(keaInterface(model))] },
      'lease-database': { type: 'memfile', persist: true, name: '/var/lib/kea/kea-leases6.csv', 'lfc-interval': 3600 },
      'control-socket': { 'socket-type': 'unix', 'socket-name': '/run/kea/kea6-ctrl-socket' },
      'preferred-lifetime': lease,
      'valid-lifetime': lease,
      'host-reservation-identifiers': ['hw-address', 'duid'],
      'mac-sources': ['ipv6-link-local', 'duid', 'client-link-addr-option'],
      ...(reservations.length > new Set(reservations.map((r) => r['ip-addresses'][0])).size ? { 'ip-reservations-unique': false } : {}),
      'client-classes': classes,
      subnet6: [subnet],
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
