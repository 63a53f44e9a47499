/**
 * A boot lab for one VM: a fresh network namespace with a tap carrying the boot server's
 * address (e.g. 192.168.122.1/24), the generated dnsmasq config running on it (test copy) and the
 * generated nginx server block listening on its generated address. Nothing leaves the namespace.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createNetns, type Netns } from './netns.ts';
import { startDnsmasq, writeTestableConf } from './dnsmasq.ts';
import { prepareNginx, startNginx, readAccessLogs, type NginxSetup } from './nginx.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { hostPort, type SiteTree } from './tree.ts';
import type { Daemon } from './proc.ts';
import { addAccessPort, startVlanTrunk, type VlanTrunk, type VlanTrunkCounts } from './vlan-trunk.ts';

/** The iPXE binaries the generated dhcp-boot lines name, from Debian's ipxe package. */
export const IPXE_DIR = '/usr/lib/ipxe';
const TFTP_FILES = ['undionly.kpxe', 'ipxe.efi', 'snponly.efi'];

/** Test-only dnsmasq lines. See CONTRIBUTING.md "Real-program tests". */
export function speedupLines(tap: string): string[] {
  return [
    '# Test-only speedup: iPXE waits ~13 s for an IPv6 router advertisement before it reports',
    '# "Configuring ... ok" when none comes. An RA for a ULA prefix that exists only inside the',
    '# test namespace ends that wait. The generated (IPv4-only) config is not changed.',
    'enable-ra',
    `dhcp-range=::,constructor:${tap},ra-only`,
  ];
}

/** A running lab. */
export interface Lab {
  tree: SiteTree;
  ns: Netns;
  tap: string;
  workDir: string;
  nginx: NginxSetup;
  daemons: Daemon[];
  /** nginx access log lines so far. */
  accessLog(): Promise<string>;
  /** dnsmasq's log so far ('' when the lab runs no dnsmasq). */
  dnsmasqLog(): string;
  /** The other DHCP server's log ('' without `addressServer`). */
  addressServerLog(): string;
  /** The VLAN trunk's frame counts (`vlans`), else undefined. */
  vlanCounts(): Promise<VlanTrunkCounts | undefined>;
  /** Kill every process by PID and delete the namespace. */
  stop(): Promise<void>;
}

/** Files the lab serves in place of Harvester's 1 GB release files. */
export interface LabArtifacts {
  kernel: string;
  initrd: string;
}

/** Variations of a lab (all optional; the default is the full boot lab above). */
export interface LabOptions {
  /**
   * false: no DHCP server at all in the namespace (the generated dnsmasq config is not run), for
   * clients that configure themselves, e.g. iPXE running the generated embed.ipxe.
   */
  dnsmasq?: boolean;
  /**
   * Extra files to serve, URL path (e.g. `/generic_bios/os/vmlinuz`) -> local file, each from a
   * test-only exact-match nginx `location` (copied into the lab first). For files the tree points
   * to but does not serve itself, e.g. a generic OS profile's kernel and initrds.
   */
  serve?: Readonly<Record<string, string>>;
  /**
   * URL paths nginx hands to another HTTP server in the lab's namespace, path -> port on
   * 127.0.0.1 (a test-only exact-match `location` with `proxy_pass`, unbuffered): a server that
   * misbehaves on purpose, e.g. one that cuts a download short.
   */
  proxy?: Readonly<Record<string, number>>;
  /** Extra files for the TFTP root, name -> local file (e.g. a signed shim and its loader). */
  tftp?: Readonly<Record<string, string>>;
  /**
   * Another DHCP server on the boot network (for `dnsmasq.mode: proxy`): a plain dnsmasq with
   * these lines (a range, a router, reservations; no boot options) in a namespace of its own at
   * `.2` of the network, joined to the boot server and the VM by a bridge (`hgbr0`, which then
   * holds the boot server's address instead of the tap).
   */
  addressServer?: readonly string[];
  /**
   * More addresses (CIDR form) on the boot server's interface, e.g. the nodes' gateway when the
   * boot server's own address is on another network (a node then reaches it only through that
   * gateway: the boot ISO tests).
   */
  addresses?: readonly string[];
  /**
   * The site's tagged VLANs (`network.vlans`) on the VM's tap: the tap is a trunk (vlan-trunk.py,
   * this kernel has no 802.1Q), the boot server's native address is on `dnsmasq.interface` and
   * each VLAN's on its `interface`, as the site names them (veth pairs whose other ends the trunk
   * forwards to and from, untagged and with the VLAN's tag). dnsmasq keeps the generated
   * `interface=` lines. `vlanCounts` reads the trunk's frame counts.
   */
  vlans?: boolean;
}

/** Start a lab for `tree`; always pair with lab.stop() (see withLab). */
export async function startLab(tree: SiteTree, artifacts: LabArtifacts, opts: LabOptions = {}): Promise<Lab> {
  const workDir = tempDir(`lab-${tree.site}`);
  const tap = 'hgtap0';
  const ns = await createNetns(tree.site.replace(/_/g, '').slice(0, 12));
  const daemons: Daemon[] = [];
  let trunk: VlanTrunk | undefined;
  let other: Netns | undefined;
  let otherDaemon: Daemon | undefined;
  const stop = async (): Promise<void> => {
    // Reverse start order; every process by its own PID, then the namespaces.
    for (const d of [...daemons].reverse()) await d.stop();
    await other?.delete();
    await ns.delete();
  };
  try {
    const server = hostPort(tree.manifest.boot.server);
    const prefixLen = tree.input.network.cidr.split('/')[1] ?? '24';
    await ns.sh(['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    // The boot server's interface: the tap itself, or a bridge that also holds the other DHCP
    // server, or (VLANs) the native side of the trunk.
    const vlanSites = opts.vlans
      ? (tree.input.network as { vlans?: { id: number; cidr: string; server: string; interface: string }[] }).vlans
      : undefined;
    const nativeIf = (tree.input as { dnsmasq?: { interface?: string } }).dnsmasq?.interface;
    if (opts.vlans && (!vlanSites?.length || !nativeIf))
      throw new Error('lab: `vlans` needs network.vlans and dnsmasq.interface in the site');
    const lan = opts.addressServer ? 'hgbr0' : opts.vlans ? nativeIf! : tap;
    if (opts.vlans) {
      await ns.sh(['ip', 'link', 'add', lan, 'type', 'veth', 'peer', 'name', 'hgtrunk0']);
      await ns.sh(['ip', 'link', 'set', 'hgtrunk0', 'up']);
      const access: Record<number, string> = { 0: 'hgtrunk0' };
      for (const [k, v] of vlanSites!.entries()) {
        const peer = `hgtrunk${k + 1}`;
        await addAccessPort(ns, v.interface, peer, `${v.server}/${v.cidr.split('/')[1] ?? '24'}`);
        access[v.id] = peer;
      }
      trunk = await startVlanTrunk(ns, { trunk: tap, access });
      daemons.push(trunk.daemon);
    }
    if (opts.addressServer) {
      await ns.sh(['ip', 'link', 'add', lan, 'type', 'bridge']);
      await ns.sh(['ip', 'link', 'set', tap, 'master', lan]);
      await ns.sh(['ip', 'link', 'set', tap, 'up']);
    }
    await ns.sh(['ip', 'addr', 'add', `${server.host}/${prefixLen}`, 'dev', lan]);
    for (const a of opts.addresses ?? []) await ns.sh(['ip', 'addr', 'add', a, 'dev', lan]);
    await ns.sh(['ip', '-6', 'addr', 'add', 'fd00:4861:7276::1/64', 'dev', lan, 'nodad']);
    await ns.sh(['ip', 'link', 'set', lan, 'up']);
    if (opts.addressServer) {
      other = await createNetns('dhcpsrv');
      await ns.sh(['ip', 'link', 'add', 'hgsrv0', 'type', 'veth', 'peer', 'name', 'hgdhcp0', 'netns', other.name]);
      await ns.sh(['ip', 'link', 'set', 'hgsrv0', 'master', lan]);
      await ns.sh(['ip', 'link', 'set', 'hgsrv0', 'up']);
      const address = tree.input.network.cidr.replace(/\.\d+\/\d+$/, '.2');
      await other.sh(['ip', 'addr', 'add', `${address}/${prefixLen}`, 'dev', 'hgdhcp0']);
      await other.sh(['ip', 'link', 'set', 'hgdhcp0', 'up']);
      const conf = path.join(workDir, 'address-server.conf');
      const lines = ['port=0', 'interface=hgdhcp0', 'bind-interfaces', `dhcp-leasefile=${path.join(workDir, 'address-server.leases')}`];
      await writeFile(conf, [...lines, 'log-dhcp', ...opts.addressServer, ''].join('\n'));
      otherDaemon = await startDnsmasq(other, conf);
      daemons.push(otherDaemon);
    }

    const tftpRoot = path.join(workDir, 'tftp');
    await mkdir(tftpRoot);
    for (const f of TFTP_FILES) await copyFile(path.join(IPXE_DIR, f), path.join(tftpRoot, f));
    for (const [name, from] of Object.entries(opts.tftp ?? {})) await copyFile(from, path.join(tftpRoot, name));

    // A site without Harvester nodes has no release files (manifest.json has no artifacts).
    const release = tree.manifest.artifacts;
    const artDir = path.join(workDir, 'artifacts');
    await mkdir(artDir);
    if (release) {
      const kernelName = path.posix.basename(new URL(release.kernel).pathname);
      const initrdName = path.posix.basename(new URL(release.initrd).pathname);
      await copyFile(artifacts.kernel, path.join(artDir, kernelName));
      await copyFile(artifacts.initrd, path.join(artDir, initrdName));
    }

    let dnsmasqDaemon: Daemon | undefined;
    if (opts.dnsmasq !== false) {
      const conf = await writeTestableConf(tree.dir, path.join(workDir, 'dnsmasq.conf'), {
        iface: lan,
        tftpRoot,
        leaseFile: path.join(workDir, 'dnsmasq.leases'),
        extra: speedupLines(lan),
        ...(opts.vlans ? { keepInterfaces: true } : {}),
      });
      dnsmasqDaemon = await startDnsmasq(ns, conf.path);
      daemons.push(dnsmasqDaemon);
    }

    let snippet = await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
    const proxied: string[] = [];
    for (const [urlPath, port] of Object.entries(opts.proxy ?? {})) {
      if (!/^\/[A-Za-z0-9._~/-]+$/.test(urlPath) || !Number.isInteger(port))
        throw new Error(`lab: cannot proxy ${JSON.stringify(urlPath)}`);
      // The generated config's own location of that path (a release file's) answers from the proxy instead.
      const block = `location = ${urlPath} { proxy_pass http://127.0.0.1:${port}; proxy_buffering off; }`;
      const own = new RegExp(`location = ${urlPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\{[^}]*\\}`);
      if (own.test(snippet)) snippet = snippet.replace(own, block);
      else proxied.push(`    ${block}`);
    }
    const artUrl = release ? new URL(release.kernel) : undefined;
    const artPath = artUrl ? path.posix.dirname(artUrl.pathname) + '/' : undefined;
    if (artUrl && hostPort(artUrl.href).host !== server.host) {
      throw new Error(`artifacts ${artUrl.href} are not on boot.server ${tree.manifest.boot.server}: the lab cannot serve them`);
    }
    const extra: string[] = [...proxied];
    let nginx = await prepareNginx({ prefix: path.join(workDir, 'nginx'), snippet, rewrite: { treeDir: tree.dir, artifactsDir: artDir } });
    if (artPath && !nginx.server.hasArtifactsLocation) {
      // The generated block does not serve the release files itself (they may live on another
      // web server): serve them from a test-only location so the boot can proceed.
      extra.push(`    location ^~ ${artPath} { alias ${artDir}/; }`);
    }
    const served = Object.entries(opts.serve ?? {});
    if (served.length) {
      const serveDir = path.join(workDir, 'served');
      await mkdir(serveDir);
      for (const [i, [urlPath, file]] of served.entries()) {
        // Only plain paths: the value lands unquoted in nginx syntax.
        if (!/^\/[A-Za-z0-9._~/-]+$/.test(urlPath)) throw new Error(`lab: cannot serve the URL path ${JSON.stringify(urlPath)}`);
        const copy = path.join(serveDir, `${i}-${path.basename(file)}`);
        await copyFile(file, copy);
        extra.push(`    location = ${urlPath} { alias ${copy}; }`);
      }
    }
    if (extra.length) {
      nginx = await prepareNginx({
        prefix: path.join(workDir, 'nginx'),
        snippet,
        rewrite: { treeDir: tree.dir, artifactsDir: artDir },
        extraServer: extra.join('\n'),
      });
    }
    daemons.push(await startNginx(nginx, server, ns));

    return {
      tree,
      ns,
      tap,
      workDir,
      nginx,
      daemons,
      accessLog: () => readAccessLogs(nginx),
      dnsmasqLog: () => dnsmasqDaemon?.output() ?? '',
      addressServerLog: () => otherDaemon?.output() ?? '',
      vlanCounts: async () => (trunk ? trunk.counts() : undefined),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Run fn with a lab and always tear it down. */
export async function withLab<T>(tree: SiteTree, artifacts: LabArtifacts, fn: (lab: Lab) => Promise<T>, opts: LabOptions = {}): Promise<T> {
  const lab = await startLab(tree, artifacts, opts);
  try {
    return await fn(lab);
  } finally {
    await lab.stop();
  }
}
