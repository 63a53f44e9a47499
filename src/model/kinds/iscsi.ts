// The resolver of a diskless node that boots an iSCSI target (`iscsi:`).
import type { NodeInput } from '../../types/site-input.ts';
import type { NodeReader } from '../layers.ts';
import type { IscsiNode } from '../types.ts';
import { HARVESTER_ONLY, resolveBase, type SiteContext } from './common.ts';

/** What an iSCSI node ignores, and what to do instead. */
export const ISCSI_IGNORES: Readonly<Record<string, string>> = {
  ...HARVESTER_ONLY,
  kernel_args: "a diskless iSCSI node boots what its target holds, with that system's own kernel arguments",
  cloud_init: 'a diskless iSCSI node boots what its target holds; configure that system on the target',
  'lab.disk_gib': 'a diskless iSCSI node has no lab disk',
};

/** An iSCSI node; `os` is the OS profile it also names, which its rule refuses (NODE_ISCSI_INVALID). */
export function resolveIscsiNode(r: NodeReader, ctx: SiteContext, iscsi: NonNullable<NodeInput['iscsi']>, os?: string): IscsiNode {
  const base = resolveBase(r, ctx);
  return {
    ...base,
    boot: 'iscsi',
    iscsi: {
      server: iscsi.server,
      port: iscsi.port ?? 3260,
      lun: iscsi.lun ?? 1,
      target: iscsi.target,
      initiator: iscsi.initiator ?? `iqn.2010-04.org.ipxe:${r.node.hostname ?? ''}`,
    },
    ...(os !== undefined ? { alsoOs: os } : {}),
  };
}
