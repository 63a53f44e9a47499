// A disk named by what it is (`install.device: { serial: ..., wwn: ..., model: ..., min_gib: ...,
// max_gib: ... }`) instead of by a path: matched against the disks measured of the node's machine
// (`facts/<hostname>.yaml`), it becomes the stable `/dev/disk/by-id/` path the installer's config
// carries. Only facts that name the disks as the machine's kernel does (a dump: their kernel names
// and udev's by-id links) can give that path: a BMC lists its drives, not the kernel's disks
// (behind a RAID controller the kernel sees volumes), so Redfish facts show what matches and
// resolve nothing.
import type { MeasuredDisk, MeasuredFacts } from './types.ts';

/** A disk by what it is; every key given must match. */
export interface DiskSelector {
  /** The serial number, exactly as measured. */
  readonly serial?: string;
  /** World Wide Name, any of its spellings (`0x5000c500...`, `naa.5000c500...`, `eui.0025...`). */
  readonly wwn?: string;
  /** The model; `*` stands for any run of characters; case-insensitive. */
  readonly model?: string;
  readonly minGib?: number;
  readonly maxGib?: number;
}

/** The selector of an inventory value (`{ serial, wwn, model, min_gib, max_gib }`, valid by schema). */
export function diskSelector(input: {
  readonly serial?: string;
  readonly wwn?: string;
  readonly model?: string;
  readonly min_gib?: number;
  readonly max_gib?: number;
}): DiskSelector {
  return {
    ...(input.serial !== undefined ? { serial: input.serial } : {}),
    ...(input.wwn !== undefined ? { wwn: input.wwn } : {}),
    ...(input.model !== undefined ? { model: input.model } : {}),
    ...(input.min_gib !== undefined ? { minGib: input.min_gib } : {}),
    ...(input.max_gib !== undefined ? { maxGib: input.max_gib } : {}),
  };
}

/** The selector said for a message: `serial S123, model SAMSUNG*, 400 to 500 GiB`. */
export function describeSelector(s: DiskSelector): string {
  const size =
    s.minGib !== undefined && s.maxGib !== undefined
      ? `${s.minGib} to ${s.maxGib} GiB`
      : s.minGib !== undefined
        ? `at least ${s.minGib} GiB`
        : s.maxGib !== undefined
          ? `at most ${s.maxGib} GiB`
          : undefined;
  return [
    ...(s.serial !== undefined ? [`serial ${s.serial}`] : []),
    ...(s.wwn !== undefined ? [`WWN ${s.wwn}`] : []),
    ...(s.model !== undefined ? [`model ${s.model}`] : []),
    ...(size !== undefined ? [size] : []),
  ].join(', ');
}

/** A WWN as `naa:<hex>` or `eui:<hex>`, whatever its spelling (a bare hex or `0x` is NAA). */
const wwnKey = (w: string): string => {
  const eui = /^eui\./i.test(w);
  return `${eui ? 'eui' : 'naa'}:${w.replace(/^(0x|naa\.|eui\.|wwn-0x)/i, '').toLowerCase()}`;
};

/**
 * `*` globbing, case-insensitive, of a whole (trimmed) model: the two-pointer matcher, linear in
 * practice and never worse than the product of the lengths (no regular expression to backtrack).
 */
export function globMatches(pattern: string, text: string): boolean {
  const p = [...pattern.trim().toLowerCase()];
  const t = [...text.trim().toLowerCase()];
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (j < t.length) {
    if (i < p.length && p[i] !== '*' && p[i] === t[j]) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      mark = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++mark;
    } else return false;
  }
  while (i < p.length && p[i] === '*') i++;
  return i === p.length;
}

/** The disk is what the selector says. */
export function diskMatches(d: MeasuredDisk, s: DiskSelector): boolean {
  if (s.serial !== undefined && d.serial !== s.serial.trim()) return false;
  if (s.wwn !== undefined && (d.wwn === undefined || wwnKey(d.wwn) !== wwnKey(s.wwn))) return false;
  if (s.model !== undefined && (d.model === undefined || !globMatches(s.model, d.model))) return false;
  if (s.minGib !== undefined && d.sizeGib < s.minGib) return false;
  if (s.maxGib !== undefined && d.sizeGib > s.maxGib) return false;
  return true;
}

/** The `/dev/disk/by-id/` link of a measured disk's WWN (a dump has it where it has the WWN). */
export function wwnLink(d: MeasuredDisk): string | undefined {
  if (d.wwn === undefined || d.name === undefined) return undefined;
  return d.wwn.startsWith('eui.') ? `/dev/disk/by-id/nvme-${d.wwn}` : `/dev/disk/by-id/wwn-${d.wwn}`;
}

/** Every path by which a config may name a measured disk: its by-id links and `/dev/<name>`. */
export function diskPaths(d: MeasuredDisk): string[] {
  const link = wwnLink(d);
  return [
    ...(d.byId !== undefined ? [d.byId] : []),
    ...(link !== undefined ? [link] : []),
    ...(d.name !== undefined ? [`/dev/${d.name}`] : []),
  ];
}

/** A measured disk said for a message: `sdb (/dev/disk/by-id/...) HGST HUS726 serial K4J 3726 GiB`. */
export function describeDisk(d: MeasuredDisk): string {
  const where = d.name ?? d.byId;
  return [
    ...(where !== undefined ? [where] : d.model === undefined ? ['a drive'] : []),
    ...(d.name !== undefined && d.byId !== undefined ? [`(${d.byId})`] : []),
    ...(d.model !== undefined ? [d.model] : []),
    ...(d.serial !== undefined ? [`serial ${d.serial}`] : []),
    ...(d.wwn !== undefined ? [`WWN ${d.wwn}`] : []),
    `${d.sizeGib} GiB`,
  ].join(' ');
}

/** What a selector makes of a node's measured facts. */
export type DiskChoice =
  /** One disk: `path` is what the config carries. */
  | { readonly kind: 'chosen'; readonly path: string; readonly disk: MeasuredDisk; readonly index: number }
  /** No facts file for the node. */
  | { readonly kind: 'unmeasured' }
  /** Facts that list no disks (a BMC without Storage). */
  | { readonly kind: 'no-disks' }
  /** Facts from the BMC: its drives, not the kernel's disks. `matched`: the drives the selector matches. */
  | { readonly kind: 'unnamed'; readonly matched: readonly MeasuredDisk[] }
  | { readonly kind: 'none' }
  | { readonly kind: 'several'; readonly matched: readonly MeasuredDisk[] }
  /** The one disk has no by-id link (a virtio disk without a serial). */
  | { readonly kind: 'no-link'; readonly disk: MeasuredDisk };

/** The disk of a selector among the measured facts (undefined: the node has none). */
export function chooseDisk(m: MeasuredFacts | undefined, s: DiskSelector): DiskChoice {
  if (m === undefined) return { kind: 'unmeasured' };
  if (m.disks === undefined) return { kind: 'no-disks' };
  const matched = m.disks.flatMap((d, index) => (diskMatches(d, s) ? [{ d, index }] : []));
  // A BMC's drives are not the kernel's disks (whatever it lists, or none behind a RAID controller).
  if (m.measured.source !== 'dump' || (m.disks.length > 0 && !m.disks.some((d) => d.name !== undefined)))
    return { kind: 'unnamed', matched: matched.map((x) => x.d) };
  if (matched.length === 0) return { kind: 'none' };
  if (matched.length > 1) return { kind: 'several', matched: matched.map((x) => x.d) };
  const { d, index } = matched[0]!;
  // Chosen by its WWN, the disk's WWN link; otherwise its by-id path (as `harvgen discover` picks).
  const path = (s.wwn !== undefined ? wwnLink(d) : undefined) ?? d.byId ?? wwnLink(d);
  return path === undefined ? { kind: 'no-link', disk: d } : { kind: 'chosen', path, disk: d, index };
}
