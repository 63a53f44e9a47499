// nodes: install and data disks.
import { atLeast } from '../../harvester/versions.ts';
import { witnessHasNoData, witnessKeepsDataSettings } from '../../harvester/witness.ts';
import type { HarvesterNode, SiteModel } from '../../model/index.ts';
import { effectiveConfig } from '../../derive/harvester/effective.ts';
import { nodeAt } from '../../model/index.ts';
import { eachNode, type Finding, type Rule } from '../rule.ts';
import { PLACEHOLDER_DISK } from '../../util/init-placeholders.ts';
import { nodeDisks } from '../../derive/disks.ts';
import { measuredOf } from '../../model/measured.ts';
import { describeDisk, describeSelector, diskPaths } from '../../facts/disk-selector.ts';
import type { MeasuredDisk } from '../../facts/types.ts';

/** Install device present and stable; data disk distinct; witness disk settings; wipe list. */
export const nodeDisksRule: Rule = {
  name: 'node-disks',
  codes: [
    'NODE_DEVICE_MISSING',
    'NODE_DATA_DISK_IS_DEVICE',
    'NODE_DEVICE_UNSTABLE',
    'NODE_WITNESS_DATA_DISK',
    'NODE_WIPE_LIST_HAS_DEVICE',
    'NODE_PLACEHOLDER',
    'NODE_DISK_SELECTOR_UNMEASURED',
    'NODE_DISK_SELECTOR_NO_MATCH',
    'NODE_DISK_SELECTOR_SEVERAL',
    'NODE_DISK_SELECTOR_NO_PATH',
  ],
  check(ctx) {
    const { model } = ctx;
    eachNode(ctx, 'node-disks', (node, report) => {
      // Only the Harvester installer writes a disk; generic and iSCSI nodes bring their own.
      if (node.boot !== 'harvester') return;
      // The disks as the installer reads them: the node's settings or keys under `config:`.
      const config = effectiveConfig(model, node);
      const str = (key: string) => {
        const v = config.get(key);
        return typeof v === 'string' && v !== '' ? v : undefined;
      };
      const device = str('install.device');
      const dataDisk = str('install.data_disk');
      const list = config.get('install.wipe_disks_list');
      const wipeDisksList = Array.isArray(list) ? list : undefined;
      for (const f of selectorFindings(model, node)) report(f);
      // A selector that chose no disk is said above.
      if (device === undefined && node.install.deviceSelector === undefined) {
        report({
          code: 'NODE_DEVICE_MISSING',
          message: `node ${node.hostname} has no install device`,
          hint: 'Set `install: { device: /dev/disk/by-id/... }` on the node or in `defaults`.',
          at: ['nodes', node.index],
        });
      }
      for (const [field, disk] of [
        ['install.device', device],
        ['install.data_disk', dataDisk],
      ] as const) {
        if (disk === PLACEHOLDER_DISK) {
          report({
            code: 'NODE_PLACEHOLDER',
            message: `${field} of node ${node.hostname} is still the placeholder harvgen init wrote (${PLACEHOLDER_DISK}): the installer finds no such disk`,
            hint: "Set the server's install disk by a persistent name: `ls -l /dev/disk/by-id/` on the machine (or in the installer's shell).",
            node: node.hostname,
            at: config.get(field) !== undefined ? config.at(field) : nodeAt(node, field),
          });
        } else if (disk !== undefined && /^\/dev\/(sd[a-z]+|hd[a-z]+|nvme\d+n\d+)$/.test(disk)) {
          report({
            code: 'NODE_DEVICE_UNSTABLE',
            message: `${field} ${disk} of node ${node.hostname} is a kernel name that can change between boots`,
            hint: 'Use a persistent name such as /dev/disk/by-id/<model>_<serial> or /dev/disk/by-path/...',
            node: node.hostname,
            at: config.get(field) !== undefined ? config.at(field) : nodeAt(node, field),
          });
        }
      }
      // The same disk by two of its names tells only where the facts name both (a dump).
      const disks = measuredOf(model, node.hostname)?.disks ?? [];
      const diskOf = (path: string) => disks.findIndex((d) => diskPaths(d).includes(path));
      const same = (a: string | undefined, b: string | undefined): boolean =>
        a !== undefined && b !== undefined && (a === b || (diskOf(a) >= 0 && diskOf(a) === diskOf(b)));
      const which = (path: string) =>
        path === device ? '' : ` (facts/${node.hostname}.yaml: both are ${describeDisk(disks[diskOf(path)]!)})`;
      if (dataDisk !== undefined && same(dataDisk, device)) {
        report({
          code: 'NODE_DATA_DISK_IS_DEVICE',
          message: `install.data_disk ${dataDisk} of node ${node.hostname} is the install device ${device}${which(dataDisk)}`,
          hint: 'Remove data_disk to keep VM data on the install disk, or name a second disk.',
          node: node.hostname,
          at: config.get('install.data_disk') !== undefined ? config.at('install.data_disk') : nodeAt(node, 'install.data_disk'),
        });
      }
      for (const f of witnessDataFindings(model, node)) report(f);
      wipeDisksList?.forEach((disk, i) => {
        if (typeof disk === 'string' && (same(disk, device) || same(disk, dataDisk))) {
          report({
            code: 'NODE_WIPE_LIST_HAS_DEVICE',
            message: `install.wipe_disks_list of node ${node.hostname} contains ${disk}, which is its ${same(disk, device) ? 'install' : 'data'} disk${same(disk, device) ? which(disk) : ''}`,
            hint: 'Remove it from the list; that disk is formatted anyway.',
            node: node.hostname,
            at: [...config.at('install.wipe_disks_list'), i],
          });
        }
      });
    });
  },
};

/**
 * Why a disk named by what it is (`install.device: { serial: ... }`) chose no disk among the
 * node's measured facts (src/facts/disk-selector.ts), for a disk the config carries.
 */
function selectorFindings(model: SiteModel, node: HarvesterNode): Finding[] {
  const chosen = nodeDisks(model, node);
  const config = effectiveConfig(model, node);
  const out: Finding[] = [];
  const facts = `facts/${node.hostname}.yaml`;
  const measure = `take a dump on the machine (\`harvgen facts --script > collect.sh\`, run \`sudo sh collect.sh > ${node.hostname}.facts\` there) and import it (\`harvgen facts <site-dir> --node ${node.hostname} --dump ${node.hostname}.facts\`)`;
  for (const [which, field] of [
    ['device', 'install.device'],
    ['dataDisk', 'install.data_disk'],
  ] as const) {
    const choice = chosen[which];
    const selector = which === 'device' ? node.install.deviceSelector : node.install.dataDiskSelector;
    if (choice === undefined || selector === undefined) continue;
    // A disk the config never carries: the same key under `config:` wins over the selector, and a
    // witness's data disk is left out from v1.6 (NODE_WITNESS_DATA_DISK says so).
    if (config.get(field) !== undefined && config.origin(field) === 'config') continue;
    if (which === 'dataDisk' && node.harvesterRole === 'witness' && !witnessKeepsDataSettings(node.release.version)) continue;
    const what = `${field} of node ${node.hostname} (${describeSelector(selector)})`;
    const at = nodeAt(node, field);
    const seen = (m: readonly MeasuredDisk[]) => (m.length > 0 ? m.map(describeDisk).join('; ') : 'none');
    const disks = measuredOf(model, node.hostname)?.disks ?? [];
    switch (choice.kind) {
      case 'chosen':
        continue;
      case 'unmeasured':
        out.push({
          code: 'NODE_DISK_SELECTOR_UNMEASURED',
          message: `${what} names a disk by what it is, but no facts were measured of its machine (no ${facts}): harvgen cannot tell which disk that is`,
          hint: `Measure the machine: ${measure}. Or give the disk's path.`,
          node: node.hostname,
          at,
        });
        break;
      case 'no-disks':
      case 'unnamed':
        out.push({
          code: 'NODE_DISK_SELECTOR_UNMEASURED',
          message:
            choice.kind === 'no-disks'
              ? `${what} names a disk by what it is, but ${facts} lists no disks (its BMC reported none)`
              : `${what} names a disk by what it is, but ${facts} comes from the machine's BMC, which lists its drives, not the disks its kernel sees and their /dev/disk/by-id/ names (behind a RAID controller the kernel sees volumes instead). Of the BMC's drives, the selector matches: ${seen(choice.matched)}`,
          hint: `Measure the machine where its kernel runs: ${measure}.`,
          node: node.hostname,
          at,
        });
        break;
      case 'none':
        out.push({
          code: 'NODE_DISK_SELECTOR_NO_MATCH',
          message: `${what} matches none of the machine's disks (${facts}: ${seen(disks)})`,
          hint: `Correct the selector to one of those disks, or measure the machine again (\`harvgen facts\`) if its disks changed.`,
          node: node.hostname,
          at,
        });
        break;
      case 'several':
        out.push({
          code: 'NODE_DISK_SELECTOR_SEVERAL',
          message: `${what} matches ${choice.matched.length} of the machine's disks (${facts}: ${seen(choice.matched)}): the installer would get one of them, harvgen will not guess which`,
          hint: 'Add a key that tells them apart: `serial` or `wwn` names one disk; `min_gib`/`max_gib` bound the size.',
          node: node.hostname,
          at,
        });
        break;
      case 'no-link':
        out.push({
          code: 'NODE_DISK_SELECTOR_NO_PATH',
          message: `${what} is disk ${describeDisk(choice.disk)}, which has no /dev/disk/by-id/ name (${facts}): only its kernel name, which can change between boots`,
          hint: noLinkHint(disks),
          node: node.hostname,
          at,
        });
        break;
    }
  }
  return out;
}

/**
 * A witness's data disk and persistent partition, said truly for its release
 * (src/harvester/witness.ts): before v1.6.0 the installer uses them as on any node (harvgen
 * writes them); from v1.6.0 it uses neither, so harvgen leaves the inventory's out of the config,
 * and one given under `config:` reaches the installer, which formats that disk and never mounts it.
 */
function witnessDataFindings(model: SiteModel, node: HarvesterNode): Finding[] {
  const config = effectiveConfig(model, node);
  const v = node.release.version;
  // v1.2 has no roles (a `harvester_role` there is HARVESTER_KEY_TOO_NEW, an `install.role` under
  // `config:` the installer schema's).
  if (config.get('install.role') !== 'witness' || !atLeast(v, '1.3')) return [];
  const out: Finding[] = [];
  for (const [key, field] of [
    ['install.data_disk', 'install.data_disk'],
    ['install.persistent_partition_size', 'install.persistent_partition_size'],
  ] as const) {
    const written = config.get(key) !== undefined;
    const fromConfig = written && config.origin(key) === 'config';
    const fieldAt = node.sources[field];
    if (!written && fieldAt === undefined) continue;
    const what = key === 'install.data_disk' ? 'a data disk' : 'a persistent partition size';
    let message: string;
    let hint: string;
    if (!witnessHasNoData(v)) {
      message = `witness node ${node.hostname} sets ${key}: the Harvester ${v.raw} installer has no witness case (v1.6.0 added one), so it ${key === 'install.data_disk' ? 'formats and mounts the data disk, and requires 180 GiB on the install disk and 50 GiB on the data disk,' : 'makes the persistent partition on the install disk'} as on any node, though a witness keeps no VM data`;
      hint = `Remove it unless you want ${what} on this witness; from v1.6.0 the installer ignores it.`;
    } else if (fromConfig) {
      message = `witness node ${node.hostname} sets ${key} under \`config:\`: the Harvester ${v.raw} installer gives a witness no data partition${key === 'install.data_disk' ? ', yet still formats that disk (harv-install) and never mounts it' : ', so it is ignored'}`;
      hint = `Remove ${key} from the witness's \`config:\`.`;
    } else {
      message = `witness node ${node.hostname} sets ${key}, which the Harvester ${v.raw} installer ignores for a witness (no data partition since v1.6.0): harvgen leaves it out of the config`;
      hint = 'Remove it: a witness stores no VM data.';
    }
    out.push({
      code: 'NODE_WITNESS_DATA_DISK',
      message,
      hint,
      node: node.hostname,
      at: written ? config.at(key) : fieldAt!,
    });
  }
  return out;
}

/**
 * What to do about a chosen disk without a /dev/disk/by-id/ name. Never its kernel name: that is
 * what the selector is there to avoid (NODE_DEVICE_UNSTABLE for an sdX name). A dump none of whose
 * disks has a by-id name was taken where udev made no links (a container, a minimal initramfs):
 * measure again; one where only this disk has none: a disk without a serial or WWN.
 */
function noLinkHint(disks: readonly MeasuredDisk[]): string {
  const byPath =
    'or set the disk by its slot: its `/dev/disk/by-path/` link (`ls -l /dev/disk/by-path/` on the machine), which stays while the disk stays where it is';
  if (!disks.some((d) => d.byId !== undefined))
    return `No disk of this dump has a /dev/disk/by-id/ name: it was taken where udev made no links (a container, a minimal initramfs). Take the dump again on the machine's running system or in the Harvester ISO's shell (\`harvgen facts --script\`), ${byPath}.`;
  return `Give the disk a serial number its kernel reports (a virtual disk: \`serial=\` in QEMU, \`<serial>\` in libvirt) and measure again, ${byPath}.`;
}
