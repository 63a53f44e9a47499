// Two boot servers that cannot hear each other (`failover:`, docs/failover.md, "When the servers
// cannot hear each other"). Each server in a network namespace of its own running what harvgen
// generated for it (keepalived with its check and notify script, nginx, dnsmasq or Kea with the HA
// hook), joined by a bridge to QEMU nodes (SeaBIOS, its NIC's iPXE ROM, the test kernel and
// initramfs in place of the installer's: it takes its lease, fetches harvester.install.config_url
// and prints it). The failures a pair exists for:
//  - the servers' link cut (the bridge isolates their two ports: the nodes reach both, the servers
//    neither each other): both hold the shared address, and iPXE's connections to it are reset;
//  - VRRP dropped by a firewall on the standby: the same split, from one side;
// in each, four boots per DHCP server, every one installing with its own config. The split heals
// during a kernel download: the higher priority keeps the address, the node installs. A server
// whose nginx is dead stops its DHCP (notify.sh): a Kea pair then answers from the standby only.
// Mutations: the tree of the old design (DHCP and every script on the shared address alone)
// boots nothing in a split; without the notify script a Kea primary with a dead nginx sends
// every node to it, and the node boots nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { bootVm, cleanSerial, lazyBoots, type BootResult } from './helpers/qemu.ts';
import type { SiteTree } from './helpers/tree.ts';
import { requests, selectedCases } from './helpers/boot-log.ts';
import { nodeBootDone, nodeBootProblems } from './helpers/node-boot.ts';
import { pairBootPrep, pairLogLines, readPairLogs } from './helpers/failover-boot.ts';
import { startBootPair, type BootPair, type PairOptions } from './helpers/failover-pair.ts';
import { waitFor } from './helpers/proc.ts';
import { tempDir } from '../helpers/tmp.ts';
import { status } from '../../src/status/index.ts';

const ready =
  requireProgram('qemu-system-x86_64', 'keepalived', 'dnsmasq', 'nginx', 'curl', 'socat', 'ip', 'bridge', 'iptables') && requireRoot();

const LIMIT_MS = 240_000;

const SITES = {
  dnsmasq: {
    nodes: [
      { hostname: 'd1', mac: '52:54:00:32:00:01', ip: '10.32.0.11' },
      { hostname: 'd2', mac: '52:54:00:32:00:02', ip: '10.32.0.12' },
    ],
    gateway: '10.32.0.1',
  },
  kea: {
    nodes: [
      { hostname: 'f1', mac: '52:54:00:31:00:01', ip: '10.31.0.11' },
      { hostname: 'f2', mac: '52:54:00:31:00:02', ip: '10.31.0.12' },
    ],
    gateway: '10.31.0.1',
  },
} as const;
type Site = keyof typeof SITES;

type Scenario = 'cut' | 'vrrp' | 'old-cut' | 'old-vrrp' | 'heal' | 'nginx-dead' | 'no-notify' | 'restart';
interface SplitCase {
  id: string;
  site: Site;
  scenario: Scenario;
  boots: number;
  title: string;
}

const CASES: SplitCase[] = [
  {
    id: 'cut',
    site: 'dnsmasq',
    scenario: 'cut',
    boots: 4,
    title: "the servers' link cut (dnsmasq): both hold the shared address, and 4 of 4 boots install, each with its own config",
  },
  {
    id: 'kea-cut',
    site: 'kea',
    scenario: 'cut',
    boots: 4,
    title: "the servers' link cut (Kea HA): both hold the shared address, and 4 of 4 boots install, each with its own config",
  },
  {
    id: 'vrrp',
    site: 'dnsmasq',
    scenario: 'vrrp',
    boots: 4,
    title: 'VRRP dropped by a firewall on the standby (dnsmasq): both hold the shared address, and 4 of 4 boots install',
  },
  {
    id: 'kea-vrrp',
    site: 'kea',
    scenario: 'vrrp',
    boots: 4,
    title: 'VRRP dropped by a firewall on the standby (Kea HA): both hold the shared address, and 4 of 4 boots install',
  },
  {
    id: 'old-cut',
    site: 'dnsmasq',
    scenario: 'old-cut',
    boots: 1,
    title:
      "mutation: the old design (DHCP and every script on the shared address alone) with the servers' link cut: the node boots nothing",
  },
  {
    id: 'old-vrrp',
    site: 'kea',
    scenario: 'old-vrrp',
    boots: 1,
    title: 'mutation: the old design with VRRP dropped on the standby (Kea HA): the node boots nothing',
  },
  {
    id: 'heal',
    site: 'dnsmasq',
    scenario: 'heal',
    boots: 1,
    title:
      'the split heals during the kernel download: the higher priority keeps the shared address, the other gives it up, and the node installs',
  },
  {
    id: 'nginx-dead',
    site: 'kea',
    scenario: 'nginx-dead',
    boots: 1,
    title:
      "the primary's nginx is dead: its notify script stops its Kea, the standby answers every DHCP request and the node installs from it",
  },
  {
    id: 'no-notify',
    site: 'kea',
    scenario: 'no-notify',
    boots: 1,
    title:
      "mutation: without the notify script the primary's Kea keeps answering with its own address while its nginx is dead: the node boots nothing",
  },
  {
    id: 'kea-restart',
    site: 'kea',
    scenario: 'restart',
    boots: 1,
    title: "both Kea restarted at once as the node's iPXE starts: the pair serves again within iPXE's DHCP tries, and the node installs",
  },
];

/** HARVGEN_SPLIT_ONLY=id,id runs only those cases. */
const SELECTED = selectedCases(CASES, 'HARVGEN_SPLIT_ONLY');

interface Boot {
  hostname: string;
  result?: BootResult;
  problems: string[];
  /** `harvgen: trying <base>` lines: tries that moved on to another server. */
  movedOn: string[];
  /** iPXE's `Connection reset` lines: connections to the shared address that the other holder reset. */
  resets: number;
}

interface Outcome {
  tree: SiteTree;
  boots: Boot[];
  error?: unknown;
  /** Who held the shared address once the scenario was set up, and at the end. */
  holderBefore?: string;
  holderAfter?: string;
  access: Record<string, string>;
  dhcp: Record<string, string>;
  keepalived: Record<string, string>;
  notified: Record<string, string[]>;
  /** Seconds from both DHCP servers' restart to the node's first lease. */
  restartServed?: number;
  /** What `harvgen status` said of a split, given both servers' access logs. */
  splits: string[];
  first: string;
  other: string;
}

const KERNEL_DOWNLOAD = /harvester-v1\.6\.0-vmlinuz-amd64/;
const port = (name: string) => `to-${name}`.slice(0, 15);
const isolate = async (p: BootPair, on: boolean) => {
  for (const s of p.servers) await p.client.sh(['bridge', 'link', 'set', 'dev', port(s.name), 'isolated', on ? 'on' : 'off']);
};
const acks = (log: string, mac: string) => log.split('\n').filter((l) => /DHCPACK|DHCP4_LEASE_ALLOC/.test(l) && l.includes(mac));

/**
 * The tree of the old design, as a mutation: each server's DHCP names the shared address, and
 * every base boot.ipxe tries is the shared address (so every script fetches from it alone).
 */
function oldDesign(tree: SiteTree): SiteTree {
  const dir = path.join(tempDir('failover-old'), tree.site);
  cpSync(tree.dir, dir, { recursive: true });
  const shared = new URL(tree.manifest.boot.server).origin;
  const { port, hostname: sharedHost } = new URL(tree.manifest.boot.server);
  const servers = (tree.input as { failover?: { servers: { address: string }[] } }).failover!.servers;
  let changed = 0;
  const edit = (rel: string, fn: (t: string) => string) => {
    const f = path.join(dir, rel);
    const t = readFileSync(f, 'utf8');
    const u = fn(t);
    if (u !== t) changed++;
    writeFileSync(f, u);
  };
  for (const name of readdirSync(path.join(dir, 'failover')))
    for (const file of readdirSync(path.join(dir, 'failover', name)))
      if (/dnsmasq\.conf|kea-dhcp4\.json/.test(file))
        edit(`failover/${name}/${file}`, (t) =>
          servers.reduce(
            (x, s) =>
              x
                .replaceAll(`http://${s.address}${port ? `:${port}` : ''}/`, `${shared}/`)
                .replaceAll(`"next-server": "${s.address}"`, `"next-server": "${sharedHost}"`),
            t,
          ),
        );
  edit('boot.ipxe', (t) => t.replace(/^set harvgen_b([12]) \S+$/gm, `set harvgen_b$1 ${shared}`).replace(/^iseq \$\{filename\}.*\n/m, ''));
  if (changed < 3) throw new Error(`the old-design mutation changed ${changed} files`);
  return { ...tree, dir };
}

async function runCase(c: SplitCase, tree0: SiteTree, artifacts: { kernel: string; initrd: string }): Promise<Outcome> {
  const site = SITES[c.site];
  const tree = c.scenario === 'old-cut' || c.scenario === 'old-vrrp' ? oldDesign(tree0) : tree0;
  const [first, other] = (tree.input as { failover?: { servers: { name: string }[] } }).failover!.servers.map((s) => s.name) as [
    string,
    string,
  ];
  const out: Outcome = { tree, boots: [], access: {}, dhcp: {}, keepalived: {}, notified: {}, splits: [], first, other };
  const opts: PairOptions =
    c.scenario === 'no-notify'
      ? { keepalived: { server: first, edit: (t) => t.replace(/\n\s*# This server's DHCP runs.*\n\s*notify .*/, '') } }
      : {};
  let pair: BootPair | undefined;
  try {
    pair = await startBootPair(tree, artifacts, opts);
    const p = pair;
    const both = `${first}+${other}`;
    if (c.scenario === 'cut' || c.scenario === 'old-cut' || c.scenario === 'heal') await isolate(p, true);
    if (c.scenario === 'vrrp' || c.scenario === 'old-vrrp')
      await p.server(other).ns.sh(['iptables', '-A', 'INPUT', '-p', 'vrrp', '-j', 'DROP']);
    if (c.scenario === 'nginx-dead' || c.scenario === 'no-notify') {
      await p.kill(first, 'nginx');
      if (!(await waitFor(async () => (await p.holder()) === other, 30_000, 100))) throw new Error(`${other} did not take the address`);
      if (c.scenario === 'nginx-dead') {
        if (!(await waitFor(() => p.server(first).notified.some((l) => l.startsWith('stop ')), 30_000, 100)))
          throw new Error(`${first}'s notify script never stopped its DHCP`);
        if (c.site === 'kea' && !(await waitFor(() => /to PARTNER-DOWN state/.test(p.server(other).dhcpOutput()), 60_000, 200)))
          throw new Error(`${other}'s Kea never went partner-down`);
      }
    } else if (c.scenario !== 'restart' && !(await waitFor(async () => (await p.holder()) === both, 30_000, 100)))
      throw new Error(`the split never showed: ${await p.holder()} holds the shared address`);
    out.holderBefore = await p.holder();
    for (let i = 0; i < c.boots; i++) {
      const node = site.nodes[i % site.nodes.length]!;
      const boot: Boot = { hostname: node.hostname, problems: [], movedOn: [], resets: 0 };
      out.boots.push(boot);
      const serialPath = path.join(p.workDir, `serial-${node.mac.replace(/:/g, '')}.log`);
      let done = false;
      // The restart: as iPXE starts, both DHCP servers at once (as a power cut of both, or an upgrade).
      const restart =
        c.scenario === 'restart'
          ? (async () => {
              const seen = await waitFor(
                async () => done || /iPXE initialising devices/.test(cleanSerial(await readFile(serialPath, 'latin1').catch(() => ''))),
                LIMIT_MS,
                100,
              );
              if (!seen || done) return;
              const t0 = Date.now();
              await Promise.all(p.servers.map((s) => s.daemons.dhcp!.stop()));
              await Promise.all(p.servers.map((s) => s.startDhcp()));
              const mac = node.mac;
              if (await waitFor(() => done || p.servers.some((s) => acks(s.dhcpOutput(), mac).length > 0), LIMIT_MS, 100))
                out.restartServed = (Date.now() - t0) / 1000;
            })()
          : Promise.resolve();
      // The heal: at the kernel download, the servers hear each other again.
      const director =
        c.scenario === 'heal'
          ? (async () => {
              const seen = await waitFor(
                async () => done || KERNEL_DOWNLOAD.test(cleanSerial(await readFile(serialPath, 'latin1').catch(() => ''))),
                LIMIT_MS,
                100,
              );
              if (seen && !done) await isolate(p, false);
            })()
          : Promise.resolve();
      try {
        boot.result = await bootVm({
          firmware: 'bios',
          mac: node.mac,
          ns: p.client,
          tap: p.tap,
          workDir: p.workDir,
          timeoutMs: LIMIT_MS,
          stopWhen: (serial) =>
            nodeBootDone(serial) ??
            (/No bootable device/.test(cleanSerial(serial)) ? 'no bootable device' : undefined) ??
            (/could not load the installer for \S+ after 3 attempts|giving up on \S+ after 3 attempts/.test(cleanSerial(serial))
              ? 'gave up'
              : undefined),
        });
      } finally {
        done = true;
        await director;
        await restart;
      }
      const serial = cleanSerial(boot.result.serial);
      boot.movedOn = serial.match(/harvgen: trying \S+/g) ?? [];
      boot.resets = (serial.match(/Connection reset/g) ?? []).length;
      boot.problems = await nodeBootProblems(tree, node.hostname, boot.result.serial, site.gateway, { staticIp: false });
    }
    out.holderAfter = await p.holder();
    await readPairLogs(p, out);
    for (const s of p.servers) out.notified[s.name] = s.notified;
    // status, given both servers' access logs, names a split (their checks' marks through the shared address).
    const logs = p.servers.map((s) => {
      const f = path.join(p.workDir, `${s.name}.access.log`);
      writeFileSync(f, out.access[s.name]!);
      return f;
    });
    const r = await status({ sites: [tree.sourceDir], logs });
    out.splits = r.diagnostics.filter((d) => d.code === 'FAILOVER_SPLIT').map((d) => d.message);
  } catch (err) {
    out.error = err;
  } finally {
    await pair?.stop();
  }
  return out;
}

const outcome = lazyBoots(
  SELECTED,
  () => pairBootPrep('failover-split'),
  (c, { kernel, initrd, trees }) => runCase(c, trees[c.site], { kernel, initrd }),
);

function report(o: Outcome, problems: string[]): string {
  const tail = (s: string, n = 3000) => s.slice(-n);
  return [
    `${problems.length} problem(s):`,
    ...problems.map((x) => `  - ${x}`),
    o.error ? `error: ${o.error instanceof Error ? o.error.stack : String(o.error)}` : '',
    `holder before: ${o.holderBefore ?? '-'}; after: ${o.holderAfter ?? '-'}`,
    ...o.boots.map(
      (b, i) =>
        `boot ${i + 1} (${b.hostname}): ${b.result?.stoppedBecause ?? '-'}; problems: ${b.problems.join('; ') || 'none'}\n${tail(cleanSerial(b.result?.serial ?? ''), 2500)}`,
    ),
    ...pairLogLines(o, 4000),
    ...Object.entries(o.notified).map(([n, a]) => `notify ${n}: ${a.join(', ')}`),
    `status: ${o.splits.join(' | ') || 'no split'}`,
  ]
    .filter(Boolean)
    .join('\n');
}

for (const c of SELECTED) {
  test(c.title, async () => {
    if (!ready || (c.site === 'kea' && !requireProgram('kea-dhcp4'))) return;
    const o = await outcome(c.id);
    const site = SITES[c.site];
    const { first, other } = o;
    assert.ok(!o.error && o.boots.length === c.boots, report(o, ['the scenario did not run']));
    if (c.scenario === 'old-cut' || c.scenario === 'old-vrrp' || c.scenario === 'no-notify') {
      const b = o.boots[0]!;
      assert.ok(b.problems.length > 0, report(o, ['the node installed: the mutation is not caught']));
      assert.ok(
        ['no bootable device', 'gave up'].includes(b.result!.stoppedBecause ?? ''),
        report(o, ['the node did not end without a boot']),
      );
      if (c.scenario === 'no-notify') {
        // For the reason the mutation is about: the primary's Kea answered, with its own dead address.
        const mac = site.nodes[0].mac;
        assert.ok(acks(o.dhcp[first]!, mac).length > 0, report(o, [`${first} gave the node no lease`]));
      }
      return;
    }
    o.boots.forEach((b, i) => {
      assert.equal(b.problems, [], report(o, [`boot ${i + 1} (${b.hostname}): ${b.problems.join('; ')}`]));
    });
    if (c.scenario === 'cut' || c.scenario === 'vrrp') {
      // The split lasted through every boot: both servers held the shared address at the end too.
      assert.is(o.holderBefore, `${first}+${other}`, report(o, ['no split']));
      assert.is(o.holderAfter, `${first}+${other}`, report(o, ['the split ended during the boots']));
      assert.is(o.splits.length, 1, report(o, [`status named ${o.splits.length} split(s): ${o.splits.join(' | ')}`]));
      assert.match(o.splits[0]!, new RegExp(`${first} and ${other} both held the shared address`));
      const moved = o.boots.map((b) => b.movedOn.length);
      const resets = o.boots.map((b) => b.resets);
      // The split did hurt the shared address (else the test shows nothing): some connection to it was reset.
      assert.ok(
        resets.some((n) => n > 0),
        report(o, ['no connection was reset: the split did not reach the nodes']),
      );
      console.log(
        `  failover (${c.id}): ${c.boots} of ${c.boots} installed during the split; connections reset per boot: ${resets.join(', ')}; node-script tries moved on: ${moved.join(', ')}`,
      );
    }
    if (c.scenario === 'heal') {
      // The higher priority keeps the address (a master that hears a higher priority gives way).
      assert.is(o.holderAfter, first, report(o, [`${first} does not hold the address after the heal`]));
      const b = o.boots[0]!;
      console.log(`  failover (heal): the node installed; tries that moved on: ${b.movedOn.length ? b.movedOn.join(', ') : 'none'}`);
    }
    if (c.scenario === 'restart') {
      assert.ok(o.restartServed !== undefined, report(o, ['no lease after the restart']));
      console.log(`  failover (kea-restart): both Kea restarted at once; the node's first lease ${o.restartServed!.toFixed(1)} s later`);
    }
    if (c.scenario === 'nginx-dead') {
      // A failover is no split.
      assert.equal(o.splits, [], report(o, ['status named a split']));
      const mac = site.nodes[0].mac;
      assert.ok(
        o.notified[first]!.some((l) => l.startsWith('stop ')),
        report(o, [`${first}'s notify script did not stop its DHCP`]),
      );
      assert.equal(
        acks(o.dhcp[first]!.split(/DHCP4_SHUTDOWN|received SIGTERM|exiting on receipt/).slice(-1)[0] ?? '', mac),
        [],
        report(o, [`${first} answered after it stopped`]),
      );
      assert.ok(acks(o.dhcp[other]!, mac).length >= 2, report(o, [`${other} did not give every lease`]));
      const fromOther = requests(o.access[other] ?? '')
        .filter((q) => q.ip === site.nodes[0].ip && q.status === 200)
        .map((q) => q.path);
      assert.ok(
        fromOther.includes('/boot.ipxe') && fromOther.includes(`/harvester/${site.nodes[0].hostname}.yaml`),
        report(o, [`${other} did not serve the boot`]),
      );
    }
  });
}

test.run();
