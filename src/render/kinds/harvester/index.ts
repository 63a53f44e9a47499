// A node that installs Harvester: the installer's kernel and command line, its config (written by
// render/index.ts within the site's budget, ./budget.ts), its place in the cluster.
import type { HarvesterNode, SiteModel } from '../../../model/index.ts';
import { scopeOf } from '../../../model/index.ts';
import { hasDataDisk } from '../../../derive/harvester/effective.ts';
import { renderInstallScript } from '../install-script.ts';
import type { KindRenderer } from '../types.ts';
import { MASK, type ExplainSink } from '../../../types/explain.ts';
import { configUrl, installerConfigUrl, installerImages } from '../../../derive/harvester/cmdline.ts';
import { generationMarker, generationMarkerUri } from '../../../derive/harvester/reinstall.ts';
import { nodeDisks } from '../../../derive/disks.ts';
import type { DiskSelector } from '../../../facts/disk-selector.ts';
import { harvesterConfigPath } from '../../../derive/file-names.ts';

/** The script of a Harvester node's MAC; without a MAC, of an unknown machine joining. */
export function installerScript(model: SiteModel, node: HarvesterNode, mac: string | undefined): string {
  const release = node.release;
  const marker = generationMarker(model, node);
  return renderInstallScript(model, node, mac, {
    images: installerImages(model, node, mac),
    role: node.role,
    version: release.version.raw,
    configUrl: installerConfigUrl(model, node),
    what: `the Harvester ${release.version.raw} installer`,
    whatShort: 'the installer',
    artifactsBase: release.artifacts.base,
    ...(marker !== undefined && mac !== undefined ? { generation: { n: node.reinstall!, marker: generationMarkerUri(marker) } } : {}),
  });
}

/** Install settings as `explain` names them. */
const INSTALL_KEYS: Readonly<Record<string, string>> = {
  device: 'device',
  dataDisk: 'data_disk',
  tty: 'tty',
  persistentPartitionSize: 'persistent_partition_size',
  wipeAllDisks: 'wipe_all_disks',
  wipeDisksList: 'wipe_disks_list',
  cordoned: 'cordoned',
  powerOff: 'power_off',
  isoUrl: 'iso_url',
  deviceSelector: 'device',
  dataDiskSelector: 'data_disk',
};

export const harvesterKind: KindRenderer<HarvesterNode> = {
  localLabel: (node) => node.role,
  script: installerScript,
  // The config is written by render/index.ts, which keeps the site's budget of configs.
  files: () => undefined,
  manifest: (model, node) => ({
    head: { role: node.role, harvester_role: node.harvesterRole },
    body: { harvester_version: node.release.version.raw },
    tail: { config: { path: harvesterConfigPath(model, node), url: configUrl(model, node) } },
  }),
  lab: (model, node) => ({
    label: node.role,
    disk: true,
    dataDisk: hasDataDisk(model, node),
    netBootOrder: 2,
    comment: [
      'Boot order disk, then network: a blank disk falls through to PXE (the install), an installed',
      'disk boots Harvester, so the VM never reinstalls. libvirt/define.sh creates the disk(s) and defines it.',
    ],
  }),
  bootSource: (node, sink) =>
    node.sources.os ? sink.field('os') : { kind: 'derived', from: 'no `os:` and no `iscsi:`: the Harvester installer' },
  fetches: (_, node) => {
    const a = node.release.artifacts;
    return [
      { url: a.kernel, what: 'kernel' },
      { url: a.initrd, what: 'initrd' },
      { url: a.rootfs, what: 'rootfs' },
      { url: node.release.isoUrl, what: 'iso' },
    ];
  },
  explain(model, node, part, sink) {
    switch (part) {
      case 'kind':
        return;
      case 'role':
        sink.add(
          'role',
          node.role,
          node.sources.role
            ? sink.field('role')
            : { kind: 'derived', from: 'the first node creates the cluster unless one says role: create' },
        );
        sink.add('harvester_role', node.harvesterRole, sink.field('harvester_role'));
        return;
      case 'network':
        return explainNetwork(model, node, sink);
      case 'settings':
        return explainSettings(model, node, sink);
    }
  },
};

/** `explain`'s network lines of a Harvester node: MTU, VLAN, interfaces, bond, install settings. */
function explainNetwork(model: SiteModel, node: HarvesterNode, sink: ExplainSink): void {
  if (node.mtu !== undefined) sink.add('mtu', node.mtu, sink.field('mtu'));
  if (node.vlan !== undefined) sink.add('vlan', node.vlan, sink.field('vlan'));
  sink.add(
    'interfaces',
    node.interfaces.map((i) => ({ ...i })),
    node.sources.interfaces ? sink.field('interfaces') : { kind: 'derived', from: 'the boot MACs' },
  );
  for (const [k, v] of Object.entries(node.bond)) sink.add(`bond.${k}`, v, sink.field(`bond.${k}`));
  for (const [k, v] of Object.entries(node.install)) {
    const name = INSTALL_KEYS[k] ?? k;
    if (v === undefined) continue;
    if (k !== 'deviceSelector' && k !== 'dataDiskSelector') sink.add(`install.${name}`, v, sink.field(`install.${name}`));
    else explainDiskSelector(model, node, sink, k, v as DiskSelector);
  }
}

/** A disk by what it is: the selector as written, and the disk it chose among the facts. */
function explainDiskSelector(
  model: SiteModel,
  node: HarvesterNode,
  sink: ExplainSink,
  k: 'deviceSelector' | 'dataDiskSelector',
  sel: DiskSelector,
): void {
  const name = INSTALL_KEYS[k]!;
  sink.add(
    `install.${name}`,
    {
      ...(sel.serial !== undefined ? { serial: sel.serial } : {}),
      ...(sel.wwn !== undefined ? { wwn: sel.wwn } : {}),
      ...(sel.model !== undefined ? { model: sel.model } : {}),
      ...(sel.minGib !== undefined ? { min_gib: sel.minGib } : {}),
      ...(sel.maxGib !== undefined ? { max_gib: sel.maxGib } : {}),
    },
    sink.field(`install.${name}`),
  );
  const chosen = nodeDisks(model, node)[k === 'deviceSelector' ? 'device' : 'dataDisk'];
  sink.add(
    `install.${name} chosen`,
    chosen?.kind === 'chosen' ? chosen.path : `none (${chosen?.kind ?? 'unmeasured'}: harvgen check says why)`,
    { kind: 'derived', from: `the selector and facts/${node.hostname}.yaml` },
  );
}

/** `explain`'s settings lines of a Harvester node: kernel args, config, release, cluster, config URL. */
function explainSettings(model: SiteModel, node: HarvesterNode, sink: ExplainSink): void {
  sink.add('kernel_args', [...node.kernelArgs], node.kernelArgs.length > 0 ? sink.field('kernel_args') : { kind: 'built-in' });
  if (Object.keys(node.config).length > 0) sink.add('config', node.config, sink.field('config'));
  if (node.reinstall !== undefined) sink.add('reinstall', node.reinstall, sink.field('reinstall'));
  // After an upgrade that has run (harvester.upgrade.done), the site's release is its target.
  sink.add(
    'harvester_version',
    node.release.version.raw,
    model.upgradedFrom !== undefined && !node.sources.harvester_version
      ? sink.where(['harvester', 'upgrade', 'to'])
      : sink.field('harvester_version', ['harvester', 'version']),
  );
  // Why that release: an upgrade that has run, or one planned (which nodes do not install yet).
  if (!node.sources.harvester_version && model.upgradedFrom !== undefined)
    sink.add(
      'harvester_upgrade',
      `upgraded from ${model.upgradedFrom} to ${node.release.version.raw} (done: nodes install the target)`,
      sink.where(['harvester', 'upgrade', 'done']),
    );
  else if (!node.sources.harvester_version && model.upgrade !== undefined)
    sink.add(
      'harvester_upgrade',
      `planned from ${node.release.version.raw} to ${model.upgrade.to.version.raw} (not done: nodes install ${node.release.version.raw} until \`done: true\`)`,
      sink.where(['harvester', 'upgrade', 'to']),
    );
  sink.add('cluster.vip', node.cluster.vip, sink.where(['cluster', 'vip']));
  // Never the secrets themselves: only where they are set.
  sink.add('cluster.token', MASK, sink.where(['cluster', 'token']));
  if (node.cluster.password !== undefined) sink.add('cluster.password', MASK, sink.where(['cluster', 'password']));
  sink.add(
    'config_url',
    installerConfigUrl(model, node),
    scopeOf(model, node)
      ? { kind: 'derived', from: "the VLAN's server (network.vlans), boot.server and hostname" }
      : { kind: 'derived', from: 'boot.server and hostname' },
  );
}
