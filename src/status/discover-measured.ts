// What a discover stub takes from measured facts (`facts/<hostname>.yaml` of a machine measured
// before it had a node, `harvgen facts --bmc ... --as <hostname>`): the facts whose NICs have the
// unknown MAC, or whose SMBIOS UUID is the one the machine reported, give the stub its hostname,
// its install disk (a stable by-id path, when a dump measured one) and its identity.
import type { MeasuredDisk, MeasuredFacts } from '../facts/types.ts';
import type { SiteModel } from '../model/index.ts';
import type { UnknownMachine } from './types.ts';
import { HOSTNAME } from '../util/hostname.ts';

/** A facts file an unknown machine matched. */
export interface MeasuredMatch {
  readonly hostname: string;
  readonly facts: MeasuredFacts;
  /** `mac` or `uuid`: how it matched. */
  readonly by: 'mac' | 'uuid';
}

/** The facts of a machine no node has that `u` is, by its MAC, else by the UUID it reported. */
export function measuredMatch(model: SiteModel, u: UnknownMachine): MeasuredMatch | undefined {
  const nodes = new Set(model.nodes.map((n) => n.hostname));
  const free = Object.entries(model.measured ?? {}).filter(([host]) => !nodes.has(host) && HOSTNAME.test(host));
  const byMac = free.find(([, f]) => f.nics.some((n) => n.mac === u.mac || n.configuredMac === u.mac));
  if (byMac) return { hostname: byMac[0], facts: byMac[1], by: 'mac' };
  const uuid = u.report?.uuid?.toLowerCase();
  const byUuid = uuid ? free.find(([, f]) => f.identity.uuid === uuid) : undefined;
  return byUuid ? { hostname: byUuid[0], facts: byUuid[1], by: 'uuid' } : undefined;
}

/**
 * The install disk a stub proposes: the smallest disk with a by-id path that holds the installer's
 * single-disk minimum (250 GiB), else the largest with one; none when no disk has a by-id path.
 */
export function proposedDisk(disks: readonly MeasuredDisk[]): MeasuredDisk | undefined {
  const stable = disks.filter((d) => d.byId !== undefined).sort((a, b) => a.sizeGib - b.sizeGib);
  return stable.find((d) => d.sizeGib >= 250) ?? stable[stable.length - 1];
}

/**
 * The stub's comment lines and fields from the facts (`clean` makes reported text comment-safe).
 * Matched by the UUID alone (the machine's MAC is none of the facts' NICs), the stub takes nothing
 * of the facts: a UUID is what a machine says of itself, and anyone on the boot network can say
 * another's. It only says so.
 */
export function measuredStub(m: MeasuredMatch, clean: (s: string) => string): { comments: string[]; fields: string[] } {
  if (m.by === 'uuid')
    return {
      comments: [
        `# It reported the SMBIOS UUID of the machine measured as ${m.hostname} (facts/${m.hostname}.yaml), but none of that machine's NICs has its MAC: a UUID is what a machine says of itself, so this stub takes nothing of those facts. If it is that machine, measure it again (harvgen facts) with this NIC, then run discover again.`,
      ],
      fields: [],
    };
  const f = m.facts;
  const id = f.identity;
  const who = [
    id.manufacturer && `manufacturer ${clean(id.manufacturer)}`,
    id.model && `model ${clean(id.model)}`,
    id.serial && `serial ${clean(id.serial)}`,
    id.uuid && `SMBIOS UUID ${id.uuid}`,
  ].filter(Boolean);
  const disk = proposedDisk(f.disks ?? []);
  const disks = (f.disks ?? []).map(
    (d) => `${d.byId ?? (d.name ? `/dev/${d.name}` : clean(d.model ?? 'a disk'))} ${d.sizeGib} GiB${d.media ? ` ${d.media}` : ''}`,
  );
  return {
    comments: [
      `# Measured (facts/${m.hostname}.yaml, ${f.measured.source} at ${f.measured.at}; matched by ${m.by === 'mac' ? 'its MAC' : 'the SMBIOS UUID it reported'}): ${who.join(', ') || 'no identity'}.`,
      `# Its disks: ${f.disks === undefined ? 'not reported' : disks.join(', ') || 'none'}.`,
      ...(disk
        ? []
        : ['# install.device: none of its disks has a measured /dev/disk/by-id/ path (a dump taken on the machine lists them).']),
    ],
    fields: [
      `hostname: ${m.hostname}`,
      ...(disk ? ['install:', `  device: ${JSON.stringify(disk.byId)}   # the smallest disk of 250 GiB or more: check it`] : []),
    ],
  };
}
