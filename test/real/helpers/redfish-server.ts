// A Redfish service for tests of the generated BMC scripts: node's http/https on 127.0.0.1, written
// from the DMTF schemas (ComputerSystem, Manager, VirtualMedia, Settings, Task, ActionInfo) as
// summarised in the session's redfish-facts.md, plus switchable vendor quirks (vendor-quirks.md).
// Every state change is driven by request counts, never by wall time, so scripts that poll with no
// sleep (HARVGEN_BMC_POLL=0) see the same sequence on every run.
//
// Without quirks it is the fake server bmc.test.ts had inline: systems `sys-1` (On, resets On,
// ForceOff, GracefulRestart, ForceRestart, PowerCycle) and `sys-2` (Off, resets On, PowerCycle,
// targets None/Pxe/Hdd/Cd), manager `bmc-1` whose VirtualMedia holds `Floppy1` (empty) and `Cd1`
// (inserted, http://old/old.iso), Basic auth everywhere but the service root, Redfish error bodies.
//
// An inserted image (InsertMedia, or the PATCH form) on http://127.0.0.1 is fetched as a BMC
// fetches it, bounded in size and time, and the SHA-256 of its bytes recorded (`fetches`); a fetch
// that fails refuses the insert. Images elsewhere are not fetched: the tests' URLs there are names.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.ts';
import { describe, run } from './proc.ts';

/** Where an operation may be turned into a task (202 + task monitor) or a one-time 409. */
export type RedfishOperation = 'reset' | 'insert' | 'patch';

/** Vendor behaviours, each off by default and independent of the others. */
export interface RedfishQuirks {
  /**
   * Ids of the Systems members (each shaped like `sys-1`), replacing the default two. Real ids:
   * `Self` (AMI MegaRAC), `System.Embedded.1` (Dell), `1` (HPE, Lenovo, Supermicro), `system`
   * (OpenBMC). Several ids model a multi-node chassis BMC (DMTF Tacklebox refuses to guess).
   * Ignored when `options.systems` is given.
   */
  systemIds?: string[];
  /**
   * Where the ETag of a changeable resource (system, settings object, virtual medium) is published:
   * the `ETag` response header (bmcweb, iLO, AMI), `@odata.etag` in the body (Supermicro, Dell
   * VirtualMedia), both, or neither (default; sushy-tools publishes none).
   */
  etag?: 'none' | 'header' | 'body' | 'both';
  /** Weak ETags `W/"n"` (iLO, Dell: community.general#3509, bmclib Dell fixtures). */
  etagWeak?: boolean;
  /**
   * PATCH without If-Match → 428, with a stale one → 412 (AMI MegaRAC RTP ≥ 1.5 per the Lenovo TSM
   * docs; Lenovo XCC: community.general#11261, ansible#56150). A stale If-Match gets 412 anyway.
   */
  requireIfMatch?: boolean;
  /** The first PATCH gets 412 even with the right tag, and the resource's ETag changes (a concurrent writer). */
  staleEtagOnce?: boolean;
  /**
   * After each of the first `times` successful Boot PATCHes, the Boot property `field` reads `to`
   * (Supermicro AS-1015CS-TNR-EU answered 200 and then read Mode Legacy, Enabled Disabled:
   * bmc-toolbox/bmclib PR #459).
   */
  revert?: { field: string; to: unknown; times: number }[];
  /** A Boot PATCH without BootSourceOverrideMode sets Mode to `Legacy` (Supermicro "by design": DMTF/Redfishtool PR #106). */
  forgetModeUnlessSent?: boolean;
  /** BootSourceOverrideEnabled always reads `Continuous`, whatever was written (sushy-tools' emulator). */
  enabledReadsContinuous?: boolean;
  /**
   * Where Boot is written. `annotated`: the system carries `@Redfish.Settings` (SettingsObject
   * `<sys>/Settings`, SupportedApplyTimes) and refuses Boot PATCHes itself with 400; the settings
   * object holds them pending until the next Reset (the schema's settings pattern; sushy follows it).
   * `ami-sd`: no annotation; a Boot PATCH on the system → 400
   * `Ami.1.0.OperationSupportedInFutureStateURI` naming `<sys>/SD`, which holds Boot pending
   * (ASRock WRX80 Creator: DMTF/Redfish-Tacklebox#144, #111).
   */
  bootSettings?: 'none' | 'annotated' | 'ami-sd';
  /** SupportedApplyTimes of the `annotated` settings object (default ['OnReset']; the chosen one is only recorded). */
  settingsApplyTimes?: string[];
  /**
   * These operations answer 202 with `Location: /redfish/v1/TaskService/TaskMonitors/<n>` (and
   * `Retry-After` when given); the monitor answers 202 for `polls` GETs, then applies the change and
   * answers `final`: 204 (default), 200 with a Task body (Completed), or 'exception' (200, Task
   * Exception with a message, the change NOT applied). DSP0266 async operations; Dell iDRAC jobs.
   */
  taskMonitor?: { on: RedfishOperation[]; polls: number; retryAfter?: number; final?: 204 | 200 | 'exception' };
  /** The first request of each listed kind → 409 (a BMC busy with another operation; DSP0266 409). */
  conflictOnce?: RedfishOperation[];
  /**
   * Where virtual media lives: `manager` (default; Managers/bmc-1/VirtualMedia — HPE iLO, older
   * Dell/Lenovo), `system` (under the first system only, the manager has no link — newer iDRAC9,
   * DMTF mockups, Manager.VirtualMedia deprecated in v1_10_0), `system-link-to-manager` (the system's
   * VirtualMedia link points at the manager's collection — Supermicro, bmclib fixture
   * smc_1.14.0_systems_1.json), or `none`.
   */
  vmedia?: 'manager' | 'system' | 'system-link-to-manager' | 'none';
  /**
   * No InsertMedia/EjectMedia actions (VirtualMedia < v1_2_0; Lenovo SD530 per sushy's
   * insert_media comment): PATCH Image/Inserted/WriteProtected instead, If-Match honoured; POSTs to
   * the action paths → 404. Inserted becomes true only when sent true (SD530 does not attach otherwise).
   */
  vmediaPatchOnly?: boolean;
  /** InsertMedia with `Inserted` or `WriteProtected` → 400 (Supermicro X11/X12: sushy insert_media, bmclib virtual_media.go). */
  insertRejectsFlags?: boolean;
  /** InsertMedia without `TransferProtocolType` → 400 naming it (BMCs sushy retries for with HTTP/HTTPS). */
  requireTransferProtocol?: boolean;
  /** After a Reset the system reads PoweringOff/Off/PoweringOn for the next n GETs of it, then the final state (sushy-tools' fake driver lags 1-11 s). */
  powerTransitionPolls?: number;
  /** `Boot.BootSourceOverrideTarget@Redfish.AllowableValues` of every system (absent: no annotation, any BootSource value). */
  targets?: string[];
  /** `Boot.BootSourceOverrideMode@Redfish.AllowableValues` of every system (absent: no annotation, Legacy or UEFI). */
  modes?: string[];
  /** Reset types every system allows (replaces each system's own list). */
  resets?: string[];
  /** The Reset action links `@Redfish.ActionInfo` (`<sys>/ResetActionInfo`) instead of the ResetType annotation (Supermicro has ActionInfo: bmclib smc fixture). */
  resetActionInfo?: boolean;
  /**
   * A request for a path under /redfish/v1/Systems without a trailing slash → 308 to the path + '/';
   * links under Systems are published with the slash (HPE iLO 5 < 1.40, iLO 5 API docs "Trailing
   * Slashes on URIs").
   */
  redirectNoSlash?: boolean;
  /** With redirectNoSlash: links are published without the slash, so that every request under Systems is redirected (a client that builds its paths). */
  linksWithoutSlash?: boolean;
  /** Every request under /redfish/v1/Systems → 307 to the same path on this other `host:port` (a BMC that hands the client on elsewhere). */
  redirectElsewhere?: string;
  /** After each accepted PATCH, the next n GETs under /redfish/v1/Systems answer 200 with an HTML page, not JSON (a busy or broken BMC). */
  garbledReadsAfterPatch?: number;
}

/** A system as the options give it. */
export interface SystemInit {
  PowerState?: 'On' | 'Off';
  Boot?: Record<string, unknown>;
  resets?: string[];
  targets?: string[];
  modes?: string[];
}

/** The live state of a system; tests may read and change it between requests. */
export interface SystemState {
  /** The stored (final) power state; GETs may show `transition` readings first. */
  PowerState: string;
  /** The active Boot properties (annotations are added when rendered). */
  Boot: Record<string, unknown>;
  resets: string[];
  targets?: string[];
  modes?: string[];
  /** Power readings the next GETs of the system show before PowerState (powerTransitionPolls). */
  transition: string[];
  /** Every reset that booted the system: the override it booted with (`Target` None when there was none). */
  boots: { ResetType: string; Target: unknown; Mode?: unknown; HttpBootUri?: unknown }[];
}

/** A settings object (`<sys>/Settings` or AMI's `<sys>/SD`): future-state Boot values. */
export interface SettingsState {
  path: string;
  /** What the object reads: the future Boot values. */
  Boot: Record<string, unknown>;
  /** The Boot properties written since the last Reset; they move to the system on the next one. */
  pending: Record<string, unknown>;
  /** The last `@Redfish.SettingsApplyTime` sent, as sent. */
  applyTime?: unknown;
}

export interface MediaState {
  MediaTypes: string[];
  Image: string | null;
  Inserted: boolean;
  WriteProtected: boolean;
  TransferProtocolType?: string;
}

export interface TaskRecord {
  id: string;
  kind: RedfishOperation;
  /** The request that started it: `METHOD path`. */
  request: string;
  /** GETs of its monitor so far. */
  gets: number;
  state: 'Running' | 'Completed' | 'Exception';
  /** Whether its change has been applied. */
  applied: boolean;
}

export interface RecordedRequest {
  method: string;
  /** As requested (with any trailing slash and query). */
  path: string;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** The parsed JSON body, or undefined (none, or not JSON). */
  body: unknown;
  raw: string;
  /** The Authorization header, '' without one. */
  auth: string;
}

/** An image the service fetched when it was inserted (only from http://127.0.0.1). */
export interface ImageFetch {
  /** The virtual medium's id. */
  media: string;
  url: string;
  /** The SHA-256 (hex) of the bytes fetched; absent when the fetch failed. */
  sha256?: string;
  bytes?: number;
  /** Why the fetch failed (the insert was then refused). */
  error?: string;
}

/** The bounds of an image fetch (a BMC has a buffer and a patience). */
export interface ImageFetchLimits {
  /** At most this many bytes (default 64 MiB); a longer image fails the fetch. */
  maxBytes?: number;
  /** The whole fetch, body included, within this many milliseconds (default 10 s). */
  timeoutMs?: number;
}

export interface RedfishServerOptions {
  tls?: { key: string; cert: string };
  user: string;
  password: string;
  quirks?: RedfishQuirks;
  /** Systems by id, in Members order (default: sys-1 and sys-2, or quirks.systemIds). */
  systems?: Record<string, SystemInit>;
  /**
   * Virtual media by id, in Members order (default: Floppy1 and Cd1). A second slot that takes an
   * image beside the CD is one more member: `Usb1: { MediaTypes: ['USBStick'] }`, or a second CD.
   */
  media?: Record<string, Partial<MediaState> & { MediaTypes: string[] }>;
  imageFetch?: ImageFetchLimits;
}

export interface RedfishServer {
  /** `http(s)://127.0.0.1:<port>` */
  url: string;
  port: number;
  requests: RecordedRequest[];
  systems: Record<string, SystemState>;
  media: Record<string, MediaState>;
  /** Settings objects by system id (bootSettings annotated / ami-sd). */
  settings: Record<string, SettingsState>;
  tasks: Record<string, TaskRecord>;
  /** Every image fetched (or tried) on an insert, in order. */
  fetches: ImageFetch[];
  counters: {
    gets: number;
    /** Authenticated PATCH requests. */
    patches: number;
    /** Authenticated POST requests. */
    posts: number;
    /** Accepted PATCHes that set BootSourceOverrideMode to the value it already read (Dell queues a BIOS job for each: metal-operator#81). */
    modeRewrites: number;
  };
  /** The path of a system (`/redfish/v1/Systems/<id>`, with the slash under redirectNoSlash). */
  systemPath(id: string): string;
  /** The path of a virtual medium. */
  mediaPath(id: string): string;
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1, localhost and `ips` (openssl must exist: callers check requireProgram('openssl')). */
export async function certificate(ips: readonly string[] = []): Promise<{ key: string; cert: string; certFile: string; keyFile: string }> {
  const dir = tempDir('redfish-tls');
  const key = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  const r = await run([
    'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=bmc.test',
    '-addext', `subjectAltName=${['IP:127.0.0.1', 'DNS:localhost', ...ips.map((ip) => `IP:${ip}`)].join(',')}`, '-keyout', key, '-out', certFile,
  ]); // prettier-ignore
  if (r.code !== 0) throw new Error(`openssl could not make a certificate\n${describe(r)}`);
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile, keyFile: key };
}

const BOOT_SOURCES = [
  'None', 'Pxe', 'Floppy', 'Cd', 'Usb', 'Hdd', 'BiosSetup', 'Utilities', 'Diags', 'UefiShell', 'UefiTarget', 'SDCard',
  'UefiHttp', 'RemoteDrive', 'UefiBootNext', 'Recovery', 'UsbCd',
]; // prettier-ignore
const TRANSFER_PROTOCOLS = ['CIFS', 'FTP', 'SFTP', 'HTTP', 'HTTPS', 'NFS', 'SCP', 'TFTP', 'OEM'];
const BOOT_WRITABLE = ['BootSourceOverrideTarget', 'BootSourceOverrideEnabled', 'BootSourceOverrideMode', 'HttpBootUri'];
const MANAGER = '/redfish/v1/Managers/bmc-1';
const MONITORS = '/redfish/v1/TaskService/TaskMonitors';
const TASKS = '/redfish/v1/TaskService/Tasks';

interface Message {
  MessageId: string;
  Message: string;
  MessageArgs?: string[];
}

class Reply {
  constructor(
    readonly status: number,
    readonly body?: unknown,
    readonly headers: Record<string, string> = {},
    /** A body that is not JSON, sent as it is. */
    readonly text?: string,
  ) {}
}

const errorReply = (status: number, messages: Message[], headers: Record<string, string> = {}): Reply =>
  new Reply(
    status,
    {
      error: {
        code: 'Base.1.8.GeneralError',
        message: 'A general error has occurred. See ExtendedInfo for more information.',
        '@Message.ExtendedInfo': messages.map((m) => ({ '@odata.type': '#Message.v1_1_1.Message', Severity: 'Warning', ...m })),
      },
    },
    headers,
  );
const fail = (status: number, MessageId: string, Message: string, MessageArgs?: string[]): Reply =>
  errorReply(status, [{ MessageId, Message, ...(MessageArgs ? { MessageArgs } : {}) }]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Fetch an image as a BMC does on an insert, if it is on http://127.0.0.1 (undefined otherwise: not
 * fetched). No redirect is followed (it could lead off the loopback); the body is hashed as it
 * streams and never held whole.
 */
async function fetchImage(url: string, limits: ImageFetchLimits = {}): Promise<Omit<ImageFetch, 'media'> | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' || parsed.hostname !== '127.0.0.1') return undefined;
  const maxBytes = limits.maxBytes ?? 64 * 1024 * 1024;
  const signal = AbortSignal.timeout(limits.timeoutMs ?? 10_000);
  try {
    const res = await fetch(parsed, { redirect: 'manual', signal });
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      return { url, error: `HTTP ${res.status}` };
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const reader = res.body.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      bytes += chunk.value.length;
      if (bytes > maxBytes) {
        await reader.cancel();
        return { url, error: `larger than ${maxBytes} bytes` };
      }
      hash.update(chunk.value);
    }
    return { url, sha256: hash.digest('hex'), bytes };
  } catch (err) {
    return { url, error: signal.aborted ? `no answer within ${limits.timeoutMs ?? 10_000} ms` : String(err) };
  }
}

/** Start the service on 127.0.0.1 (a free port). */
export async function startRedfishServer(options: RedfishServerOptions): Promise<RedfishServer> {
  const q: RedfishQuirks = options.quirks ?? {};
  const scheme = options.tls ? 'https' : 'http';
  const expectedAuth = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  const vmediaMode = q.vmedia ?? 'manager';
  const bootSettings = q.bootSettings ?? 'none';

  // --- state ------------------------------------------------------------------------------------
  const sysInit: [string, SystemInit][] = options.systems
    ? Object.entries(options.systems)
    : q.systemIds
      ? q.systemIds.map((id) => [id, {}])
      : [
          ['sys-1', {}],
          ['sys-2', { PowerState: 'Off', resets: ['On', 'PowerCycle'], targets: ['None', 'Pxe', 'Hdd', 'Cd'] }],
        ];
  const systemOrder = sysInit.map(([id]) => id);
  const systems: Record<string, SystemState> = {};
  for (const [id, s] of sysInit) {
    const targets = q.targets ?? s.targets;
    const modes = q.modes ?? s.modes;
    systems[id] = {
      PowerState: s.PowerState ?? 'On',
      Boot: { ...(s.Boot ?? { BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled' }) },
      resets: [...(q.resets ?? s.resets ?? ['On', 'ForceOff', 'GracefulRestart', 'ForceRestart', 'PowerCycle'])],
      ...(targets ? { targets: [...targets] } : {}),
      ...(modes ? { modes: [...modes] } : {}),
      transition: [],
      boots: [],
    };
  }
  const mediaInit = options.media ?? {
    Floppy1: { MediaTypes: ['Floppy', 'USBStick'], Inserted: false, Image: null },
    Cd1: { MediaTypes: ['CD', 'DVD'], Inserted: true, Image: 'http://old/old.iso' },
  };
  const mediaOrder = Object.keys(mediaInit);
  const media: Record<string, MediaState> = {};
  for (const [id, m] of Object.entries(mediaInit))
    media[id] = {
      MediaTypes: [...m.MediaTypes],
      Image: m.Image ?? null,
      Inserted: m.Inserted ?? false,
      WriteProtected: m.WriteProtected ?? true,
      ...(m.TransferProtocolType ? { TransferProtocolType: m.TransferProtocolType } : {}),
    };
  const settings: Record<string, SettingsState> = {};
  if (bootSettings !== 'none')
    for (const id of systemOrder) {
      const b = systems[id]!.Boot;
      const future: Record<string, unknown> = {};
      for (const k of BOOT_WRITABLE) if (b[k] !== undefined) future[k] = b[k];
      settings[id] = { path: `/redfish/v1/Systems/${id}/${bootSettings === 'annotated' ? 'Settings' : 'SD'}`, Boot: future, pending: {} };
    }
  const tasks: Record<string, TaskRecord> = {};
  const taskApply = new Map<string, () => void>();
  const requests: RecordedRequest[] = [];
  const fetches: ImageFetch[] = [];
  const counters = { gets: 0, patches: 0, posts: 0, modeRewrites: 0 };
  const reverts = (q.revert ?? []).map((r) => ({ ...r, left: r.times }));
  const conflictsLeft = new Set<RedfishOperation>(q.conflictOnce ?? []);
  let staleLeft = q.staleEtagOnce ?? false;
  let garbledLeft = 0;

  // --- paths --------------------------------------------------------------------------------------
  const slash = (p: string) => (q.redirectNoSlash && !q.linksWithoutSlash && p.startsWith('/redfish/v1/Systems') ? `${p}/` : p);
  const link = (p: string) => ({ '@odata.id': slash(p) });
  const sysPath = (id: string) => `/redfish/v1/Systems/${id}`;
  const mediaOwner = systemOrder[0] ?? '';
  const mediaCollection: string | undefined =
    vmediaMode === 'none' ? undefined : vmediaMode === 'system' ? `${sysPath(mediaOwner)}/VirtualMedia` : `${MANAGER}/VirtualMedia`;
  const mediaPath = (id: string) => `${mediaCollection ?? '/nowhere'}/${id}`;

  // --- ETags: a resource's tag changes whenever its content does (checked around every request) ----
  let tagSeq = 0;
  const tags = new Map<string, { hash: string; tag: string }>();
  const contentOf = (key: string): unknown => {
    const [kind, id] = key.split(':') as [string, string];
    if (kind === 'system') return { PowerState: systems[id]?.PowerState, Boot: systems[id]?.Boot };
    if (kind === 'settings') return { Boot: settings[id]?.Boot, applyTime: settings[id]?.applyTime };
    return media[id];
  };
  const etagOf = (key: string, forceNew = false): string => {
    const hash = createHash('sha256')
      .update(JSON.stringify(contentOf(key)) ?? '')
      .digest('hex');
    const known = tags.get(key);
    if (!known || known.hash !== hash || forceNew) tags.set(key, { hash, tag: String(++tagSeq) });
    const tag = tags.get(key)!.tag;
    return q.etagWeak ? `W/"${tag}"` : `"${tag}"`;
  };
  const allKeys = () => [
    ...systemOrder.map((id) => `system:${id}`),
    ...Object.keys(settings).map((id) => `settings:${id}`),
    ...mediaOrder.map((id) => `media:${id}`),
  ];
  const refreshTags = () => allKeys().forEach((k) => etagOf(k));
  refreshTags();
  const publishHeader = q.etag === 'header' || q.etag === 'both';
  const publishBody = q.etag === 'body' || q.etag === 'both';
  /** A resource reply with its ETag published as configured. */
  const resource = (key: string, body: Record<string, unknown>): Reply => {
    const tag = etagOf(key);
    return new Reply(200, publishBody ? { '@odata.etag': tag, ...body } : body, publishHeader ? { ETag: tag } : {});
  };
  /** The precondition of a PATCH: undefined when it may go on. */
  const precondition = (key: string, ifMatch: string | undefined): Reply | undefined => {
    const current = etagOf(key);
    if (ifMatch === undefined) {
      if (q.requireIfMatch)
        return fail(428, 'Base.1.8.PreconditionRequired', 'This resource can only be changed with an If-Match header carrying its ETag.');
    } else {
      const strong = current.replace(/^W\//, '');
      const offered = ifMatch.split(',').map((t) => t.trim());
      if (!offered.some((t) => t === '*' || t === current || t === strong))
        return fail(412, 'Base.1.8.PreconditionFailed', `The ETag ${ifMatch} does not match the current ETag ${current} of the resource.`);
    }
    if (staleLeft) {
      staleLeft = false;
      etagOf(key, true);
      return fail(412, 'Base.1.8.PreconditionFailed', 'The resource changed meanwhile: read it again for its new ETag.');
    }
    return undefined;
  };

  // --- operations ----------------------------------------------------------------------------------
  /** 409 once for a kind (quirk), or a task, or the change applied now. */
  /** The one-time 409 of a kind (quirk), or undefined. */
  const busy = (kind: RedfishOperation): Reply | undefined => {
    if (!conflictsLeft.has(kind)) return undefined;
    conflictsLeft.delete(kind);
    return fail(409, 'Base.1.8.ResourceInUse', 'The BMC is busy with another operation; try again later.');
  };
  const operate = (kind: RedfishOperation, request: string, apply: () => void, done: () => Reply, accepted?: () => void): Reply => {
    const refused = busy(kind);
    if (refused) return refused;
    accepted?.();
    const tm = q.taskMonitor;
    if (tm && tm.on.includes(kind)) {
      const id = String(Object.keys(tasks).length + 1);
      tasks[id] = { id, kind, request, gets: 0, state: 'Running', applied: false };
      taskApply.set(id, apply);
      return new Reply(202, taskBody(id), {
        Location: `${MONITORS}/${id}`,
        ...(tm.retryAfter !== undefined ? { 'Retry-After': String(tm.retryAfter) } : {}),
      });
    }
    apply();
    return done();
  };
  const taskBody = (id: string): Record<string, unknown> => {
    const t = tasks[id]!;
    return {
      '@odata.id': `${TASKS}/${id}`,
      '@odata.type': '#Task.v1_7_4.Task',
      Id: id,
      Name: `Task ${id}`,
      TaskState: t.state,
      ...(t.state === 'Running' ? {} : { TaskStatus: t.state === 'Completed' ? 'OK' : 'Critical', PercentComplete: 100 }),
      TaskMonitor: `${MONITORS}/${id}`,
      Messages:
        t.state === 'Exception'
          ? [{ MessageId: 'Base.1.8.InternalError', Message: `The operation ${t.request} failed on the BMC.`, Severity: 'Critical' }]
          : [],
    };
  };
  const monitor = (id: string): Reply => {
    const t = tasks[id]!;
    const tm = q.taskMonitor!;
    t.gets++;
    if (t.state === 'Running' && t.gets <= tm.polls)
      return new Reply(202, taskBody(id), tm.retryAfter !== undefined ? { 'Retry-After': String(tm.retryAfter) } : {});
    if (t.state === 'Running') {
      if (tm.final === 'exception') t.state = 'Exception';
      else {
        taskApply.get(id)!();
        t.applied = true;
        t.state = 'Completed';
      }
    }
    if (t.state === 'Exception' || tm.final === 200) return new Reply(200, taskBody(id));
    return new Reply(204);
  };

  /** Validate a Boot object of a PATCH: the messages of what is wrong. */
  const checkBoot = (s: SystemState, boot: Record<string, unknown>): Message[] => {
    const bad: Message[] = [];
    const notInList = (prop: string, v: unknown) =>
      bad.push({
        MessageId: 'Base.1.8.PropertyValueNotInList',
        Message: `The value ${JSON.stringify(v)} of Boot/${prop} is not one this system accepts.`,
        MessageArgs: [JSON.stringify(v), `Boot/${prop}`],
      });
    for (const [k, v] of Object.entries(boot)) {
      if (k === 'BootSourceOverrideTarget') {
        if (typeof v !== 'string' || !(s.targets ?? BOOT_SOURCES).includes(v)) notInList(k, v);
      } else if (k === 'BootSourceOverrideEnabled') {
        if (typeof v !== 'string' || !['Disabled', 'Once', 'Continuous'].includes(v)) notInList(k, v);
      } else if (k === 'BootSourceOverrideMode') {
        if (typeof v !== 'string' || !(s.modes ?? ['Legacy', 'UEFI']).includes(v)) notInList(k, v);
      } else if (k === 'HttpBootUri') {
        if (typeof v !== 'string' && v !== null) notInList(k, v);
      } else if (k.includes('@') || k in s.Boot)
        bad.push({
          MessageId: 'Base.1.8.PropertyNotWritable',
          Message: `The property Boot/${k} is read-only.`,
          MessageArgs: [`Boot/${k}`],
        });
      else
        bad.push({
          MessageId: 'Base.1.8.PropertyUnknown',
          Message: `The property Boot/${k} is not a property of this resource.`,
          MessageArgs: [`Boot/${k}`],
        });
    }
    return bad;
  };
  /** Top-level properties of a PATCH other than the allowed ones: their messages. */
  const checkTop = (body: Record<string, unknown>, writable: string[], readOnly: string[]): Message[] =>
    Object.keys(body)
      .filter((k) => !writable.includes(k) && !k.startsWith('@odata.'))
      .map((k) =>
        readOnly.includes(k) || k.includes('@')
          ? { MessageId: 'Base.1.8.PropertyNotWritable', Message: `The property ${k} is read-only.`, MessageArgs: [k] }
          : { MessageId: 'Base.1.8.PropertyUnknown', Message: `The property ${k} is not a property of this resource.`, MessageArgs: [k] },
      );
  /** Write Boot properties into `target` with the Boot quirks (revert, forget Mode). */
  const writeBoot = (target: Record<string, unknown>, boot: Record<string, unknown>, also?: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(boot)) {
      if (v === null) delete target[k];
      else target[k] = v;
      if (also) also[k] = v;
    }
    if (q.forgetModeUnlessSent && !('BootSourceOverrideMode' in boot)) {
      target.BootSourceOverrideMode = 'Legacy';
      if (also) also.BootSourceOverrideMode = 'Legacy';
    }
    for (const r of reverts)
      if (r.left > 0) {
        r.left--;
        target[r.field] = r.to;
        if (also) also[r.field] = r.to;
      }
  };

  /** A Boot PATCH on the system (id) or its settings object. */
  const patchBoot = (id: string, onSettings: boolean, req: IncomingMessage, p: string, body: unknown): Reply => {
    const s = systems[id]!;
    const key = onSettings ? `settings:${id}` : `system:${id}`;
    const pre = precondition(key, req.headers['if-match']);
    if (pre) return pre;
    if (!isObject(body)) return fail(400, 'Base.1.8.MalformedJSON', 'The request body is not a JSON object.');
    const writable = onSettings ? ['Boot', '@Redfish.SettingsApplyTime'] : ['Boot'];
    const bad = checkTop(body, writable, ['PowerState', 'Id', 'Name', 'Actions', 'Links', 'VirtualMedia', '@Redfish.Settings']);
    if (body.Boot !== undefined && !isObject(body.Boot))
      bad.push({ MessageId: 'Base.1.8.PropertyValueTypeError', Message: 'The property Boot must be an object.', MessageArgs: ['Boot'] });
    const boot = isObject(body.Boot) ? body.Boot : {};
    bad.push(...checkBoot(s, boot));
    const applyTime = body['@Redfish.SettingsApplyTime'];
    if (onSettings && applyTime !== undefined) {
      const supported = bootSettings === 'annotated' ? (q.settingsApplyTimes ?? ['OnReset']) : ['OnReset', 'Immediate'];
      if (!isObject(applyTime) || typeof applyTime.ApplyTime !== 'string' || !supported.includes(applyTime.ApplyTime))
        bad.push({
          MessageId: 'Base.1.8.PropertyValueNotInList',
          Message: `The value ${JSON.stringify(applyTime)} of @Redfish.SettingsApplyTime is not one this resource supports (${supported.join(', ')}).`,
          MessageArgs: [JSON.stringify(applyTime), '@Redfish.SettingsApplyTime'],
        });
    }
    if (bad.length) return errorReply(400, bad);
    if (Object.keys(boot).length === 0 && applyTime === undefined)
      return fail(400, 'Base.1.8.EmptyJSON', 'The request body changes nothing.');
    if (!onSettings && Object.keys(boot).length > 0 && bootSettings === 'annotated')
      return fail(
        400,
        'Base.1.8.PropertyNotWritable',
        `The Boot properties of this system are read-only here; PATCH its settings object ${settings[id]!.path}.`,
        ['Boot'],
      );
    if (!onSettings && Object.keys(boot).length > 0 && bootSettings === 'ami-sd')
      return fail(
        400,
        'Ami.1.0.OperationSupportedInFutureStateURI',
        `Support of this Operation for Boot Properties is moved to FutureState URI(${settings[id]!.path})`,
        [settings[id]!.path],
      );
    const target = onSettings ? settings[id]!.Boot : s.Boot;
    const rewrite = 'BootSourceOverrideMode' in boot && boot.BootSourceOverrideMode === target.BootSourceOverrideMode;
    return operate(
      'patch',
      `PATCH ${p}`,
      () => {
        if (onSettings) {
          const st = settings[id]!;
          writeBoot(st.Boot, boot, st.pending);
          if (applyTime !== undefined) st.applyTime = applyTime;
        } else writeBoot(s.Boot, boot);
      },
      () => new Reply(204, undefined, publishHeader ? { ETag: etagOf(key) } : {}),
      () => {
        if (rewrite) counters.modeRewrites++;
      },
    );
  };

  const RESULT_OFF = ['ForceOff', 'GracefulShutdown'];
  const reset = (id: string, p: string, body: unknown): Reply => {
    const s = systems[id]!;
    if (!isObject(body)) return fail(400, 'Base.1.8.ActionParameterMissing', 'The action requires the parameter ResetType.', ['ResetType']);
    const extra = Object.keys(body).filter((k) => k !== 'ResetType');
    if (extra.length)
      return errorReply(
        400,
        extra.map((k) => ({
          MessageId: 'Base.1.8.ActionParameterUnknown',
          Message: `The action has no parameter ${k}.`,
          MessageArgs: [k],
        })),
      );
    const t = body.ResetType;
    if (t === undefined) return fail(400, 'Base.1.8.ActionParameterMissing', 'The action requires the parameter ResetType.', ['ResetType']);
    if (typeof t !== 'string' || !s.resets.includes(t))
      return fail(400, 'Base.1.8.ActionParameterValueNotInList', `ResetType ${String(t)} is not allowed`, [String(t), 'ResetType']);
    return operate(
      'reset',
      `POST ${p}`,
      () => {
        const from = s.PowerState;
        const to = RESULT_OFF.includes(t) ? 'Off' : t === 'PushPowerButton' ? (from === 'On' ? 'Off' : 'On') : t === 'Nmi' ? from : 'On';
        s.PowerState = to;
        const n = q.powerTransitionPolls ?? 0;
        const seq = to === 'Off' ? ['PoweringOff'] : from === 'On' ? ['PoweringOff', 'Off', 'PoweringOn'] : ['Off', 'PoweringOn'];
        s.transition = n > 0 && t !== 'Nmi' ? Array.from({ length: n }, (_, i) => seq[Math.max(0, seq.length - n + i)]!) : [];
        // Pending settings apply on the reset, the machine then boots with the override, and a
        // one-time override is spent (ComputerSystem schema: Once → Disabled after that boot).
        const st = settings[id];
        if (st) {
          for (const [k, v] of Object.entries(st.pending)) {
            if (v === null) delete s.Boot[k];
            else s.Boot[k] = v;
          }
          st.pending = {};
          st.applyTime = undefined;
        }
        if (to === 'On' && t !== 'Nmi') {
          const on = s.Boot.BootSourceOverrideEnabled === 'Once' || s.Boot.BootSourceOverrideEnabled === 'Continuous';
          s.boots.push({
            ResetType: t,
            Target: on ? (s.Boot.BootSourceOverrideTarget ?? 'None') : 'None',
            ...(on && s.Boot.BootSourceOverrideMode !== undefined ? { Mode: s.Boot.BootSourceOverrideMode } : {}),
            ...(on && s.Boot.HttpBootUri !== undefined ? { HttpBootUri: s.Boot.HttpBootUri } : {}),
          });
          if (s.Boot.BootSourceOverrideEnabled === 'Once') {
            s.Boot.BootSourceOverrideEnabled = 'Disabled';
            if (st) st.Boot.BootSourceOverrideEnabled = 'Disabled';
          }
        }
      },
      () => new Reply(204),
    );
  };

  // --- virtual media ---------------------------------------------------------------------------------
  const insertedAlready = (m: MediaState) => m.Inserted || (m.Image !== null && m.Image !== '');
  /**
   * An insert the BMC accepted (not busy) fetches its image, then goes on (`operate`); a fetch
   * that fails refuses it, as a BMC that cannot read the image does.
   */
  const fetchThenOperate = async (id: string, image: string, request: string, apply: () => void, done: () => Reply): Promise<Reply> => {
    const refused = busy('insert');
    if (refused) return refused;
    const got = await fetchImage(image, options.imageFetch);
    if (got) fetches.push({ media: id, ...got });
    if (got?.error !== undefined)
      return fail(400, 'Base.1.8.GeneralError', `The image ${image} could not be fetched: ${got.error}.`, [image]);
    return operate('insert', request, apply, done);
  };
  const insert = (id: string, p: string, body: unknown): Reply | Promise<Reply> => {
    const m = media[id]!;
    if (!isObject(body)) return fail(400, 'Base.1.8.ActionParameterMissing', 'The action requires the parameter Image.', ['Image']);
    const known = ['Image', 'Inserted', 'WriteProtected', 'TransferProtocolType', 'TransferMethod', 'UserName', 'Password'];
    const unknown = Object.keys(body).filter((k) => !known.includes(k));
    if (unknown.length)
      return errorReply(
        400,
        unknown.map((k) => ({
          MessageId: 'Base.1.8.ActionParameterUnknown',
          Message: `The action has no parameter ${k}.`,
          MessageArgs: [k],
        })),
      );
    if (typeof body.Image !== 'string' || body.Image === '')
      return fail(400, 'Base.1.8.ActionParameterMissing', 'InsertMedia requires the parameter Image.', ['Image']);
    if (q.insertRejectsFlags) {
      const flags = ['Inserted', 'WriteProtected'].filter((k) => k in body);
      if (flags.length)
        return errorReply(
          400,
          flags.map((k) => ({
            MessageId: 'Base.1.8.ActionParameterNotSupported',
            Message: `The parameter ${k} is not supported.`,
            MessageArgs: [k],
          })),
        );
    }
    const proto = body.TransferProtocolType;
    if (proto === undefined && q.requireTransferProtocol)
      return fail(400, 'Base.1.8.ActionParameterMissing', 'InsertMedia requires the parameter TransferProtocolType.', [
        'TransferProtocolType',
      ]);
    if (proto !== undefined && (typeof proto !== 'string' || !TRANSFER_PROTOCOLS.includes(proto)))
      return fail(400, 'Base.1.8.ActionParameterValueNotInList', `TransferProtocolType ${JSON.stringify(proto)} is not supported.`, [
        String(proto),
        'TransferProtocolType',
      ]);
    for (const k of ['Inserted', 'WriteProtected'])
      if (k in body && typeof body[k] !== 'boolean')
        return fail(400, 'Base.1.8.ActionParameterValueTypeError', `The parameter ${k} must be true or false.`, [k]);
    if (insertedAlready(m)) return fail(409, 'Base.1.8.ResourceInUse', 'A medium is already inserted.');
    const image = body.Image;
    return fetchThenOperate(
      id,
      image,
      `POST ${p}`,
      () => {
        m.Image = image;
        m.Inserted = body.Inserted !== false;
        m.WriteProtected = body.WriteProtected !== false;
        if (typeof proto === 'string') m.TransferProtocolType = proto;
      },
      () => new Reply(204),
    );
  };
  const eject = (id: string): Reply => {
    const m = media[id]!;
    Object.assign(m, { Image: null, Inserted: false });
    delete m.TransferProtocolType;
    return new Reply(204);
  };
  /** vmediaPatchOnly: insert and eject by PATCH. */
  const patchMedia = (id: string, req: IncomingMessage, p: string, body: unknown): Reply | Promise<Reply> => {
    const m = media[id]!;
    const key = `media:${id}`;
    const pre = precondition(key, req.headers['if-match']);
    if (pre) return pre;
    if (!isObject(body)) return fail(400, 'Base.1.8.MalformedJSON', 'The request body is not a JSON object.');
    const bad = checkTop(
      body,
      ['Image', 'Inserted', 'WriteProtected', 'TransferProtocolType'],
      ['MediaTypes', 'ConnectedVia', 'Id', 'Name'],
    );
    if ('Image' in body && typeof body.Image !== 'string' && body.Image !== null)
      bad.push({ MessageId: 'Base.1.8.PropertyValueTypeError', Message: 'Image must be a URI or null.', MessageArgs: ['Image'] });
    for (const k of ['Inserted', 'WriteProtected'])
      if (k in body && typeof body[k] !== 'boolean')
        bad.push({ MessageId: 'Base.1.8.PropertyValueTypeError', Message: `${k} must be true or false.`, MessageArgs: [k] });
    if ('TransferProtocolType' in body && !TRANSFER_PROTOCOLS.includes(String(body.TransferProtocolType)))
      bad.push({
        MessageId: 'Base.1.8.PropertyValueNotInList',
        Message: 'TransferProtocolType is not supported.',
        MessageArgs: ['TransferProtocolType'],
      });
    if (bad.length) return errorReply(400, bad);
    const loads = typeof body.Image === 'string' && body.Image !== '';
    const apply = () => {
      if ('Image' in body) m.Image = body.Image === '' ? null : (body.Image as string | null);
      if ('Inserted' in body) m.Inserted = body.Inserted as boolean;
      if ('WriteProtected' in body) m.WriteProtected = body.WriteProtected as boolean;
      if (typeof body.TransferProtocolType === 'string') m.TransferProtocolType = body.TransferProtocolType;
      if (m.Image === null) m.Inserted = false;
    };
    if (loads) {
      if (insertedAlready(m) && body.Image !== m.Image) return fail(409, 'Base.1.8.ResourceInUse', 'A medium is already inserted.');
      return fetchThenOperate(
        id,
        body.Image as string,
        `PATCH ${p}`,
        apply,
        () => new Reply(204, undefined, publishHeader ? { ETag: etagOf(key) } : {}),
      );
    }
    apply();
    return new Reply(204, undefined, publishHeader ? { ETag: etagOf(key) } : {});
  };

  // --- rendering --------------------------------------------------------------------------------------
  const renderSystem = (id: string): Reply => {
    const s = systems[id]!;
    const base = sysPath(id);
    const power = s.transition.length ? s.transition.shift()! : s.PowerState;
    const boot: Record<string, unknown> = { ...s.Boot };
    if (q.enabledReadsContinuous) boot.BootSourceOverrideEnabled = 'Continuous';
    if (s.targets) boot['BootSourceOverrideTarget@Redfish.AllowableValues'] = s.targets;
    if (s.modes) boot['BootSourceOverrideMode@Redfish.AllowableValues'] = s.modes;
    const resetAction: Record<string, unknown> = { target: slash(`${base}/Actions/ComputerSystem.Reset`) };
    if (q.resetActionInfo) resetAction['@Redfish.ActionInfo'] = slash(`${base}/ResetActionInfo`);
    else resetAction['ResetType@Redfish.AllowableValues'] = s.resets;
    const vm =
      (vmediaMode === 'system' && id === mediaOwner) || vmediaMode === 'system-link-to-manager'
        ? { VirtualMedia: link(mediaCollection!) }
        : {};
    return resource(`system:${id}`, {
      '@odata.id': slash(base),
      '@odata.type': '#ComputerSystem.v1_20_0.ComputerSystem',
      Id: id,
      Name: 'Test system',
      SystemType: 'Physical',
      PowerState: power,
      Boot: boot,
      ...(bootSettings === 'annotated'
        ? {
            '@Redfish.Settings': {
              '@odata.type': '#Settings.v1_3_5.Settings',
              SettingsObject: link(settings[id]!.path),
              SupportedApplyTimes: q.settingsApplyTimes ?? ['OnReset'],
            },
          }
        : {}),
      ...vm,
      Actions: { '#ComputerSystem.Reset': resetAction },
      Links: { ManagedBy: [link(MANAGER)] },
    });
  };
  const renderSettings = (id: string): Reply => {
    const st = settings[id]!;
    return resource(`settings:${id}`, {
      '@odata.id': slash(st.path),
      '@odata.type': '#ComputerSystem.v1_20_0.ComputerSystem',
      Id: bootSettings === 'annotated' ? 'Settings' : 'SD',
      Name: 'Future state of the system',
      Boot: { ...st.Boot },
      ...(st.applyTime !== undefined ? { '@Redfish.SettingsApplyTime': st.applyTime } : {}),
    });
  };
  const renderMedia = (id: string): Reply => {
    const m = media[id]!;
    const base = mediaPath(id);
    return resource(`media:${id}`, {
      '@odata.id': slash(base),
      '@odata.type': q.vmediaPatchOnly ? '#VirtualMedia.v1_1_0.VirtualMedia' : '#VirtualMedia.v1_6_0.VirtualMedia',
      Id: id,
      Name: `Virtual medium ${id}`,
      MediaTypes: m.MediaTypes,
      Image: m.Image,
      Inserted: m.Inserted,
      WriteProtected: m.WriteProtected,
      ConnectedVia: m.Inserted ? 'URI' : 'NotConnected',
      ...(m.TransferProtocolType ? { TransferProtocolType: m.TransferProtocolType } : {}),
      ...(q.vmediaPatchOnly
        ? {}
        : {
            Actions: {
              '#VirtualMedia.InsertMedia': { target: slash(`${base}/Actions/VirtualMedia.InsertMedia`) },
              '#VirtualMedia.EjectMedia': { target: slash(`${base}/Actions/VirtualMedia.EjectMedia`) },
            },
          }),
    });
  };
  const collection = (p: string, name: string, members: string[]): Reply =>
    new Reply(200, {
      '@odata.id': slash(p),
      '@odata.type': `#${name}Collection.${name}Collection`,
      Name: `${name} Collection`,
      Members: members.map(link),
      'Members@odata.count': members.length,
    });

  // --- routing ----------------------------------------------------------------------------------------
  type Handler = Partial<Record<'GET' | 'PATCH' | 'POST', () => Reply | Promise<Reply>>>;
  const route = (p: string, req: IncomingMessage, body: unknown): Handler | undefined => {
    if (p === '/redfish/v1' || p === '/redfish/v1/')
      return {
        GET: () =>
          new Reply(200, {
            '@odata.id': '/redfish/v1/',
            '@odata.type': '#ServiceRoot.v1_11_0.ServiceRoot',
            Id: 'RootService',
            Name: 'Root Service',
            RedfishVersion: '1.11.0',
            Systems: link('/redfish/v1/Systems'),
            Managers: link('/redfish/v1/Managers'),
            ...(q.taskMonitor ? { Tasks: link('/redfish/v1/TaskService') } : {}),
          }),
      };
    const n = p.length > 1 ? p.replace(/\/+$/, '') : p;
    if (n === '/redfish/v1/Systems') return { GET: () => collection(n, 'ComputerSystem', systemOrder.map(sysPath)) };
    if (n === '/redfish/v1/Managers') return { GET: () => collection(n, 'Manager', [MANAGER]) };
    if (n === MANAGER)
      return {
        GET: () =>
          new Reply(200, {
            '@odata.id': MANAGER,
            '@odata.type': '#Manager.v1_10_0.Manager',
            Id: 'bmc-1',
            Name: 'Test BMC',
            ManagerType: 'BMC',
            ...(vmediaMode === 'manager' || vmediaMode === 'system-link-to-manager' ? { VirtualMedia: link(mediaCollection!) } : {}),
            Links: { ManagerForServers: systemOrder.map((id) => link(sysPath(id))) },
          }),
      };
    if (mediaCollection && n === mediaCollection) return { GET: () => collection(n, 'VirtualMedia', mediaOrder.map(mediaPath)) };
    if (mediaCollection && n.startsWith(`${mediaCollection}/`)) {
      const [id, ...rest] = n.slice(mediaCollection.length + 1).split('/');
      if (!id || !media[id]) return undefined;
      if (rest.length === 0)
        return { GET: () => renderMedia(id), ...(q.vmediaPatchOnly ? { PATCH: () => patchMedia(id, req, p, body) } : {}) };
      if (q.vmediaPatchOnly || rest.length !== 2 || rest[0] !== 'Actions') return undefined;
      if (rest[1] === 'VirtualMedia.InsertMedia') return { POST: () => insert(id, p, body) };
      if (rest[1] === 'VirtualMedia.EjectMedia') return { POST: () => eject(id) };
      return undefined;
    }
    if (n.startsWith('/redfish/v1/Systems/')) {
      const [id, ...rest] = n.slice('/redfish/v1/Systems/'.length).split('/');
      if (!id || !systems[id]) return undefined;
      const sub = rest.join('/');
      if (sub === '') return { GET: () => renderSystem(id), PATCH: () => patchBoot(id, false, req, p, body) };
      if (sub === 'Actions/ComputerSystem.Reset') return { POST: () => reset(id, p, body) };
      if (sub === 'ResetActionInfo' && q.resetActionInfo)
        return {
          GET: () =>
            new Reply(200, {
              '@odata.id': slash(`${sysPath(id)}/ResetActionInfo`),
              '@odata.type': '#ActionInfo.v1_3_0.ActionInfo',
              Id: 'ResetActionInfo',
              Name: 'Reset Action Info',
              Parameters: [{ Name: 'ResetType', Required: true, DataType: 'String', AllowableValues: systems[id]!.resets }],
            }),
        };
      if (settings[id] && `${sysPath(id)}/${sub}` === settings[id]!.path)
        return { GET: () => renderSettings(id), PATCH: () => patchBoot(id, true, req, p, body) };
      return undefined;
    }
    const tm = new RegExp(`^${MONITORS}/([^/]+)$`).exec(n);
    if (tm && tasks[tm[1]!]) return { GET: () => monitor(tm[1]!) };
    const task = new RegExp(`^${TASKS}/([^/]+)$`).exec(n);
    if (task && tasks[task[1]!]) return { GET: () => new Reply(200, taskBody(task[1]!)) };
    return undefined;
  };

  const handle = async (req: IncomingMessage, raw: string): Promise<Reply> => {
    const method = req.method ?? '';
    const url = req.url ?? '';
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    let body: unknown = undefined;
    let malformed = false;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        malformed = true;
      }
    }
    requests.push({ method, path: url, headers, body, raw, auth: req.headers.authorization ?? '' });
    const p = url.split('?')[0]!;
    if (q.redirectElsewhere && p.startsWith('/redfish/v1/Systems'))
      return new Reply(307, undefined, { Location: `${scheme}://${q.redirectElsewhere}${url}` });
    if (method === 'GET' && garbledLeft > 0 && p.startsWith('/redfish/v1/Systems/')) {
      garbledLeft--;
      return new Reply(200, undefined, { 'Content-Type': 'text/html' }, '<html><body>busy</body></html>\n');
    }
    if (q.redirectNoSlash && p.startsWith('/redfish/v1/Systems') && !p.endsWith('/'))
      return new Reply(308, undefined, { Location: `${scheme}://${req.headers.host ?? '127.0.0.1'}${p}/${url.slice(p.length)}` });
    const isRoot = p === '/redfish/v1/' || p === '/redfish/v1';
    if (!isRoot && req.headers.authorization !== expectedAuth)
      return errorReply(401, [{ MessageId: 'Base.1.8.NoValidSession', Message: 'The credentials were not accepted.' }], {
        'WWW-Authenticate': 'Basic realm="Redfish"',
      });
    if (malformed) return fail(400, 'Base.1.8.MalformedJSON', `The request body is not JSON: ${raw}`);
    if (method === 'GET') counters.gets++;
    if (method === 'PATCH') counters.patches++;
    if (method === 'POST') counters.posts++;
    const h = route(p, req, body);
    if (!h) return fail(404, 'Base.1.8.ResourceMissingAtURI', `There is no resource at ${p}.`, [p]);
    const fn = h[method as 'GET' | 'PATCH' | 'POST'];
    if (!fn)
      return errorReply(
        405,
        [
          {
            MessageId: 'Base.1.8.OperationNotAllowed',
            Message: `${method} is not allowed on ${p}; allowed: ${Object.keys(h).join(', ')}.`,
          },
        ],
        { Allow: Object.keys(h).join(', ') },
      );
    const reply = await fn();
    if (method === 'PATCH' && reply.status < 300) garbledLeft = q.garbledReadsAfterPatch ?? 0;
    return reply;
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8').on('data', (d: string) => (raw += d));
    req.on('end', async () => {
      refreshTags();
      let reply: Reply;
      try {
        reply = await handle(req, raw);
      } catch (err) {
        reply = fail(500, 'Base.1.8.InternalError', `test server error: ${String(err)}`);
      }
      refreshTags();
      const json = reply.body === undefined ? undefined : JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        'OData-Version': '4.0',
        ...(json === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
        ...reply.headers,
      });
      res.end(reply.text ?? json);
    });
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    requests,
    systems,
    media,
    settings,
    tasks,
    fetches,
    counters,
    systemPath: (id) => slash(sysPath(id)),
    mediaPath: (id) => slash(mediaPath(id)),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
