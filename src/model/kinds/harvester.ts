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
import { resolveBase, scopeDefaults, type Building, type SiteContext } from './common.ts';

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
  // `base` (made for this node alone) extended by assignment, in the order a spread of each part
  // would give (a key already in it keeps its place): a spread copied it into an object of a map
  // of its own, and each conditional part made an object of its own.
  const out: Building<HarvesterNode> = base;
  if (configMethod !== undefined) out.method = configMethod;
  out.boot = 'harvester';
  out.role = node.role ?? 'join';
  out.harvesterRole = r.pick('harvester_role') ?? D.node.harvesterRole;
  if (mtu !== undefined) out.mtu = mtu;
  if (vlan !== undefined) out.vlan = vlan;
  out.bond = { ...D.node.bond, ...bondIn };
  out.interfaces = interfaces;
  out.install = resolveInstall(install);
  out.kernelArgs = r.pick('kernel_args') ?? [];
  out.release = harvester.release(version, base.arch);
  out.cluster = cluster;
  out.config = config;
  // `hardware.memory_gib` -> `memoryGib`, ... (only the facts a layer declares).
  const hardware: Record<string, unknown> = {};
  for (const k of Object.keys(hardwareIn)) hardware[camel(k)] = hardwareIn[k as keyof typeof hardwareIn];
  out.hardware = hardware as HardwareFacts;
  if (reinstall !== undefined) out.reinstall = reinstall;
  return out as HarvesterNode;
}

/** The node's install settings, by their names in the model (a disk by path, or by what it is: src/derive/disks.ts). */
function resolveInstall(install: Partial<NonNullable<NodeInput['install']>>): HarvesterNode['install'] {
  const out: Building<HarvesterNode['install']> = {};
  if (typeof install.device === 'string') out.device = install.device;
  if (typeof install.device === 'object') out.deviceSelector = diskSelector(install.device);
  if (typeof install.data_disk === 'string') out.dataDisk = install.data_disk;
  if (typeof install.data_disk === 'object') out.dataDiskSelector = diskSelector(install.data_disk);
  if (install.tty !== undefined) out.tty = install.tty;
  if (install.persistent_partition_size !== undefined) out.persistentPartitionSize = install.persistent_partition_size;
  if (install.wipe_all_disks !== undefined) out.wipeAllDisks = install.wipe_all_disks;
  if (install.wipe_disks_list !== undefined) out.wipeDisksList = install.wipe_disks_list;
  if (install.cordoned !== undefined) out.cordoned = install.cordoned;
  if (install.power_off !== undefined) out.powerOff = install.power_off;
  if (install.iso_url !== undefined) out.isoUrl = install.iso_url;
  return sharedShape(out);
}

/** `memory_gib` -> `memoryGib`: the hardware facts' names, kept (they are the schema's few keys). */
const camels = new Map<string, string>();
function camel(k: string): string {
  let c = camels.get(k);
  if (c === undefined) {
    c = k.replace(/_([a-z])/g, (_, x: string) => x.toUpperCase());
    if (camels.size < 256) camels.set(k, c);
  }
  return c;
}
