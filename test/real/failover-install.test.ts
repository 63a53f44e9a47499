// A node installs with one of its site's two boot servers gone (`failover:`, docs/failover.md).
// Two boot servers in network namespaces of their own, each running what harvgen generated for
// it (keepalived for the shared address, nginx, dnsmasq with its half of the pool and every
// reservation, or Kea with the HA hook and a TFTP-only dnsmasq), joined by a bridge to a QEMU node (SeaBIOS, its NIC's iPXE ROM, the test kernel
// and initramfs in place of the installer's: it takes its lease, fetches
// harvester.install.config_url and prints it). In each case the test breaks the server that
// holds the shared address at one point of the boot:
//  - its nginx dies during the kernel download (every response is slowed to 2 MB/s, test-only,
//    so that the download lasts long enough to be cut): the node's script tries again, and the
//    other server, which took the address, serves the kernel, the initrd and the config;
//  - its DHCP server is gone as the node starts: with dnsmasq the other server's answers every
//    DHCP request of the boot (the firmware's iPXE and the installer's); with Kea's HA hook the
//    standby serves every lease once it finds the primary down (partner-down), within iPXE's
//    DHCP retries;
//  - the whole server goes (its link down, its daemons killed) during the kernel download: the
//    download stalls until the node's next packet reaches the new holder of the address, which
//    resets it; the script tries again, and the kernel, the initrd, the installer's lease and its
//    config all come from the other server.
// Each time the node fetches its own config, byte for byte the tree's. The time from the failure
// to the shared address moving, and to the other server's first served request, is printed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { bootVm, cleanSerial, lazyBoots, type BootResult } from './helpers/qemu.ts';
import type { SiteTree } from './helpers/tree.ts';
import { requests, selectedCases } from './helpers/boot-log.ts';
import { nodeBootDone, nodeBootProblems } from './helpers/node-boot.ts';
import { pairBootPrep, pairLogLines, readPairLogs } from './helpers/failover-boot.ts';
import { startBootPair, type BootPair } from './helpers/failover-pair.ts';
import { sleep, waitFor } from './helpers/proc.ts';

const ready = requireProgram('qemu-system-x86_64', 'keepalived', 'dnsmasq', 'nginx', 'curl', 'socat', 'ip', 'pgrep') && requireRoot();

const LIMIT_MS = 240_000;

/** The two fixtures and the node each case boots (its first). */
const SITES = {
  dnsmasq: {
    node: 'd1',
    mac: '52:54:00:32:00:01',
    ip: '10.32.0.11',
    gateway: '10.32.0.1',
  },
  kea: { node: 'f1', mac: '52:54:00:31:00:01', ip: '10.31.0.11', gateway: '10.31.0.1' },
} as const;
type Site = keyof typeof SITES;

type Failure = 'nginx' | 'dhcp' | 'server' | 'no-check' | 'slow-standby';
interface FailoverCase {
  id: string;
  site: Site;
  failure: Failure;
  title: string;
}

const CASES: FailoverCase[] = [
  {
    id: 'nginx',
    site: 'dnsmasq',
    failure: 'nginx',
    title:
      'nginx of the server holding the shared address dies during the kernel download: the node tries again and installs from the other server, with its own config',
  },
  {
    id: 'dhcp',
    site: 'dnsmasq',
    failure: 'dhcp',
    title:
      "the primary's dnsmasq is gone before the node asks for a lease: the other server gives every lease of the boot, the node installs",
  },
  {
    id: 'kea-dhcp',
    site: 'kea',
    failure: 'dhcp',
    title:
      "Kea's HA pair: the primary dies as the node starts; the standby takes over within iPXE's DHCP retries and gives every lease of the boot, the node installs",
  },
  {
    id: 'kea-slow',
    site: 'kea',
    failure: 'slow-standby',
    title:
      "mutation: with Kea's default HA timings (a heartbeat every 10 s, 60 s without an answer) the standby does not serve before iPXE gives up DHCP: the node boots nothing",
  },
  {
    id: 'server',
    site: 'dnsmasq',
    failure: 'server',
    title:
      'the whole server holding the shared address goes during the kernel download: the stalled download is reset by the new holder, and kernel, initrd, lease and config all come from the other server',
  },
  {
    id: 'kea-server',
    site: 'kea',
    failure: 'server',
    title:
      "Kea's HA pair: the whole primary goes during the kernel download: the other server serves the kernel and initrd, the standby the installer's lease, and the node its own config",
  },
  {
    id: 'no-check',
    site: 'dnsmasq',
    failure: 'no-check',
    title:
      "without keepalived's check of nginx (a mutation) nginx dies during the kernel download and the shared address stays with it: the node's script moves on to the other server's own address and installs from it, its own config included",
  },
];

/** HARVGEN_FAILOVER_ONLY=id,id runs only those cases (while working on one). */
const SELECTED = selectedCases(CASES, 'HARVGEN_FAILOVER_ONLY');

interface Outcome {
  tree: SiteTree;
  result?: BootResult;
  error?: unknown;
  access: Record<string, string>;
  dhcp: Record<string, string>;
  keepalived: Record<string, string>;
  /** When the failure was made (ms since the boot started), undefined when it never was. */
  failedAt?: number;
  /** Seconds from the failure until the other server held the shared address, and until its first request after the failure was logged. */
  moved?: number;
  firstServed?: number;
  holderAfter?: string;
  /** Seconds from the failure until the node's script started loading the installer again (its retry). */
  retried?: number;
  /** The other server's DHCP acknowledgements of the node when the failure was made. */
  acksAtFailure?: number;
  /** The two servers, the one holding the shared address first. */
  first: string;
  other: string;
  otherAddress: string;
}

/** The point of the boot at which the failure is made (from the node's serial console). */
const KERNEL_DOWNLOAD = /harvester-v1\.6\.0-vmlinuz-amd64/;
// The NIC's iPXE ROM starts; its first DHCP request follows some 2 s later (after its banner).
const IPXE_STARTS = /iPXE initialising devices/;
const TRIGGER: Record<Failure, RegExp> = {
  // iPXE prints the URL of a download as it starts.
  nginx: KERNEL_DOWNLOAD,
  dhcp: IPXE_STARTS,
  server: KERNEL_DOWNLOAD,
  'no-check': KERNEL_DOWNLOAD,
  'slow-standby': IPXE_STARTS,
};
const dhcpFailure = (f: Failure) => f === 'dhcp' || f === 'slow-standby';

/** The node's DHCP acknowledgements in a server's DHCP log (dnsmasq's DHCPACK, Kea's DHCP4_LEASE_ALLOC). */
const acks = (log: string, mac: string) => log.split('\n').filter((l) => /DHCPACK|DHCP4_LEASE_ALLOC/.test(l) && l.includes(mac));

/** The mutation: Kea's own default HA timings (a heartbeat every 10 s, 60 s without an answer). */
function slowerHa(d: Record<string, unknown>): void {
  const hooks = d['hooks-libraries'] as { parameters?: { 'high-availability': Record<string, unknown>[] } }[];
  const ha = hooks.find((h) => h.parameters)!.parameters!['high-availability'][0]!;
  if (!('heartbeat-delay' in ha) || !('max-response-delay' in ha)) throw new Error('the mutation changes nothing: no HA timings generated');
  delete ha['heartbeat-delay'];
  delete ha['max-response-delay'];
}

async function runCase(c: FailoverCase, tree: SiteTree, artifacts: { kernel: string; initrd: string }): Promise<Outcome> {
  const site = SITES[c.site];
  const pairServers = (tree.input as { failover?: { servers: { name: string; address: string }[] } }).failover!.servers;
  const [first, other] = pairServers.map((s) => s.name) as [string, string];
  const out: Outcome = { tree, access: {}, dhcp: {}, keepalived: {}, first, other, otherAddress: pairServers[1]!.address };
  let pair: BootPair | undefined;
  try {
    pair = await startBootPair(tree, artifacts, {
      limitRate: '2m',
      // The mutation: the primary's keepalived.conf without the check of nginx.
      ...(c.failure === 'slow-standby' ? { kea: slowerHa } : {}),
      ...(c.failure === 'no-check'
        ? { keepalived: { server: first, edit: (t: string) => t.replace(/\n\s*track_script \{[^}]*\}/, '') } }
        : {}),
    });
    const p = pair;
    const started = Date.now();
    const serialPath = path.join(p.workDir, `serial-${site.mac.replace(/:/g, '')}.log`);
    let done = false;
    // The director: waits for the trigger on the console, breaks the holder, then times the takeover.
    const director = (async () => {
      const trigger = TRIGGER[c.failure];
      {
        const seen = await waitFor(
          async () => done || trigger.test(cleanSerial(await readFile(serialPath, 'latin1').catch(() => ''))),
          LIMIT_MS,
          100,
        );
        if (!seen || done) return;
        if (dhcpFailure(c.failure)) {
          // The primary's DHCP server dies before the node's first request; timed: the other server's first lease of the node.
          const failedAt = Date.now();
          await p.kill(first, 'dhcp');
          out.failedAt = failedAt - started;
          const leased = await waitFor(() => done || acks(p.server(other).dhcpOutput(), site.mac).length > 0, LIMIT_MS, 100);
          if (leased && !done) out.firstServed = (Date.now() - failedAt) / 1000;
          return;
        }
        // Into the download, not at its first byte.
        await sleep(1000);
        // The other server's own health check asks it for boot.ipxe every 2 s: only the node's requests count.
        const nodeRequests = async () => requests(await p.accessLog(other)).filter((q) => q.ip === site.ip).length;
        const before = await nodeRequests();
        out.acksAtFailure = acks(p.server(other).dhcpOutput(), site.mac).length;
        const loads = async () =>
          (cleanSerial(await readFile(serialPath, 'latin1').catch(() => '')).match(/harvgen: loading the Harvester/g) ?? []).length;
        const loadsBefore = await loads();
        const failedAt = Date.now();
        if (c.failure === 'nginx' || c.failure === 'no-check') await p.kill(first, 'nginx');
        else await p.killServer(first);
        out.failedAt = failedAt - started;
        const moved = await waitFor(async () => done || (await p.holder()) === other, c.failure === 'no-check' ? 20_000 : 60_000, 100);
        if (moved && !done) out.moved = (Date.now() - failedAt) / 1000;
        const again = await waitFor(async () => done || (await loads()) > loadsBefore, LIMIT_MS, 100);
        if (again && !done) out.retried = (Date.now() - failedAt) / 1000;
        const served = await waitFor(async () => done || (await nodeRequests()) > before, LIMIT_MS, 100);
        if (served && !done) out.firstServed = (Date.now() - failedAt) / 1000;
      }
    })().catch((err: unknown) => {
      // A failure of the director (an `ip` command) is the case's error, not an unhandled rejection.
      out.error ??= err;
    });
    try {
      out.result = await bootVm({
        firmware: 'bios',
        mac: site.mac,
        ns: p.client,
        tap: p.tap,
        workDir: p.workDir,
        timeoutMs: LIMIT_MS,
        // The mutant's node gives up (and would then sleep 30 s before leaving network boot).
        stopWhen: (serial) =>
          nodeBootDone(serial) ??
          (/No bootable device/.test(cleanSerial(serial)) ? 'no bootable device' : undefined) ??
          (/could not load the installer for \S+ after 3 attempts/.test(cleanSerial(serial)) ? 'gave up' : undefined),
      });
    } finally {
      done = true;
      await director;
    }
    out.holderAfter = await p.holder();
    await readPairLogs(p, out);
  } catch (err) {
    out.error = err;
  } finally {
    await pair?.stop();
  }
  return out;
}

const outcome = lazyBoots(
  SELECTED,
  () => pairBootPrep('failover-install'),
  (c, { kernel, initrd, trees }) => runCase(c, trees[c.site], { kernel, initrd }),
);

function report(o: Outcome, problems: string[]): string {
  const tail = (s: string, n = 3000) => s.slice(-n);
  return [
    `${problems.length} problem(s):`,
    ...problems.map((x) => `  - ${x}`),
    o.error ? `error: ${o.error instanceof Error ? o.error.stack : String(o.error)}` : '',
    o.result ? `QEMU: ${o.result.cmd}\nserial (last 4000 chars):\n${tail(cleanSerial(o.result.serial), 4000)}` : '',
    `failure at ${o.failedAt ?? '-'} ms; moved after ${o.moved ?? '-'} s; first served after ${o.firstServed ?? '-'} s; holder at the end: ${o.holderAfter ?? '-'}`,
    ...pairLogLines(o),
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
    assert.ok(o.result && !o.error, report(o, ['no boot result']));
    assert.ok(o.failedAt !== undefined, report(o, ['the failure was never made (the trigger never showed)']));
    const served = (name: string) => requests(o.access[name] ?? '').filter((q) => q.ip === site.ip && q.status === 200);
    const found = await nodeBootProblems(o.tree, site.node, o.result!.serial, site.gateway, { staticIp: false });
    if (c.failure === 'no-check') {
      // The address stayed on the server whose nginx is dead; the node did not need it.
      assert.is(o.holderAfter, first, report(o, ['the address moved without the check']));
      assert.is(o.moved, undefined, report(o, ['the address moved without the check']));
      assert.equal(found, [], report(o, found));
      const fromOther = served(other).map((q) => q.path);
      assert.ok(fromOther.includes(`/harvester/${site.node}.yaml`), report(o, [`${other} did not serve the config`]));
      assert.match(
        cleanSerial(o.result!.serial),
        new RegExp(`harvgen: trying http://${o.otherAddress.replace(/\./g, '\\.')}`),
        report(o, ['the script did not move on to the other server']),
      );
      return;
    }
    if (c.failure === 'slow-standby') {
      // iPXE gave up DHCP before the standby served: no lease, no script, nothing booted.
      assert.is(o.result!.stoppedBecause, 'no bootable device', report(o, ['the node did not end at "No bootable device"']));
      assert.equal(acks(o.dhcp[other]!, site.mac), [], report(o, [`${other} gave the node a lease`]));
      // For the reason the mutation is about: the standby was still waiting for its partner.
      assert.not.match(o.dhcp[other]!, /to PARTNER-DOWN state/, report(o, ['the standby took over: the node gave up for another reason']));
      assert.equal([...served(first), ...served(other)], [], report(o, ['the node fetched something']));
      assert.ok(found.length > 0, 'the checks of a good install fail');
      return;
    }
    assert.equal(found, [], report(o, found));
    const config = `/harvester/${site.node}.yaml`;
    const release = o.tree.manifest.artifacts!;
    const kernel = new URL(release.kernel).pathname;
    const initrd = new URL(release.initrd).pathname;
    const fromOther = served(other).map((q) => q.path);
    const fromFirst = served(first).map((q) => q.path);
    if (c.failure === 'dhcp') {
      // Every lease of the boot from the other server; the primary gave none (it was gone).
      const got = acks(o.dhcp[other]!, site.mac).length;
      assert.ok(got >= 2, report(o, [`${other} acknowledged ${got} requests, expected the firmware's and the installer's`]));
      assert.equal(acks(o.dhcp[first]!, site.mac), [], report(o, [`${first}'s DHCP server answered after it was killed`]));
      assert.ok(fromFirst.includes(config), report(o, ['the config did not come through the shared address (still on the primary)']));
      if (c.site === 'kea') assert.match(o.dhcp[other]!, /to PARTNER-DOWN state/, report(o, ['the standby never went partner-down']));
      assert.ok(o.firstServed !== undefined, report(o, ['no lease timed']));
      console.log(
        `  failover (${c.id}): ${other} gave the node its first lease ${o.firstServed!.toFixed(1)} s after the primary's DHCP server died`,
      );
      return;
    }
    // The other server took the address and served the rest of the boot, the node's config included.
    assert.is(o.holderAfter, other, report(o, [`${other} does not hold the shared address`]));
    assert.ok(o.moved !== undefined && o.firstServed !== undefined, report(o, ['no takeover timed']));
    for (const want of [kernel, initrd, config]) assert.ok(fromOther.includes(want), report(o, [`${other} did not serve ${want}`]));
    assert.not.ok(fromFirst.includes(config), report(o, [`${first} served the config`]));
    assert.not.ok(fromFirst.includes(kernel), report(o, [`${first} finished the kernel: the failure did not cut it`]));
    // The cut download failed in the node's script, which tried again.
    // A try that fails moves on to the next server at once (`harvgen: trying <base>`), or waits when each failed.
    const retries = (cleanSerial(o.result!.serial).match(/harvgen: (?:attempt \d of 3 failed|trying \S+)/g) ?? []).length;
    assert.ok(retries >= 1, report(o, ['the script did not try again']));
    // The installer's lease came from the other server too.
    if (c.failure === 'server') {
      const after = acks(o.dhcp[other]!, site.mac).length - (o.acksAtFailure ?? 0);
      assert.ok(after >= 1, report(o, [`${other} gave the node no lease after the failure`]));
      if (c.site === 'kea') assert.match(o.dhcp[other]!, /to PARTNER-DOWN state/, report(o, ['the standby never went partner-down']));
    }
    // The documented figures (about 3 s to move the address), with room for a loaded CI machine.
    assert.ok(o.moved! < 15, report(o, [`the address moved only after ${o.moved} s`]));
    assert.ok(o.retried !== undefined, report(o, ['the retry was not timed']));
    console.log(
      `  failover (${c.id}): the shared address moved ${o.moved!.toFixed(1)} s after the failure; the node's script asked again ${o.retried!.toFixed(1)} s after it (${retries} retry); the other server's first download for the node ended ${o.firstServed!.toFixed(1)} s after it (at the test's 2 MB/s)`,
    );
  });
}

test.run();
