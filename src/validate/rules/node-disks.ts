// nodes: install and data disks.
import { nodeAt, type Rule } from '../rule.ts';

/** Install device present and stable; data disk distinct; witness disk settings; wipe list. */
export const nodeDisksRule: Rule = {
  name: 'node-disks',
  codes: ['NODE_DEVICE_MISSING', 'NODE_DATA_DISK_IS_DEVICE', 'NODE_DEVICE_UNSTABLE', 'NODE_WITNESS_DATA_DISK', 'NODE_WIPE_LIST_HAS_DEVICE'],
  check({ model, report }) {
    for (const node of model.nodes) {
      // Only the Harvester installer writes a disk; generic and iSCSI nodes bring their own.
      if (node.boot !== 'harvester') continue;
      const { device, dataDisk, persistentPartitionSize, wipeDisksList } = node.install;
      if (device === undefined) {
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
        if (disk !== undefined && /^\/dev\/(sd[a-z]+|hd[a-z]+|nvme\d+n\d+)$/.test(disk)) {
          report({
            code: 'NODE_DEVICE_UNSTABLE',
            message: `${field} ${disk} of node ${node.hostname} is a kernel name that can change between boots`,
            hint: 'Use a persistent name such as /dev/disk/by-id/<model>_<serial> or /dev/disk/by-path/...',
            node: node.hostname,
            at: nodeAt(node, field),
          });
        }
      }
      if (dataDisk !== undefined && dataDisk === device) {
        report({
          code: 'NODE_DATA_DISK_IS_DEVICE',
          message: `install.data_disk of node ${node.hostname} is the install device ${device}`,
          hint: 'Remove data_disk to keep VM data on the install disk, or name a second disk.',
          node: node.hostname,
          at: nodeAt(node, 'install.data_disk'),
        });
      }
      if (node.harvesterRole === 'witness' && (dataDisk !== undefined || persistentPartitionSize !== undefined)) {
        const field = dataDisk !== undefined ? 'install.data_disk' : 'install.persistent_partition_size';
        report({
          code: 'NODE_WITNESS_DATA_DISK',
          message: `witness node ${node.hostname} sets ${field}, which Harvester ignores for witness nodes`,
          hint: 'Remove it: witness nodes store no VM data.',
          node: node.hostname,
          at: nodeAt(node, field),
        });
      }
      wipeDisksList?.forEach((disk, i) => {
        if (disk === device || disk === dataDisk) {
          report({
            code: 'NODE_WIPE_LIST_HAS_DEVICE',
            message: `install.wipe_disks_list of node ${node.hostname} contains ${disk}, which is its ${disk === device ? 'install' : 'data'} disk`,
            hint: 'Remove it from the list; that disk is formatted anyway.',
            node: node.hostname,
            at: [...nodeAt(node, 'install.wipe_disks_list'), i],
          });
        }
      });
    }
  },
};
