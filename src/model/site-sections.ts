// The site-wide sections of the inventory with their defaults (`boot:`, `lab:`, `failover:`,
// `nginx:`, `publish:`, `dnsmasq:`, `outputs:`): one step of resolveSite (src/model/index.ts) each.
import type { SiteInput } from '../types/site-input.ts';
import { parseIpv4 } from '../util/ipv4.ts';
import { checkIpv6 } from '../util/ipv6.ts';
import { BUILTIN_DEFAULTS as D } from './defaults.ts';
import { isAddressHost } from './network.ts';
import type { SiteFailover, SiteModel, SiteOutputs, SitePublish } from './types.ts';

/** `boot:` with its defaults, and the parts of `boot.server` the renderers use. */
export function siteBoot(input: SiteInput, server: string, serverUrl: URL, port: number): SiteModel['boot'] {
  const b = input.boot;
  const marker = b.installed_marker;
  return {
    server,
    host: serverUrl.hostname,
    port,
    // The tree is served under the URL's path ('' or '/a/b'), so several sites can share a server.
    prefix: serverUrl.pathname.replace(/\/+$/, ''),
    firmware: b.firmware ?? D.boot.firmware,
    uefiLoader: b.uefi_loader ?? D.boot.uefiLoader,
    arm64Loader: b.arm64_loader ?? D.boot.arm64Loader,
    console: b.console ?? D.boot.console,
    kernelArgs: b.kernel_args ?? [],
    skipchecks: b.skipchecks ?? D.boot.skipchecks,
    report: b.report ?? D.boot.report,
    retries: b.retries ?? D.boot.retries,
    retryDelay: b.retry_delay ?? D.boot.retryDelay,
    unknownWait: b.unknown_wait ?? D.boot.unknownWait,
    ...(b.dhcp_retry !== undefined ? { dhcpRetry: b.dhcp_retry } : {}),
    unknown: b.unknown ?? D.boot.unknown,
    installedMarker: { volume: marker?.volume ?? D.boot.installedMarker.volume, file: marker?.file ?? D.boot.installedMarker.file },
    httpBoot: b.http_boot ?? false,
    ...(b.ipxe_binaries !== undefined ? { ipxeBinaries: b.ipxe_binaries } : {}),
    ...(b.media_loaders !== undefined ? { mediaLoaders: b.media_loaders } : {}),
    ...(b.secure_boot !== undefined ? { secureBoot: secureBootPair(b.secure_boot, b.uefi_loader) } : {}),
  };
}

/**
 * The Secure Boot shim and loader: iPXE's signed shim loads the file its own name starts with
 * (snponly-shimx64.efi -> snponly.efi): the site's UEFI loader, unless the site names another pair.
 */
function secureBootPair(
  sb: NonNullable<SiteInput['boot']['secure_boot']>,
  uefiLoader: string | undefined,
): { shim: string; loader: string } {
  const loader = sb.loader ?? uefiLoader ?? D.boot.uefiLoader;
  return { shim: sb.shim ?? `${loader.replace(/\.efi$/, '')}-shimx64.efi`, loader };
}

/** `lab:` with its defaults (named after the site). */
export function siteLab(input: SiteInput): SiteModel['lab'] {
  const siteSlug = input.site.replace(/_/g, '-');
  return {
    networkName: input.lab?.network_name ?? `harvgen-${siteSlug}`,
    bridge: input.lab?.bridge ?? `hg-${siteSlug}`.slice(0, 15).replace(/-+$/, ''),
    diskDir: input.lab?.disk_dir ?? D.lab.diskDir,
    tftpRoot: input.lab?.tftp_root ?? D.lab.tftpRoot,
    hostArch: input.lab?.host_arch ?? D.lab.hostArch,
  };
}

/** `failover:` with its defaults: the first server the primary. */
export function siteFailover(f: NonNullable<SiteInput['failover']>, serverUrl: URL): SiteFailover {
  return {
    interface: f.interface,
    virtualRouterId: f.virtual_router_id ?? 51,
    keaHaPort: f.kea_ha_port ?? 8001,
    keaHooksDir: f.kea_hooks_dir ?? '/usr/lib/x86_64-linux-gnu/kea/hooks',
    shared: serverUrl.hostname,
    servers: f.servers.map((s, i) => ({
      name: s.name,
      address: s.address,
      role: i === 0 ? ('primary' as const) : ('standby' as const),
      priority: i === 0 ? 150 : 100,
      ...(s.mac !== undefined ? { mac: s.mac.toLowerCase() } : {}),
    })),
  };
}

/** `nginx:` with its defaults. */
export function siteNginx(input: SiteInput, serverUrl: URL, port: number): SiteModel['nginx'] {
  const n = input.nginx;
  // On a network with IPv6, nginx listens there too, unless boot.server or nginx.listen already
  // names an IPv6 address: on the server's IPv6 address when boot.server names it by IPv4, on
  // every IPv6 address (`[::]`, which nginx binds IPv6-only) when by name.
  const v6 = input.network.ipv6;
  const own6 = (n?.listen ?? serverUrl.hostname).startsWith('[');
  // A `listen` of a bare port or `*:port` (IPv4 only, to nginx) gets `[::]:port` beside it.
  const anyPort = n?.listen !== undefined ? /^(?:\*:)?([0-9]+)$/.exec(n.listen)?.[1] : undefined;
  const listen6 =
    v6 === undefined || own6
      ? undefined
      : n?.listen !== undefined
        ? anyPort !== undefined
          ? `[::]:${anyPort}`
          : undefined
        : parseIpv4(serverUrl.hostname) !== undefined && v6.server !== undefined
          ? `[${v6.server}]:${port}`
          : `[::]:${port}`;
  // nginx resolves a host name in `listen` when it starts (and fails if it cannot): a
  // name-based boot.server listens on all addresses of its port instead.
  // With failover the shared address is only sometimes this server's: nginx listens on every address of the port.
  const listen =
    n?.listen ?? (isAddressHost(serverUrl.hostname) && input.failover === undefined ? `${serverUrl.hostname}:${port}` : String(port));
  // On the boot server's address on each VLAN (network.vlans), at boot.server's port (the
  // installers there fetch boot.server's URLs with that address), unless nginx already listens
  // on every IPv4 address of that port (`listen` a port or `*:port`); never twice the same.
  const allV4 = /^(?:\*:)?([0-9]+)$/.exec(listen)?.[1] === String(port);
  const listenVlans = allV4 ? [] : [...new Set((input.network.vlans ?? []).map((v) => `${v.server}:${port}`))].filter((l) => l !== listen);
  return {
    listen,
    ...(listen6 !== undefined ? { listen6 } : {}),
    listenVlans,
    root: n?.root ?? `${D.nginx.rootBase}/${input.site}`,
    accessLog: n?.access_log ?? `${D.nginx.accessLogDir}/harvgen-${input.site}.access.log`,
    access: n?.access ?? D.nginx.access,
    // The boot server itself (its files are on its disk anyway): loopback and each of its own
    // addresses. Behind a proxy (nginx.real_ip) a request that reaches nginx without the header
    // keeps the proxy's address, which may be one of these: then only nginx.verify_from.
    verifiers: [
      ...new Set([
        ...(n?.real_ip === undefined
          ? [
              '127.0.0.0/8',
              '::1',
              ...(isAddressHost(serverUrl.hostname) ? [serverUrl.hostname.replace(/^\[|\]$/g, '')] : []),
              ...[checkIpv6(input.network.ipv6?.server ?? '').canonical ?? []].flat(),
              ...(input.network.vlans ?? []).map((v) => v.server),
              ...(input.failover?.servers.map((s) => s.address) ?? []),
            ]
          : []),
        ...(n?.verify_from ?? []),
      ]),
    ],
    ...(n?.real_ip !== undefined ? { realIp: { from: [...n.real_ip.from], header: n.real_ip.header } } : {}),
    ...(typeof n?.file_key === 'string' ? { fileKey: n.file_key } : {}),
  };
}

/** `publish:` with its defaults (docs/fleet.md). Repository names are lower case, so the site's name is lowered. */
export function sitePublish(input: SiteInput): SitePublish {
  const p = input.publish!;
  const name = input.site.toLowerCase();
  return {
    registry: p.registry,
    repository: `${p.registry}/${name}`,
    pullRepository: `${p.mirror ?? p.registry}/${name}`,
    tag: input.site,
    key: typeof p.key === 'string' ? p.key : '',
    keep: p.keep ?? 5,
    stateDir: p.state_dir ?? `/var/lib/harvgen/${input.site}`,
    keyFile: p.key_file ?? `/etc/harvgen/${input.site}/publish.key`,
    publicKey: input.signing?.public_key ?? '',
    ...(p.cosign_public_key !== undefined
      ? { cosign: { key: typeof p.cosign_key === 'string' ? p.cosign_key : '', publicKey: p.cosign_public_key } }
      : {}),
  };
}

/** `dnsmasq:` with its defaults. */
export function siteDnsmasq(input: SiteInput): SiteModel['dnsmasq'] {
  const d = input.dnsmasq;
  // With failover: the DHCP server listens where keepalived holds the shared address.
  const iface = d?.interface ?? input.failover?.interface;
  return {
    ...(iface !== undefined ? { interface: iface } : {}),
    tftpRoot: d?.tftp_root ?? D.dnsmasq.tftpRoot,
    leaseTime: d?.lease_time ?? D.dnsmasq.leaseTime,
    dns: d?.dns ?? D.dnsmasq.dns,
    ...(d?.host !== undefined ? { host: d.host.toLowerCase() } : {}),
    hostsDir: d?.hosts_dir ?? D.dnsmasq.hostsDir,
    mode: d?.mode ?? D.dnsmasq.mode,
  };
}

/**
 * `outputs:`, the one place a family of files is switched off. A site without a `lab:` section
 * has no lab files and no forward units unless it asks for them.
 */
export function siteOutputs(input: SiteInput): SiteOutputs {
  const o = input.outputs;
  const lab = o?.lab ?? input.lab !== undefined;
  return {
    lab,
    forward: o?.forward ?? input.forward?.enabled ?? lab,
    dhcp: o?.dhcp ?? true,
    nginx: o?.nginx ?? true,
    embed: o?.embed ?? true,
    oci: o?.oci ?? true,
    fetch: o?.fetch ?? true,
    bmc: o?.bmc ?? true,
  };
}
