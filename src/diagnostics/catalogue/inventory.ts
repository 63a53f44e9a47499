// The codes of what the inventory is and what its files, secrets, signing and publishing settings,
// network, nodes, boot, cluster and installer rules make of it (in the order of the reference:
// each part's entries in turn, so the listing keeps that order).
import type { CodeInfo } from './info.ts';
import { FILE_CODES } from './files.ts';
import { NETWORK_NODE_CODES } from './network-nodes.ts';
import { BOOT_CLUSTER_CODES } from './boot-cluster.ts';

/** Every code about one site's inventory. */
export const INVENTORY_CODES = {
  ...FILE_CODES,
  ...NETWORK_NODE_CODES,
  ...BOOT_CLUSTER_CODES,
} as const satisfies Record<string, CodeInfo>;
