/**
 * A tagged VLAN for a QEMU guest on machines whose kernel has no 8021q and no bridge
 * vlan_filtering (docs/dev/research-vlan.md §6): vlan-trunk.py, a userspace 802.1Q trunk, runs
 * inside the test's namespace between the guest's tap (untagged native frames and tagged frames)
 * and one veth pair per VLAN, whose other end holds the server's address (e.g. dnsmasq on it).
 *
 *   guest eth0 ── tap ══ vlan-trunk.py ── <trunkIf> ┄ veth ┄ <serverIf> (10.100.0.1/24, VID 100)
 *                                       └─ <trunkIf> ┄ veth ┄ <serverIf> (192.168.50.1/24, native)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon, waitFor, killPid, type Daemon } from './proc.ts';
import type { Netns } from './netns.ts';

/** The trunk script (stdlib python3; Debian's interpreter, as for the other helper scripts). */
export const VLAN_TRUNK_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'vlan-trunk.py');
export const VLAN_TRUNK_PYTHON = '/usr/bin/python3';

/** Frame counts kept by the trunk; keys of the per-VID records are decimal VIDs ("0" = native). */
export interface VlanTrunkCounts {
  /** Frames received on the trunk and forwarded to the access port of that VID. */
  fromTrunk: Record<string, number>;
  /** Frames received on the access port of that VID and sent to the trunk (tagged unless VID 0). */
  toTrunk: Record<string, number>;
  /** Frames received on the trunk with a VID that has no access port (dropped). */
  dropped: Record<string, number>;
  /** Tagged trunk frames whose tag the kernel had moved into PACKET_AUXDATA (the usual case). */
  tagInAuxdata: number;
  /** Tagged trunk frames whose tag was still in the frame bytes. */
  tagInBytes: number;
  sendErrors: number;
  truncated: number;
  outgoingIgnored: number;
}

/** A running trunk. */
export interface VlanTrunk {
  daemon: Daemon;
  /** The counts so far (SIGUSR1, then the line it prints). */
  counts(): Promise<VlanTrunkCounts>;
  /** SIGTERM and the final counts. Idempotent. */
  stop(): Promise<VlanTrunkCounts>;
}

/** Options of startVlanTrunk. */
export interface VlanTrunkOptions {
  /** The interface carrying native and tagged frames: the guest's tap. */
  trunk: string;
  /** VID (0 = native/untagged) → the interface the trunk reads and writes (a veth's trunk end). */
  access: Record<number, string>;
}

/**
 * Create a veth pair for one access port: `serverIf` gets `cidr` (e.g. 10.100.0.1/24; a DHCP
 * or HTTP server binds there), `trunkIf` is what the trunk forwards to and from. Both are up.
 */
export async function addAccessPort(ns: Netns, serverIf: string, trunkIf: string, cidr: string): Promise<void> {
  await ns.sh(['ip', 'link', 'add', serverIf, 'type', 'veth', 'peer', 'name', trunkIf]);
  await ns.sh(['ip', 'addr', 'add', cidr, 'dev', serverIf]);
  await ns.sh(['ip', 'link', 'set', serverIf, 'up']);
  await ns.sh(['ip', 'link', 'set', trunkIf, 'up']);
}

const COUNTS_RE = /^vlan-trunk: counts (\{.*\})$/gm;

/** The last counts line in the trunk's output, if any. */
export function lastCounts(output: string): VlanTrunkCounts | undefined {
  const all = [...output.matchAll(COUNTS_RE)];
  const last = all[all.length - 1];
  return last ? (JSON.parse(last[1]!) as VlanTrunkCounts) : undefined;
}

/**
 * Start the trunk inside `ns` (the interfaces must exist; they are set up here, and the trunk puts
 * them in promiscuous mode itself) and wait for its ready line. Throws with its output if it fails.
 */
export async function startVlanTrunk(ns: Netns, o: VlanTrunkOptions): Promise<VlanTrunk> {
  const access = Object.entries(o.access).map(([vid, ifname]) => `${Number(vid)}=${ifname}`);
  if (access.length === 0) throw new Error('startVlanTrunk: no access ports');
  for (const ifname of [o.trunk, ...Object.values(o.access)]) await ns.sh(['ip', 'link', 'set', ifname, 'up']);
  const argv = [VLAN_TRUNK_PYTHON, '-u', VLAN_TRUNK_SCRIPT, '--trunk', o.trunk, ...access.flatMap((a) => ['--access', a])];
  const d = startDaemon('vlan-trunk', ns.exec(argv));
  const ok = await waitFor(() => d.exited() || /^vlan-trunk: ready/m.test(d.output()), 10_000);
  if (!ok || d.exited()) {
    await d.stop();
    throw new Error(`vlan-trunk did not start (${d.exited() ? `exit ${d.exitCode()}` : 'timeout'})\n$ ${d.cmd}\n${d.output()}`);
  }
  const readCounts = async (after: number): Promise<VlanTrunkCounts> => {
    const got = await waitFor(() => lastCounts(d.output().slice(after)), 5000);
    if (!got) throw new Error(`vlan-trunk printed no counts (${d.exited() ? `exit ${d.exitCode()}` : 'running'})\n${d.output()}`);
    return got;
  };
  let final: Promise<VlanTrunkCounts> | undefined;
  return {
    daemon: d,
    async counts() {
      if (d.exited()) return readCounts(0);
      const before = d.output().length;
      killPid(d.pid, 'SIGUSR1');
      return readCounts(before);
    },
    stop() {
      final ??= (async () => {
        const before = d.output().length;
        await d.stop(3000);
        // Exited before (a crash) or killed: whatever counts it printed last, if any.
        return lastCounts(d.output().slice(before)) ?? readCounts(0);
      })();
      return final;
    },
  };
}
