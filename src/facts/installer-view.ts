// What the Harvester installer would measure of one node, from its facts file: the preflight's
// facts (CPUs, installed memory, the management NICs' speed, a VM, /dev/kvm, the firmware) and the
// sizes of the disks its config names, each with the place in the facts file it came from, so a
// rule's finding points at the measured fact as it points at a declared one.
import type { HardwareFacts } from '../harvester/hardware-facts.ts';
import { MEASURED_LAYER } from '../types/layers.ts';
import type { InventoryPath } from '../util/paths.ts';
import type { MeasuredDisk, MeasuredFacts } from './types.ts';
import { diskPaths } from './disk-selector.ts';

/** The installer's production NIC speed (pkg/preflight MinNetworkGbpsProd, 10 Gbps). */
const PRODUCTION_NIC_MBPS = 10000;

/** What a node's config and inventory say that the measured facts are matched against. */
export interface NodeShape {
  readonly hostname: string;
  /** The management interface's NICs (`interfaces:`, else the boot MACs). */
  readonly interfaces: readonly { readonly mac?: string; readonly name?: string }[];
  /** `install.device` and `install.data_disk` as the installer reads them. */
  readonly device: string;
  readonly dataDisk: string;
}

/** The installer's facts of a node as measured, and where each is in the facts file. */
export interface MeasuredView {
  readonly facts: HardwareFacts;
  readonly at: Partial<Record<keyof HardwareFacts, InventoryPath>>;
  /**
   * Facts the measurement settles without a value, so a declared one must not stand in: the
   * management NICs were measured but none has a speed the installer reads (virtio, link down),
   * or dmidecode reported no memory range (the installer falls back to MemTotal).
   */
  readonly settled: readonly (keyof HardwareFacts)[];
  readonly firmware?: { readonly value: 'uefi' | 'bios'; readonly at: InventoryPath };
  /**
   * NICs of the management interface named only by kernel name, which facts without names
   * (Redfish) cannot tie to a measured NIC. `fastest`: every NIC that is up is below 10 Gbps, and
   * `nicSpeedMbps` is the fastest of them (whichever the installer checks fails); otherwise their
   * speeds differ across 10 Gbps and harvgen cannot judge (`speeds`, said in a warning).
   */
  readonly nicUntied?: { readonly names: readonly string[]; readonly fastest: boolean; readonly speeds?: string };
  /**
   * The config's install device is not among the machine's disks: it has none, or the facts name
   * their disks (a dump) and none has that path. Redfish names no disk as the kernel will: there,
   * only a machine without disks tells.
   */
  readonly deviceMissing?: { readonly at: InventoryPath };
  /** The measured disks, said for a message (`sda 447 GiB, sdb 1863 GiB`), absent when there is none. */
  readonly disks?: string;
}

/** The measured view of a node (`m` is its facts file, `node` how the inventory describes it). */
export function measuredView(m: MeasuredFacts, node: NodeShape): MeasuredView {
  const base: InventoryPath = [MEASURED_LAYER, node.hostname];
  const v = new ViewFacts(base);
  v.put('cpus', m.cpus, ['cpus']);
  v.put('memoryGib', m.memoryGib, ['memory_gib']);
  v.put('memoryTotalGib', m.memoryTotalGib, ['memory_total_gib']);
  v.put('virtualized', m.virtualized, ['virtualized']);
  v.put('kvm', m.kvm, ['kvm']);
  // Disks not reported (a BMC without Storage) say nothing of the install disk.
  const disks = m.disks ?? [];
  const install = diskNamed(disks, node.device, true);
  if (install !== undefined) v.put('diskGib', disks[install]!.sizeGib, ['disks', install, 'size_gib']);
  const data = node.dataDisk !== '' && node.dataDisk !== node.device ? diskNamed(disks, node.dataDisk, false) : undefined;
  if (data !== undefined) v.put('dataDiskGib', disks[data]!.sizeGib, ['disks', data, 'size_gib']);
  const tied = tiedNics(m, node, v);
  const untied = tied.untiedNames.length > 0 ? untiedNics(m, tied.untiedNames, v) : { measured: false, nicUntied: undefined };
  const nicUntied = untied.nicUntied;
  const settled: (keyof HardwareFacts)[] = [];
  if ((tied.measured || untied.measured) && v.facts.nicSpeedMbps === undefined && nicUntied?.fastest !== false)
    settled.push('nicSpeedMbps');
  if (m.memoryGib === undefined && m.memoryTotalGib !== undefined) settled.push('memoryGib');
  return {
    facts: v.facts,
    at: v.at,
    settled,
    ...(nicUntied ? { nicUntied } : {}),
    ...(m.firmware ? { firmware: { value: m.firmware, at: [...base, 'firmware'] } } : {}),
    // No device at all is NODE_DEVICE_MISSING's, not the machine's.
    ...(m.disks && node.device !== '' && install === undefined && (m.disks.length === 0 || m.disks.some(named))
      ? { deviceMissing: { at: [...base, 'disks'] } }
      : {}),
    ...(disks.length > 0
      ? {
          disks: disks
            .map((d) => `${d.byId ?? (d.name !== undefined ? `/dev/${d.name}` : (d.model ?? 'a disk'))} ${d.sizeGib} GiB`)
            .join(', '),
        }
      : {}),
  };
}

/** The facts a view takes from the measured layer, each with where in it it was read. */
class ViewFacts {
  readonly facts: { -readonly [K in keyof HardwareFacts]?: HardwareFacts[K] } = {};
  readonly at: Partial<Record<keyof HardwareFacts, InventoryPath>> = {};
  constructor(private readonly base: InventoryPath) {}

  /** Take `v` (unless undefined) as the fact `k`, read at `path` under the node's facts. */
  put<K extends keyof HardwareFacts>(k: K, v: HardwareFacts[K] | undefined, path: readonly (string | number)[]): void {
    if (v === undefined) return;
    this.facts[k] = v;
    this.at[k] = [...this.base, ...path];
  }
}

/**
 * The NICs of the management interface among the measured ones: the slowest speed and the first
 * driver. The installer checks each NIC of the management interface; one with no speed (virtio's -1)
 * or a link down (its sysfs speed is -1 or unreadable) it skips. A NIC is the measured one of
 * its MAC (the permanent one or the one it is set to now), or of its name when it has no MAC.
 */
function tiedNics(m: MeasuredFacts, node: NodeShape, v: ViewFacts): { measured: boolean; untiedNames: string[] } {
  let slowest: number | undefined;
  let measured = false;
  const untiedNames: string[] = [];
  node.interfaces.forEach((nic) => {
    const i = m.nics.findIndex((n) =>
      nic.mac !== undefined ? n.mac === nic.mac || n.configuredMac === nic.mac : nic.name !== undefined && n.name === nic.name,
    );
    if (i < 0 && nic.mac === undefined && nic.name !== undefined && !m.nics.some((n) => n.name !== undefined)) untiedNames.push(nic.name);
    if (i >= 0) measured = true;
    const speed = i < 0 || m.nics[i]!.link === 'down' ? undefined : m.nics[i]!.speedMbps;
    if (i >= 0 && m.nics[i]!.driver !== undefined && v.facts.nicDriver === undefined)
      v.put('nicDriver', m.nics[i]!.driver, ['nics', i, 'driver']);
    if (speed !== undefined && (slowest === undefined || speed < m.nics[slowest]!.speedMbps!)) slowest = i;
  });
  if (slowest !== undefined) v.put('nicSpeedMbps', m.nics[slowest]!.speedMbps, ['nics', slowest, 'speed_mbps']);
  return { measured, untiedNames };
}

/**
 * Interfaces named only by kernel name, with facts that name no NIC (Redfish): the installer
 * checks NICs the facts cannot tie to them. The NICs that report a speed stand in: all below
 * 10 Gbps (and one of them up), the installer fails whichever it checks that is up (judged on
 * the fastest); some at 10 Gbps or more and some below, harvgen cannot tell and says so.
 */
function untiedNics(m: MeasuredFacts, untiedNames: string[], v: ViewFacts): { measured: boolean; nicUntied: MeasuredView['nicUntied'] } {
  // NICs whose link is up and that report a speed. A BMC that reports neither (the host off, or
  // no SpeedMbps) settles nothing: a declared speed stands. A NIC of unknown link with a speed
  // counts against the verdict only when it reaches 10 Gbps (it may be the one named).
  const withSpeed = m.nics.map((n, i) => [n, i] as const).filter(([n]) => n.link !== 'down' && n.speedMbps !== undefined);
  const up = withSpeed.filter(([n]) => n.link === 'up');
  const measured = up.length > 0;
  if (up.length > 0 && withSpeed.every(([n]) => n.speedMbps! < PRODUCTION_NIC_MBPS)) {
    const [fastest, i] = withSpeed.reduce((a, b) => (b[0].speedMbps! > a[0].speedMbps! ? b : a));
    if (v.facts.nicSpeedMbps === undefined || fastest.speedMbps! < v.facts.nicSpeedMbps)
      v.put('nicSpeedMbps', fastest.speedMbps, ['nics', i, 'speed_mbps']);
    return { measured, nicUntied: { names: untiedNames, fastest: true } };
  }
  if (withSpeed.some(([n]) => n.speedMbps! >= PRODUCTION_NIC_MBPS) && withSpeed.some(([n]) => n.speedMbps! < PRODUCTION_NIC_MBPS))
    return {
      measured,
      nicUntied: { names: untiedNames, fastest: false, speeds: withSpeed.map(([n]) => `${n.mac} ${n.speedMbps} Mbps`).join(', ') },
    };
  return { measured, nicUntied: undefined };
}

/** A disk the facts name as the kernel does (a dump). */
const named = (d: MeasuredDisk): boolean => d.name !== undefined || d.byId !== undefined;

/**
 * The disk a config's device path names: its by-id path or `/dev/<name>`. Facts that name no disk
 * (Redfish) cannot tell which disk a path is: for the install disk, the machine's only disk.
 */
function diskNamed(disks: readonly MeasuredDisk[], device: string, onlyOne: boolean): number | undefined {
  if (device !== '') {
    const i = disks.findIndex((d) => diskPaths(d).includes(device));
    if (i >= 0) return i;
  }
  return onlyOne && disks.length === 1 && !named(disks[0]!) ? 0 : undefined;
}
