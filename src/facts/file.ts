// A facts file (`<site>/facts/<hostname>.yaml`) both ways: the text `harvgen facts` writes (keys
// in a fixed order, snake_case as the inventory writes them, a header saying what it is) and the
// value load read back, once schema/facts.schema.json has passed it, as MeasuredFacts.
import { stringify } from 'yaml';
import type { MeasuredDisk, MeasuredFacts, MeasuredNic } from './types.ts';
import { defined } from '../util/defined.ts';

/** The file's value in the order it is written: undefined fields left out. */
export function factsDocument(f: MeasuredFacts): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    measured: { source: f.measured.source, from: f.measured.from, at: f.measured.at },
  };
  const identity = defined({
    manufacturer: f.identity.manufacturer,
    model: f.identity.model,
    serial: f.identity.serial,
    uuid: f.identity.uuid,
  });
  if (Object.keys(identity).length > 0) doc.identity = identity;
  Object.assign(
    doc,
    defined({
      firmware: f.firmware,
      secure_boot: f.secureBoot,
      cpus: f.cpus,
      memory_gib: f.memoryGib,
      memory_total_gib: f.memoryTotalGib,
      virtualized: f.virtualized,
      kvm: f.kvm,
    }),
  );
  if (f.disks)
    doc.disks = f.disks.map((d) =>
      defined({
        name: d.name,
        by_id: d.byId,
        wwn: d.wwn,
        model: d.model,
        serial: d.serial,
        size_gib: d.sizeGib,
        media: d.media,
        protocol: d.protocol,
      }),
    );
  doc.nics = f.nics.map((n) =>
    defined({ mac: n.mac, configured_mac: n.configuredMac, speed_mbps: n.speedMbps, link: n.link, name: n.name, driver: n.driver }),
  );
  return doc;
}

/** The text of a facts file. */
export function factsText(hostname: string, f: MeasuredFacts): string {
  const header = [
    `# Hardware of ${hostname} as measured by \`harvgen facts\` (${f.measured.source}). Review and commit it:`,
    '# harvgen checks the Harvester installer rules of the node against these facts, and says where',
    '# they disagree with its declared `hardware:` (docs/facts.md). Measure again to refresh it.',
  ].join('\n');
  return `${header}\n${stringify(factsDocument(f), { lineWidth: 0 })}`;
}

/** Whether two measurements found the same machine (where and when aside). */
export function sameFacts(a: MeasuredFacts, b: MeasuredFacts): boolean {
  // The same machine read through another address or dump file name is the same machine.
  const strip = (f: MeasuredFacts) => JSON.stringify({ ...factsDocument(f), measured: { source: f.measured.source } });
  return strip(a) === strip(b);
}

type Raw = Record<string, unknown>;

/** A facts file's value (valid by schema/facts.schema.json) as MeasuredFacts. */
export function factsFromDocument(raw: Raw): MeasuredFacts {
  const m = raw.measured as Raw;
  const id = (raw.identity ?? {}) as Raw;
  const disks = (raw.disks as Raw[] | undefined)?.map(
    (d): MeasuredDisk =>
      ({
        ...defined({
          name: d.name,
          byId: d.by_id,
          wwn: d.wwn,
          model: d.model,
          serial: d.serial,
          media: d.media,
          protocol: d.protocol,
        }),
        sizeGib: d.size_gib,
      }) as MeasuredDisk,
  );
  const nics = ((raw.nics ?? []) as Raw[]).map(
    (n): MeasuredNic =>
      ({
        mac: n.mac,
        ...defined({ configuredMac: n.configured_mac, speedMbps: n.speed_mbps, link: n.link, name: n.name, driver: n.driver }),
      }) as MeasuredNic,
  );
  return {
    measured: { source: m.source, from: m.from, at: m.at } as MeasuredFacts['measured'],
    identity: defined({ manufacturer: id.manufacturer, model: id.model, serial: id.serial, uuid: id.uuid }) as MeasuredFacts['identity'],
    ...(defined({
      firmware: raw.firmware,
      secureBoot: raw.secure_boot,
      cpus: raw.cpus,
      memoryGib: raw.memory_gib,
      memoryTotalGib: raw.memory_total_gib,
      virtualized: raw.virtualized,
      kvm: raw.kvm,
    }) as Partial<MeasuredFacts>),
    ...(disks ? { disks } : {}),
    nics,
  };
}
