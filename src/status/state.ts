// `status --state <dir>`: the directory harvgen keeps between runs of status, so that a rerun reads
// only what the logs gained since. One file per unit of logs: `site-<site>.json` for a site of
// `--log-dir` (its own logs), `logs.json` for the `--log` files of a run (shared by its sites).
// A unit's file holds the cursor of each log file (src/status/cursor.ts) and, per site, the tally
// of every request read so far (src/status/tally.ts) with the fingerprint of the inventory it was
// made with. A file from another harvgen, another set of sites or a changed inventory (another
// fingerprint) is not merged: the unit starts again from the first line of the logs still there.
// Files are written to a temporary name beside them during the run and renamed into place only
// at its end (`commit`), for the units whose logs were all read; a lock (the build's, .harvgen.lock)
// keeps two runs from interleaving.
import { mkdirSync, readFileSync } from 'node:fs';
import { AtomicBatch, removeStaleTemps } from '../durable/index.ts';
import { join } from 'node:path';
import { harvgenVersion } from '../util/version.ts';
import type { InputStamp } from '../load/stamps.ts';
import type { SiteModel } from '../model/index.ts';
import type { LogCursor } from './cursor.ts';
import type { SiteAggregate } from './tally.ts';

/**
 * A site's model as status last compiled it, with the stamps of every input it was made of
 * (src/load/stamps.ts): while they all hold, the next run takes this model instead of compiling
 * the inventory again (most of a run's time). Only for a site whose directory has the site's name.
 */
export interface CachedModel {
  /** The site directory, absolute. */
  readonly dir: string;
  readonly stamps: readonly InputStamp[];
  readonly model: SiteModel;
}

/** What one unit's state file holds. */
export interface UnitState {
  readonly format: 1;
  readonly harvgen: string;
  readonly sites: Readonly<Record<string, { readonly fingerprint: string; readonly aggregate: SiteAggregate }>>;
  readonly cursors: readonly LogCursor[];
  /** Requests and non-request lines read so far, over every run. */
  readonly requests: number;
  readonly skipped: number;
  readonly cached?: CachedModel;
}

/** The state file of a unit. */
export function unitFile(stateDir: string, unit: { site: string } | 'logs'): string {
  return join(stateDir, unit === 'logs' ? 'logs.json' : `site-${unit.site}.json`);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function validCursor(c: unknown): c is LogCursor {
  return (
    isObj(c) &&
    isNum(c.dev) &&
    isNum(c.ino) &&
    typeof c.gz === 'boolean' &&
    isNum(c.size) &&
    isNum(c.offset) &&
    isNum(c.headLen) &&
    c.headLen <= c.offset &&
    typeof c.head === 'string' &&
    /^[0-9a-f]{64}$/.test(c.head) &&
    typeof c.file === 'string'
  );
}

function validAggregate(a: unknown): a is SiteAggregate {
  if (!isObj(a) || !isObj(a.nodes) || !isObj(a.strangers) || !isObj(a.byIp) || !isNum(a.requests) || !isNum(a.verifyRequests)) return false;
  if (a.lastRequest !== undefined && !isNum(a.lastRequest)) return false;
  for (const n of Object.values(a.nodes)) {
    if (!isObj(n) || !isObj(n.fetches) || !Array.isArray(n.events) || !Array.isArray(n.problems) || !Array.isArray(n.starts)) return false;
    if (!n.problems.every((p) => typeof p === 'string') || !n.starts.every(isNum)) return false;
    for (const f of [...Object.values(n.fetches), ...(n.medium === undefined ? [] : [n.medium])])
      if (!isObj(f) || !isNum(f.count) || !isObj(f.last) || !isNum(f.last.time) || typeof f.last.ip !== 'string' || !isNum(f.last.status))
        return false;
    for (const e of n.events)
      if (!isObj(e) || !['STARTED', 'SUCCEEDED', 'FAILED'].includes(e.event as string) || !isNum(e.at) || typeof e.accepted !== 'boolean')
        return false;
    if (n.lastScript !== undefined && (!isObj(n.lastScript) || !isNum(n.lastScript.time) || typeof n.lastScript.mac !== 'string'))
      return false;
  }
  for (const s of Object.values(a.strangers))
    if (!isObj(s) || typeof s.mac !== 'string' || !isNum(s.first) || !isNum(s.last) || !isNum(s.requests) || !Array.isArray(s.ips))
      return false;
  return Object.values(a.byIp).every((h) => typeof h === 'string');
}

/** Why a state file is not merged (undefined: there is none). */
export type Unusable = 'unreadable' | 'invalid' | 'other-harvgen' | 'other-sites' | 'inventory-changed';

/**
 * The saved state of a unit, when it was made by this harvgen for exactly these sites and
 * fingerprints; else why not (and the run starts over for that unit).
 */
export function loadUnit(file: string, fingerprints: Readonly<Record<string, string>>): { state?: UnitState; unusable?: Unusable } {
  const raw = readUnit(file);
  return raw.value === undefined ? raw : checkUnit(raw.value, fingerprints);
}

/** A state file parsed, not yet checked against the sites (undefined value: none, or why not). */
export function readUnit(file: string): { value?: unknown; unusable?: Unusable } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? {} : { unusable: 'unreadable' };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { unusable: 'invalid' };
  }
}

const validStamp = (s: unknown) =>
  Array.isArray(s) && s.length === 5 && typeof s[0] === 'string' && s.slice(1).every((n) => typeof n === 'number');

/** The model a parsed state file keeps for site directory `dir` (absolute), when it was made by this harvgen. */
export function cachedModelOf(v: unknown, dir: string): CachedModel | undefined {
  if (!isObj(v) || v.format !== 1 || v.harvgen !== harvgenVersion() || !isObj(v.cached)) return undefined;
  const c = v.cached;
  if (c.dir !== dir || !Array.isArray(c.stamps) || c.stamps.length === 0 || !c.stamps.every(validStamp) || !isObj(c.model))
    return undefined;
  const m = c.model;
  if (typeof m.site !== 'string' || !Array.isArray(m.nodes) || !isObj(m.boot)) return undefined;
  return c as unknown as CachedModel;
}

/** A parsed state file, when it was made by this harvgen for exactly these sites and fingerprints. */
export function checkUnit(v: unknown, fingerprints: Readonly<Record<string, string>>): { state?: UnitState; unusable?: Unusable } {
  if (!isObj(v) || v.format !== 1 || !isObj(v.sites) || !Array.isArray(v.cursors) || !isNum(v.requests) || !isNum(v.skipped))
    return { unusable: 'invalid' };
  if (!v.cursors.every(validCursor)) return { unusable: 'invalid' };
  if (v.harvgen !== harvgenVersion()) return { unusable: 'other-harvgen' };
  const names = Object.keys(fingerprints).sort();
  if (JSON.stringify(Object.keys(v.sites).sort()) !== JSON.stringify(names)) return { unusable: 'other-sites' };
  for (const name of names) {
    const s = v.sites[name];
    if (!isObj(s) || !validAggregate(s.aggregate)) return { unusable: 'invalid' };
    if (s.fingerprint !== fingerprints[name]) return { unusable: 'inventory-changed' };
  }
  return { state: v as unknown as UnitState };
}

/** Why a saved state was not merged, for a note. */
export function unusableReason(u: Unusable): string {
  return {
    unreadable: 'it cannot be read',
    invalid: 'it is not a state file of harvgen status',
    'other-harvgen': 'another version of harvgen wrote it',
    'other-sites': 'it was made for another set of sites',
    'inventory-changed': "the site's nodes, addresses or names changed since",
  }[u];
}

/** The state files of one run: staged as the run goes, renamed into place together by `commit` (the durable layer's AtomicBatch). */
export class StateWriter {
  private readonly batch = new AtomicBatch();
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    removeStaleTemps(dir); // what a killed run left
  }

  /** Stage a unit's state; a file a crash left cut short is no state file (`loadUnit`: invalid), so that unit only reads its logs again. */
  stage(file: string, state: UnitState): void {
    this.batch.stage(file, `${JSON.stringify(state)}\n`, 0o640);
  }

  /** Rename every staged file into place (the run succeeded). */
  commit(): void {
    this.batch.commit();
  }

  /** Drop every staged file (the run failed). */
  abandon(): void {
    this.batch.abandon();
  }
}

export function newUnit(
  sites: Record<string, { fingerprint: string; aggregate: SiteAggregate }>,
  cursors: readonly LogCursor[],
  requests: number,
  skipped: number,
  cached?: CachedModel,
): UnitState {
  return { format: 1, harvgen: harvgenVersion(), sites, cursors, requests, skipped, ...(cached ? { cached } : {}) };
}
