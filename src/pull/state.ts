// state.json of the materializer (`<stateDir>/state.json`, served at `<boot.server>/.harvgen/state.json`):
// its shape, its validation when read (it is a file on disk, so untrusted), and its bytes when
// written (fixed key order). The store (src/pull/store.ts) reads and writes it.
import { DIGEST_RE, SOURCE_RE } from '../oci/ref.ts';

/** The last verdict of verify against the local server. */
export interface PullVerdict {
  ok: boolean;
  checks: number;
  failed: number;
  /** ISO 8601 UTC time of the verdict. */
  at: string;
  /** The first problems found (code, URL, message), at most 20. */
  problems?: string[];
  /** Why no verify ran (`not verified: --no-verify`): then `ok` is false and `checks` 0. */
  skipped?: string;
}

/** One switch, newest first in `PullState.history`. */
export interface SwitchRecord {
  /** `sha256:<hex>` of the artifact's index. */
  digest: string;
  serial?: number;
  commit?: string;
  switched_at: string;
}

/** `<stateDir>/state.json`, served at `<boot.server>/.harvgen/state.json`. */
export interface PullState {
  format: 1;
  site: string;
  /** What `root` serves (`sha256:<hex>`). */
  digest?: string;
  /** What it served before the last switch. */
  previous?: string;
  serial?: number;
  commit?: string;
  switched_at?: string;
  /** False from the switch until the reload command succeeded. */
  reloaded?: boolean;
  verdict?: PullVerdict;
  /**
   * Where the last run that fetched or checked the served version read it from: the repository
   * (`host[:port]/path`, a site's own mirror or the central registry) or the OCI layout of
   * `--from`. `verify --fleet` reports it.
   */
  source?: string;
  /** The highest serial ever switched to: a pull refuses anything older unless told (a replayed tag). */
  max_serial?: number;
  /**
   * After a rollback: the digest rolled back from. A pull leaves the rollback in place while the
   * tag still names it; a switch (a new publish, an explicit digest) clears it.
   */
  held?: string;
  /** The switches, newest first (at most `HISTORY_MAX`): what rollback and prune order by. */
  history: SwitchRecord[];
  /**
   * A switch under way (between its intent and the rename of the link): `digest` still names what
   * is served until the rename, and recover() completes or drops the switch.
   */
  switching?: SwitchRecord;
}

/** Why the store refused; `reason` is stable, the message says what to do. */
export type PullStoreReason =
  | 'root-not-link'
  | 'root-foreign-link'
  | 'bad-digest'
  | 'state-invalid'
  | 'version-missing'
  | 'no-previous'
  | 'tree-invalid'
  | 'bad-argument'
  | 'locked';

export class PullStoreError extends Error {
  readonly reason: PullStoreReason;
  constructor(reason: PullStoreReason, message: string) {
    super(message);
    this.name = 'PullStoreError';
    this.reason = reason;
  }
}

/** How many switches state.json remembers. */
export const HISTORY_MAX = 64;

export const HEX = /^[0-9a-f]{64}$/;
export const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
export const STATE_FILE = 'state.json';
export const STATE_TEMP = '.state.json.harvgen-tmp';

export function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Validate a parsed state.json; a message naming the first problem, or undefined. */
export function stateProblem(v: unknown, site: string): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  const known = new Set([
    'format',
    'site',
    'digest',
    'previous',
    'serial',
    'commit',
    'switched_at',
    'reloaded',
    'verdict',
    'source',
    'max_serial',
    'held',
    'history',
    'switching',
  ]);
  for (const k of Object.keys(o)) if (!known.has(k)) return `unknown key "${k}"`;
  if (o.format !== 1) return `"format" must be 1`;
  if (o.site !== site) return `"site" is ${JSON.stringify(o.site)}, this store is site "${site}"`;
  for (const k of ['digest', 'previous', 'held'] as const)
    if (o[k] !== undefined && (typeof o[k] !== 'string' || !DIGEST_RE.test(o[k]))) return `"${k}" must be sha256:<64 hex>`;
  if (o.serial !== undefined && !isNonNegInt(o.serial)) return `"serial" must be a non-negative integer`;
  if (o.max_serial !== undefined && !isNonNegInt(o.max_serial)) return `"max_serial" must be a non-negative integer`;
  if (o.commit !== undefined && (typeof o.commit !== 'string' || !COMMIT.test(o.commit))) return `"commit" must be a git commit (hex)`;
  if (o.switched_at !== undefined && (typeof o.switched_at !== 'string' || !ISO_TIME.test(o.switched_at)))
    return `"switched_at" must be an ISO 8601 UTC time`;
  if (o.reloaded !== undefined && typeof o.reloaded !== 'boolean') return `"reloaded" must be true or false`;
  if (o.source !== undefined && (typeof o.source !== 'string' || !SOURCE_RE.test(o.source)))
    return `"source" must be a repository or an OCI layout reference`;
  if (o.verdict !== undefined) {
    const p = verdictProblem(o.verdict);
    if (p) return `"verdict": ${p}`;
  }
  if (!Array.isArray(o.history)) return `"history" must be a list`;
  if (o.history.length > HISTORY_MAX) return `"history" holds more than ${HISTORY_MAX} entries`;
  for (const [i, h] of o.history.entries()) {
    const p = recordProblem(h);
    if (p) return `"history"[${i}]: ${p}`;
  }
  if (o.switching !== undefined) {
    const p = recordProblem(o.switching);
    if (p) return `"switching": ${p}`;
  }
  const head = o.history[0] as SwitchRecord | undefined;
  if (o.digest !== undefined && head?.digest !== o.digest) return `"digest" is not the head of "history"`;
  if (o.digest === undefined && (o.previous ?? o.serial ?? o.commit ?? o.switched_at ?? o.reloaded ?? o.verdict) !== undefined)
    return `a state without "digest" has no other field about a served version`;
  return undefined;
}

function recordProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['digest', 'serial', 'commit', 'switched_at'].includes(k)) return `unknown key "${k}"`;
  if (typeof o.digest !== 'string' || !DIGEST_RE.test(o.digest)) return `"digest" must be sha256:<64 hex>`;
  if (o.serial !== undefined && !isNonNegInt(o.serial)) return `"serial" must be a non-negative integer`;
  if (o.commit !== undefined && (typeof o.commit !== 'string' || !COMMIT.test(o.commit))) return `"commit" must be a git commit (hex)`;
  if (typeof o.switched_at !== 'string' || !ISO_TIME.test(o.switched_at)) return `"switched_at" must be an ISO 8601 UTC time`;
  return undefined;
}

export function verdictProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['ok', 'checks', 'failed', 'at', 'problems', 'skipped'].includes(k)) return `unknown key "${k}"`;
  if (o.skipped !== undefined && (typeof o.skipped !== 'string' || o.skipped.length > 200 || o.ok !== false))
    return `"skipped" must be a short reason, with "ok" false`;
  if (o.problems !== undefined && (!Array.isArray(o.problems) || o.problems.length > 20 || !o.problems.every((p) => typeof p === 'string')))
    return `"problems" must be a list of at most 20 strings`;
  if (typeof o.ok !== 'boolean') return `"ok" must be true or false`;
  if (!isNonNegInt(o.checks) || !isNonNegInt(o.failed)) return `"checks" and "failed" must be non-negative integers`;
  if (o.failed > o.checks) return `"failed" is more than "checks"`;
  if (typeof o.at !== 'string' || !ISO_TIME.test(o.at)) return `"at" must be an ISO 8601 UTC time`;
  return undefined;
}

function record(h: SwitchRecord): SwitchRecord {
  return {
    digest: h.digest,
    ...(h.serial !== undefined ? { serial: h.serial } : {}),
    ...(h.commit !== undefined ? { commit: h.commit } : {}),
    switched_at: h.switched_at,
  };
}

/** state.json's bytes: fixed key order, two-space indent, a final newline. */
export function serializeState(s: PullState): string {
  const ordered: Record<string, unknown> = { format: s.format, site: s.site };
  for (const k of ['digest', 'previous', 'serial', 'commit', 'switched_at', 'reloaded'] as const) if (s[k] !== undefined) ordered[k] = s[k];
  if (s.verdict)
    ordered.verdict = {
      ok: s.verdict.ok,
      checks: s.verdict.checks,
      failed: s.verdict.failed,
      at: s.verdict.at,
      ...(s.verdict.problems ? { problems: [...s.verdict.problems] } : {}),
      ...(s.verdict.skipped !== undefined ? { skipped: s.verdict.skipped } : {}),
    };
  if (s.source !== undefined) ordered.source = s.source;
  if (s.max_serial !== undefined) ordered.max_serial = s.max_serial;
  if (s.held !== undefined) ordered.held = s.held;
  ordered.history = s.history.map(record);
  if (s.switching !== undefined) ordered.switching = record(s.switching);
  return JSON.stringify(ordered, null, 2) + '\n';
}

/** A state whose top-level fields are `history`'s head (verdict dropped: it was about another version). */
export function stateFromHistory(site: string, base: PullState, history: SwitchRecord[]): PullState {
  const head = history[0];
  const next: PullState = { format: 1, site, history };
  if (head) {
    next.digest = head.digest;
    if (head.serial !== undefined) next.serial = head.serial;
    if (head.commit !== undefined) next.commit = head.commit;
    next.switched_at = head.switched_at;
  }
  const prev = history.find((h) => h.digest !== head?.digest);
  if (prev) next.previous = prev.digest;
  if (base.verdict && base.digest === next.digest) next.verdict = base.verdict;
  // Where the version was read from: kept while it is the one served.
  if (base.source !== undefined && base.digest === next.digest) next.source = base.source;
  const max = Math.max(base.max_serial ?? -1, base.serial ?? -1, head?.serial ?? -1);
  if (max >= 0) next.max_serial = max;
  return next;
}

/**
 * state.json made to agree with the version `served` (the link's hex, undefined when there is no
 * link) after a kill, or undefined when it agrees already. A switch's intent (`switching`) tells
 * a switch that happened (its record, serial and commit, becomes the head) from one that did not
 * (dropped).
 */
export function reconciledState(state: PullState, served: string | undefined, site: string, now: Date): PullState | undefined {
  const { switching, ...rest } = state;
  if (served === undefined) {
    // Killed before the first link was made (or the link was removed): nothing is served.
    if (state.digest === undefined && switching === undefined) return undefined;
    return { format: 1, site, history: state.history };
  }
  const digest = `sha256:${served}`;
  // Killed before the rename: the switch did not happen.
  if (state.digest === digest) return switching === undefined ? undefined : rest;
  // Killed between the rename and the state write: the switch happened, as its intent says.
  if (switching?.digest === digest) {
    const next = stateFromHistory(site, rest, [switching, ...state.history].slice(0, HISTORY_MAX));
    if (state.digest !== undefined) next.previous = state.digest;
    return { ...next, reloaded: false };
  }
  // A state ahead of the link (written by an earlier harvgen before its rename), or a link changed by hand.
  const at = state.history.findIndex((h) => h.digest === digest);
  const history: SwitchRecord[] = at >= 0 ? state.history.slice(at) : [{ digest, switched_at: now.toISOString() }, ...state.history];
  return { ...stateFromHistory(site, rest, history), reloaded: false };
}

/** What a switch records of the version besides its digest (from the signed provenance). */
export interface SwitchMeta {
  serial?: number;
  commit?: string;
}

export interface RecoverReport {
  /** Paths removed (leftovers of a killed run). */
  removed: string[];
  /** state.json was changed to agree with the link `root` is. */
  reconciled: boolean;
}

/** What the store runs around a switch: `check` before it (nginx -t), `reload` after it. */
export interface SwitchHooks {
  check(versionDir: string): void | Promise<void>;
  reload(): void | Promise<void>;
}
