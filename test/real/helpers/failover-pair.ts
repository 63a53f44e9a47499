/**
 * Two boot servers of a `failover:` site, each in a network namespace of its own, and a client
 * namespace whose bridge joins them to a tap (a QEMU node's NIC): on each server the generated
 * keepalived.conf (the shared address), the generated nginx server block (host paths rewritten,
 * see nginx.ts) and the server's own dnsmasq file with global.conf (host keys replaced, see
 * dnsmasq.ts). Nothing leaves the namespaces.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createNetns, type Netns } from './netns.ts';
import { startDnsmasq, testableDnsmasqConf } from './dnsmasq.ts';
import { prepareNginx, readAccessLogs, startNginx, type NginxSetup } from './nginx.ts';
import { killPid, run, startDaemon, waitFor, type Daemon } from './proc.ts';
import { IPXE_DIR, speedupLines, type LabArtifacts } from './lab.ts';
import { hostPort, type SiteTree } from './tree.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** One server of the pair and what runs on it. */
export interface PairServer {
  name: string;
  address: string;
  ns: Netns;
  nginx: NginxSetup;
  daemons: { dnsmasq?: Daemon; nginx?: Daemon; keepalived?: Daemon };
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
  /** The server that holds the shared address now, if one does. */
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
}

interface FailoverInput {
  interface: string;
  servers: { name: string; address: string }[];
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
  const stop = async (): Promise<void> => {
    for (const s of [...servers].reverse()) for (const d of Object.values(s.daemons).reverse()) await d?.stop();
    for (const s of servers) await s.ns.delete();
    await client.delete();
  };
  try {
    await client.sh(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await client.sh(['ip', 'addr', 'add', `${clientAddress}/${prefixLen}`, 'dev', 'br0']);
    await client.sh(['ip', 'link', 'set', 'br0', 'up']);
    await client.sh(['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    await client.sh(['ip', 'link', 'set', tap, 'master', 'br0']);
    await client.sh(['ip', 'link', 'set', tap, 'up']);

    // What every server serves alike: the release files (the test's kernel and initramfs under
    // the release's names) and iPXE for the TFTP root.
    const artDir = path.join(workDir, 'artifacts');
    const tftpRoot = path.join(workDir, 'tftp');
    await mkdir(artDir);
    await mkdir(tftpRoot);
    const release = tree.manifest.artifacts;
    if (release) {
      await copyFile(artifacts.kernel, path.join(artDir, path.posix.basename(new URL(release.kernel).pathname)));
      await copyFile(artifacts.initrd, path.join(artDir, path.posix.basename(new URL(release.initrd).pathname)));
    }
    for (const f of ['undionly.kpxe', 'snponly.efi']) await copyFile(path.join(IPXE_DIR, f), path.join(tftpRoot, f));
    const snippet = readFileSync(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');

    for (const [i, { name, address }] of failover.servers.entries()) {
      const ns = await createNetns(`pair${i}`);
      const iface = failover.interface;
      await ns.sh(['ip', 'link', 'add', iface, 'type', 'veth', 'peer', 'name', `to-${name}`.slice(0, 15), 'netns', client.name]);
      await ns.sh(['ip', 'addr', 'add', `${address}/${prefixLen}`, 'dev', iface]);
      // For the RA of speedupLines (IPv4 only otherwise).
      await ns.sh(['ip', '-6', 'addr', 'add', `fd00:4861:7276::${i + 2}/64`, 'dev', iface, 'nodad']);
      await ns.sh(['ip', 'link', 'set', iface, 'up']);
      await client.sh(['ip', 'link', 'set', `to-${name}`.slice(0, 15), 'master', 'br0']);
      await client.sh(['ip', 'link', 'set', `to-${name}`.slice(0, 15), 'up']);
      const dir = path.join(workDir, name);
      await mkdir(dir);
      const nginx = await prepareNginx({
        prefix: path.join(dir, 'nginx'),
        snippet,
        rewrite: { treeDir: tree.dir, artifactsDir: artDir },
        ...(opts.limitRate ? { extraServer: `    limit_rate ${opts.limitRate};` } : {}),
      });
      const server: PairServer = { name, address, ns, nginx, daemons: {} };
      servers.push(server);

      // What the server reads: global.conf and its own failover file.
      const generated = ['dnsmasq/global.conf', `failover/${name}/dnsmasq.conf`]
        .map((f) => readFileSync(path.join(tree.dir, f), 'utf8'))
        .join('\n');
      const conf = path.join(dir, 'dnsmasq.conf');
      writeFileSync(
        conf,
        testableDnsmasqConf(generated, {
          iface,
          tftpRoot,
          leaseFile: path.join(dir, 'leases'),
          hostsDir: path.join(tree.dir, 'dnsmasq/hosts'),
          extra: speedupLines(iface),
        }).text,
      );
      server.daemons.dnsmasq = await startDnsmasq(ns, conf);
      server.daemons.nginx = await startNginx(nginx, { host: address, port: hostPort(tree.manifest.boot.server).port }, ns);
      const pids = (f: string) => path.join(dir, f);
      let keepalivedConf = path.join(tree.dir, 'failover', name, 'keepalived.conf');
      if (opts.keepalived?.server === name) {
        const text = readFileSync(keepalivedConf, 'utf8');
        const changed = opts.keepalived.edit(text);
        if (changed === text) throw new Error(`the keepalived.conf mutation did not apply to ${name}`);
        keepalivedConf = path.join(dir, 'keepalived.conf');
        writeFileSync(keepalivedConf, changed);
      }
      server.daemons.keepalived = startDaemon(
        `keepalived ${name}`,
        ns.exec([
          'keepalived',
          ...['-n', '-l', '-D', '-P'],
          ...['-f', keepalivedConf],
          ...['-p', pids('k.pid'), '-r', pids('v.pid'), '-c', pids('c.pid')],
        ]),
      );
    }

    const holds = async (s: PairServer) =>
      (await run(s.ns.exec(['ip', '-4', 'addr', 'show', failover.interface]), { timeoutMs: 5000 })).stdout.includes(`${shared}/`);
    const pair: BootPair = {
      tree,
      client,
      tap,
      workDir,
      shared,
      servers,
      async holder() {
        for (const s of servers) if (await holds(s)) return s.name;
        return undefined;
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
        killPid(d.pid, 'SIGKILL');
        await d.done;
      },
      async killServer(name) {
        const s = pair.server(name);
        await client.sh(['ip', 'link', 'set', `to-${name}`.slice(0, 15), 'down']);
        await s.ns.sh(['ip', 'link', 'set', failover.interface, 'down']);
        for (const what of ['keepalived', 'nginx', 'dnsmasq'] as const) await pair.kill(name, what);
      },
      stop,
    };
    const first = failover.servers[0]!.name;
    if (!(await waitFor(async () => (await pair.holder()) === first, 30_000, 200)))
      throw new Error(`${first} never held ${shared}:\n${pair.server(first).daemons.keepalived!.output().slice(-3000)}`);
    if (!(await waitFor(() => pair.served(), 20_000, 200))) throw new Error(`${shared} does not serve boot.ipxe`);
    return pair;
  } catch (err) {
    await stop();
    throw err;
  }
}
