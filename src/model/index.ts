// Stage 3, model: resolve a schema-valid inventory into the frozen SiteModel. It never
// rejects anything (the rules do); values that cannot be parsed are carried through as
// written so the rules can point at them.
import type { NodeDefaults, NodeInput, SiteInput } from '../types/site-input.ts';
import { PROFILE_LAYER, REPO_LAYER, type InventoryPath, type Layers } from '../load/index.ts';
import { parseVersion, type HarvesterVersion } from '../harvester/versions.ts';
import { formatIpv4, maskToPrefix, parseCidr, parseIpv4, prefixToMask } from '../util/ipv4.ts';
import { normalizeMac } from '../util/mac.ts';
import { BUILTIN_DEFAULTS as D } from './defaults.ts';
import type { HardwareFacts, Release, ResolvedNic, ResolvedNode, ResolvedOs, SiteModel } from './types.ts';

export type * from './types.ts';
export { BUILTIN_DEFAULTS } from './defaults.ts';

/** Resolve the inventory into the model every renderer uses. */
/**
 * The release files of Harvester `v` for a site: the site's own release as written, another
 * release (a node's `harvester_version`) by putting `v` in place of the site's release in the
 * artifacts URL, the ISO URL and the default artifacts directory.
 */
export function releaseFor(
  harvester: NonNullable<SiteInput['harvester']>,
  nginx: SiteInput['nginx'],
  v: string,
  arch: 'x86_64' | 'arm64' = 'x86_64',
): Release {
  // Harvester names its files by Debian-style architecture: amd64, arm64 (v1.3 and later).
  const a = arch === 'arm64' ? 'arm64' : 'amd64';
  const site = harvester.version;
  const swap = (s: string) => (v === site ? s : s.split(site).join(v));
  const version = (parseVersion(v) ?? parseVersion(site)) as HarvesterVersion;
  const base = swap(harvester.artifacts.replace(/\/+$/, ''));
  const names = {
    kernelName: `harvester-${v}-vmlinuz-${a}`,
    initrdName: `harvester-${v}-initrd-${a}`,
    rootfsName: `harvester-${v}-rootfs-${a}.squashfs`,
    isoName: `harvester-${v}-${a}.iso`,
    checksumName: `harvester-${v}-${a}.sha512`,
    // Not published by Harvester: fetch.sh takes it out of the verified ISO (EFI/BOOT/bootx64.efi).
    shimName: `harvester-${v}-shim-${a}.efi`,
  };
  const artifacts = {
    base,
    ...names,
    kernel: `${base}/${names.kernelName}`,
    initrd: `${base}/${names.initrdName}`,
    rootfs: `${base}/${names.rootfsName}`,
    iso: `${base}/${names.isoName}`,
    checksum: `${base}/${names.checksumName}`,
    shim: `${base}/${names.shimName}`,
  };
  return {
    version,
    minor: `${version.major}.${version.minor}`,
    artifacts,
    arch,
    // An explicit iso_url names the x86-64 ISO; arm64 nodes take theirs next to their files.
    isoUrl: harvester.iso_url !== undefined && arch === 'x86_64' ? swap(harvester.iso_url) : artifacts.iso,
    // Release files carry their version in their names, so one explicit directory holds them all.
    artifactsDir: nginx?.artifacts_dir ?? `${D.nginx.rootBase}/artifacts/${v}`,
  };
}

/** Resolve the inventory into the model every renderer uses. */
export function resolveSite(input: SiteInput, layers: Layers = { profiles: {} }): SiteModel {
  const siteRelease = input.harvester ? releaseFor(input.harvester, input.nginx, input.harvester.version) : undefined;
  const server = input.boot.server.replace(/\/+$/, '');
  const serverUrl = new URL(server);
  const port = serverUrl.port ? Number(serverUrl.port) : 80;
  // The tree is served under the URL's path ('' or '/a/b'), so several sites can share a server.
  const prefix = serverUrl.pathname.replace(/\/+$/, '');

  const cidr = parseCidr(input.network.cidr).net;
  const netPrefix = cidr?.prefix ?? 24;
  const [dhcpStart = '', dhcpEnd = ''] = input.network.dhcp_range.split('-').map((s) => s.trim());

  const siteSlug = input.site.replace(/_/g, '-');
  const osProfiles: Record<string, ResolvedOs> = {};
  for (const [name, p] of Object.entries(input.os_profiles ?? {})
    .filter((e): e is [string, NonNullable<(typeof e)[1]>] => e[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    osProfiles[name] = {
      name,
      kernel: p.kernel,
      initrds: p.initrds,
      params: p.params ?? [],
      ...(p.root !== undefined ? { root: p.root } : {}),
      cloudInit: p.cloud_init ?? true,
      ...(p.shim !== undefined ? { shim: p.shim } : {}),
    };
  }
  const resolveNode = nodeResolver(input, netPrefix, layers, siteRelease, osProfiles);
  const unknown = input.boot.unknown ?? D.boot.unknown;
  const marker = input.boot.installed_marker;
  const model: SiteModel = {
    site: input.site,
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(siteRelease ? { release: siteRelease } : {}),
    boot: {
      server,
      host: serverUrl.hostname,
      port,
      prefix,
      firmware: input.boot.firmware ?? D.boot.firmware,
      uefiLoader: input.boot.uefi_loader ?? D.boot.uefiLoader,
      arm64Loader: input.boot.arm64_loader ?? D.boot.arm64Loader,
      console: input.boot.console ?? D.boot.console,
      kernelArgs: input.boot.kernel_args ?? [],
      skipchecks: input.boot.skipchecks ?? D.boot.skipchecks,
      retries: input.boot.retries ?? D.boot.retries,
      retryDelay: input.boot.retry_delay ?? D.boot.retryDelay,
      ...(input.boot.dhcp_retry !== undefined ? { dhcpRetry: input.boot.dhcp_retry } : {}),
      unknown,
      installedMarker: { volume: marker?.volume ?? D.boot.installedMarker.volume, file: marker?.file ?? D.boot.installedMarker.file },
      httpBoot: input.boot.http_boot ?? false,
      ...(input.boot.ipxe_binaries !== undefined ? { ipxeBinaries: input.boot.ipxe_binaries } : {}),
      ...(input.boot.secure_boot !== undefined
        ? {
            secureBoot: {
              // iPXE's signed shim loads the file its own name starts with (snponly-shimx64.efi ->
              // snponly.efi): the site's UEFI loader, unless the site names another pair.
              shim:
                input.boot.secure_boot.shim ??
                `${(input.boot.secure_boot.loader ?? input.boot.uefi_loader ?? D.boot.uefiLoader).replace(/\.efi$/, '')}-shimx64.efi`,
              loader: input.boot.secure_boot.loader ?? input.boot.uefi_loader ?? D.boot.uefiLoader,
            },
          }
        : {}),
    },
    network: {
      cidr: input.network.cidr,
      address: cidr ? formatIpv4(cidr.address) : input.network.cidr,
      prefix: netPrefix,
      netmask: formatIpv4(prefixToMask(netPrefix)),
      gateway: input.network.gateway,
      dns: input.network.dns,
      dhcpStart,
      dhcpEnd,
      ...(input.network.domain !== undefined ? { domain: input.network.domain } : {}),
    },
    ...(input.cluster ? { cluster: resolveCluster(input.cluster) } : {}),
    osProfiles,
    nodes: firstHarvesterCreates((input.nodes ?? []).map(resolveNode), input.nodes ?? [], input.cluster?.created === true),
    ...(unknown === 'join' ? { unknownJoin: resolveNode({ role: 'join', os: 'harvester' }, -1) } : {}),
    lab: {
      networkName: input.lab?.network_name ?? `harvgen-${siteSlug}`,
      bridge: input.lab?.bridge ?? `hg-${siteSlug}`.slice(0, 15).replace(/-+$/, ''),
      diskDir: input.lab?.disk_dir ?? D.lab.diskDir,
      tftpRoot: input.lab?.tftp_root ?? D.lab.tftpRoot,
      hostArch: input.lab?.host_arch ?? D.lab.hostArch,
    },
    nginx: {
      // nginx resolves a host name in `listen` when it starts (and fails if it cannot): a
      // name-based boot.server listens on all addresses of its port instead.
      listen: input.nginx?.listen ?? (parseIpv4(serverUrl.hostname) !== undefined ? `${serverUrl.hostname}:${port}` : String(port)),
      root: input.nginx?.root ?? `${D.nginx.rootBase}/${input.site}`,
      accessLog: input.nginx?.access_log ?? `${D.nginx.accessLogDir}/harvgen-${input.site}.access.log`,
    },
    dnsmasq: {
      ...(input.dnsmasq?.interface !== undefined ? { interface: input.dnsmasq.interface } : {}),
      tftpRoot: input.dnsmasq?.tftp_root ?? D.dnsmasq.tftpRoot,
      leaseTime: input.dnsmasq?.lease_time ?? D.dnsmasq.leaseTime,
      dns: input.dnsmasq?.dns ?? D.dnsmasq.dns,
    },
    bss: { export: input.bss?.export ?? false },
    forward: {
      enabled: input.forward?.enabled ?? D.forward.enabled,
      ports: [...(input.forward?.ports ?? D.forward.ports)].sort((a, b) => a - b),
      ...(input.forward?.listen_address !== undefined ? { listenAddress: input.forward.listen_address } : {}),
    },
  };
  return deepFreeze(model);
}

/** The `cluster:` section with defaults applied (secret references were resolved to strings before validation). */
function resolveCluster(c: NonNullable<SiteInput['cluster']>): NonNullable<SiteModel['cluster']> {
  return {
    vip: c.vip,
    vipMode: c.vip_mode ?? D.cluster.vipMode,
    ...(c.vip_hw_addr !== undefined ? { vipHwAddr: normalizeMac(c.vip_hw_addr) ?? c.vip_hw_addr } : {}),
    token: c.token as string,
    ...(c.password !== undefined ? { password: c.password as string } : {}),
    sshAuthorizedKeys: c.ssh_authorized_keys ?? [],
    ntp: c.ntp ?? [],
    ...(c.pod_cidr !== undefined ? { podCidr: c.pod_cidr } : {}),
    ...(c.service_cidr !== undefined ? { serviceCidr: c.service_cidr } : {}),
    ...(c.cluster_dns !== undefined ? { clusterDns: c.cluster_dns } : {}),
    sans: c.sans ?? [],
    created: c.created ?? false,
  };
}

/**
 * Without an explicit `role: create`, the first node that installs Harvester creates the cluster;
 * once the cluster exists (`cluster.created`), nobody does.
 */
function firstHarvesterCreates(nodes: ResolvedNode[], inputs: readonly NodeInput[], created: boolean): ResolvedNode[] {
  if (created || inputs.some((n) => n.role === 'create')) return nodes;
  const first = nodes.findIndex((n) => n.boot === 'harvester');
  if (first < 0 || inputs[first]?.role !== undefined) return nodes;
  return nodes.map((n, i) => (i === first ? { ...n, role: 'create' } : n));
}

/** The chain of profiles a reference expands to, nearest first (stops at a missing one or a loop). */
export function profileChain(layers: Layers, first: unknown): string[] {
  const chain: string[] = [];
  for (let p = first; typeof p === 'string' && p in layers.profiles && !chain.includes(p); p = layers.profiles[p]!.profile) chain.push(p);
  return chain;
}

/** One layer of node settings and the inventory path it lives at. */
interface Layer {
  readonly value: NodeDefaults;
  readonly path: InventoryPath;
}

/**
 * The layers of one node, strongest first (ARCHITECTURE.md, "Precedence"): the node, its
 * profile chain, the site's `defaults:`, their profile chain, the repo defaults
 * (`sites/_defaults.yaml`), their profile chain.
 */
function layersOf(node: NodeInput, index: number, input: SiteInput, layers: Layers): Layer[] {
  const profiles = (first: unknown): Layer[] =>
    profileChain(layers, first).map((name) => ({ value: layers.profiles[name] as NodeDefaults, path: [PROFILE_LAYER, name] }));
  const defaults: NodeDefaults = input.defaults ?? {};
  const repo = (layers.repo ?? {}) as NodeDefaults;
  return [
    { value: node, path: ['nodes', index] },
    ...profiles(node.profile),
    { value: defaults, path: ['defaults'] },
    ...profiles(defaults.profile),
    ...(layers.repo ? [{ value: repo, path: [REPO_LAYER] }, ...profiles(repo.profile)] : []),
  ];
}

/**
 * The resolver of nodes for a site: one NodeInput at an index of the merged `nodes` list (or a
 * stand-in outside it, index -1: the node an unknown machine becomes under `boot.unknown: join`).
 */
function nodeResolver(
  input: SiteInput,
  netPrefix: number,
  layers: Layers,
  siteRelease: Release | undefined,
  osProfiles: Readonly<Record<string, ResolvedOs>>,
): (node: NodeInput, index: number) => ResolvedNode {
  // One Release object per version, shared by its nodes (a 10,000-node site held 10,000 copies).
  const h = input.harvester;
  const releases = new Map<string, Release>(h && siteRelease ? [[`${h.version}/x86_64`, siteRelease]] : []);
  const release = (v: string, arch: 'x86_64' | 'arm64') => {
    if (!h) return undefined;
    const key = `${v}/${arch}`;
    return releases.get(key) ?? releases.set(key, releaseFor(h, input.nginx, v, arch)).get(key)!;
  };
  // A source in a shared layer (defaults, a profile, the repo) is one array for all nodes.
  const shared = new Map<string, InventoryPath>();
  const source = (path: InventoryPath): InventoryPath => {
    if (path[0] === 'nodes') return path;
    const key = path.join('\u0000');
    return shared.get(key) ?? shared.set(key, path).get(key)!;
  };
  return (node, index) => {
    const sources: Record<string, InventoryPath> = {};
    const chain = layersOf(node, index, input, layers);
    // pick(): the value of the strongest layer that sets it; records where it came from.
    const pick = <K extends keyof NodeDefaults & keyof NodeInput>(key: K): NodeInput[K] | undefined => {
      for (const l of chain) {
        if (l.value[key] === undefined) continue;
        sources[key] = source([...l.path, key]);
        return l.value[key] as NodeInput[K];
      }
      return undefined;
    };
    // mergeMap(): key-by-key merge of a map setting, weakest layer first, recording each leaf's source.
    const mergeMap = <T extends object>(key: 'install' | 'lab' | 'bond' | 'cloud_init' | 'iscsi' | 'hardware'): Partial<T> => {
      const out: Record<string, unknown> = {};
      for (const l of [...chain].reverse()) {
        const layer = l.value[key];
        if (!layer) continue;
        const path = source([...l.path, key]);
        for (const [k, val] of Object.entries(layer)) {
          out[k] = val;
          sources[`${key}.${k}`] = source([...path, k]);
        }
        sources[key] = path;
      }
      return out as Partial<T>;
    };

    const macList = node.macs ?? (node.mac !== undefined ? [node.mac] : []);
    if (node.macs) sources.macs = ['nodes', index, 'macs'];
    else if (node.mac !== undefined) sources.macs = ['nodes', index, 'mac'];
    const macs = macList.map((m) => normalizeMac(m) ?? m);

    // Without an explicit `role: create` anywhere, the first node creates the cluster.
    // Without an explicit `role: create` anywhere, the first Harvester node creates the cluster
    // (firstHarvesterCreates, once the kind of every node is known).
    const role: 'create' | 'join' = node.role ?? 'join';
    if (node.role && index >= 0) sources.role = ['nodes', index, 'role'];

    const nodeVersion = pick('harvester_version');
    const arch = pick('arch') ?? 'x86_64';
    const nodeRelease = h ? release(nodeVersion ?? h.version, arch) : undefined;
    const method = pick('method') ?? D.node.method;
    const netmaskIn = pick('netmask');
    const prefixIn = pick('prefix');
    const maskPrefix = netmaskIn !== undefined ? maskToPrefix(parseIpv4(netmaskIn) ?? -1) : undefined;
    const prefix = prefixIn ?? maskPrefix ?? netPrefix;
    const install = mergeMap<NonNullable<NodeInput['install']>>('install');
    const lab = mergeMap<NonNullable<NodeInput['lab']>>('lab');
    const hardwareIn = mergeMap<NonNullable<NodeInput['hardware']>>('hardware');
    const bondIn = mergeMap<Record<string, string | number>>('bond');
    const interfacesIn = pick('interfaces');
    const interfaces: ResolvedNic[] = interfacesIn
      ? interfacesIn.map((nic) => ({
          ...(nic.name !== undefined ? { name: nic.name } : {}),
          ...(nic.mac !== undefined ? { mac: normalizeMac(nic.mac) ?? nic.mac } : {}),
        }))
      : macs.map((mac) => ({ mac }));
    const ip = node.ip;
    if (ip !== undefined) sources.ip = ['nodes', index, 'ip'];
    if (node.hostname !== undefined) sources.hostname = ['nodes', index, 'hostname'];
    // config: merged deeply, weakest layer first; its source is the strongest layer that has one.
    let config: Record<string, unknown> = {};
    for (const l of [...chain].reverse()) if (l.value.config) config = deepMerge(config, l.value.config);
    const configLayer = chain.find((l) => l.value.config);
    if (configLayer) sources.config = source([...configLayer.path, 'config']);
    const gateway = pick('gateway');
    const dns = pick('dns');
    const mtu = pick('mtu');
    const vlan = pick('vlan');
    const kernelArgs = pick('kernel_args');

    const osName = pick('os');
    const profile = osName !== undefined && osName !== 'harvester' && Object.hasOwn(osProfiles, osName) ? osProfiles[osName] : undefined;
    const iscsiIn = mergeMap<NonNullable<NodeInput['iscsi']>>('iscsi');
    const ci = mergeMap<NonNullable<NodeInput['cloud_init']>>('cloud_init');
    const bootKind: ResolvedNode['boot'] =
      iscsiIn.target !== undefined ? 'iscsi' : osName !== undefined && osName !== 'harvester' ? 'os' : 'harvester';
    const resolved: ResolvedNode = {
      boot: bootKind,
      arch,
      // An unknown profile name is reported by the rules (NODE_OS_UNKNOWN); render never sees it.
      ...(profile
        ? { os: profile }
        : bootKind === 'os'
          ? { os: { name: osName!, kernel: '', initrds: [], params: [], cloudInit: false } }
          : {}),
      cloudInit: {
        ...(ci.user_data !== undefined ? { userData: ci.user_data } : {}),
        ...(ci.user_data_file !== undefined ? { userDataFile: ci.user_data_file } : {}),
        ...(ci.vendor_data !== undefined ? { vendorData: ci.vendor_data } : {}),
        ...(ci.meta_data !== undefined ? { metaData: ci.meta_data } : {}),
      },
      ...(iscsiIn.target !== undefined && iscsiIn.server !== undefined
        ? {
            iscsi: {
              server: iscsiIn.server,
              port: iscsiIn.port ?? 3260,
              lun: iscsiIn.lun ?? 1,
              target: iscsiIn.target,
              initiator: iscsiIn.initiator ?? `iqn.2010-04.org.ipxe:${node.hostname ?? ''}`,
            },
          }
        : {}),
      index,
      hostname: node.hostname ?? '',
      macs,
      ...(ip !== undefined ? { ip } : {}),
      role,
      harvesterRole: pick('harvester_role') ?? D.node.harvesterRole,
      method,
      prefix,
      netmask: formatIpv4(prefixToMask(Math.min(32, Math.max(0, prefix)))),
      gateway: gateway ?? input.network.gateway,
      dns: dns ?? input.network.dns,
      ...(mtu !== undefined ? { mtu } : {}),
      ...(vlan !== undefined ? { vlan } : {}),
      bond: { ...D.node.bond, ...bondIn },
      interfaces,
      install: {
        ...(install.device !== undefined ? { device: install.device } : {}),
        ...(install.data_disk !== undefined ? { dataDisk: install.data_disk } : {}),
        ...(install.tty !== undefined ? { tty: install.tty } : {}),
        ...(install.persistent_partition_size !== undefined ? { persistentPartitionSize: install.persistent_partition_size } : {}),
        ...(install.wipe_all_disks !== undefined ? { wipeAllDisks: install.wipe_all_disks } : {}),
        ...(install.wipe_disks_list !== undefined ? { wipeDisksList: install.wipe_disks_list } : {}),
        ...(install.power_off !== undefined ? { powerOff: install.power_off } : {}),
      },
      kernelArgs: kernelArgs ?? [],
      ...(nodeRelease ? { release: nodeRelease } : {}),
      config,
      state: pick('state') ?? D.node.state,
      lab: {
        memoryMib: lab.memory_mib ?? D.node.lab.memoryMib,
        vcpus: lab.vcpus ?? D.node.lab.vcpus,
        diskGib: lab.disk_gib ?? D.node.lab.diskGib,
        dataDiskGib: lab.data_disk_gib ?? D.node.lab.dataDiskGib,
        nicModel: lab.nic_model ?? D.node.lab.nicModel,
      },
      // `hardware.memory_gib` -> `memoryGib`, ... (only the facts a layer declares).
      hardware: Object.fromEntries(
        Object.entries(hardwareIn).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]),
      ) as HardwareFacts,
      sources,
    };
    return resolved;
  };
}

/** Deep merge of plain objects; `over` wins; arrays and scalars are replaced. */
export function deepMerge(under: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...under };
  for (const [k, v] of Object.entries(over)) {
    const u = out[k];
    out[k] = isPlainObject(u) && isPlainObject(v) ? deepMerge(u, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The release a Harvester node installs. Validation refuses Harvester nodes in a site without
 * `harvester:` (CLUSTER_SECTION_MISSING), so a missing one here is a bug, reported as such.
 */
export function releaseOf(node: ResolvedNode): Release {
  if (!node.release) throw new Error(`node ${node.hostname} installs Harvester but the site has no \`harvester:\` section`);
  return node.release;
}

/** The cluster settings of a site with Harvester nodes (see releaseOf). */
export function clusterOf(model: SiteModel): NonNullable<SiteModel['cluster']> {
  if (!model.cluster) throw new Error(`site ${model.site} has Harvester nodes but no \`cluster:\` section`);
  return model.cluster;
}

/** The firmware a node boots with: arm64 machines are UEFI whatever the site's x86 machines use. */
export function nodeFirmware(model: SiteModel, node: ResolvedNode): 'uefi' | 'bios' {
  return node.arch === 'arm64' ? 'uefi' : model.boot.firmware;
}

/**
 * With Secure Boot (x86-64 UEFI machines): the shim iPXE's `shim` command gives the kernel to, the
 * one that trusts the kernel's signer: the release's SUSE shim for the Harvester installer, the
 * profile's `shim` for a generic OS (undefined when it has none: BOOT_SECURE_BOOT_NO_SHIM).
 */
export function kernelShim(model: SiteModel, node: ResolvedNode): string | undefined {
  if (!model.boot.secureBoot || node.arch !== 'x86_64' || nodeFirmware(model, node) !== 'uefi') return undefined;
  if (node.boot === 'os') return node.os?.shim;
  return node.boot === 'harvester' ? node.release?.artifacts.shim : undefined;
}
