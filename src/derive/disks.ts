// A Harvester node's install and data disks when its inventory names them by what they are
// (`install.device: { serial: ... }`): each selector matched against the disks measured of its
// machine (src/facts/disk-selector.ts), once per model and node. The config carries the chosen
// disk's path; rules/disk-selector.ts says why a selector chose none.
import { chooseDisk, type DiskChoice } from '../facts/disk-selector.ts';
import type { HarvesterNode, SiteModel } from '../model/index.ts';
import { measuredOf } from '../model/measured.ts';

/** What each selector of a node chose (absent: that disk is a path, or not set). */
export interface NodeDisks {
  readonly device?: DiskChoice;
  readonly dataDisk?: DiskChoice;
}

const chosen = new WeakMap<SiteModel, WeakMap<HarvesterNode, NodeDisks>>();

/** The disks a node's selectors choose among its measured facts. */
export function nodeDisks(model: SiteModel, node: HarvesterNode): NodeDisks {
  const { deviceSelector, dataDiskSelector } = node.install;
  if (deviceSelector === undefined && dataDiskSelector === undefined) return {};
  let byNode = chosen.get(model);
  if (byNode === undefined) chosen.set(model, (byNode = new WeakMap()));
  let disks = byNode.get(node);
  if (disks === undefined) {
    // The node an unknown machine joins as has no hostname, and so no facts.
    const m = node.hostname !== '' ? measuredOf(model, node.hostname) : undefined;
    disks = {
      ...(deviceSelector !== undefined ? { device: chooseDisk(m, deviceSelector) } : {}),
      ...(dataDiskSelector !== undefined ? { dataDisk: chooseDisk(m, dataDiskSelector) } : {}),
    };
    byNode.set(node, disks);
  }
  return disks;
}

/** The path a node's install disk (`device`) or data disk has: its own, or its selector's choice. */
export function diskPath(model: SiteModel, node: HarvesterNode, which: 'device' | 'dataDisk'): string | undefined {
  const own = node.install[which];
  if (own !== undefined) return own;
  const choice = nodeDisks(model, node)[which];
  return choice?.kind === 'chosen' ? choice.path : undefined;
}
