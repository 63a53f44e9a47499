// `harvgen status --log-dir <dir>`: many sites, each with the logs of its own boot server collected
// to `<dir>/<site>/*.log*`. Sites are taken one at a time (compile the site's model, read its
// logs, keep only its summary), so memory does not grow with the number of sites; each site's
// summary says how many nodes have each verdict and which nodes never booted long after the
// site's deploy.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics/types.ts';
import { compileModel } from '../pipeline.ts';
import { streamLogs } from './read-logs.ts';
import { streamIncremental } from './cursor.ts';
import { modelFingerprint, SiteTally } from './tally.ts';
import {
  cachedModelOf,
  checkUnit,
  newUnit,
  readUnit,
  StateWriter,
  unitFile,
  unusableReason,
  type CachedModel,
  type UnitState,
  type Unusable,
} from './state.ts';
import { stampsHold } from '../load/stamps.ts';
import type { SiteModel } from '../model/index.ts';
import { lockState } from './lock.ts';
import { unreadableDiagnostics } from './index.ts';
import type { NodeStatus, UnknownMachine, Verdict } from './types.ts';

export const VERDICTS: readonly Verdict[] = ['never-booted', 'booting', 'local', 'booted', 'installing', 'installed', 'failed', 'loop'];

export interface FleetOptions {
  /** Site directories (the inventories). */
  readonly sites: readonly string[];
  /** `<logDir>/<site>/` holds each site's access logs (`*.log*`: plain, rotated, gzipped) and maybe the materializer's `state.json`. */
  readonly logDir: string;
  /** Where the built trees are (`<outDir>/<site>/manifest.json`), for the deploy time of a site without `state.json`. */
  readonly outDir: string;
  /** The state directory (src/status/state.ts): read only what each site's logs gained since the last run. */
  readonly state?: string;
  /** Only requests at or after this time (ms); without `state` only (a state keeps every request since its first run). */
  readonly since?: number;
  readonly loopWindowMs?: number;
  /** A node with no request this long after the site's deploy is reported (default 24 h). */
  readonly neverBootedMs?: number;
  /** The deploy time of every site (ms), instead of each site's own. */
  readonly deployedAt?: number;
  /** Now (ms; tests). */
  readonly now?: number;
  /** Keep each site's nodes and unknown machines in what is yielded (`--nodes`). */
  readonly detail?: boolean;
}

/** Where a site's deploy time came from. */
export type DeploySource = 'deployed-at' | 'state.json' | 'manifest.json';

/** One site of the fleet, summed up. */
export interface SiteSummary {
  readonly dir: string;
  readonly site: string;
  /** The inventory compiled and the logs were read. */
  readonly ok: boolean;
  readonly nodes: number;
  readonly verdicts: Readonly<Record<Verdict, number>>;
  readonly unknown: number;
  readonly requests: number;
  readonly verify_requests: number;
  /** Requests from the boot server itself (loopback, boot.server's address): left out. */
  readonly server_requests: number;
  /** Requests from an address no node of theirs can be using: left out. */
  readonly foreign_requests: number;
  readonly skipped: number;
  readonly log_files: number;
  /** ISO time of the newest request counted. */
  readonly last_request?: string;
  readonly deployed_at?: string;
  readonly deployed_from?: DeploySource;
  /** Hostnames of the nodes with no request `never_booted_hours` after the deploy (empty when the deploy time is unknown or recent). */
  readonly never_booted: readonly string[];
  readonly never_booted_hours: number;
}

export interface FleetSite {
  readonly summary: SiteSummary;
  readonly diagnostics: readonly Diagnostic[];
  readonly notes: readonly string[];
  /** The run could not start (the state directory is locked or unusable): no site was read, `summary` is no site's. */
  readonly fatal?: boolean;
  /** The model came from the state directory (its inputs unchanged since it was saved), not from compiling. */
  readonly cached?: boolean;
  /** With `detail`. */
  readonly nodes?: readonly NodeStatus[];
  readonly unknown?: readonly UnknownMachine[];
}

/**
 * The access logs of a site: `*.log*` in its directory, code-point order. Anything but a directory
 * is listed, so that a FIFO, a socket or a link to a device is reported unreadable (openLog) rather
 * than left out in silence.
 */
export function siteLogs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && /\.log/.test(e.name) && !e.isDirectory())
    .map((e) => join(dir, e.name))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const MAX_STATE_JSON = 64 * 1024;

/**
 * The deploy time of a site, by one rule: `--deployed-at` when given; else the `switched_at` of
 * the materializer's `state.json` collected beside the logs (when the boot server started serving
 * the tree), when it names this site; else the mtime of the built `<out>/<site>/manifest.json`
 * (when the tree was last built: with a deploy by rsync, the nearest the center knows); else none.
 */
export function deployTime(
  site: string,
  siteLogDir: string | undefined,
  outDir: string,
  override?: number,
): { at: number; from: DeploySource } | undefined {
  if (override !== undefined) return { at: override, from: 'deployed-at' };
  if (siteLogDir !== undefined)
    try {
      const file = join(siteLogDir, 'state.json');
      const st = statSync(file);
      if (st.isFile() && st.size <= MAX_STATE_JSON) {
        const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
        if (typeof v === 'object' && v !== null) {
          const s = v as { site?: unknown; switched_at?: unknown };
          const t = typeof s.switched_at === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(s.switched_at) ? Date.parse(s.switched_at) : NaN;
          if (s.site === site && !Number.isNaN(t)) return { at: t, from: 'state.json' };
        }
      }
    } catch {
      // No state.json (a site deployed without harvgen pull), or not one: the next clue.
    }
  try {
    return { at: statSync(join(outDir, site, 'manifest.json')).mtimeMs, from: 'manifest.json' };
  } catch {
    return undefined;
  }
}

function emptyVerdicts(): Record<Verdict, number> {
  return Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
}

/**
 * Every site, one after another: compile, read its logs (incrementally with `state`), sum up.
 * State files are staged per site and renamed into place when the caller has taken every site
 * (the generator's end): a run stopped half-way leaves the previous state whole.
 */
export async function* statusFleet(o: FleetOptions): AsyncGenerator<FleetSite> {
  const run: FleetRun = {
    o,
    loopWindow: o.loopWindowMs ?? 3_600_000,
    neverMs: o.neverBootedMs ?? 24 * 3_600_000,
    now: o.now ?? Date.now(),
  };
  let release: (() => Promise<void>) | undefined;
  if (o.state !== undefined) {
    const locked = await lockState(o.state);
    if ('diagnostic' in locked) {
      yield { summary: blank(o.state, basename(o.state), run.neverMs), diagnostics: [locked.diagnostic], notes: [], fatal: true };
      return;
    }
    release = locked.release;
    run.writer = new StateWriter(o.state);
  }
  let done = false;
  try {
    for (const dir of o.sites) yield await fleetSite(run, dir);
    done = true;
  } finally {
    if (run.writer) {
      if (done) run.writer.commit();
      else run.writer.abandon();
    }
    await release?.();
  }
}

/** One run over the fleet: its options with their defaults, and the state it stages (with `state`). */
interface FleetRun {
  readonly o: FleetOptions;
  readonly loopWindow: number;
  readonly neverMs: number;
  readonly now: number;
  writer?: StateWriter;
}

/** A site's model: the one saved by the last run while every input it was made of is unchanged, else compiled. */
interface SiteModelOf {
  readonly model: SiteModel | undefined;
  readonly errors: Diagnostic[];
  /** What to save for the next run (a model whose every input was stamped). */
  readonly cache: CachedModel | undefined;
  /** The site's name: its directory's, or the inventory's when it compiled. */
  readonly site: string;
  readonly fromCache: boolean;
  /** The state file under the directory's name, as read. */
  readonly raw: ReturnType<typeof readUnit> | undefined;
  /** The directory's name. */
  readonly name0: string;
}

/** The model of the site in `dir`, from the state directory or compiled. */
async function siteModelOf(writer: StateWriter | undefined, dir: string): Promise<SiteModelOf> {
  const abs = resolve(dir);
  const name0 = basename(abs);
  const raw = writer && /^[a-z0-9_-]+$/.test(name0) ? readUnit(unitFile(writer.dir, { site: name0 })) : undefined;
  const hit = raw?.value !== undefined ? cachedModelOf(raw.value, abs) : undefined;
  if (hit && hit.model.site === name0 && stampsHold(hit.stamps))
    return { model: hit.model, errors: [], cache: hit, site: name0, fromCache: true, raw, name0 };
  const compiled = await compileModel(dir, writer ? { stamps: true } : {});
  const model = compiled.renderable?.model;
  const cache =
    model && compiled.inputs?.complete && model.site === name0 ? { dir: abs, stamps: compiled.inputs.stamps, model } : undefined;
  const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
  return { model, errors, cache, site: compiled.site ?? name0, fromCache: false, raw, name0 };
}

/** What reading a site's logs gave. */
interface SiteRead {
  readonly tally: SiteTally;
  readonly skipped: number;
  readonly unreadable: readonly { file: string; problem: string }[];
}

/** One site of the fleet: its model, its logs, its summary. */
async function fleetSite(run: FleetRun, dir: string): Promise<FleetSite> {
  const { o, neverMs } = run;
  const of = await siteModelOf(run.writer, dir);
  const { model, errors } = of;
  if (!model) return { summary: blank(dir, of.site, neverMs), diagnostics: errors, notes: [] };
  const notes: string[] = [];
  const logDir = join(o.logDir, model.site);
  let files: string[];
  try {
    files = siteLogs(logDir);
  } catch (e) {
    return {
      summary: { ...blank(dir, model.site, neverMs), nodes: model.nodes.length },
      diagnostics: [...errors, logDirUnreadable(model.site, logDir, e)],
      notes,
    };
  }
  const { tally, skipped, unreadable } = run.writer
    ? await readSince(run.writer, of, model, files, notes)
    : await readAll(model, files, o.since);
  const nodes = tally.nodes(run.loopWindow);
  const unknown = tally.unknownMachines();
  const diagnostics = [...errors, ...unreadableDiagnostics(unreadable)];
  return {
    summary: siteSummary({
      dir,
      site: model.site,
      ok: diagnostics.length === 0,
      nodes,
      unknown: unknown.length,
      requests: tally.aggregate.requests,
      verifyRequests: tally.aggregate.verifyRequests,
      serverRequests: tally.aggregate.serverRequests ?? 0,
      foreignRequests: tally.aggregate.foreignRequests ?? 0,
      skipped,
      logFiles: files.length,
      lastRequest: tally.aggregate.lastRequest,
      deployed: deployTime(model.site, logDir, o.outDir, o.deployedAt),
      now: run.now,
      neverMs,
    }),
    diagnostics,
    notes,
    ...(of.fromCache ? { cached: true } : {}),
    ...(o.detail ? { nodes, unknown } : {}),
  };
}

/** STATUS_LOG_UNREADABLE for a site whose log directory cannot be listed. */
function logDirUnreadable(site: string, logDir: string, e: unknown): Diagnostic {
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return {
    code: 'STATUS_LOG_UNREADABLE',
    severity: 'error',
    message: `no logs of site ${site}: ${logDir} cannot be read (${code})`,
    hint: `Collect the access logs of the site's boot server into ${logDir}/ (its *.log* files: plain, rotated or .gz), or leave the site out of this run.`,
    file: logDir,
  };
}

/** The site's logs from where the last run stopped, onto its saved tally; stages the new state unless a log could not be read. */
async function readSince(
  writer: StateWriter,
  of: SiteModelOf,
  model: SiteModel,
  files: readonly string[],
  notes: string[],
): Promise<SiteRead> {
  const fingerprint = modelFingerprint(model);
  const file = unitFile(writer.dir, { site: model.site });
  const again = model.site === of.name0 ? of.raw : readUnit(file);
  const saved: { state?: UnitState; unusable?: Unusable } =
    again?.value !== undefined
      ? checkUnit(again.value, { [model.site]: fingerprint })
      : again?.unusable
        ? { unusable: again.unusable }
        : {};
  if (saved.unusable) notes.push(`${file}: not merged (${unusableReason(saved.unusable)}): the logs are read from their first line`);
  const tally = new SiteTally(model, saved.state?.sites[model.site]?.aggregate);
  const read = await streamIncremental(files, (r) => tally.add(r), saved.state?.cursors ?? []);
  const requests = (saved.state?.requests ?? 0) + read.requests;
  const skipped = (saved.state?.skipped ?? 0) + read.skipped + read.long;
  if (read.unreadable.length === 0)
    writer.stage(file, newUnit({ [model.site]: { fingerprint, aggregate: tally.aggregate } }, read.cursors, requests, skipped, of.cache));
  else notes.push(`${file}: not updated (a log could not be read)`);
  return { tally, skipped, unreadable: read.unreadable };
}

/** The site's logs from their first line (or from `since`), without a state. */
async function readAll(model: SiteModel, files: readonly string[], since: number | undefined): Promise<SiteRead> {
  const tally = new SiteTally(model);
  const read = await streamLogs(files, (r) => tally.add(r), since);
  return { tally, skipped: read.skipped + read.long, unreadable: [...read.unreadable] };
}

/** A site's summary from its nodes and counts. */
export function siteSummary(a: {
  dir: string;
  site: string;
  ok: boolean;
  nodes: readonly NodeStatus[];
  unknown: number;
  requests: number;
  verifyRequests: number;
  serverRequests: number;
  foreignRequests: number;
  skipped: number;
  logFiles: number;
  lastRequest?: number | undefined;
  deployed: { at: number; from: DeploySource } | undefined;
  now: number;
  neverMs: number;
}): SiteSummary {
  const verdicts = emptyVerdicts();
  for (const n of a.nodes) verdicts[n.verdict]++;
  const overdue = a.deployed !== undefined && a.now - a.deployed.at >= a.neverMs;
  const iso = (t: number) => new Date(t).toISOString();
  return {
    dir: a.dir,
    site: a.site,
    ok: a.ok,
    nodes: a.nodes.length,
    verdicts,
    unknown: a.unknown,
    requests: a.requests,
    verify_requests: a.verifyRequests,
    server_requests: a.serverRequests,
    foreign_requests: a.foreignRequests,
    skipped: a.skipped,
    log_files: a.logFiles,
    ...(a.lastRequest !== undefined ? { last_request: iso(a.lastRequest) } : {}),
    ...(a.deployed ? { deployed_at: iso(a.deployed.at), deployed_from: a.deployed.from } : {}),
    never_booted: overdue ? a.nodes.filter((n) => n.verdict === 'never-booted').map((n) => n.hostname) : [],
    never_booted_hours: a.neverMs / 3_600_000,
  };
}

function blank(dir: string, site: string, neverMs: number): SiteSummary {
  return {
    dir,
    site,
    ok: false,
    nodes: 0,
    verdicts: emptyVerdicts(),
    unknown: 0,
    requests: 0,
    verify_requests: 0,
    server_requests: 0,
    foreign_requests: 0,
    skipped: 0,
    log_files: 0,
    never_booted: [],
    never_booted_hours: neverMs / 3_600_000,
  };
}
