// The hardware facts of a machine as the Harvester installer's preflight checks and disk rules
// see them (`hardware:` of a node, or a lab domain's sizing).

/** What the installer sees of a machine (src/harvester/installer-rules.ts). Absent = unknown: no rule guesses. */
export interface HardwareFacts {
  /** Installed memory (dmidecode type 19 sum, floored to GiB). */
  readonly memoryGib?: number;
  /**
   * The kernel's MemTotal in GiB, floored (measured facts only): what v1.3.0's check compares, and
   * what later releases fall back to when dmidecode reports no type 19 range.
   */
  readonly memoryTotalGib?: number;
  /** `nproc --all`. */
  readonly cpus?: number;
  /** Install disk size in GiB (2^30 bytes, floored). */
  readonly diskGib?: number;
  readonly dataDiskGib?: number;
  /** `/sys/class/net/<nic>/speed`; absent when the kernel reports none (virtio: -1). */
  readonly nicSpeedMbps?: number;
  readonly nicDriver?: string;
  readonly virtualized?: boolean;
  readonly kvm?: boolean;
}
