/**
 * A real DHCP exchange against the generated dnsmasq config without a VM: dnsmasq runs in one
 * namespace, busybox udhcpc (with the MAC, user class and client arch of the machine being
 * imitated) in another, joined by a veth pair. Nothing else is reachable from either side.
 */
import { mkdir, readFile, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { createNetns, type Netns } from './netns.ts';
import { startDnsmasq, writeTestableConf } from './dnsmasq.ts';
import { run, describe, startDaemon, type Daemon } from './proc.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { IPXE_DIR } from './lab.ts';
import type { SiteTree } from './tree.ts';

/** What udhcpc got. */
export interface Lease {
  ip: string;
  mask: string;
  router: string;
  dns: string;
  boot_file: string;
  siaddr: string;
  serverid: string;
  hostname: string;
}

/** How the imitated client identifies itself. */
export interface ClientKind {
  /** Option 77 user class, e.g. "iPXE" (what iPXE sends). */
  userClass?: string;
  /** Option 93 client architecture: 0 BIOS, 7 / 9 x86-64 UEFI, 16 x86-64 UEFI HTTP boot. */
  arch?: number;
  /** Option 60 vendor class, e.g. `HTTPClient:Arch:00016` (UEFI HTTP boot). */
  vendorClass?: string;
}

/** A udhcpc client on one interface of a namespace. */
export interface DhcpClient {
  /** Ask for a lease as `mac`; undefined when no lease came (the udhcpc output is in lastLog). */
  query(mac: string, kind: ClientKind): Promise<Lease | undefined>;
  /** Output of the last udhcpc run. */
  lastLog(): string;
  /** TFTP-download `file` from `server` (the client must hold a lease). */
  tftpGet(file: string, server: string): Promise<Buffer | string>;
}

/** A udhcpc client on `iface` of namespace `c`; `work` holds its script and downloads. */
export async function dhcpClient(c: Netns, iface: string, work: string, prefix: string): Promise<DhcpClient> {
  const script = path.join(work, 'udhcpc.sh');
  await writeFile(script, SCRIPT, { mode: 0o755 });
  let last = '';
  return {
    async query(mac, kind) {
      await c.sh(['ip', 'link', 'set', iface, 'down']);
      await c.sh(['ip', 'addr', 'flush', 'dev', iface]);
      await c.sh(['ip', 'link', 'set', iface, 'address', mac]);
      await c.sh(['ip', 'link', 'set', iface, 'up']);
      const opts: string[] = [];
      if (kind.userClass) opts.push('-x', `0x4d:${Buffer.from(kind.userClass).toString('hex')}`);
      if (kind.arch !== undefined) opts.push('-x', `0x5d:${kind.arch.toString(16).padStart(4, '0')}`);
      if (kind.vendorClass) opts.push('-V', kind.vendorClass);
      // -t 6 -T 2: a new pool address is offered only after dnsmasq's ~3 s ping check.
      const r = await run(c.exec(['busybox', 'udhcpc', '-i', iface, '-f', '-q', '-n', '-t', '6', '-T', '2', '-s', script, ...opts]), {
        timeoutMs: 30_000,
      });
      last = describe(r);
      const vars = Object.fromEntries([...r.stdout.matchAll(/^HGLEASE (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()])) as Partial<Lease>;
      if (!vars.ip) return undefined;
      await c.sh(['ip', 'addr', 'add', `${vars.ip}/${vars.mask ?? prefix}`, 'dev', iface]);
      return { ip: '', mask: '', router: '', dns: '', boot_file: '', siaddr: '', serverid: '', hostname: '', ...vars };
    },
    lastLog: () => last,
    async tftpGet(file, server) {
      const local = path.join(work, `got-${path.basename(file)}`);
      const r = await run(c.exec(['busybox', 'tftp', '-g', '-r', file, '-l', local, server]), { timeoutMs: 30_000 });
      if (r.code !== 0) return describe(r);
      return readFile(local);
    },
  };
}

/** A running server/client pair. */
export interface DhcpPair {
  serverAddress: string;
  dnsmasq: Daemon;
  /** Ask for a lease as `mac`; undefined when no lease came (the udhcpc output is in lastLog). */
  query(mac: string, kind: ClientKind): Promise<Lease | undefined>;
  /** Output of the last udhcpc run. */
  lastLog(): string;
  /** TFTP-download `file` from the server (the client must hold a lease). */
  tftpGet(file: string): Promise<Buffer | string>;
}

const SCRIPT = `#!/bin/sh
[ "$1" = bound ] || exit 0
for v in ip mask router dns boot_file siaddr serverid hostname; do eval "echo HGLEASE $v=\\"\\$$v\\""; done
exit 0
`;

/** IPv4 dotted quad to number. */
function ipNum(ip: string): number {
  return ip.split('.').reduce((a, b) => a * 256 + Number(b), 0);
}

/** True when ip lies in cidr (IPv4). */
export function inCidr(ip: string, cidr: string): boolean {
  const [net = '', len = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  return Math.floor(ipNum(ip) / size) === Math.floor(ipNum(net) / size);
}

/** Start dnsmasq with the tree's config (test copy) and a client namespace; always stop(). */
export async function withDhcpPair<T>(tree: SiteTree, fn: (pair: DhcpPair) => Promise<T>): Promise<T> {
  const work = tempDir(`dhcp-${tree.site}`);
  const server = await createNetns('dhs');
  let client: Netns | undefined;
  let dnsmasq: Daemon | undefined;
  try {
    client = await createNetns('dhc');
    const cidr = tree.input.network.cidr;
    const bootHost = new URL(tree.manifest.boot.server).hostname;
    // dnsmasq answers on the subnet of its interface address: use the boot server's address
    // when it is on the network (the normal case), else the gateway's.
    const serverAddress = /^\d+\.\d+\.\d+\.\d+$/.test(bootHost) && inCidr(bootHost, cidr) ? bootHost : tree.input.network.gateway;
    const prefix = cidr.split('/')[1] ?? '24';
    const sIf = 'hgdhs0';
    const cIf = 'hgdhc0';
    await server.sh(['ip', 'link', 'add', sIf, 'type', 'veth', 'peer', 'name', cIf, 'netns', client.name]);
    await server.sh(['ip', 'addr', 'add', `${serverAddress}/${prefix}`, 'dev', sIf]);
    await server.sh(['ip', 'link', 'set', sIf, 'up']);

    const tftpRoot = path.join(work, 'tftp');
    await mkdir(tftpRoot);
    for (const f of ['undionly.kpxe', 'ipxe.efi', 'snponly.efi']) await copyFile(path.join(IPXE_DIR, f), path.join(tftpRoot, f));
    const conf = await writeTestableConf(tree.dir, path.join(work, 'dnsmasq.conf'), {
      iface: sIf,
      tftpRoot,
      leaseFile: path.join(work, 'leases'),
    });
    dnsmasq = await startDnsmasq(server, conf.path);
    const client_ = await dhcpClient(client, cIf, work, prefix);
    const pair: DhcpPair = {
      serverAddress,
      dnsmasq,
      query: (mac, kind) => client_.query(mac, kind),
      lastLog: () => client_.lastLog(),
      tftpGet: (file) => client_.tftpGet(file, serverAddress),
    };
    return await fn(pair);
  } finally {
    await dnsmasq?.stop();
    await client?.delete();
    await server.delete();
  }
}

/**
 * A DHCP witness in a namespace: logs each DHCP packet on port 67 (`DHCP-PACKET from ...`) and
 * answers none. It binds the port alone (no SO_REUSEADDR), so its `DHCP-WITNESS listening` line
 * also shows that no DHCP server holds port 67 there.
 */
export function dhcpWitness(ns: Netns): Daemon {
  const code = [
    "const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: false });",
    "s.on('message', (m, r) => console.log(`DHCP-PACKET from ${r.address}:${r.port} op=${m[0]} len=${m.length}`));",
    "s.bind(67, () => { s.setBroadcast(true); console.log('DHCP-WITNESS listening'); });",
  ].join('\n');
  return startDaemon('dhcp-witness', ns.exec([process.execPath, '-e', code]));
}
