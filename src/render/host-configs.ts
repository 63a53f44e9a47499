// Files for the machines around the cluster: dnsmasq, nginx, libvirt, systemd, scripts.
import type { HarvesterNode, Release, ResolvedNode, SiteModel } from '../model/index.ts';
import { CONFIG_FORMATS } from './configs/index.ts';
import { nodeFirmware } from '../model/index.ts';
import type { ProtectedFile } from './access.ts';
import { dnsmasqLine, socatHost } from './escape.ts';
import { kindOf } from './kinds/index.ts';
import { bootFile, hasArm64, ipxeHostBootFile, uefiBootFile, vipReservation } from './dhcp-boot.ts';
import { DIRS, LAYOUT } from './layout.ts';
import { renderTemplate } from './templates.ts';
import { namesKeyed } from './file-names.ts';

export { hasArm64, uefiBootFile, vipReservation } from './dhcp-boot.ts';

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

/** The release's files are on the boot server (`harvester.artifacts` has its origin), so this nginx serves them. */
export function servesRelease(model: SiteModel, r: Release): boolean {
  const base = new URL(r.artifacts.base);
  const port = base.port ? Number(base.port) : 80;
  return base.protocol === 'http:' && base.hostname === model.boot.host && port === model.boot.port;
}

/**
 * Release files nginx serves for this site: those whose URL has the boot server's origin. Each
 * gets an exact location aliased to its file, so no directory can be listed or redirected.
 */
export function servedArtifacts(model: SiteModel): { location: string; file: string }[] {
  return releases(model).flatMap((r) => {
    const a = r.artifacts;
    if (!servesRelease(model, r)) return [];
    const path = new URL(a.base).pathname.replace(/\/+$/, '');
    return [a.kernelName, a.initrdName, a.rootfsName, a.isoName, a.checksumName, ...(releaseShim(model, r) ? [a.shimName] : [])].map(
      (name) => ({
        location: `${path}/${name}`,
        file: `${r.artifactsDir}/${name}`,
      }),
    );
  });
}

/** The release's SUSE shim is served (and fetched) when the site boots x86-64 machines with Secure Boot. */
export function releaseShim(model: SiteModel, r: Release): boolean {
  return model.boot.secureBoot !== undefined && model.boot.firmware === 'uefi' && r.arch === 'x86_64';
}

/**
 * Every release the site's Harvester nodes install (and unknown machines joining), the site's
 * first, then others by version. Generic OS and iSCSI nodes install none.
 */
export function releases(model: SiteModel): Release[] {
  const used = installers(model).map((n) => n.release);
  const out = new Map<string, Release>();
  const key = (r: Release) => `${r.version.raw}/${r.arch}`;
  const site = used.find((r) => r === model.release);
  if (site) out.set(key(site), site);
  for (const r of [...used].sort((a, b) => (key(a) < key(b) ? -1 : 1))) {
    if (!out.has(key(r))) out.set(key(r), r);
  }
  return [...out.values()];
}

/** The site's Harvester nodes, and the node unknown machines join as (`boot.unknown: join`). */
export function installers(model: SiteModel): HarvesterNode[] {
  const nodes = model.nodes.filter((n): n is HarvesterNode => n.boot === 'harvester');
  return model.unknownJoin ? [...nodes, model.unknownJoin] : nodes;
}

/** What renderNginx writes besides the model: which form, the copied binaries, the protected files. */
export interface NginxOptions {
  /** The whole server block (nginx/harvgen.conf); else the site's locations only (nginx/locations.conf). */
  readonly standalone: boolean;
  /** iPXE binaries copied into the tree. */
  readonly binaries: readonly string[];
  /** Served files with their allowed clients (`protectedFiles`, src/render/access.ts); none with `nginx.access: open`. */
  readonly protected: readonly ProtectedFile[];
}

/**
 * nginx: `standalone` is the whole server block (nginx/harvgen.conf); otherwise only the site's
 * locations (nginx/locations.conf), to include with other sites' in one shared server block.
 * A shared block serves only the release files under the site's own prefix (others would be
 * served twice; the cross-site check refuses that). With `nginx.access: nodes` each protected
 * file has its own exact location with its `allow` list; with `open` the per-node directories are
 * served by pattern to everyone. `nginx.real_ip` goes into the server block, or, in the shared
 * form, into each protected location (`real_ip_header` may appear once per server block, and the
 * realip module reads a location's settings before the access check).
 */
export function renderNginx(model: SiteModel, opts: NginxOptions): string {
  const { standalone } = opts;
  const open = model.nginx.access === 'open';
  const under = (loc: string) => model.boot.prefix === '' || loc.startsWith(`${model.boot.prefix}/`);
  // A copy: the template's strict proxy cannot wrap the frozen model's own objects.
  const realIp = model.nginx.realIp ? { from: [...model.nginx.realIp.from], header: model.nginx.realIp.header } : undefined;
  return renderTemplate('nginx.conf', {
    standalone,
    site: model.site,
    prefix: model.boot.prefix,
    listen: model.nginx.listen,
    root: model.nginx.root,
    accessLog: model.nginx.accessLog,
    realIp: standalone ? realIp : undefined,
    locationRealIp: standalone ? undefined : realIp,
    protected: opts.protected,
    artifacts: servedArtifacts(model).filter((a) => standalone || under(a.location)),
    unknownJoin: open && model.boot.unknown === 'join',
    // With `nginx.access: open`, each served config format by pattern (its declaration,
    // src/render/configs/); with `nodes`, each file has its exact location in `protected`.
    configs: open
      ? CONFIG_FORMATS.filter((f) => model.nodes.some((n) => f.ownersOf(n).length > 0)).map((f) => ({
          comment: f.nginxComment,
          dir: f.dir,
          pattern: f.pattern(namesKeyed(model)).nginx,
        }))
      : [],
    keyed: namesKeyed(model),
    report: model.boot.report,
    eventsDir: LAYOUT.eventsDir,
    discover: LAYOUT.discover,
    dirs: DIRS,
    entryScript: LAYOUT.entryScript,
    unknownScript: LAYOUT.unknownScript,
    unknownJoinConfig: LAYOUT.unknownJoinConfig,
    binaries: servedBinaries(model, opts.binaries),
  });
}

/** libvirt lab network. */
export function renderLibvirtNetwork(model: SiteModel): string {
  return renderTemplate('network.xml', {
    site: model.site,
    name: model.lab.networkName,
    bridge: model.lab.bridge,
    domain: model.network.domain,
    address: model.network.gateway,
    netmask: model.network.netmask,
    tftpRoot: model.lab.tftpRoot,
    uefiLoader: model.boot.uefiLoader,
    dhcpStart: model.network.dhcpStart,
    dhcpEnd: model.network.dhcpEnd,
    // libvirt allows one <host> per address, and an IPv4 <host> needs one: extra NICs, and
    // nodes without a fixed `ip`, get DHCP from the range.
    hosts: model.nodes.flatMap((n) => (n.ip !== undefined ? [{ mac: n.macs[0] ?? '', name: n.hostname, ip: n.ip }] : [])),
    vip: vipReservation(model),
    // The iPXE split is the part libvirt's network XML cannot express itself.
    options: ipxeSplitLines(model).map((o) => dnsmasqLine(o.key, o.values)),
  });
}

/** Name of a node's lab VM. */
export function domainName(model: SiteModel, hostname: string): string {
  return `${model.site.replace(/_/g, '-')}-${hostname}`;
}

function diskPath(model: SiteModel, hostname: string): string {
  return `${model.lab.diskDir}/${domainName(model, hostname)}.qcow2`;
}

function dataDiskPath(model: SiteModel, hostname: string): string {
  return `${model.lab.diskDir}/${domainName(model, hostname)}-data.qcow2`;
}

/** The libvirt lab domain of one node. */
export function renderLibvirtDomain(model: SiteModel, n: ResolvedNode): string {
  const lab = kindOf(n).lab(model);
  return renderTemplate('domain.xml', {
    site: model.site,
    hostname: n.hostname,
    role: lab.label,
    name: domainName(model, n.hostname),
    title: `harvgen ${model.site} ${n.hostname} (${lab.label})`,
    comment: [...lab.comment],
    memoryMib: n.lab.memoryMib,
    vcpus: n.lab.vcpus,
    firmware: nodeFirmware(model, n),
    secureBoot: model.boot.secureBoot !== undefined && n.arch === 'x86_64',
    arm64: n.arch === 'arm64',
    // KVM runs only guests of the host's own architecture; any other is emulated (TCG).
    emulated: n.arch !== model.lab.hostArch,
    disk: lab.disk ? diskPath(model, n.hostname) : undefined,
    dataDisk: lab.dataDisk ? dataDiskPath(model, n.hostname) : undefined,
    nicModel: n.lab.nicModel,
    nics: n.macs.map((mac, i) => ({
      mac,
      bus: i + 1,
      busHex: `0x${(i + 1).toString(16).padStart(2, '0')}`,
      name: labNicName(i),
      boot: i === 0,
    })),
    netBootOrder: lab.netBootOrder,
    network: model.lab.networkName,
  });
}

/**
 * Name the guest gives the NIC of a node's `index`-th boot MAC (0-based) in its lab VM: each NIC
 * sits alone on PCIe bus index+1 (q35, one root port each), so systemd's predictable naming
 * (net.ifnames=1) calls it `enp<bus>s0`, for virtio and e1000e alike.
 */
export function labNicName(index: number): string {
  return `enp${index + 1}s0`;
}

/** libvirt/define.sh. */
export function renderDefineScript(model: SiteModel): string {
  const creator = model.nodes.find((n) => n.boot === 'harvester' && n.role === 'create');
  const order = creator ? [creator, ...model.nodes.filter((n) => n !== creator)] : model.nodes;
  return renderTemplate('define.sh', {
    site: model.site,
    network: model.lab.networkName,
    diskDir: model.lab.diskDir,
    startHint: order.map((n) => `virsh start ${domainName(model, n.hostname)}`).join('; ') + (creator ? ' (create node first)' : ''),
    domains: model.nodes.map((n) => {
      const lab = kindOf(n).lab(model);
      return {
        name: domainName(model, n.hostname),
        file: `${n.hostname}.xml`,
        disks: [
          ...(lab.disk ? [{ path: diskPath(model, n.hostname), gib: n.lab.diskGib }] : []),
          ...(lab.dataDisk ? [{ path: dataDiskPath(model, n.hostname), gib: n.lab.dataDiskGib }] : []),
        ],
      };
    }),
  });
}

/** The socat forward units: one per port, to the VIP (none when forwarding is off, or without a cluster). */
export function forwardUnits(model: SiteModel): readonly { readonly port: number; readonly vip: string }[] {
  const vip = model.cluster?.vip;
  return model.forward.enabled && vip !== undefined ? model.forward.ports.map((port) => ({ port, vip })) : [];
}

/** File name of the forward unit for one port. */
export function forwardUnitName(model: SiteModel, port: number): string {
  return `harvgen-${model.site.replace(/_/g, '-')}-forward-${port}.service`;
}

/** The systemd unit forwarding one TCP port of this host to the VIP. */
export function renderForwardUnit(model: SiteModel, port: number, vip: string): string {
  // socat addresses: `:` and `,` are socat's own separators, so each part is a checked
  // address or integer; systemd escaping is the template's.
  const bind = model.forward.listenAddress !== undefined ? `,bind=${socatHost(model.forward.listenAddress)}` : '';
  return renderTemplate('forward.service', {
    site: model.site,
    port,
    unit: forwardUnitName(model, port),
    description: `harvgen ${model.site}: forward TCP ${port} to Harvester VIP ${vip}`,
    listenAddress: `TCP-LISTEN:${port}${bind},fork,reuseaddr`,
    connectAddress: `TCP:${socatHost(vip)}:${port}`,
  });
}

/** artifacts/fetch.sh. */
export function renderFetchScript(model: SiteModel): string {
  const rel = releases(model);
  return renderTemplate('fetch.sh', {
    site: model.site,
    versions: rel.map((r) => r.version.raw).join(', '),
    targets: [...new Set(rel.map((r) => r.artifactsDir))].join(', '),
    releases: rel.map((r) => ({
      version: r.version.raw,
      target: r.artifactsDir,
      checksumName: r.artifacts.checksumName,
      files: [r.artifacts.kernelName, r.artifacts.initrdName, r.artifacts.rootfsName, r.artifacts.isoName],
      ...(releaseShim(model, r) ? { shim: { iso: r.artifacts.isoName, name: r.artifacts.shimName } } : { shim: undefined }),
    })),
  });
}
