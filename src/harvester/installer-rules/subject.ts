// The installer rules' vocabulary: what a rule is (`InstallerRule`), what it sees of one node
// (`RuleSubject`) and what it finds (`RuleHit`), the release-range test every rule is keyed by
// (`inReleases`), and the install settings as the installer reads them (`installView`). The rules
// themselves are in the files beside this one, grouped by concern; ../installer-rules.ts lists them.
import type { Code } from '../../diagnostics/codes.ts';
import type { HardwareFacts } from '../hardware-facts.ts';
import type { EffectiveConfig } from '../effective-config.ts';
import type { HarvesterVersion } from '../versions.ts';
import { witnessHasNoData } from '../witness.ts';
import type { InventoryPath } from '../../util/paths.ts';

export type { HardwareFacts };

/**
 * One node as a rule sees it: the config its installer parses (`config`, with where each value
 * was set), its firmware and its hardware facts. A rule reads no inventory field: whatever path
 * a value took into the config (a node setting, `config:`, `defaults:`, a profile, a built-in
 * default), the rule sees it the same way.
 */
export interface RuleSubject {
  /** Only for its name in messages. */
  readonly node: { readonly hostname: string };
  readonly version: HarvesterVersion;
  /** The node's own firmware (`nodeFirmware`: arm64 machines boot UEFI whatever the site says). */
  readonly firmware: 'uefi' | 'bios';
  /** Where the firmware was measured (`facts/<hostname>.yaml`); absent: the site's `boot.firmware`. */
  readonly firmwareAt?: InventoryPath;
  /** The firmware the site declares for the node (`boot.firmware`), measured or not. */
  readonly declaredFirmware?: 'uefi' | 'bios';
  /** Measured facts show the config's install device is not one of the machine's disks: where they list its disks. */
  readonly deviceMissing?: InventoryPath;
  /** The measured disks, said for a message (`sda 447 GiB, sdb 1863 GiB`). */
  readonly disks?: string;
  /**
   * The management interface's NICs are named only by kernel name and the facts name none:
   * `nicSpeedMbps` is the fastest of the machine's NICs that are up, all below 10 Gbps.
   */
  readonly nicSpeedUntied?: boolean;
  readonly facts: HardwareFacts;
  /** Where a fact (`memoryGib`, ...) was declared: the node's `hardware:` or lab sizing. */
  readonly factAt: (fact: keyof HardwareFacts) => InventoryPath;
  /** The effective installer config (src/derive/harvester/effective.ts). */
  readonly config: EffectiveConfig;
  /** `boot.report`: the config carries harvgen's own install-event webhooks. */
  readonly report: boolean;
}

/** What a rule found. */
export interface RuleHit {
  readonly message: string;
  readonly hint: string;
  readonly at: InventoryPath;
  readonly severity?: 'error' | 'warning';
}

/** One rule of the installer. */
export interface InstallerRule {
  readonly id: string;
  readonly code: Code;
  /** Releases the rule holds in: `>=1.3.0`, `>=1.7.0 <1.8.0`, ... */
  readonly releases: string;
  /** Releases in which `skipchecks` lifts it (none: never). */
  readonly lifted?: string;
  /** The condition, for the README. */
  readonly when: string;
  /** What the installer does, for the README. */
  readonly effect: string;
  /** File, function and tag in the installer's source (or the upstream issue). */
  readonly source: string;
  readonly check: (s: RuleSubject) => RuleHit | RuleHit[] | undefined;
}

/**
 * Answers of inReleases by release and range: rules ask the same few for every node. By the
 * release object (a site's nodes of one release share it; it is never changed) and the range (the
 * rules' own texts): no key is made for each question.
 */
const rangeAnswers = new WeakMap<HarvesterVersion, Map<string, boolean>>();

/** `>=1.3.1 <1.8.0`-style range test on a release (release candidates count as their release). */
export function inReleases(v: HarvesterVersion, range: string): boolean {
  let answers = rangeAnswers.get(v);
  if (answers === undefined) rangeAnswers.set(v, (answers = new Map()));
  let answer = answers.get(range);
  if (answer === undefined) answers.set(range, (answer = testRange(v, range)));
  return answer;
}

function testRange(v: HarvesterVersion, range: string): boolean {
  const n = (x: string) => x.split('.').map(Number) as [number, number, number];
  const cmp = (a: [number, number, number], b: [number, number, number]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  const have: [number, number, number] = [v.major, v.minor, v.patch];
  return range.split(/\s+/).every((part) => {
    const m = /^(>=|<|=)(\d+\.\d+\.\d+)$/.exec(part);
    if (!m) throw new Error(`bad release range ${range}`);
    const c = cmp(have, n(m[2]!));
    return m[1] === '>=' ? c >= 0 : m[1] === '<' ? c < 0 : c === 0;
  });
}

export const MIB_PER_GIB = 1024;

/** `150Gi` / `153600Mi` in MiB. */
export function partitionMib(size: string): number | undefined {
  const m = /^(\d+)(Mi|Gi)$/.exec(size);
  return m ? Number(m[1]) * (m[2] === 'Gi' ? MIB_PER_GIB : 1) : undefined;
}

/**
 * The install settings as the installer reads them from its config: `data_disk` equal (as a
 * string) to `device` is cleared (install_panels.go), `role` exists from v1.3.0, `skipchecks`
 * from v1.3.0 (from the file or the kernel line, whichever says true: config.Merge).
 */
export interface InstallView {
  readonly device: string;
  readonly dataDisk: string;
  /** A data disk other than the install disk. */
  readonly separate: boolean;
  readonly role: string;
  /** A witness whose release gives it no data partition (v1.6.0 and later). */
  readonly witnessNoData: boolean;
  readonly skipchecks: boolean;
  /** The key that sets `force_mbr` true, if any. */
  readonly forceMbr?: 'force_mbr' | 'forceMbr';
  readonly partition: string;
}

/** Views by config: each rule asks for the same node's. */
const views = new WeakMap<EffectiveConfig, InstallView>();

export function installView(s: Pick<RuleSubject, 'config' | 'version'>): InstallView {
  let view = views.get(s.config);
  if (view !== undefined) return view;
  const str = (key: string) => {
    const v = s.config.get(key);
    return typeof v === 'string' ? v : '';
  };
  const device = str('install.device');
  const dataDisk = str('install.data_disk');
  const role = inReleases(s.version, '>=1.3.0') ? str('install.role') : '';
  const forceMbr =
    s.config.get('install.force_mbr') === true ? 'force_mbr' : s.config.get('install.forceMbr') === true ? 'forceMbr' : undefined;
  view = {
    device,
    dataDisk,
    separate: dataDisk !== '' && dataDisk !== device,
    role,
    witnessNoData: role === 'witness' && witnessHasNoData(s.version),
    skipchecks: inReleases(s.version, '>=1.3.0') && s.config.get('install.skipchecks') === true,
    ...(forceMbr ? { forceMbr } : {}),
    partition: str('install.persistent_partition_size') || '150Gi',
  };
  views.set(s.config, view);
  return view;
}

/** The hint's way out of a check that skipchecks lifts. */
export const skip = 'or set `boot.skipchecks: true` (`harvester.install.skipchecks=true`) to install anyway';
