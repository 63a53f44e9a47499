// A machine's hardware as measured (`harvgen facts`): from its BMC over Redfish, or from a dump
// taken on the machine by the collector script harvgen writes. Written to `<site>/facts/<host>.yaml`
// (src/facts/yaml.ts), read back by load as a layer (`$measured`), judged by the installer rules
// of the node's release as declared facts are (src/validate/rules/installer.ts) and compared with
// what the inventory declares (src/validate/rules/measured.ts). Node-free: the library ships it.

/** Where and when the facts were measured. */
export interface Measurement {
  /** `redfish`: the BMC; `dump`: the collector script's output, taken on the machine. */
  readonly source: 'redfish' | 'dump';
  /** The ComputerSystem URL (no credentials), or the dump file's name. */
  readonly from: string;
  /** ISO 8601 UTC, to the second. Kept when a new measurement finds the same facts. */
  readonly at: string;
}

/** The machine's identity as its firmware reports it (SMBIOS type 1). */
export interface MachineIdentity {
  readonly manufacturer?: string;
  readonly model?: string;
  readonly serial?: string;
  /** SMBIOS UUID, lowercase. */
  readonly uuid?: string;
}

/** One disk the machine has. */
export interface MeasuredDisk {
  /** Kernel name (`sda`, `nvme0n1`): dump only. */
  readonly name?: string;
  /** A stable `/dev/disk/by-id/` path: dump only (the kernel's udev names it). */
  readonly byId?: string;
  /**
   * The disk's World Wide Name, lowercase: `0x<hex>` (NAA: a dump's `wwn-0x...` link, Redfish
   * Identifiers) or `eui.<hex>` (NVMe: a dump's `nvme-eui....` link, Redfish EUI/NGUID).
   */
  readonly wwn?: string;
  readonly model?: string;
  readonly serial?: string;
  /** Size in GiB (2^30 bytes), floored, as the installer's disk checks compute it. */
  readonly sizeGib: number;
  /** `SSD`, `HDD` (Redfish MediaType; dump: rotational). */
  readonly media?: string;
  /** `SATA`, `SAS`, `NVMe`, ... */
  readonly protocol?: string;
}

/** One NIC the machine has. */
export interface MeasuredNic {
  /** Lowercase colon form: the NIC's permanent MAC (Redfish PermanentMACAddress), else its current one. */
  readonly mac: string;
  /**
   * The MAC the NIC is set to now (Redfish MACAddress) where it differs from `mac` (a virtual or
   * FlexAddress MAC): what the firmware, DHCP and the installer see.
   */
  readonly configuredMac?: string;
  /** Link speed in Mbit/s; absent when none is reported (virtio: the kernel's -1; Redfish: no SpeedMbps). */
  readonly speedMbps?: number;
  readonly link?: 'up' | 'down';
  /** Kernel interface name: dump only. */
  readonly name?: string;
  /** Linux driver: dump only. */
  readonly driver?: string;
}

/** What was measured of one machine. Absent = not reported by that source. */
export interface MeasuredFacts {
  readonly measured: Measurement;
  readonly identity: MachineIdentity;
  readonly firmware?: 'uefi' | 'bios';
  readonly secureBoot?: boolean;
  /** Logical CPUs (`nproc --all`; Redfish: the processors' threads). */
  readonly cpus?: number;
  /** Installed memory in GiB, floored (dmidecode type 19's sum; Redfish: the DIMMs' sum). */
  readonly memoryGib?: number;
  /** The kernel's MemTotal in GiB, floored (dump only: what v1.3.0's check measured). */
  readonly memoryTotalGib?: number;
  readonly virtualized?: boolean;
  /** `/dev/kvm` exists (dump only). */
  readonly kvm?: boolean;
  /** Absent: the source reports none (a BMC without Storage), which is not a machine without disks. */
  readonly disks?: readonly MeasuredDisk[];
  readonly nics: readonly MeasuredNic[];
}
