// The resolver of a node that installs Harvester: its release, its cluster, its management
// interface, install settings and `config:`.
import { sharedShape } from '../../util/shared-shape.ts';
import type { NodeInput } from '../../types/site-input.ts';
import { normalizeMac } from '../../util/mac.ts';
import { getKey } from '../../harvester/config-keys.ts';
import { installerMethod } from '../../harvester/installer-values.ts';
import { diskSelector } from '../../facts/disk-selector.ts';
import { BUILTIN_DEFAULTS as D } from '../defaults.ts';
import type { NodeReader } from '../layers.ts';
import type { HarvesterNode, ModelProblem, ResolvedNic } from '../types.ts';
import type { HardwareFacts } from '../../harvester/hardware-facts.ts';
import { resolveBase, scopeDefaults, type SiteContext } from './common.ts';

/** What a Harvester node ignores, and what to do instead. */
export const HARVESTER_IGNORES: Readonly<Record<string, string>> = {
  cloud_init: "the Harvester installer takes its settings from the node's config (`config:`), not from cloud-init data",
};

/** A Harvester node, or why it cannot be one (the site has no `harvester:` or `cluster:`). */
export function resolveHarvesterNode(r: NodeReader, ctx: SiteContext): HarvesterNode | ModelProblem {
  const { node, index, sources } = r;
  const { harvester, cluster } = ctx;
  if (!harvester || !cluster) {
    const missing = [...(harvester ? [] : ['`harvester:`']), ...(cluster ? [] : ['`cluster:`'])];
    return {
      code: 'CLUSTER_SECTION_MISSING',
      message: `node ${node.hostname ?? ''} installs Harvester, but the site has no ${missing.join(' and no ')} section`,
      hint: 'Add the missing section (release, VIP, token), or give the node `os: <profile>` or `iscsi:` if it does not run Harvester.',
      at: sources.os ?? ['nodes', index],
      ...(sources.os ? {} : { target: 'key' as const }),
    };
  }
  // 0 is no VLAN and no MTU of its own, as the installer reads them (vlan_id 0: untagged; mtu 0:
  // the NIC's default): written as unset.
  const vlanGiven = r.pick('vlan');
  const vlan = vlanGiven === 0 ? undefined : vlanGiven;
  const base = resolveBase(r, ctx, scopeDefaults(ctx, vlan));
  // Without an explicit `role: create` anywhere, the first Harvester node creates the cluster
  // (resolveSite, once the kind of every node is known).
  if (node.role && index >= 0) sources.role = ['nodes', index, 'role'];
  const install = r.mergeMap<NonNullable<NodeInput['install']>>('install');
  const hardwareIn = r.mergeMap<NonNullable<NodeInput['hardware']>>('hardware');
  const bondIn = r.mergeMap<Record<string, string | number>>('bond');
  const interfacesIn = r.pick('interfaces');
  const interfaces: ResolvedNic[] = interfacesIn
    ? interfacesIn.map((nic) =>
        sharedShape({
          ...(nic.name !== undefined ? { name: nic.name } : {}),
          ...(nic.mac !== undefined ? { mac: normalizeMac(nic.mac) ?? nic.mac } : {}),
        }),
      )
    : base.macs.map((mac) => ({ mac }));
  const config = r.config();
  // A method in `config:` is the one the installer uses, in any case (it lower-cases it:
  // src/harvester/installer-values.ts): the node's method, for the kernel line and every rule.
  const configMethod = installerMethod(getKey(config, 'install.management_interface.method'));
  const configMethodAt = sources['config.install.management_interface.method'];
  if (configMethod !== undefined && configMethodAt !== undefined) sources.method = configMethodAt;
  const version = r.pick('harvester_version') ?? harvester.version;
  const mtuGiven = r.pick('mtu');
  const mtu = mtuGiven === 0 ? undefined : mtuGiven;
  const reinstall = r.pick('reinstall');
  return {
    ...base,
    ...(configMethod !== undefined ? { method: configMethod } : {}),
    boot: 'harvester',
    role: node.role ?? 'join',
    harvesterRole: r.pick('harvester_role') ?? D.node.harvesterRole,
    ...(mtu !== undefined ? { mtu } : {}),
    ...(vlan !== undefined ? { vlan } : {}),
    bond: { ...D.node.bond, ...bondIn },
    interfaces,
    install: sharedShape({
      // A disk by path, or by what it is (resolved against the measured facts: src/derive/disks.ts).
      ...(typeof install.device === 'string' ? { device: install.device } : {}),
      ...(typeof install.device === 'object' ? { deviceSelector: diskSelector(install.device) } : {}),
      ...(typeof install.data_disk === 'string' ? { dataDisk: install.data_disk } : {}),
      ...(typeof install.data_disk === 'object' ? { dataDiskSelector: diskSelector(install.data_disk) } : {}),
      ...(install.tty !== undefined ? { tty: install.tty } : {}),
      ...(install.persistent_partition_size !== undefined ? { persistentPartitionSize: install.persistent_partition_size } : {}),
      ...(install.wipe_all_disks !== undefined ? { wipeAllDisks: install.wipe_all_disks } : {}),
      ...(install.wipe_disks_list !== undefined ? { wipeDisksList: install.wipe_disks_list } : {}),
      ...(install.cordoned !== undefined ? { cordoned: install.cordoned } : {}),
      ...(install.power_off !== undefined ? { powerOff: install.power_off } : {}),
      ...(install.iso_url !== undefined ? { isoUrl: install.iso_url } : {}),
    }),
    kernelArgs: r.pick('kernel_args') ?? [],
    release: harvester.release(version, base.arch),
    cluster,
    config,
    // `hardware.memory_gib` -> `memoryGib`, ... (only the facts a layer declares).
    hardware: Object.fromEntries(
      Object.entries(hardwareIn).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]),
    ) as HardwareFacts,
    ...(reinstall !== undefined ? { reinstall } : {}),
  };
}
