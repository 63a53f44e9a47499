// installer: the Harvester installer's own rules for the release each node installs
// (src/harvester/installer-rules.ts), against the config its installer parses (the effective
// config: src/derive/harvester/effective.ts) and the hardware facts harvgen knows: the
// node's `hardware:` (a profile, usually), or on a lab site (a `lab:` section) its lab domain.
import { INSTALLER_RULES, inReleases, type HardwareFacts, type RuleHit } from '../../harvester/installer-rules.ts';
import { nodeFirmware, type HarvesterNode, type SiteModel } from '../../model/index.ts';
import { effectiveConfig, hasDataDisk } from '../../derive/harvester/effective.ts';
import type { SiteInput } from '../../types/site-input.ts';
import { eachNode, type Rule } from '../rule.ts';
import { nodeMeasured } from '../../derive/measured.ts';
import type { InventoryPath } from '../../util/paths.ts';

/** Inventory field of each fact: declared (`hardware.*`), and on a lab site the lab sizing it comes from. */
const FIELDS: Record<keyof HardwareFacts, { hardware: string; lab?: string }> = {
  memoryGib: { hardware: 'hardware.memory_gib', lab: 'lab.memory_mib' },
  memoryTotalGib: { hardware: 'hardware.memory_gib' },
  cpus: { hardware: 'hardware.cpus', lab: 'lab.vcpus' },
  diskGib: { hardware: 'hardware.disk_gib', lab: 'lab.disk_gib' },
  dataDiskGib: { hardware: 'hardware.data_disk_gib', lab: 'lab.data_disk_gib' },
  nicSpeedMbps: { hardware: 'hardware.nic_speed_mbps', lab: 'lab.nic_model' },
  nicDriver: { hardware: 'hardware.nic_driver', lab: 'lab.nic_model' },
  virtualized: { hardware: 'hardware.virtualized', lab: 'lab' },
  kvm: { hardware: 'hardware.kvm' },
};

/** What the installer would see of a node: its lab domain on a lab site, its declared facts over that. */
export function hardwareFacts(input: SiteInput, model: SiteModel, node: HarvesterNode): HardwareFacts {
  // A lab site is one with a `lab:` section (README); lab sizing elsewhere only shapes the
  // generated domains of a real site.
  const lab: HardwareFacts =
    input.lab !== undefined
      ? {
          // The domain's memory is what dmidecode reports; its disk the qcow2 define.sh creates.
          memoryGib: Math.floor(node.lab.memoryMib / 1024),
          cpus: node.lab.vcpus,
          diskGib: node.lab.diskGib,
          // define.sh gives a domain its data disk when the node's config names one.
          ...(hasDataDisk(model, node) ? { dataDiskGib: node.lab.dataDiskGib } : {}),
          // virtio-net reports no speed (-1), which the installer skips; e1000e links at 1 Gbps.
          ...(node.lab.nicModel === 'e1000e' ? { nicSpeedMbps: 1000, nicDriver: 'e1000e' } : { nicDriver: 'virtio_net' }),
          virtualized: true,
        }
      : {};
  return { ...lab, ...node.hardware };
}

/**
 * The machine as the node's installer sees it: measured facts (`facts/<hostname>.yaml`) over
 * declared ones, and the firmware it boots with (what the installer-oracle tests fake for it too).
 */
export function installerMachine(
  input: SiteInput,
  model: SiteModel,
  node: HarvesterNode,
): { measured: ReturnType<typeof nodeMeasured>; facts: HardwareFacts; firmware: 'uefi' | 'bios' } {
  const measured = nodeMeasured(model, node);
  const declared: { -readonly [K in keyof HardwareFacts]?: HardwareFacts[K] } = { ...hardwareFacts(input, model, node) };
  for (const k of measured?.settled ?? []) delete declared[k];
  return { measured, facts: { ...declared, ...measured?.facts }, firmware: measured?.firmware?.value ?? nodeFirmware(model, node) };
}

/** The installer's rules of each Harvester node's release, against its effective config and facts. */
export const installerRule: Rule = {
  name: 'installer',
  codes: [
    'INSTALLER_PREFLIGHT_FAILS',
    'INSTALLER_DISK_TOO_SMALL',
    'INSTALLER_PARTITION_SIZE',
    'INSTALLER_FORCE_MBR',
    'INSTALLER_KNOWN_ISSUE',
    'INSTALLER_WEBHOOK_INVALID',
    'INSTALLER_VALUE_READ_AS',
    'INSTALLER_SKIPCHECKS_IGNORED',
    'INSTALLER_CORDONED_INVALID',
    'INSTALLER_DEVICE_MISSING',
    'INSTALLER_DEVICE_PATH',
    'INSTALLER_NIC_INVALID',
    'INSTALLER_DNS_UNUSED',
  ],
  check(ctx) {
    const { input, model } = ctx;
    // Read once: process.env makes a string at each read.
    const mutation = process.env.HARVGEN_TEST_MUTATE;
    eachNode(ctx, 'installer', (node, report) => {
      if (node.boot !== 'harvester') return;
      const version = node.release.version;
      const { measured, facts, firmware } = installerMachine(input, model, node);
      const factAt = (fact: keyof HardwareFacts): InventoryPath => {
        const m = measured?.at[fact];
        if (m !== undefined) return m;
        const f = FIELDS[fact];
        if (node.hardware[fact] !== undefined) return node.sources[f.hardware] ?? ['nodes', node.index];
        if (f.lab === 'lab') return ['lab'];
        return (f.lab !== undefined ? node.sources[f.lab] : undefined) ?? (input.lab !== undefined ? ['lab'] : ['nodes', node.index]);
      };
      const subject = {
        node,
        version,
        firmware,
        declaredFirmware: nodeFirmware(model, node),
        ...(measured?.firmware ? { firmwareAt: measured.firmware.at } : {}),
        ...(measured?.nicUntied?.fastest ? { nicSpeedUntied: true } : {}),
        ...(measured?.deviceMissing ? { deviceMissing: measured.deviceMissing.at, disks: measured.disks } : {}),
        facts,
        factAt,
        config: effectiveConfig(model, node),
        report: model.boot.report,
      };
      for (const rule of INSTALLER_RULES) {
        if (!inReleases(version, rule.releases)) continue;
        // Tests only: the rules without this one (test/real/installer-corpus.test.ts must catch it).
        if (mutation !== undefined && mutation === `drop-installer-rule:${rule.id}`) continue;
        const found = rule.check(subject);
        const hits: readonly RuleHit[] = found === undefined ? [] : Array.isArray(found) ? found : [found];
        for (const hit of hits) {
          report({
            code: rule.code,
            message: hit.message,
            hint: hit.hint,
            at: hit.at,
            node: node.hostname,
            ...(hit.severity ? { severity: hit.severity } : {}),
          });
        }
      }
    });
  },
};
