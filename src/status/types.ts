// What `harvgen status` and `harvgen discover` report (the library: src/status/index.ts).
import type { Diagnostic } from '../diagnostics/types.ts';

/**
 * What a node did, judged from the boot server's log:
 * - `never-booted`: no request of it;
 * - `booting`: it fetched its script (and maybe some files) but not what it boots with (a node
 *   booting from its boot ISO on UEFI fetches no script: its kernel starts the boot);
 * - `local`: it fetched its script and booted its disk (`state: local`, or `install-once` on an installed disk);
 * - `booted`: a generic OS or iSCSI node fetched everything its script boots;
 * - `installing`: the installer fetched its config or reported STARTED, and nothing since;
 * - `installed`: the installer reported SUCCEEDED last;
 * - `failed`: the installer reported FAILED last;
 * - `loop`: it started installing again soon after a SUCCEEDED (within the loop window): a node
 *   that network-boots first under `state: install` reinstalls at every boot.
 */
export type Verdict = 'never-booted' | 'booting' | 'local' | 'booted' | 'installing' | 'installed' | 'failed' | 'loop';

/** The kinds of file a node fetches. */
export type FetchKind = 'script' | 'kernel' | 'initrd' | 'rootfs' | 'iso' | 'config' | 'seed';

/** The last fetch of one kind, and how many there were. */
export interface FetchSummary {
  readonly count: number;
  /** ISO 8601 time of the last one. */
  readonly last: string;
  readonly status: number;
  readonly ip: string;
}

/** One install event the installer reported (`install.webhooks`). */
export interface StatusEvent {
  readonly event: 'STARTED' | 'SUCCEEDED' | 'FAILED';
  readonly time: string;
  readonly ip: string;
  /** The MAC and address the installer reported (its management interface). */
  readonly mac?: string;
  /** False when it came from an address the node does not use (ignored for the verdict). */
  readonly accepted: boolean;
}

/** One node's status. */
export interface NodeStatus {
  readonly site: string;
  readonly hostname: string;
  readonly boot: 'harvester' | 'os' | 'iscsi';
  readonly state: 'install' | 'local' | 'install-once';
  readonly verdict: Verdict;
  /** The last script fetch: when, from which address, for which MAC. */
  readonly last_boot?: { readonly time: string; readonly ip: string; readonly mac: string; readonly status: number };
  readonly fetches: Partial<Record<FetchKind, FetchSummary>>;
  /** Its boot medium (`medium: iso`) fetched by its BMC, from the BMC's address: apart from the node's fetches (no boot); `count` is requests (a BMC reading in ranges makes several). */
  readonly medium?: FetchSummary;
  readonly events: readonly StatusEvent[];
  /** Older events not listed (the newest MAX_NODE_EVENTS are). */
  readonly events_omitted?: number;
  /** How many installs it completed (SUCCEEDED events accepted). */
  readonly installs: number;
  /** What looks wrong (a refused or missing file, an event from a foreign address, a boot that went nowhere). */
  readonly problems: readonly string[];
  /** The last BMC action the BMC scripts logged for it (`--bmc-log`); absent when none. */
  readonly bmc?: BmcAction;
}

/** One run of a changing BMC subcommand, as a generated BMC script logged it (`HARVGEN_BMC_LOG`). */
export interface BmcAction {
  /** ISO 8601 time (UTC) the script ended. */
  readonly time: string;
  /** The subcommand: `pxe-once`, `http-boot-once`, `power-cycle`, `virtual-media`, `media-boot`, `eject`. */
  readonly action: string;
  /** The script's exit status: 0 done (and read back), 1 refused, unreachable or a wait ran out, 2 usage or configuration, 3 accepted but not applied. */
  readonly exit: number;
  /** The last line the script printed (control characters replaced, cut short when long). */
  readonly message: string;
}

/** What reading the BMC logs gave (`--bmc-log`). */
export interface BmcLogCounts {
  /** Lines of the log's shape read, of every site. */
  readonly lines: number;
  /** Lines not of the log's shape (skipped). */
  readonly skipped: number;
  /** Lines of a site of the run that name no node of it (ignored). */
  readonly unknown_nodes: number;
  /** Logs larger than the limit, of which only the newest part was read. */
  readonly cut: readonly string[];
}

/** A MAC the site does not know that asked for a script, or an unknown machine that reported itself. */
export interface UnknownMachine {
  readonly site: string;
  /** Lowercase colon form. */
  readonly mac: string;
  readonly first: string;
  readonly last: string;
  /** Script requests (404) and reports seen. */
  readonly requests: number;
  readonly ips: readonly string[];
  /** What unknown.ipxe reported (`boot.report`), the last report. */
  readonly report?: {
    readonly uuid?: string;
    readonly serial?: string;
    readonly manufacturer?: string;
    readonly product?: string;
    readonly platform?: string;
  };
  /** Install events of an unknown machine joining (`boot.unknown: join`), by the hostname it took. */
  readonly joined?: { readonly host: string; readonly event: string; readonly time: string };
}

/** The result of `status`: every node of every site, the unknown machines, and the log's tallies. */
export interface StatusResult {
  readonly sites: readonly { readonly dir: string; readonly site?: string; readonly diagnostics: readonly Diagnostic[] }[];
  readonly nodes: readonly NodeStatus[];
  readonly unknown: readonly UnknownMachine[];
  readonly diagnostics: readonly Diagnostic[];
  /** Requests read (after `since`), and lines that were not requests. */
  readonly requests: number;
  /** Requests judged `harvgen verify`'s (its User-Agent and a probe name or an address no node has): left out. */
  readonly verifyRequests: number;
  /** Requests from the boot server itself (loopback, boot.server's address): no machine's, left out. */
  readonly serverRequests: number;
  /** Requests from an address no node of theirs can be using (src/status/origin.ts): left out. */
  readonly foreignRequests: number;
  /** Lines that were no request (not in the combined format, or longer than 64 KiB). */
  readonly skipped: number;
  /** With BMC logs (`bmcLogs`): what reading them gave. */
  readonly bmc?: BmcLogCounts;
  /** What the run says about its state directory (`--state`): a saved state not merged, not updated. */
  readonly notes?: readonly string[];
  /** Per site: its requests counted (verify's left out), verify's, the newest one counted (ms). */
  readonly counts?: readonly {
    readonly site: string;
    readonly requests: number;
    readonly verifyRequests: number;
    readonly serverRequests: number;
    readonly foreignRequests: number;
    readonly lastRequest?: number;
  }[];
}
