// A machine's facts from its BMC's Redfish service (DSP0266; resources as the DMTF schemas
// define them): the ComputerSystem, its Processors, Memory, Storage (each Storage's Drives) and
// SimpleStorage, EthernetInterfaces, SecureBoot and Bios. Every link is followed only within the
// service (`/redfish/v1/` on the same origin: the credentials never go elsewhere), at most
// MAX_MEMBERS members a collection and MAX_REQUESTS requests a machine, each answer bounded
// (./http.ts). A value the service reports is kept only where it passes the facts file's own
// pattern (schema/facts.schema.json): text cut and cleaned, MACs normalised, unknown kinds dropped.
import type { MeasuredDisk, MeasuredFacts, MeasuredNic } from '../facts/types.ts';
import { normalizeMac } from '../util/mac.ts';
import { getJson, RedfishError, type RedfishHttpOptions } from './http.ts';
import { defined } from '../util/defined.ts';
import { reportedText, smbiosUuid } from '../facts/text.ts';

/** Members read of one collection. */
export const MAX_MEMBERS = 256;
/** Requests of one machine's walk. */
export const MAX_REQUESTS = 2048;
/** Bytes of one machine's walk, all answers together (each parsed answer is kept until the walk ends: JSON takes about 16 times its size in memory at worst). */
export const MAX_WALK_BYTES = 8 * 1024 * 1024;

type Json = Record<string, unknown>;

/** Where to read: the service's origin and, when the BMC serves several, the system. */
export interface RedfishTarget {
  /** `https://host[:port]` */
  readonly origin: string;
  /** The ComputerSystem's path or Id (`bmc.system`); absent: the one member of Systems. */
  readonly system?: string;
}

/** What the walk measured, less `measured.at` (the caller's clock). */
export type RedfishFacts = Omit<MeasuredFacts, 'measured'> & { readonly from: string };

/** Read one machine's facts. Throws RedfishError. */
export async function readRedfish(target: RedfishTarget, o: RedfishHttpOptions): Promise<RedfishFacts> {
  const walk = new Walk(target.origin, o);
  const root = await walk.get('/redfish/v1/');
  const systems = await walk.members(link(root.Systems) ?? '/redfish/v1/Systems');
  const path = chooseSystem(systems, target.system, walk.origin);
  const sys = await walk.get(path);
  // A part the system links but the service does not have (404, 501: sushy-tools' fake driver
  // links Memory and answers 404) is a fact not reported, not a failed measurement.
  const [cpus, memoryGib, disks, nics, secureBoot, biosMode] = [
    await absentAs(undefined, processorThreads(walk, sys)),
    await absentAs(undefined, installedMemory(walk, sys)),
    await absentAs(undefined, drives(walk, sys)),
    await absentAs([], ethernet(walk, sys)),
    await absentAs(undefined, secureBootOf(walk, sys)),
    await absentAs(undefined, biosBootMode(walk, sys)),
  ];
  const firmware = biosMode ?? overrideMode(sys);
  const virtualized = sys.SystemType === 'Virtual' ? true : sys.SystemType === 'Physical' ? false : undefined;
  return {
    from: new URL(path, walk.origin).href,
    identity: defined({
      manufacturer: reportedText(sys.Manufacturer),
      model: reportedText(sys.Model),
      serial: reportedText(sys.SerialNumber),
      uuid: smbiosUuid(sys.UUID),
    }),
    ...defined({ firmware, secureBoot, cpus, memoryGib, virtualized, disks }),
    nics,
  };
}

/** What `part` gives, or `none` when the service has no such resource (404, 501). */
async function absentAs<T>(none: T, part: Promise<T>): Promise<T> {
  try {
    return await part;
  } catch (e) {
    if (e instanceof RedfishError && (e.status === 404 || e.status === 501)) return none;
    throw e;
  }
}

/** The requests of one walk, counted, every link checked to stay within the service. */
class Walk {
  readonly origin: string;
  private count = 0;
  private readonly o: RedfishHttpOptions;
  constructor(origin: string, o: RedfishHttpOptions) {
    this.origin = new URL(origin).origin;
    this.o = { ...o, budget: { left: MAX_WALK_BYTES } };
  }

  async get(path: string): Promise<Json> {
    const url = new URL(path, this.origin);
    // The service's own paths: `/redfish/v1` and below it, not `/redfish/v1evil/`.
    const within = url.pathname === '/redfish/v1' || url.pathname.startsWith('/redfish/v1/');
    if (url.origin !== this.origin || !within) {
      throw new RedfishError(
        `the service links to ${url.href.slice(0, 200)}, outside ${this.origin}/redfish/v1: not followed (the BMC's credentials go nowhere else)`,
        url.href,
      );
    }
    if (++this.count > MAX_REQUESTS) throw new RedfishError(`more than ${MAX_REQUESTS} resources to read for one machine`, url.href);
    return getJson(url, this.o);
  }

  /** A collection's members, each read. */
  async members(path: string): Promise<{ path: string; value: Json }[]> {
    const c = await this.get(path);
    const paths = memberLinks(c, path);
    const out: { path: string; value: Json }[] = [];
    for (const p of paths) out.push({ path: p, value: await this.get(p) });
    return out;
  }

  /** The members of the collection `ref` links to; undefined when it links nowhere or the service has no such collection (404, 501). */
  async linked(ref: unknown): Promise<Json[] | undefined> {
    const path = link(ref);
    return path === undefined
      ? undefined
      : absentAs(
          undefined,
          this.members(path).then((all) => all.map((m) => m.value)),
        );
  }
}

/** The member links of a collection, at most MAX_MEMBERS. */
function memberLinks(c: Json, path: string): string[] {
  const members = Array.isArray(c.Members) ? c.Members : [];
  if (members.length > MAX_MEMBERS) throw new RedfishError(`${members.length} members, more than the ${MAX_MEMBERS} read`, path);
  return members.map(link).filter((p): p is string => p !== undefined);
}

/** The system asked for (a path or an Id), or the only one. */
function chooseSystem(systems: { path: string; value: Json }[], want: string | undefined, origin: string): string {
  if (want !== undefined) {
    const found = systems.find((s) => s.path.replace(/\/+$/, '') === want.replace(/\/+$/, '') || s.value.Id === want);
    if (!found) throw new RedfishError(`no system ${want} among ${systems.map((s) => s.path).join(', ') || 'none'}`, origin);
    return found.path;
  }
  if (systems.length !== 1) {
    throw new RedfishError(
      `the BMC has ${systems.length} systems (${systems.map((s) => s.path).join(', ')}): name the machine's (a node's \`bmc.system\`, or --system with --bmc)`,
      origin,
    );
  }
  return systems[0]!.path;
}

/** Logical CPUs: the processors' threads (CPUs only, present ones), else the summary's count. */
async function processorThreads(walk: Walk, sys: Json): Promise<number | undefined> {
  const procs = ((await walk.linked(sys.Processors)) ?? []).filter((p) => (p.ProcessorType ?? 'CPU') === 'CPU' && present(p));
  const threads = procs.map((p) => count(p.TotalThreads));
  if (procs.length > 0 && threads.every((t) => t !== undefined)) return threads.reduce((a, b) => a! + b!, 0);
  const summary = (sys.ProcessorSummary ?? {}) as Json;
  return count(summary.LogicalProcessorCount);
}

/**
 * Installed memory in GiB, floored: the memory modules' capacity summed (what dmidecode's type 19
 * ranges add up to), else the summary's TotalSystemMemoryGiB, which DSP0268 defines as the memory
 * the OS can use (a 32 GiB machine may report 31).
 */
async function installedMemory(walk: Walk, sys: Json): Promise<number | undefined> {
  const dimms = ((await walk.linked(sys.Memory)) ?? []).filter(present);
  const mib = dimms.map((d) => count(d.CapacityMiB)).filter((n): n is number => n !== undefined);
  if (mib.length > 0) return Math.floor(mib.reduce((a, b) => a + b, 0) / 1024);
  const total = ((sys.MemorySummary ?? {}) as Json).TotalSystemMemoryGiB;
  return typeof total === 'number' && total >= 0 ? Math.floor(total) : undefined;
}

/**
 * Every drive of every Storage, and SimpleStorage's devices when there is no Storage, in a fixed
 * order (model, serial, size: a BMC may list its members in any order); undefined when the service
 * has neither, or a present drive has no size (behind a RAID controller, often): disks not
 * reported, which is not a machine without disks. At most MAX_MEMBERS disks.
 */
async function drives(walk: Walk, sys: Json): Promise<MeasuredDisk[] | undefined> {
  const storages = await walk.linked(sys.Storage);
  const found: Json[] = [];
  const seen = new Set<string>();
  for (const storage of storages ?? []) {
    for (const ref of Array.isArray(storage.Drives) ? storage.Drives.slice(0, MAX_MEMBERS) : []) {
      const path = link(ref);
      if (path === undefined || seen.has(path)) continue;
      seen.add(path);
      const d = await walk.get(path);
      if (present(d)) found.push(d);
    }
  }
  if (storages === undefined || (found.length === 0 && storages.length === 0)) {
    const simples = await walk.linked(sys.SimpleStorage);
    if (storages === undefined && simples === undefined) return undefined;
    for (const simple of simples ?? []) {
      for (const dev of Array.isArray(simple.Devices) ? (simple.Devices as Json[]).slice(0, MAX_MEMBERS) : []) {
        if (dev && typeof dev === 'object' && present(dev)) found.push(dev);
      }
    }
  }
  if (found.length > MAX_MEMBERS)
    throw new RedfishError(`${found.length} disks, more than the ${MAX_MEMBERS} a facts file holds`, walk.origin);
  const disks = found.map(diskOf);
  if (disks.some((d) => d === undefined)) return undefined;
  return (disks as MeasuredDisk[]).sort(
    (a, b) => cmp(a.model ?? '', b.model ?? '') || cmp(a.serial ?? '', b.serial ?? '') || a.sizeGib - b.sizeGib,
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A drive (or SimpleStorage device) as a facts file keeps it; undefined without a size. */
function diskOf(d: Json): MeasuredDisk | undefined {
  const bytes = d.CapacityBytes;
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0 || bytes > 2 ** 61) return undefined;
  return {
    ...defined({
      model: reportedText(d.Model),
      serial: reportedText(d.SerialNumber),
      wwn: durableWwn(d.Identifiers),
      media: d.MediaType === 'SSD' || d.MediaType === 'HDD' || d.MediaType === 'SMR' ? d.MediaType : undefined,
      protocol: typeof d.Protocol === 'string' && /^[A-Za-z0-9]{1,16}$/.test(d.Protocol) ? d.Protocol : undefined,
    }),
    sizeGib: Math.floor(bytes / 2 ** 30),
  };
}

/**
 * A drive's World Wide Name from its Redfish `Identifiers`: NAA as `0x<hex>`, EUI-64 and NGUID as
 * `eui.<hex>` (the forms a dump's udev links take); undefined when it reports none of those.
 */
function durableWwn(ids: unknown): string | undefined {
  if (!Array.isArray(ids)) return undefined;
  for (const id of ids.slice(0, 16) as Json[]) {
    if (!id || typeof id !== 'object' || typeof id.DurableName !== 'string') continue;
    const hex = id.DurableName.replace(/^(0x|naa\.|eui\.)/i, '')
      .replace(/:/g, '')
      .toLowerCase();
    if (!/^[0-9a-f]{8,64}$/.test(hex)) continue;
    if (id.DurableNameFormat === 'NAA') return `0x${hex}`;
    if (id.DurableNameFormat === 'EUI' || id.DurableNameFormat === 'NGUID') return `eui.${hex}`;
  }
  return undefined;
}

/** The system's Ethernet interfaces with a MAC. */
async function ethernet(walk: Walk, sys: Json): Promise<MeasuredNic[]> {
  const out: MeasuredNic[] = [];
  for (const e of (await walk.linked(sys.EthernetInterfaces)) ?? []) {
    // The permanent MAC names the NIC; the one it is set to now (a virtual MAC), when another, is
    // what the firmware, DHCP and the installer see: both kept, either matches a node's MAC.
    const permanent = normalizeMac(String(e.PermanentMACAddress ?? ''));
    const current = normalizeMac(String(e.MACAddress ?? ''));
    const mac = permanent ?? current;
    if (mac === undefined || out.some((n) => n.mac === mac)) continue;
    const configuredMac = current !== undefined && current !== mac ? current : undefined;
    const speed = count(e.SpeedMbps);
    const link: MeasuredNic['link'] =
      e.LinkStatus === 'LinkUp' ? 'up' : e.LinkStatus === 'LinkDown' || e.LinkStatus === 'NoLink' ? 'down' : undefined;
    out.push({ mac, ...defined({ configuredMac, speedMbps: speed !== undefined && speed > 0 ? speed : undefined, link }) });
  }
  return out.sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
}

async function secureBootOf(walk: Walk, sys: Json): Promise<boolean | undefined> {
  const path = link(sys.SecureBoot);
  if (path === undefined) return undefined;
  const sb = await walk.get(path);
  if (sb.SecureBootCurrentBoot === 'Enabled') return true;
  if (sb.SecureBootCurrentBoot === 'Disabled') return false;
  return typeof sb.SecureBootEnable === 'boolean' ? sb.SecureBootEnable : undefined;
}

/** The firmware's boot mode among the Bios resource's attributes (vendors name it BootMode). */
async function biosBootMode(walk: Walk, sys: Json): Promise<'uefi' | 'bios' | undefined> {
  const path = link(sys.Bios);
  if (path === undefined) return undefined;
  const attrs = ((await walk.get(path)).Attributes ?? {}) as Json;
  return bootMode(attrs.BootMode);
}

/** The boot override mode, when it is the firmware's only one or the one it has. */
function overrideMode(sys: Json): 'uefi' | 'bios' | undefined {
  const boot = (sys.Boot ?? {}) as Json;
  return bootMode(boot.BootSourceOverrideMode);
}

function bootMode(v: unknown): 'uefi' | 'bios' | undefined {
  if (typeof v !== 'string') return undefined;
  if (/^uefi$/i.test(v)) return 'uefi';
  return /^(legacy|bios|legacybios)$/i.test(v) ? 'bios' : undefined;
}

/** A resource not marked absent (Status.State `Absent`: an empty slot). */
function present(r: Json): boolean {
  const status = (r.Status ?? {}) as Json;
  return status.State !== 'Absent';
}

function link(v: unknown): string | undefined {
  const id = v && typeof v === 'object' ? (v as Json)['@odata.id'] : undefined;
  return typeof id === 'string' && id.startsWith('/') && id.length <= 1024 ? id : undefined;
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 10_000_000 ? v : undefined;
}
