// A Harvester node's install disk as baremetal-operator's `rootDeviceHints`, which Ironic's agent
// matches against each disk (ironic-python-agent device_hints.py; every hint given must match):
// - `deviceName`: the webhook takes `/dev/<name>` or `/dev/disk/by-path/<name>` only
//   (validateRootDeviceHints; unchanged at baremetal-operator's main), so a by-id path is refused
//   there and has to become the identifiers it is made of;
// - `serialNumber`, `wwn`, `wwnWithExtension`: exact strings. The agent compares a serial with
//   lsblk's SERIAL and udev's ID_SERIAL_SHORT and ID_SERIAL, a `wwn` with lsblk's WWN and udev's
//   ID_WWN, `wwnWithExtension` with udev's ID_WWN_WITH_EXTENSION, which is what udev's
//   `wwn-0x...` link is made of; an NVMe disk's ID_WWN and its `nvme-eui....` link are its
//   `wwid` (systemd's 60-persistent-storage.rules);
// - `model`: a case-sensitive substring; `minSizeGigabytes`: at least that many GiB (2^30 bytes).
//   No maximum size exists.
// A disk named by what it is (`install.device: { serial, wwn, model, min_gib, max_gib }`) is
// always pinned to the one disk harvgen chose among the measured ones (its WWN, else its
// serial), so that Ironic's looser model match and the missing maximum choose no other disk.
import type { HarvesterNode, ResolvedNode, SiteModel } from '../model/index.ts';
import type { DiskSelector } from '../facts/disk-selector.ts';
import type { MeasuredDisk } from '../facts/types.ts';
import { effectiveConfig } from './harvester/effective.ts';
import { nodeDisks } from './disks.ts';
import { measuredOf } from '../model/measured.ts';

/** baremetal-operator's RootDeviceHints (the fields harvgen writes). */
export interface RootDeviceHints {
  readonly deviceName?: string;
  readonly model?: string;
  readonly serialNumber?: string;
  readonly minSizeGigabytes?: number;
  readonly wwn?: string;
  readonly wwnWithExtension?: string;
}

/** The install disk as hints, none (no install disk), or why it cannot be one. */
export type DiskHints =
  | { readonly kind: 'none' }
  | { readonly kind: 'hints'; readonly hints: RootDeviceHints }
  | { readonly kind: 'refused'; readonly reason: string; readonly hint: string };

/** A WWN as udev spells what Ironic's agent reads: `0x<hex>` (NAA, with its extension) or `eui.<hex>` (NVMe). */
function wwnHint(w: string): RootDeviceHints {
  const eui = /^eui\.([0-9a-f]+)$/i.exec(w);
  if (eui) return { wwn: `eui.${eui[1]!.toLowerCase()}` };
  return { wwnWithExtension: `0x${w.replace(/^(0x|naa\.|wwn-0x)/i, '').toLowerCase()}` };
}

/** The identifier that names exactly one measured disk: its WWN, else its serial. */
function pinOf(d: MeasuredDisk): RootDeviceHints | undefined {
  if (d.wwn !== undefined) return wwnHint(d.wwn);
  if (d.serial !== undefined) return { serialNumber: d.serial };
  return undefined;
}

const pinned = (h: RootDeviceHints) => h.serialNumber !== undefined || h.wwn !== undefined || h.wwnWithExtension !== undefined;

/** A selector's keys as hints, pinned to the disk it chose (when it chose one). */
function selectorHints(s: DiskSelector, chosen: MeasuredDisk | undefined): DiskHints {
  const hints: RootDeviceHints = {
    ...(s.serial !== undefined ? { serialNumber: s.serial.trim() } : {}),
    ...(s.wwn !== undefined ? wwnHint(s.wwn.trim()) : {}),
    // The model as measured of the chosen disk: the selector's is a case-insensitive pattern of the
    // whole model, Ironic's a case-sensitive part of it.
    ...(s.model !== undefined && chosen?.model !== undefined ? { model: chosen.model } : {}),
    ...(s.minGib !== undefined ? { minSizeGigabytes: s.minGib } : {}),
  };
  if (pinned(hints) || chosen === undefined) return { kind: 'hints', hints };
  const pin = pinOf(chosen);
  if (pin === undefined)
    return {
      kind: 'refused',
      reason:
        'the disk its selector chose has neither a WWN nor a serial number, and a model or size alone can choose another disk for Ironic (a model matches as part of one, and there is no maximum size)',
      hint: 'Name the install disk by path (`install.device: /dev/disk/by-path/...`), or leave the node out of Metal3.',
    };
  return { kind: 'hints', hints: { ...hints, ...pin } };
}

const BY_ID = '/dev/disk/by-id/';

/** A `/dev/disk/by-id/` link as the identifiers it is made of, or why it cannot be split. */
function byIdHints(path: string, measured: readonly MeasuredDisk[]): DiskHints {
  const link = path.slice(BY_ID.length);
  // udev's `wwn-<ID_WWN_WITH_EXTENSION>` and NVMe's `nvme-<wwid>` (its ID_WWN).
  const wwn = /^wwn-(0x[0-9a-f]+)$/i.exec(link);
  if (wwn) return { kind: 'hints', hints: { wwnWithExtension: wwn[1]!.toLowerCase() } };
  const nvme = /^nvme-(eui\.[0-9a-f]+)$/i.exec(link);
  if (nvme) return { kind: 'hints', hints: { wwn: nvme[1]!.toLowerCase() } };
  // Any other link joins a bus, model and serial with `_`, which no rule splits back: the disk
  // measured under that link tells its serial.
  const disk = measured.find((d) => d.byId === path);
  const pin = disk !== undefined ? pinOf(disk) : undefined;
  if (pin !== undefined) return { kind: 'hints', hints: pin };
  return {
    kind: 'refused',
    reason: `its install disk ${path} cannot be a Metal3 root device hint: deviceName takes /dev/<name> or /dev/disk/by-path/<name> (baremetal-operator refuses any other), and this link joins the disk's model and serial, which cannot be told apart without the machine's facts`,
    hint: 'Measure the machine (`harvgen facts`), name the disk by what it is (`install.device: { serial: ... }` or `{ wwn: ... }`), or by path (`/dev/disk/by-path/...`).',
  };
}

/** A path the installer's config gives as hints. */
function pathHints(path: string, measured: readonly MeasuredDisk[]): DiskHints {
  if (/^\/dev\/(?:disk\/by-path\/)?[^/]+$/.test(path)) return { kind: 'hints', hints: { deviceName: path } };
  if (path.startsWith(BY_ID) && !path.slice(BY_ID.length).includes('/')) return byIdHints(path, measured);
  return {
    kind: 'refused',
    reason: `its install disk ${path} cannot be a Metal3 root device hint: deviceName takes /dev/<name> or /dev/disk/by-path/<name> (baremetal-operator refuses any other), and a label, UUID or mapper name says nothing Ironic's other hints can`,
    hint: 'Name the install disk by what it is (`install.device: { serial: ... }`), by id (`/dev/disk/by-id/wwn-...`), by path or by its kernel name, or leave the node out of Metal3.',
  };
}

/** The install disk of a node as Metal3's root device hints (a Harvester node's only). */
export function metal3DiskHints(model: SiteModel, node: ResolvedNode): DiskHints {
  if (node.boot !== 'harvester') return { kind: 'none' };
  const config = effectiveConfig(model, node);
  const device = config.get('install.device');
  const selector = (node as HarvesterNode).install.deviceSelector;
  // The selector's choice, unless `config:` names the disk itself.
  if (selector !== undefined && !(device !== undefined && config.origin('install.device') === 'config')) {
    const choice = nodeDisks(model, node).device;
    return selectorHints(selector, choice?.kind === 'chosen' ? choice.disk : undefined);
  }
  if (typeof device !== 'string' || device === '') return { kind: 'none' };
  return pathHints(device, measuredOf(model, node.hostname)?.disks ?? []);
}
