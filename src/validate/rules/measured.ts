// measured: what the inventory declares of a machine against what was measured of it
// (`facts/<hostname>.yaml`, written by `harvgen facts`). The installer rules already judge the
// measured value (installer.ts); this says where the two disagree, at the declared fact, so the
// inventory can be corrected: a `hardware:` fact, the site's firmware and Secure Boot, a boot MAC
// no NIC of the machine has. A facts file that names no node is reported at the file.
import { nodeMeasured } from '../../derive/measured.ts';
import { measuredOf } from '../../model/measured.ts';
import type { MeasuredFacts } from '../../facts/types.ts';
import type { HardwareFacts } from '../../harvester/hardware-facts.ts';
import { nodeFirmware, type ResolvedNode, type SiteModel } from '../../model/index.ts';
import { MEASURED_LAYER } from '../../types/layers.ts';
import type { InventoryPath } from '../../util/paths.ts';
import { eachNode, type Finding, type Rule } from '../rule.ts';
import { HOSTNAME } from '../../util/hostname.ts';

/** The declared facts compared, with their `hardware:` key and unit. */
const COMPARED: readonly [keyof HardwareFacts, string, string][] = [
  ['cpus', 'cpus', ' CPU threads'],
  ['memoryGib', 'memory_gib', ' GiB'],
  ['diskGib', 'disk_gib', ' GiB'],
  ['dataDiskGib', 'data_disk_gib', ' GiB'],
  ['nicSpeedMbps', 'nic_speed_mbps', ' Mbps'],
  ['nicDriver', 'nic_driver', ''],
  ['virtualized', 'virtualized', ''],
  ['kvm', 'kvm', ''],
];

export const measuredRule: Rule = {
  name: 'measured',
  codes: ['MEASURED_FACT_DISAGREES', 'MEASURED_MAC_MISSING', 'MEASURED_NIC_UNTIED', 'MEASURED_NODE_UNKNOWN'],
  check(ctx) {
    const { model } = ctx;
    if (model.measured === undefined) return;
    eachNode(ctx, 'measured', (node, report) => {
      const m = measuredOf(model, node.hostname);
      if (m === undefined) return;
      checkMacs(node, m, report);
      if (node.boot === 'harvester') checkHardware(model, node, m, report);
    });
    const hosts = new Set(model.nodes.map((n) => n.hostname));
    for (const host of Object.keys(model.measured)) {
      if (hosts.has(host)) continue;
      const hostname = HOSTNAME.test(host);
      ctx.report({
        code: 'MEASURED_NODE_UNKNOWN',
        message: `facts/${host}.yaml holds the measured facts of ${host}, which is no node of site ${model.site}`,
        hint: hostname
          ? `Add node ${host} (\`harvgen discover\` writes its stub from these facts once the machine has booted), rename the file to its node's hostname, or remove it.`
          : `Rename the file to its node's hostname (lowercase letters, digits and hyphens), or remove it.`,
        at: [MEASURED_LAYER, host, 'measured'],
        target: 'key',
      });
    }
  },
};

/** Where the facts came from, said in a message. */
function whence(node: { hostname: string }, m: MeasuredFacts): string {
  return `facts/${node.hostname}.yaml, ${m.measured.source} at ${m.measured.at}`;
}

/** Every boot MAC and management NIC MAC is a NIC the machine has. */
function checkMacs(node: ResolvedNode, m: MeasuredFacts, report: (f: Finding) => void): void {
  if (m.nics.length === 0) return;
  const have = new Set(m.nics.flatMap((n) => (n.configuredMac !== undefined ? [n.mac, n.configuredMac] : [n.mac])));
  const seen = new Set<string>();
  const wanted: [string, InventoryPath | undefined][] = node.macs.map((mac) => [mac, node.sources.macs]);
  if (node.boot === 'harvester') {
    node.interfaces.forEach(
      (nic, i) =>
        nic.mac !== undefined && wanted.push([nic.mac, node.sources.interfaces ? [...node.sources.interfaces, i, 'mac'] : undefined]),
    );
  }
  const names = new Set(m.nics.flatMap((n) => (n.name !== undefined ? [n.name] : [])));
  if (node.boot === 'harvester' && names.size > 0) {
    node.interfaces.forEach((nic, i) => {
      if (nic.mac !== undefined || nic.name === undefined || names.has(nic.name)) return;
      report({
        code: 'MEASURED_MAC_MISSING',
        node: node.hostname,
        message: `the management interface of node ${node.hostname} names NIC ${nic.name}, which its machine does not have (measured: ${[...names].join(', ')}; ${whence(node, m)}): the installer finds no such interface`,
        hint: "Name the NIC as the machine's kernel does (its facts file lists them), or name it by MAC (`interfaces: [{ mac: ... }]`), which does not depend on the kernel's naming.",
        at: node.sources.interfaces ? [...node.sources.interfaces, i, 'name'] : ['nodes', node.index],
      });
    });
  }
  for (const [mac, at] of wanted) {
    if (have.has(mac) || seen.has(mac)) continue;
    seen.add(mac);
    report({
      code: 'MEASURED_MAC_MISSING',
      node: node.hostname,
      message: `node ${node.hostname} names MAC ${mac}, which none of its machine's NICs has (measured: ${[...have].join(', ')}; ${whence(node, m)})`,
      hint: 'Correct the MAC (a typing error boots nothing: the machine never finds its script), or measure again if the NIC was replaced; if the facts are of another machine, check the BMC address.',
      at: at ?? ['nodes', node.index],
    });
  }
}

/** Declared hardware, firmware and Secure Boot against the measured. */
function checkHardware(model: SiteModel, node: ResolvedNode & { boot: 'harvester' }, m: MeasuredFacts, report: (f: Finding) => void): void {
  const view = nodeMeasured(model, node);
  if (view === undefined) return;
  if (view.nicUntied !== undefined && !view.nicUntied.fastest) {
    const names = view.nicUntied.names.join(', ');
    report({
      code: 'MEASURED_NIC_UNTIED',
      node: node.hostname,
      message: `the management interface of node ${node.hostname} names NIC${view.nicUntied.names.length > 1 ? 's' : ''} ${names} by kernel name only, and its facts (${whence(node, m)}) name no NIC: of the NICs that are up (${view.nicUntied.speeds}), some reach 10 Gbps and some do not, so harvgen cannot tell whether the installer's NIC speed preflight check passes`,
      hint: "Name the interface's NICs by MAC (`interfaces: [{ mac: ... }]`), or measure the machine with the collector script (`harvgen facts --script`, run on it, then `--dump`), which names its NICs as its kernel does.",
      at: node.sources.interfaces ?? ['nodes', node.index],
    });
  }
  for (const [fact, key, unit] of COMPARED) {
    const declared = node.hardware[fact];
    const measured = view.facts[fact];
    if (declared === undefined || measured === undefined || declared === measured) continue;
    report({
      code: 'MEASURED_FACT_DISAGREES',
      node: node.hostname,
      message: `\`hardware.${key}\` declares ${String(declared)}${unit} for node ${node.hostname}; its machine measured ${String(measured)}${unit} (${whence(node, m)}): harvgen judges the installer's rules on the measured value`,
      hint: `Correct \`hardware.${key}\` to what the machine has, or remove it (the measured facts suffice); measure again (\`harvgen facts\`) if the machine changed since.`,
      at: node.sources[`hardware.${key}`] ?? ['nodes', node.index],
    });
  }
  const firmware = nodeFirmware(model, node);
  if (view.firmware && view.firmware.value !== firmware) {
    report({
      code: 'MEASURED_FACT_DISAGREES',
      node: node.hostname,
      message: `the site boots its machines ${firmware === 'uefi' ? 'UEFI' : 'legacy BIOS'} (\`boot.firmware\`), but node ${node.hostname}'s machine measured ${view.firmware.value === 'uefi' ? 'UEFI' : 'legacy BIOS'} (${whence(node, m)}): its DHCP answer and boot loader are for the other firmware`,
      hint: `Switch the machine's firmware to ${firmware === 'uefi' ? 'UEFI' : 'legacy BIOS'}, or set \`boot.firmware: ${view.firmware.value}\`.`,
      at: ['boot', 'firmware'],
    });
  }
  if (m.secureBoot === true && node.arch === 'x86_64' && firmware === 'uefi' && model.boot.secureBoot === undefined) {
    report({
      code: 'MEASURED_FACT_DISAGREES',
      node: node.hostname,
      message: `node ${node.hostname}'s machine enforces UEFI Secure Boot (${whence(node, m)}), but the site serves an unsigned iPXE loader (no \`boot.secure_boot\`): its firmware refuses to run it`,
      hint: "Set `boot.secure_boot` to serve iPXE's signed shim, or turn Secure Boot off in the machine's firmware.",
      at: ['boot'],
      target: 'key',
    });
  }
}
