/**
 * Two boot servers of a `failover:` site, each in a network namespace of its own, and a client
 * namespace whose bridge joins them to a tap (a QEMU node's NIC): on each server the generated
 * keepalived.conf (the shared address), the generated nginx server block (host paths rewritten,
 * see nginx.ts) and the server's DHCP: its own dnsmasq file with global.conf (host keys replaced,
 * see dnsmasq.ts), or its Kea config with the HA hook (see kea.ts; the pair is ready once both are
 * in hot-standby). Nothing leaves the namespaces.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createNetns, type Netns } from './netns.ts';
import { startDnsmasq, testableDnsmasqConf, type DnsmasqCopyOptions } from './dnsmasq.ts';
import { startKea } from './kea.ts';
import { prepareNginx, readAccessLogs, startNginx, type NginxSetup } from './nginx.ts';
import { killPid, run, sleep, startDaemon, waitFor, type Daemon } from './proc.ts';
import { IPXE_DIR, speedupLines, type LabArtifacts } from './lab.ts';
import { hostPort, type SiteTree } from './tree.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** One server of the pair and what runs on it. */
export interface PairServer {
  name: string;
  address: string;
  ns: Netns;
  nginx: NginxSetup;
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
  /** A change to one server's generated check.sh (a mutation), applied to the copy keepalived runs. */
  check?: { server: string; edit: (text: string) => string };
  /** A change to every server's parsed Kea config (a mutation). */
  kea?: (dhcp4: Record<string, unknown>) => void;
}

interface FailoverInput {
  interface: string;
  servers: { name: string; address: string }[];
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

/**
 * A release mirror (`<mirror>/<version>/`) as artifacts/fetch.sh takes one: the test's kernel and
 * initramfs under the release's names, small stand-ins for the rootfs and the ISO, and the
 * release's SHA-512 list.
 */
export async function releaseMirror(tree: SiteTree, artifacts: LabArtifacts, mirror: string): Promise<void> {
  const release = tree.manifest.artifacts;
  if (!release) return;
  const version = /\/(v[^/]+)\/[^/]+$/.exec(new URL(release.kernel).pathname)?.[1];
  if (!version) throw new Error(`no release version in ${release.kernel}`);
  const dir = path.join(mirror, version);
  await mkdir(dir, { recursive: true });
  const name = (u: string) => path.posix.basename(new URL(u).pathname);
  await copyFile(artifacts.kernel, path.join(dir, name(release.kernel)));
  await copyFile(artifacts.initrd, path.join(dir, name(release.initrd)));
  for (const u of [release.rootfs, release.iso]) if (u) writeFileSync(path.join(dir, name(u)), `stand-in for ${name(u)}\n`);
  const files = [release.kernel, release.initrd, release.rootfs, release.iso].flatMap((u) => (u ? [name(u)] : []));
  const list = /^fetch \S+ "\$target" (\S+) /m.exec(readFileSync(path.join(tree.dir, 'artifacts/fetch.sh'), 'utf8'))?.[1];
  if (!list) throw new Error('artifacts/fetch.sh names no SHA-512 list');
  const sums = await run(['sha512sum', ...files], { cwd: dir, timeoutMs: 60_000 });
  if (sums.code !== 0) throw new Error(`sha512sum: ${sums.stderr}`);
  writeFileSync(path.join(dir, list), sums.stdout);
}

/** The tree's own artifacts/fetch.sh, from `mirror` into `target`: downloads, verifies, records the sizes keepalived's check compares. */
export async function runFetch(tree: SiteTree, mirror: string, target: string): Promise<void> {
  if (!tree.manifest.artifacts) return;
  const r = await run(['sh', path.join(tree.dir, 'artifacts/fetch.sh'), target], {
    env: { ...process.env, HARVGEN_RELEASE_BASE: `file://${mirror}` },
    timeoutMs: 120_000,
  });
  if (r.code !== 0) throw new Error(`artifacts/fetch.sh failed:\n${r.stdout}\n${r.stderr}`);
}

/**
 * keepalived in `ns` with `conf`, and the server's generated check.sh installed where keepalived.conf
 * names it (/etc/keepalived/harvgen-check.sh) and the release files where check.sh reads their
 * verified sizes: both bind mounts in the mount namespace `ip netns exec` gives the command, so the
 * host's /etc and /srv are untouched. `check` changes the installed copy (a mutation).
 */
export function startKeepalived(
  ns: Netns,
  label: string,
  conf: string,
  o: { tree: string; server: string; runDir: string; artifactsDir: string; check?: (text: string) => string },
): Daemon {
  const etc = path.join(o.runDir, 'etc-keepalived');
  mkdirSync(etc, { recursive: true });
  const generated = readFileSync(path.join(o.tree, 'failover', o.server, 'check.sh'), 'utf8');
  const check = o.check ? o.check(generated) : generated;
  if (o.check && check === generated) throw new Error(`the check.sh mutation did not apply to ${o.server}`);
  writeFileSync(path.join(etc, 'harvgen-check.sh'), check, { mode: 0o755 });
  const dirs = [...new Set([...generated.matchAll(/^release \S+ (\S+) /gm)].map((m) => m[1]!))];
  const pid = (f: string) => path.join(o.runDir, f);
  const script = [
    'set -e',
    `mount --bind ${etc} /etc/keepalived`,
    ...(dirs.length ? ['mount -t tmpfs tmpfs /srv'] : []),
    ...dirs.flatMap((d) => {
      if (!d.startsWith('/srv/')) throw new Error(`check.sh reads release files outside /srv: ${d}`);
      return [`mkdir -p ${d}`, `mount --bind ${o.artifactsDir} ${d}`];
    }),
    `exec keepalived -n -l -D -P -f ${conf} -p ${pid('k.pid')} -r ${pid('v.pid')} -c ${pid('c.pid')}`,
  ].join('\n');
  return startDaemon(label, ns.exec(['sh', '-c', script]));
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
  const stop = async (): Promise<void> => {
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
      const dir = path.join(workDir, name);
      await mkdir(dir);
      // Each server's own copy of the release files, fetched as docs/failover.md says to on both.
      const artDir = path.join(dir, 'artifacts');
      await runFetch(tree, mirror, artDir);
      const nginx = await prepareNginx({
        prefix: path.join(dir, 'nginx'),
        snippet,
        rewrite: { treeDir: tree.dir, artifactsDir: artDir },
        ...(opts.limitRate ? { extraServer: `    limit_rate ${opts.limitRate};` } : {}),
      });
      const server: PairServer = { name, address, ns, nginx, artifactsDir: artDir, daemons: {} };
      servers.push(server);

      if (dhcp === 'kea') {
        const kea = path.join(tree.dir, 'failover', name, 'kea-dhcp4.json');
        server.daemons.dhcp = await startKea(ns, kea, dir, { iface, keepInterfaces: true, ...(opts.kea ? { change: opts.kea } : {}) });
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
        const conf = writeFailoverDnsmasqConf(tree.dir, name, path.join(dir, 'dnsmasq.conf'), {
          iface,
          tftpRoot,
          leaseFile: path.join(dir, 'leases'),
          extra: speedupLines(iface),
        });
        server.daemons.dhcp = await startDnsmasq(ns, conf);
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
