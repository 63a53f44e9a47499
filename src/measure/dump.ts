// A machine's facts from a dump taken on it: the collector script (`harvgen facts --script`)
// prints what the Harvester installer's preflight reads (nproc, MemTotal, dmidecode's type 19
// ranges, /sys/firmware/efi, /dev/kvm, systemd-detect-virt, each NIC's sysfs speed) and what an
// inventory needs to name the machine's parts (SMBIOS identity, MACs, disks and their by-id
// links), one fact a line: `<kind> [<name>] <field> <value>`. The parser reads at most
// MAX_DUMP_BYTES and MAX_DUMP_LINES, ignores what it does not know and keeps a value only where it
// passes the facts file's own pattern.
import type { MeasuredDisk, MeasuredFacts, MeasuredNic } from '../facts/types.ts';
import { defined } from '../util/defined.ts';
import { normalizeMac } from '../util/mac.ts';
import { reportedText, smbiosUuid } from '../facts/text.ts';

export const MAX_DUMP_BYTES = 4 * 1024 * 1024;
const MAX_DUMP_LINES = 100_000;
const MAGIC = 'harvgen-facts 1';

/** The collector script: POSIX sh, read-only, run as root on the machine (a live system, or the installer's shell). */
export const COLLECTOR_SCRIPT = `#!/bin/sh
# harvgen facts collector: prints this machine's hardware as the Harvester installer's preflight
# checks read it, one fact a line. It reads only; run it as root (dmidecode needs root), save what
# it prints, and import it: harvgen facts <site> --node <hostname> --dump <file>
set -u
echo '${MAGIC}'
echo "nproc $(nproc --all 2>/dev/null || getconf _NPROCESSORS_CONF)"
sed -n 's/^MemTotal: *\\([0-9]*\\) kB$/memtotal_kb \\1/p' /proc/meminfo
dmidecode -t 19 2>/dev/null | sed -n 's/^[[:space:]]*Range Size: /dmi19 /p'
for f in sys_vendor product_name product_serial product_uuid; do
  [ -r /sys/class/dmi/id/$f ] && printf 'system %s %s\\n' "$f" "$(cat /sys/class/dmi/id/$f)"
done
if [ -d /sys/firmware/efi ]; then echo 'firmware uefi'; else echo 'firmware bios'; fi
sb=$(ls /sys/firmware/efi/efivars/SecureBoot-* 2>/dev/null | head -n 1)
[ -n "$sb" ] && echo "secureboot $(od -An -tu1 "$sb" | awk '{print $NF}')"
command -v systemd-detect-virt >/dev/null 2>&1 && echo "virt $(systemd-detect-virt --vm 2>/dev/null)"
if [ -e /dev/kvm ]; then echo 'kvm yes'; else echo 'kvm no'; fi
for d in /sys/class/net/*; do
  n=\${d##*/}
  [ -e "$d/device" ] || continue
  mac=$(cat "$d/address")
  [ -r "$d/bonding_slave/perm_hwaddr" ] && mac=$(cat "$d/bonding_slave/perm_hwaddr")
  echo "nic $n mac $mac"
  echo "nic $n speed $(cat "$d/speed" 2>/dev/null || echo -1)"
  echo "nic $n operstate $(cat "$d/operstate" 2>/dev/null)"
  [ -e "$d/device/driver" ] && echo "nic $n driver $(basename "$(readlink "$d/device/driver")")"
done
for d in /sys/block/*; do
  n=\${d##*/}
  [ -e "$d/device" ] || continue
  echo "disk $n sectors $(cat "$d/size")"
  echo "disk $n rotational $(cat "$d/queue/rotational" 2>/dev/null)"
  [ -r "$d/device/model" ] && echo "disk $n model $(cat "$d/device/model")"
  [ -r "$d/device/serial" ] && echo "disk $n serial $(cat "$d/device/serial")"
  [ -r "$d/serial" ] && echo "disk $n serial $(cat "$d/serial")"
  command -v udevadm >/dev/null 2>&1 &&
    udevadm info --query=property --path="$d" 2>/dev/null | sed -n 's/^ID_SCSI_SERIAL=/scsi_serial /p; s/^ID_SERIAL_SHORT=/serial_short /p' |
    while read -r k v; do printf 'disk %s %s %s\\n' "$n" "$k" "$v"; done
done
for l in /dev/disk/by-id/*; do
  [ -L "$l" ] || continue
  t=$(readlink -f "$l")
  echo "byid \${t##*/} \${l##*/}"
done
echo 'end'
`;

/** Why a dump cannot be read. */
export class DumpError extends Error {}

/** What a dump says, less `measured` (the caller's). */
export type DumpFacts = Omit<MeasuredFacts, 'measured'>;

/** The facts of a dump's text. Throws DumpError when it is not one. */
export function parseDump(text: string): DumpFacts {
  if (text.length > MAX_DUMP_BYTES) throw new DumpError(`larger than ${MAX_DUMP_BYTES} bytes: not a facts dump`);
  // The magic line and at most MAX_DUMP_LINES more (a final newline ends the last, it adds none).
  const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n', MAX_DUMP_LINES + 2);
  if (lines.length > MAX_DUMP_LINES + 1)
    throw new DumpError(`more than ${MAX_DUMP_LINES + 1} lines: more than the collector writes of one machine`);
  if (lines[0]?.trim() !== MAGIC) throw new DumpError(`its first line is not "${MAGIC}": not the output of \`harvgen facts --script\``);
  const body = lines.slice(1).map((l) => l.replace(/\r$/, ''));
  // The collector's last line: a dump cut short would say the machine has fewer disks and NICs than it has.
  if (!body.includes('end'))
    throw new DumpError('it does not end with the collector\'s last line ("end"): a dump cut short, or an older collector; take it again');
  const d = new DumpReader();
  for (const line of body) d.line(line);
  return d.facts();
}

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

class DumpReader {
  private scalars = new Map<string, string>();
  private dmi19Mib = 0;
  private dmi19 = false;
  private system = new Map<string, string>();
  private nics = new Map<string, Map<string, string>>();
  private disks = new Map<string, Map<string, string>>();
  private byId = new Map<string, string[]>();

  line(line: string): void {
    const m = /^(\S+) (.*)$/.exec(line);
    if (!m) return;
    const [, kind, rest] = m as unknown as [string, string, string];
    if (kind === 'dmi19') return this.range(rest);
    if (kind === 'system' || kind === 'nic' || kind === 'disk' || kind === 'byid') return this.named(kind, rest);
    if (!this.scalars.has(kind)) this.scalars.set(kind, rest.trim());
  }

  /** `Range Size: 32 GB` (dmidecode prints bytes, kB, MB, GB or TB), summed. */
  private range(rest: string): void {
    const m = /^(\d+) (bytes|kB|MB|GB|TB)$/.exec(rest.trim());
    if (!m) return;
    const scale = { bytes: 1 / 1024 / 1024, kB: 1 / 1024, MB: 1, GB: 1024, TB: 1024 * 1024 }[m[2] as 'MB'];
    this.dmi19Mib += Number(m[1]) * scale;
    this.dmi19 = true;
  }

  private named(kind: 'system' | 'nic' | 'disk' | 'byid', rest: string): void {
    const m = /^(\S+) ?(\S*) ?(.*)$/.exec(rest);
    if (!m || !NAME.test(m[1]!)) return;
    const [, name, field, value] = m as unknown as [string, string, string, string];
    if (kind === 'system') {
      this.system.set(name, `${field} ${value}`.trim());
    } else if (kind === 'byid') {
      if (/^[A-Za-z0-9._:+@-]{1,200}$/.test(field)) this.byId.set(name, [...(this.byId.get(name) ?? []), field]);
    } else {
      const table = kind === 'nic' ? this.nics : this.disks;
      if (!table.has(name) && table.size >= 256) return;
      const fields = table.get(name) ?? new Map<string, string>();
      table.set(name, fields);
      // The first non-empty value of a field stands (a disk's serial from sysfs before udev's).
      if (!fields.get(field)) fields.set(field, value.trim());
    }
  }

  facts(): DumpFacts {
    const s = (k: string) => this.scalars.get(k);
    const int = (v: string | undefined) => (v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : undefined);
    const memTotalKb = int(s('memtotal_kb'));
    const virt = s('virt');
    const sb = s('secureboot');
    return {
      identity: defined({
        manufacturer: reportedText(this.system.get('sys_vendor')),
        model: reportedText(this.system.get('product_name')),
        serial: reportedText(this.system.get('product_serial')),
        uuid: smbiosUuid(this.system.get('product_uuid')),
      }),
      ...defined({
        firmware: s('firmware') === 'uefi' ? 'uefi' : s('firmware') === 'bios' ? 'bios' : undefined,
        secureBoot: sb === '1' ? true : sb === '0' ? false : undefined,
        cpus: int(s('nproc')),
        memoryGib: this.dmi19 ? Math.floor(this.dmi19Mib / 1024) : undefined,
        memoryTotalGib: memTotalKb !== undefined ? Math.floor(memTotalKb / 1024 / 1024) : undefined,
        // systemd-detect-virt's answer (`none`, `kvm`, ...); missing or empty: not measured.
        virtualized: virt === undefined || !/^[a-z0-9-]+$/.test(virt) ? undefined : virt !== 'none',
        kvm: s('kvm') === 'yes' ? true : s('kvm') === 'no' ? false : undefined,
      }),
      disks: this.diskList(),
      nics: this.nicList(),
    };
  }

  private diskList(): MeasuredDisk[] {
    const out: MeasuredDisk[] = [];
    for (const [name, f] of [...this.disks].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const sectors = f.get('sectors');
      if (sectors === undefined || !/^\d{1,15}$/.test(sectors)) continue;
      // Loop, RAM, optical and device-mapper devices are not install disks.
      if (/^(loop|ram|sr|dm-|zram|md)/.test(name) || sectors === '0' || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) continue;
      const links = this.byId.get(name) ?? [];
      const ids = links.filter((id) => !/^(wwn-|nvme-eui\.|dm-|lvm-|md-)/.test(id)).sort();
      // The WWN as udev names its link, `wwn-0x<hex>` (ATA, SCSI) or `nvme-eui.<hex>` (NVMe), kept
      // as spelled there so that the path made of it is the link udev made.
      const wwn = links
        .map((id) => /^(?:wwn-(0x[0-9a-f]{8,64})|nvme-(eui\.[0-9a-f]{8,64}))$/i.exec(id))
        .flatMap((m) => (m ? [m[1] ?? m[2]!] : []))
        .sort()[0];
      const rot = f.get('rotational');
      out.push({
        name,
        ...defined({
          byId: ids[0] !== undefined ? `/dev/disk/by-id/${ids[0]}` : undefined,
          wwn,
          model: reportedText(f.get('model')),
          // sysfs (NVMe, virtio), else udev's: a SCSI disk's unit serial (VPD page 0x80), an ATA disk's.
          serial: reportedText(f.get('serial') || f.get('scsi_serial') || f.get('serial_short')),
          media: rot === '0' ? 'SSD' : rot === '1' ? 'HDD' : undefined,
        }),
        sizeGib: Math.floor((Number(sectors) * 512) / 2 ** 30),
      });
    }
    return out;
  }

  private nicList(): MeasuredNic[] {
    const out: MeasuredNic[] = [];
    for (const [name, f] of [...this.nics].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const mac = normalizeMac(f.get('mac') ?? '');
      if (mac === undefined || name.length > 15) continue;
      const speed = Number(f.get('speed'));
      const state = f.get('operstate');
      const driver = f.get('driver');
      out.push({
        mac,
        ...defined({
          // The kernel's -1 (virtio, a link down): no speed, which the installer's check skips.
          speedMbps: Number.isInteger(speed) && speed > 0 && speed <= 10_000_000 ? speed : undefined,
          link: state === 'up' ? 'up' : state === 'down' || state === 'lowerlayerdown' ? 'down' : undefined,
          name,
          driver: driver !== undefined && /^[a-z0-9_-]{1,32}$/.test(driver) ? driver : undefined,
        }),
      } as MeasuredNic);
    }
    return out;
  }
}
