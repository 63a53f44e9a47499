/**
 * Two boot servers of a `failover:` site, each in a network namespace of its own, and a client
 * namespace whose bridge joins them to a tap (a QEMU node's NIC): on each server the generated
 * keepalived.conf (the shared address), the generated nginx server block (host paths rewritten,
 * see nginx.ts) and the server's DHCP: its own dnsmasq file with global.conf (host keys replaced,
 * see dnsmasq.ts), or its Kea config with the HA hook (see kea.ts; the pair is ready once both are
 * in hot-standby). Nothing leaves the namespaces.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createNetns, type Netns } from './netns.ts';
import { startDnsmasq, testableDnsmasqConf, type DnsmasqCopyOptions } from './dnsmasq.ts';
import { startKea } from './kea.ts';
import { prepareNginx, readAccessLogs, startNginx, type NginxSetup } from './nginx.ts';
import { killPid, run, sleep, startDaemon, waitFor, type Daemon } from './proc.ts';
import { IPXE_DIR, speedupLines, type LabArtifacts } from './lab.ts';
import { hostPort, type SiteTree } from './tree.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { releaseMirror, runFetch, startKeepalived } from './failover-server.ts';

export { releaseMirror, runFetch, startKeepalived } from './failover-server.ts';

/** One server of the pair and what runs on it. */
export interface PairServer {
  name: string;
  address: string;
  ns: Netns;
  nginx: NginxSetup;
  /** What its notify.sh asked of systemctl (`stop kea-dhcp4-server.service`), in order. */
  notified: string[];
  /** Everything its DHCP server said, across the restarts its notify.sh made. */
  dhcpOutput(): string;
  /** Start its DHCP server again (as `systemctl start` would). */
  startDhcp(): Promise<void>;
  /** Its copy of the release files (nginx serves them, its check reads their verified sizes). */
  artifactsDir: string;
  daemons: { dhcp?: Daemon; tftp?: Daemon; nginx?: Daemon; keepalived?: Daemon };
}

/** A running pair. */
export interface BootPair {
  tree: SiteTree;
  /** The nodes' network: the bridge and the VM's tap live here. */
  client: Netns;
  tap: string;
  workDir: string;
  /** The shared address (boot.server's host). */
  shared: string;
  servers: PairServer[];
  /** The DHCP server the site's failover files are for. */
  dhcp: 'dnsmasq' | 'kea';
  /** The server that holds the shared address now, if one does (`a+b` when both do). */
  holder(): Promise<string | undefined>;
  /** Whether the shared address serves boot.ipxe to the client, within a second. */
  served(): Promise<boolean>;
  /** A server's nginx access log so far. */
  accessLog(name: string): Promise<string>;
  server(name: string): PairServer;
  /** One daemon of a server dies (SIGKILL: no goodbye to its clients). */
  kill(name: string, what: keyof PairServer['daemons']): Promise<void>;
  /** The whole server goes (its link down, then every daemon killed): power, cable or kernel. */
  killServer(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface PairOptions {
  /** A test-only `limit_rate` on every server (nginx syntax, e.g. `2m`): a download lasts long enough to be cut. */
  limitRate?: string;
  /** A change to one server's generated keepalived.conf (a mutation), applied to a copy. */
  keepalived?: { server: string; edit: (text: string) => string };
  /** One server serves a copy of the tree changed by `edit` (a stale or edited server). */
  serverTree?: { server: string; edit: (dir: string) => void };
  /** A change to one server's generated check.sh (a mutation), applied to the copy keepalived runs. */
  check?: { server: string; edit: (text: string) => string };
  /** A change to every server's parsed Kea config (a mutation). */
  kea?: (dhcp4: Record<string, unknown>) => void;
}

interface FailoverInput {
  interface: string;
  servers: { name: string; address: string; mac?: string }[];
}

/** A bridge `br0` in the nodes' namespace, up, holding `address` (CIDR form) when given. */
export async function addBridge(client: Netns, address?: string): Promise<void> {
  await client.sh(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
  if (address) await client.sh(['ip', 'addr', 'add', address, 'dev', 'br0']);
  await client.sh(['ip', 'link', 'set', 'br0', 'up']);
}

/** A server's interface `iface` with `addresses` (CIDR form), its other end `to-<name>` plugged into `client`'s br0; all up. */
export async function plugServer(client: Netns, ns: Netns, iface: string, name: string, addresses: readonly string[]): Promise<void> {
  const port = `to-${name}`.slice(0, 15);
  await ns.sh(['ip', 'link', 'add', iface, 'type', 'veth', 'peer', 'name', port, 'netns', client.name]);
  for (const a of addresses)
    await ns.sh(['ip', ...(a.includes(':') ? ['-6'] : []), 'addr', 'add', a, 'dev', iface, ...(a.includes(':') ? ['nodad'] : [])]);
  await ns.sh(['ip', 'link', 'set', iface, 'up']);
  await client.sh(['ip', 'link', 'set', port, 'master', 'br0']);
  await client.sh(['ip', 'link', 'set', port, 'up']);
}

/**
 * What one server's dnsmasq reads (the tree's dnsmasq/global.conf and failover/<name>/dnsmasq.conf),
 * host keys replaced (its interface, lease file, TFTP root; the tree's reservations), written to `out`.
 */
export function writeFailoverDnsmasqConf(treeDir: string, name: string, out: string, o: Omit<DnsmasqCopyOptions, 'hostsDir'>): string {
  const generated = ['dnsmasq/global.conf', `failover/${name}/dnsmasq.conf`]
    .map((f) => readFileSync(path.join(treeDir, f), 'utf8'))
    .join('\n');
  writeFileSync(out, testableDnsmasqConf(generated, { ...o, hostsDir: path.join(treeDir, 'dnsmasq/hosts') }).text);
  return out;
}

/** Start both servers and wait until the first holds the shared address and it serves boot.ipxe. */
export async function startBootPair(tree: SiteTree, artifacts: LabArtifacts, opts: PairOptions = {}): Promise<BootPair> {
  const failover = (tree.input as { failover?: FailoverInput }).failover;
  if (!failover) throw new Error(`${tree.site} has no failover:`);
  const workDir = tempDir(`pair-${tree.site}`);
  const tap = 'hgtap0';
  const shared = hostPort(tree.manifest.boot.server).host;
  const [net, prefixLen = '24'] = tree.input.network.cidr.split('/') as [string, string?];
  const clientAddress = net.replace(/\.\d+$/, '.250');
  const client = await createNetns('pairc');
  const servers: PairServer[] = [];
  // The site's DHCP server, from the files the tree holds for its first server.
  const dhcp = existsSync(path.join(tree.dir, 'failover', failover.servers[0]!.name, 'kea-dhcp4.json')) ? 'kea' : 'dnsmasq';
  let stopNotifier = () => {};
  const stop = async (): Promise<void> => {
    stopNotifier();
    for (const s of [...servers].reverse()) for (const d of Object.values(s.daemons).reverse()) await d?.stop();
    for (const s of servers) await s.ns.delete();
    await client.delete();
  };
  try {
    await addBridge(client, `${clientAddress}/${prefixLen}`);
    await client.sh(['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    await client.sh(['ip', 'link', 'set', tap, 'master', 'br0']);
    await client.sh(['ip', 'link', 'set', tap, 'up']);

    // What every server serves alike: the release files (the test's kernel and initramfs under
    // the release's names), fetched and verified by the tree's own artifacts/fetch.sh from a
    // mirror, and iPXE for the TFTP root.
    const tftpRoot = path.join(workDir, 'tftp');
    await mkdir(tftpRoot);
    const mirror = path.join(workDir, 'mirror');
    await releaseMirror(tree, artifacts, mirror);
    for (const f of ['undionly.kpxe', 'snponly.efi']) await copyFile(path.join(IPXE_DIR, f), path.join(tftpRoot, f));
    const snippet = readFileSync(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');

    for (const [i, { name, address }] of failover.servers.entries()) {
      const ns = await createNetns(`pair${i}`);
      const iface = failover.interface;
      // The IPv6 address is for the RA of speedupLines (IPv4 only otherwise).
      await plugServer(client, ns, iface, name, [`${address}/${prefixLen}`, `fd00:4861:7276::${i + 2}/64`]);
      // The MAC the inventory gives the server (failover.servers[].mac: the other's nftables rules name it).
      const mac = failover.servers[i]!.mac;
      if (mac) await ns.sh(['ip', 'link', 'set', 'dev', iface, 'address', mac.toLowerCase()]);
      const dir = path.join(workDir, name);
      await mkdir(dir);
      // Each server's own copy of the release files, fetched as docs/failover.md says to on both.
      const artDir = path.join(dir, 'artifacts');
      await runFetch(tree, mirror, artDir);
      let treeDir = tree.dir;
      if (opts.serverTree?.server === name) {
        treeDir = path.join(dir, 'tree');
        cpSync(tree.dir, treeDir, { recursive: true });
        opts.serverTree.edit(treeDir);
      }
      const nginx = await prepareNginx({
        prefix: path.join(dir, 'nginx'),
        snippet,
        rewrite: { treeDir, artifactsDir: artDir },
        ...(opts.limitRate ? { extraServer: `    limit_rate ${opts.limitRate};` } : {}),
      });
      let past = '';
      const server: PairServer = {
        name,
        address,
        ns,
        nginx,
        artifactsDir: artDir,
        daemons: {},
        notified: [],
        dhcpOutput: () => past + (server.daemons.dhcp?.output() ?? ''),
        async startDhcp() {
          past += server.daemons.dhcp?.output() ?? '';
          server.daemons.dhcp = await startDhcp();
        },
      };
      servers.push(server);
      const kea = path.join(tree.dir, 'failover', name, 'kea-dhcp4.json');
      const dnsmasqConf = path.join(dir, 'dnsmasq.conf');
      const startDhcp = () =>
        dhcp === 'kea'
          ? startKea(ns, kea, dir, { iface, keepInterfaces: true, ...(opts.kea ? { change: opts.kea } : {}) })
          : startDnsmasq(ns, dnsmasqConf);

      if (dhcp === 'kea') {
        server.daemons.dhcp = await startDhcp();
        // TFTP beside Kea as docs/deploy.md says to run it: dnsmasq with no DHCPv4 range and no DNS.
        // Test-only: its router advertisement ends iPXE's wait for one (lab.ts).
        const tftp = startDaemon(
          `dnsmasq-tftp ${name}`,
          ns.exec([
            'dnsmasq',
            ...['--no-daemon', '--conf-file=/dev/null', '--port=0', '--enable-tftp', `--tftp-root=${tftpRoot}`],
            ...[
              `--interface=${iface}`,
              '--bind-interfaces',
              '--enable-ra',
              `--dhcp-range=::,constructor:${iface},ra-only`,
              '--log-facility=-',
            ],
          ]),
        );
        server.daemons.tftp = tftp;
        await waitFor(() => tftp.exited() || /TFTP root is/.test(tftp.output()), 10_000);
        if (tftp.exited()) throw new Error(`TFTP-only dnsmasq did not start:\n${tftp.output()}`);
      } else {
        writeFailoverDnsmasqConf(tree.dir, name, dnsmasqConf, {
          iface,
          tftpRoot,
          leaseFile: path.join(dir, 'leases'),
          extra: speedupLines(iface),
        });
        server.daemons.dhcp = await startDhcp();
      }
      server.daemons.nginx = await startNginx(nginx, { host: address, port: hostPort(tree.manifest.boot.server).port }, ns);
      let keepalivedConf = path.join(tree.dir, 'failover', name, 'keepalived.conf');
      if (opts.keepalived?.server === name) {
        const text = readFileSync(keepalivedConf, 'utf8');
        const changed = opts.keepalived.edit(text);
        if (changed === text) throw new Error(`the keepalived.conf mutation did not apply to ${name}`);
        keepalivedConf = path.join(dir, 'keepalived.conf');
        writeFileSync(keepalivedConf, changed);
      }
      server.daemons.keepalived = startKeepalived(ns, `keepalived ${name}`, keepalivedConf, {
        tree: tree.dir,
        server: name,
        runDir: dir,
        artifactsDir: artDir,
        ...(opts.check?.server === name ? { check: opts.check.edit } : {}),
      });
    }

    // What each server's notify.sh asked of systemctl, carried out on the test's DHCP daemons in order.
    const seen = new Map<string, number>();
    let busy = false;
    const carryOut = async () => {
      if (busy) return;
      busy = true;
      try {
        for (const s of servers) {
          const log = path.join(workDir, s.name, 'systemctl.log');
          // No systemctl.log yet: keepalived has not run notify.sh there.
          if (!existsSync(log)) continue;
          const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
          for (const line of lines.slice(seen.get(s.name) ?? 0)) {
            seen.set(s.name, (seen.get(s.name) ?? 0) + 1);
            s.notified.push(line);
            const d = s.daemons.dhcp;
            if (line.startsWith('stop ')) await d?.stop();
            else if (line.startsWith('start ') && (!d || d.exited())) await s.startDhcp();
          }
        }
      } finally {
        busy = false;
      }
    };
    const notifier = setInterval(() => void carryOut(), 100);
    stopNotifier = () => clearInterval(notifier);
    const holds = async (s: PairServer) =>
      (await run(s.ns.exec(['ip', '-4', 'addr', 'show', failover.interface]), { timeoutMs: 5000 })).stdout.includes(`${shared}/`);
    const pair: BootPair = {
      tree,
      client,
      tap,
      workDir,
      shared,
      servers,
      dhcp,
      async holder() {
        // Both at once (split brain) reads as `a+b`, which no test takes for one server.
        const names: string[] = [];
        for (const s of servers) if (await holds(s)) names.push(s.name);
        return names.length ? names.join('+') : undefined;
      },
      async served() {
        const url = `${tree.manifest.boot.server.replace(/\/$/, '')}/boot.ipxe`;
        const r = await run(client.exec(['curl', '-fsS', '--max-time', '1', '-o', '/dev/null', url]), { timeoutMs: 5000 });
        return r.code === 0;
      },
      accessLog: (name) => readAccessLogs(pair.server(name).nginx),
      server(name) {
        const s = servers.find((x) => x.name === name);
        if (!s) throw new Error(`no server ${name} in the pair`);
        return s;
      },
      async kill(name, what) {
        const d = pair.server(name).daemons[what];
        if (!d) return;
        // The whole process tree at once (keepalived's VRRP child would otherwise outlive its parent
        // until its death signal, and hold the output pipe).
        const children = (await run(['pgrep', '-P', String(d.pid)], { timeoutMs: 5000 })).stdout.split(/\s+/).filter(Boolean);
        for (const pid of [d.pid, ...children.map(Number)]) killPid(pid, 'SIGKILL');
        await Promise.race([d.done, sleep(5000)]);
      },
      async killServer(name) {
        const s = pair.server(name);
        await client.sh(['ip', 'link', 'set', `to-${name}`.slice(0, 15), 'down']);
        await s.ns.sh(['ip', 'link', 'set', failover.interface, 'down']);
        for (const what of ['keepalived', 'nginx', 'dhcp', 'tftp'] as const) await pair.kill(name, what);
      },
      stop,
    };
    const first = failover.servers[0]!.name;
    if (!(await waitFor(async () => (await pair.holder()) === first, 30_000, 200)))
      throw new Error(`${first} never held ${shared}:\n${pair.server(first).daemons.keepalived!.output().slice(-3000)}`);
    if (!(await waitFor(() => pair.served(), 20_000, 200))) throw new Error(`${shared} does not serve boot.ipxe`);
    if (pair.dhcp === 'kea') {
      // Kea's HA hook serves no client until both peers agree (hot-standby).
      const hot = (s: PairServer) => /HA_STATE_TRANSITION server transitions from \S+ to HOT-STANDBY state/.test(s.daemons.dhcp!.output());
      if (!(await waitFor(() => servers.every(hot), 60_000, 200)))
        throw new Error(
          `the Kea pair did not reach hot-standby:\n${servers.map((s) => s.daemons.dhcp!.output().slice(-2000)).join('\n---\n')}`,
        );
    }
    return pair;
  } catch (err) {
    await stop();
    throw err;
  }
}
