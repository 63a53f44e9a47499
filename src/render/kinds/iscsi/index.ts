// A diskless node that boots an iSCSI target with iPXE's `sanboot`: no kernel, no files of its own.
import type { IscsiNode } from '../../../model/index.ts';
import { renderTemplate } from '../../templates.ts';
import type { KindRenderer } from '../types.ts';

/**
 * The iPXE root path of an iSCSI node: `iscsi:<server>::<port>:<lun>:<target>` (RFC 4173). The
 * LUN is hexadecimal there (iPXE parses it in base 16): LUN 10 is written `a`.
 */
export function iscsiRootPath(node: IscsiNode): string {
  const i = node.iscsi;
  return `iscsi:${i.server}::${i.port}:${i.lun.toString(16)}:${i.target}`;
}

export const iscsiKind: KindRenderer<IscsiNode> = {
  localLabel: () => 'join',
  script: (model, node, mac) =>
    renderTemplate('node-iscsi.ipxe', {
      site: model.site,
      hostname: node.hostname,
      mac,
      ...node.iscsi,
      rootPath: iscsiRootPath(node),
      retries: model.boot.retries,
      retryDelay: model.boot.retryDelay,
    }),
  files: () => undefined,
  manifest: (_, node) => ({ head: {}, body: { iscsi: iscsiRootPath(node) }, tail: {} }),
  lab: () => ({
    label: 'iSCSI',
    disk: false,
    dataDisk: false,
    netBootOrder: 1,
    comment: ['Diskless: it boots from the network only, and iPXE boots its disk from the iSCSI target.', 'libvirt/define.sh defines it.'],
  }),
  bootSource: (_, sink) => sink.field('iscsi'),
  fetches: () => [],
  explain(_, node, part, sink) {
    if (part === 'kind') for (const [k, v] of Object.entries(node.iscsi)) sink.add(`iscsi.${k}`, v, sink.field(`iscsi.${k}`));
  },
};
