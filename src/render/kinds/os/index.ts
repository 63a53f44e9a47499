// A node that boots a generic OS profile: its kernel and initrds from the profile, cloud-init
// NoCloud data served per boot MAC.
import type { OsNode } from '../../../model/index.ts';
import { renderInstallScript } from '../install-script.ts';
import type { KindRenderer } from '../types.ts';
import { cloudInitSeed, osImages, ownerFor, servedConfigUrl } from '../../../derive/os/cmdline.ts';
import { configFilePath } from '../../../derive/file-names.ts';
import { servedConfigs } from '../../../derive/configs/index.ts';

export const osKind: KindRenderer<OsNode> = {
  // A generic node is no part of the cluster; its local script has always said `join`.
  localLabel: () => 'join',
  script: (model, node, mac) =>
    renderInstallScript(model, node, mac, {
      images: osImages(model, node, mac),
      role: 'join',
      os: node.os.name,
      served: servedConfigs(node).map(({ format }) => ({
        ...format.scriptComment,
        url: servedConfigUrl(model, format, ownerFor(format, node, mac)),
      })),
      what: node.os.name,
      whatShort: node.os.name,
    }),
  // The files of the config format its profile names (src/derive/configs/), for each owner.
  files(model, node, out) {
    for (const { format, owners } of servedConfigs(node)) {
      const userData = node.cloudInit.userDataFile !== undefined ? out.userData(node.cloudInit.userDataFile) : undefined;
      const files = format.osFiles?.(model, node, userData) ?? [];
      for (const owner of owners) for (const f of files) out.add(`${configFilePath(model, format, owner)}${f.name}`, () => f.contents);
    }
  },
  manifest: (model, node) => ({
    head: {},
    body: {
      os: node.os.name,
      ...(node.os.cloudInit ? { cloud_init: node.macs.map((mac) => ({ mac, url: cloudInitSeed(model, mac) })) } : {}),
    },
    tail: {},
  }),
  lab: (_, node) => ({
    label: `os ${node.os.name}`,
    disk: true,
    dataDisk: false,
    netBootOrder: 2,
    comment: [
      'Boot order disk, then network: a blank disk falls through to PXE, which boots its OS profile.',
      'libvirt/define.sh creates the disk and defines it.',
    ],
  }),
  bootSource: (_, sink) => sink.field('os'),
  fetches: (_, node) => [{ url: node.os.kernel, what: 'kernel' }, ...node.os.initrds.map((url) => ({ url, what: 'initrd' as const }))],
  explain(_, node, part, sink) {
    if (part !== 'kind') return;
    const profile = node.os;
    sink.add('os', profile.name, sink.field('os'));
    sink.add('os.kernel', profile.kernel, sink.where(['os_profiles', profile.name, 'kernel']));
    sink.add('os.initrds', [...profile.initrds], sink.where(['os_profiles', profile.name, 'initrds']));
    for (const k of ['user_data', 'user_data_file', 'vendor_data', 'meta_data'] as const) {
      if (node.sources[`cloud_init.${k}`] === undefined) continue;
      sink.add(`cloud_init.${k}`, k === 'user_data_file' ? node.cloudInit.userDataFile : '(a map)', sink.field(`cloud_init.${k}`));
    }
  },
};
