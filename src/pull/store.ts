/**
 * The materializer's version store (`harvgen pull`, docs/dev/fleet-format.md "The materializer"):
 * makes a checked tree the served one, and survives a kill -9 at any point.
 *
 * ```
 * <stateDir>/versions/<hex>/   one complete tree per pulled artifact, read-only
 * <stateDir>/incoming/<hex>/   a tree being written (removed by recover())
 * <stateDir>/state.json        what is served, what was before, the switch history, the verdict
 * <root> -> <stateDir>/versions/<hex>   a symbolic link, replaced with rename(2)
 * ```
 *
 * Crash safety, step by step (each named step is a test pause point, `pausePoint` below):
 * - a tree is written under `incoming/`, every file and directory fsynced, made read-only, then
 *   renamed into `versions/` (`mid-commit`, `before-commit-rename`): a `versions/<hex>` that exists
 *   is complete;
 * - switching first records the intent in state.json (`digest` = the new version, `reloaded:
 *   false`, the new head of `history`; `after-state-before-switch`), then makes a new link
 *   beside `root` and renames it over `root` (`before-rename`): `root` is at every instant a link
 *   to one complete version, old or new; then the reload (`after-switch-before-reload`), then
 *   state.json again with `reloaded: true`;
 * - every write of state.json is temp file + fsync + rename + fsync of the directory
 *   (`mid-state-write`);
 * - `recover()` removes `incoming/`'s content, the temp link and the temp state, and reconciles
 *   state.json with the link (a kill between the state write and the rename leaves the old link:
 *   the history's head is dropped again). A served version not known to be reloaded keeps
 *   `reloaded: false`: `resumeReload()` reloads it.
 *
 * The store never deletes a tree it did not make: a real directory at `root` (a tree rsynced
 * before) is refused with the way to migrate.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

/** The last verdict of verify against the local server. */
export interface PullVerdict {
  ok: boolean;
  checks: number;
  failed: number;
  /** ISO 8601 UTC time of the verdict. */
  at: string;
  /** The first problems found (code, URL, message), at most 20. */
  problems?: string[];
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
  /** The highest serial ever switched to: a pull refuses anything older unless told (a replayed tag). */
  max_serial?: number;
  /**
   * After a rollback: the digest rolled back from. A pull leaves the rollback in place while the
   * tag still names it; a switch (a new publish, an explicit digest) clears it.
   */
  held?: string;
  /** The switches, newest first (at most `HISTORY_MAX`): what rollback and prune order by. */
  history: SwitchRecord[];
}

/** What a switch records of the version besides its digest (from the signed provenance). */
export interface SwitchMeta {
  serial?: number;
  commit?: string;
}

/** What the store runs around a switch: `check` before it (nginx -t), `reload` after it. */
export interface SwitchHooks {
  check(versionDir: string): void | Promise<void>;
  reload(): void | Promise<void>;
}

export interface VersionInfo {
  hex: string;
  dir: string;
  served: boolean;
  previous: boolean;
  /** The last time it was switched to, absent for a version never served. */
  switched_at?: string;
  serial?: number;
  commit?: string;
}

export interface RecoverReport {
  /** Paths removed (leftovers of a killed run). */
  removed: string[];
  /** state.json was changed to agree with the link `root` is. */
  reconciled: boolean;
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

const HEX = /^[0-9a-f]{64}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const STATE_FILE = 'state.json';
const STATE_TEMP = '.state.json.harvgen-tmp';

/**
 * Test-only kill points: with `HARVGEN_TEST_PAUSE_AT=<point>` the process prints
 * `harvgen-pause <point>` on stdout and blocks there until it is killed (test/pull-store.test.ts).
 * The one place that reads the variable.
 */
export const PAUSE_POINTS = [
  'mid-commit',
  'before-commit-rename',
  'mid-state-write',
  'after-state-before-switch',
  'before-rename',
  'after-switch-before-reload',
] as const;
export type PausePoint = (typeof PAUSE_POINTS)[number];

function pausePoint(point: PausePoint): void {
  if (process.env.HARVGEN_TEST_PAUSE_AT !== point) return;
  writeSync(1, `harvgen-pause ${point}\n`);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0, 60_000);
}

/** `abc…` or `sha256:abc…` -> the 64 hex digits, or a PullStoreError. */
export function digestHex(digest: string): string {
  const hex = digest.startsWith('sha256:') ? digest.slice(7) : digest;
  if (!HEX.test(hex))
    throw new PullStoreError(
      'bad-digest',
      `not a SHA-256 digest (64 lowercase hex digits, optionally after "sha256:"): ${JSON.stringify(digest)}`,
    );
  return hex;
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function fsyncPath(p: string): void {
  const fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Remove a tree the store made read-only (directories made writable first; links not followed). */
function removeTree(p: string): void {
  const st = lstatOrUndefined(p);
  if (!st) return;
  if (st.isDirectory()) {
    chmodSync(p, 0o755);
    for (const name of readdirSync(p)) removeTree(join(p, name));
  }
  rmSync(p, { recursive: true, force: true });
}

/** The pid a lock file names, or undefined (unreadable, not the lock's shape). */
function lockHolder(file: string): number | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown };
    return typeof v.pid === 'number' && Number.isSafeInteger(v.pid) && v.pid > 0 ? v.pid : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Validate a parsed state.json; a message naming the first problem, or undefined. */
function stateProblem(v: unknown, site: string): string | undefined {
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
    'max_serial',
    'held',
    'history',
  ]);
  for (const k of Object.keys(o)) if (!known.has(k)) return `unknown key "${k}"`;
  if (o.format !== 1) return `"format" must be 1`;
  if (o.site !== site) return `"site" is ${JSON.stringify(o.site)}, this store is site "${site}"`;
  for (const k of ['digest', 'previous', 'held'] as const)
    if (o[k] !== undefined && (typeof o[k] !== 'string' || !DIGEST.test(o[k]))) return `"${k}" must be sha256:<64 hex>`;
  if (o.serial !== undefined && !isNonNegInt(o.serial)) return `"serial" must be a non-negative integer`;
  if (o.max_serial !== undefined && !isNonNegInt(o.max_serial)) return `"max_serial" must be a non-negative integer`;
  if (o.commit !== undefined && (typeof o.commit !== 'string' || !COMMIT.test(o.commit))) return `"commit" must be a git commit (hex)`;
  if (o.switched_at !== undefined && (typeof o.switched_at !== 'string' || !ISO_TIME.test(o.switched_at)))
    return `"switched_at" must be an ISO 8601 UTC time`;
  if (o.reloaded !== undefined && typeof o.reloaded !== 'boolean') return `"reloaded" must be true or false`;
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
  if (typeof o.digest !== 'string' || !DIGEST.test(o.digest)) return `"digest" must be sha256:<64 hex>`;
  if (o.serial !== undefined && !isNonNegInt(o.serial)) return `"serial" must be a non-negative integer`;
  if (o.commit !== undefined && (typeof o.commit !== 'string' || !COMMIT.test(o.commit))) return `"commit" must be a git commit (hex)`;
  if (typeof o.switched_at !== 'string' || !ISO_TIME.test(o.switched_at)) return `"switched_at" must be an ISO 8601 UTC time`;
  return undefined;
}

function verdictProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['ok', 'checks', 'failed', 'at', 'problems'].includes(k)) return `unknown key "${k}"`;
  if (o.problems !== undefined && (!Array.isArray(o.problems) || o.problems.length > 20 || !o.problems.every((p) => typeof p === 'string')))
    return `"problems" must be a list of at most 20 strings`;
  if (typeof o.ok !== 'boolean') return `"ok" must be true or false`;
  if (!isNonNegInt(o.checks) || !isNonNegInt(o.failed)) return `"checks" and "failed" must be non-negative integers`;
  if (o.failed > o.checks) return `"failed" is more than "checks"`;
  if (typeof o.at !== 'string' || !ISO_TIME.test(o.at)) return `"at" must be an ISO 8601 UTC time`;
  return undefined;
}

/** state.json's bytes: fixed key order, two-space indent, a final newline. */
function serializeState(s: PullState): string {
  const ordered: Record<string, unknown> = { format: s.format, site: s.site };
  for (const k of ['digest', 'previous', 'serial', 'commit', 'switched_at', 'reloaded'] as const) if (s[k] !== undefined) ordered[k] = s[k];
  if (s.verdict)
    ordered.verdict = {
      ok: s.verdict.ok,
      checks: s.verdict.checks,
      failed: s.verdict.failed,
      at: s.verdict.at,
      ...(s.verdict.problems ? { problems: [...s.verdict.problems] } : {}),
    };
  if (s.max_serial !== undefined) ordered.max_serial = s.max_serial;
  if (s.held !== undefined) ordered.held = s.held;
  ordered.history = s.history.map((h) => ({
    digest: h.digest,
    ...(h.serial !== undefined ? { serial: h.serial } : {}),
    ...(h.commit !== undefined ? { commit: h.commit } : {}),
    switched_at: h.switched_at,
  }));
  return JSON.stringify(ordered, null, 2) + '\n';
}

export interface VersionStoreOptions {
  /** The state directory (`pull.json` `state_dir`). */
  stateDir: string;
  /** The served path (`pull.json` `root`): a symbolic link the store manages, or absent. */
  root: string;
  /** The site: state.json must name it. */
  site: string;
  /** The clock for `switched_at` (tests). */
  now?: () => Date;
}

export class VersionStore {
  readonly stateDir: string;
  readonly root: string;
  readonly site: string;
  readonly versionsDir: string;
  readonly incomingDir: string;
  private readonly now: () => Date;

  constructor(options: VersionStoreOptions) {
    if (!isAbsolute(options.stateDir) || !isAbsolute(options.root))
      throw new PullStoreError(
        'bad-argument',
        `state_dir and root must be absolute paths (got ${JSON.stringify(options.stateDir)}, ${JSON.stringify(options.root)})`,
      );
    this.stateDir = resolve(options.stateDir);
    this.root = resolve(options.root);
    if (this.root === this.stateDir || this.root.startsWith(this.stateDir + '/') || this.stateDir.startsWith(this.root + '/'))
      throw new PullStoreError('bad-argument', `root (${this.root}) and state_dir (${this.stateDir}) must not contain each other`);
    this.site = options.site;
    this.versionsDir = join(this.stateDir, 'versions');
    this.incomingDir = join(this.stateDir, 'incoming');
    this.now = options.now ?? (() => new Date());
  }

  private get tempLink(): string {
    return join(dirname(this.root), `.${basename(this.root)}.harvgen-link`);
  }

  versionDir(hex: string): string {
    return join(this.versionsDir, digestHex(hex));
  }

  /**
   * Take the store's lock (`<stateDir>/lock`, created with O_EXCL, holding this process's pid)
   * for one pull: a second pull on the same state directory fails with `locked` while the holder
   * lives; a lock whose holder died (a kill -9) is taken over. Take it before recover().
   * Local file systems on one host only (the holder is checked with kill(pid, 0)).
   */
  lock(): { release(): void } {
    mkdirSync(this.stateDir, { recursive: true, mode: 0o755 });
    const file = join(this.stateDir, 'lock');
    const mine = `${JSON.stringify({ pid: process.pid })}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      let fd: number;
      try {
        fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const st = lstatOrUndefined(file);
        if (!st) continue;
        const holder = lockHolder(file);
        // No pid yet: a pull that is starting (the pid follows within microseconds), or one
        // killed in that instant: stale after a minute.
        const live = holder === undefined ? Date.now() - st.mtimeMs < 60_000 : holder === process.pid || pidAlive(holder);
        if (live)
          throw new PullStoreError(
            'locked',
            holder === undefined
              ? `${file} names no process yet: another harvgen pull is starting (taken over after a minute if it died)`
              : `another harvgen pull (pid ${holder}) is using ${this.stateDir}`,
          );
        // A dead holder: move its lock aside, and delete it only if it is still the one judged.
        const aside = `${file}.stale-${process.pid}`;
        try {
          renameSync(file, aside);
        } catch (e2) {
          if ((e2 as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw e2;
        }
        if (lstatSync(aside).ino !== st.ino) {
          // Someone's fresh lock: put it back unless another appeared meanwhile.
          try {
            linkSync(aside, file);
          } catch {
            /* a newer lock is there */
          }
        }
        unlinkSync(aside);
        continue;
      }
      try {
        writeSync(fd, mine);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        release: () => {
          if (released) return;
          released = true;
          if (lockHolder(file) === process.pid) unlinkSync(file);
        },
      };
    }
    throw new PullStoreError('locked', `could not take ${file}: other processes keep taking it`);
  }

  /** Remove leftovers of a killed run and reconcile state.json with the link; create the directories (0755). */
  recover(): RecoverReport {
    const removed: string[] = [];
    for (const d of [this.stateDir, this.versionsDir, this.incomingDir, dirname(this.root)]) mkdirSync(d, { recursive: true, mode: 0o755 });
    for (const name of readdirSync(this.incomingDir)) {
      removeTree(join(this.incomingDir, name));
      removed.push(join(this.incomingDir, name));
    }
    const tmpLink = lstatOrUndefined(this.tempLink);
    if (tmpLink?.isSymbolicLink()) {
      unlinkSync(this.tempLink);
      removed.push(this.tempLink);
    }
    const tmpState = join(this.stateDir, STATE_TEMP);
    if (lstatOrUndefined(tmpState)) {
      rmSync(tmpState, { force: true });
      removed.push(tmpState);
    }
    if (removed.length) {
      fsyncPath(this.incomingDir);
      fsyncPath(this.stateDir);
      fsyncPath(dirname(this.root));
    }
    return { removed, reconciled: this.reconcile() };
  }

  /** Make state.json agree with what `root` links to (a kill between the state write and the rename). */
  private reconcile(): boolean {
    const served = this.servedHex();
    const state = this.state();
    if (!state) return false;
    if (served === undefined) {
      // Killed before the first link was made (or the link was removed): nothing is served.
      if (state.digest === undefined) return false;
      this.writeState({ format: 1, site: this.site, history: state.history });
      return true;
    }
    const digest = `sha256:${served}`;
    if (state.digest === digest) return false;
    const at = state.history.findIndex((h) => h.digest === digest);
    const history: SwitchRecord[] =
      at >= 0 ? state.history.slice(at) : [{ digest, switched_at: this.now().toISOString() }, ...state.history];
    this.writeState({ ...this.fromHistory(state, history), reloaded: false });
    return true;
  }

  /** A state whose top-level fields are `history`'s head (verdict dropped: it was about another version). */
  private fromHistory(base: PullState, history: SwitchRecord[]): PullState {
    const head = history[0];
    const next: PullState = { format: 1, site: this.site, history };
    if (head) {
      next.digest = head.digest;
      if (head.serial !== undefined) next.serial = head.serial;
      if (head.commit !== undefined) next.commit = head.commit;
      next.switched_at = head.switched_at;
    }
    const prev = history.find((h) => h.digest !== head?.digest);
    if (prev) next.previous = prev.digest;
    if (base.verdict && base.digest === next.digest) next.verdict = base.verdict;
    const max = Math.max(base.max_serial ?? -1, base.serial ?? -1, head?.serial ?? -1);
    if (max >= 0) next.max_serial = max;
    return next;
  }

  /** state.json, validated; undefined when there is none. */
  state(): PullState | undefined {
    const file = join(this.stateDir, STATE_FILE);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new PullStoreError('state-invalid', `${file} is not JSON (${(e as Error).message}); move it aside and pull again`);
    }
    const problem = stateProblem(parsed, this.site);
    if (problem) throw new PullStoreError('state-invalid', `${file}: ${problem}; move it aside and pull again`);
    return parsed as PullState;
  }

  /** Temp file + fsync + rename + fsync of the directory. */
  private writeState(s: PullState): void {
    const problem = stateProblem(JSON.parse(serializeState(s)), this.site);
    if (problem) throw new PullStoreError('state-invalid', `refusing to write an invalid state.json: ${problem}`);
    const temp = join(this.stateDir, STATE_TEMP);
    rmSync(temp, { force: true });
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      writeSync(fd, serializeState(s));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    pausePoint('mid-state-write');
    renameSync(temp, join(this.stateDir, STATE_FILE));
    fsyncPath(this.stateDir);
  }

  /** True when versions/<hex> exists: a renamed, so complete, version. */
  has(hex: string): boolean {
    return lstatOrUndefined(this.versionDir(hex))?.isDirectory() === true;
  }

  /** A fresh empty directory `incoming/<hex>` to write a new tree into. */
  stage(hex: string): string {
    const dir = join(this.incomingDir, digestHex(hex));
    mkdirSync(this.incomingDir, { recursive: true, mode: 0o755 });
    removeTree(dir);
    mkdirSync(dir, { mode: 0o755 });
    return dir;
  }

  /**
   * fsync every file and directory of the staged tree, make it read-only (0444, 0555 for
   * executables and directories), rename it to versions/<hex> and fsync both parents. A version
   * already there stays (same digest, same tree); the staged copy is removed.
   */
  commit(hex: string): string {
    const h = digestHex(hex);
    const staged = join(this.incomingDir, h);
    const st = lstatOrUndefined(staged);
    if (!st?.isDirectory()) throw new PullStoreError('tree-invalid', `nothing staged for ${h}: call stage() first`);
    const target = join(this.versionsDir, h);
    if (this.has(h)) {
      removeTree(staged);
      return target;
    }
    let files = 0;
    const walk = (dir: string): void => {
      for (const ent of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, ent.name);
        if (ent.isDirectory()) {
          walk(p);
          chmodSync(p, 0o555);
        } else if (ent.isFile()) {
          const fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW);
          try {
            const mode = (lstatSync(p).mode & 0o111) !== 0 ? 0o555 : 0o444;
            chmodSync(p, mode);
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
          if (++files === 2) pausePoint('mid-commit');
        } else {
          throw new PullStoreError(
            'tree-invalid',
            `${p}: only regular files and directories may be in a tree (found a ${ent.isSymbolicLink() ? 'symbolic link' : 'special file'})`,
          );
        }
      }
      fsyncPath(dir);
    };
    walk(staged);
    mkdirSync(this.versionsDir, { recursive: true, mode: 0o755 });
    pausePoint('before-commit-rename');
    renameSync(staged, target);
    chmodSync(target, 0o555);
    fsyncPath(target);
    fsyncPath(this.versionsDir);
    fsyncPath(this.incomingDir);
    return target;
  }

  /**
   * The version `root` links to, checking that `root` is the store's: absent -> undefined; a
   * link into versions/ -> its hex; anything else -> a PullStoreError (never deleted).
   */
  servedHex(): string | undefined {
    const st = lstatOrUndefined(this.root);
    if (!st) return undefined;
    if (!st.isSymbolicLink()) {
      const what = st.isDirectory() ? 'a directory' : 'not a symbolic link';
      throw new PullStoreError(
        'root-not-link',
        `${this.root} is ${what}, not the link harvgen pull manages; harvgen never deletes it. To migrate: ` +
          `stop serving from it or keep it aside (mv ${this.root} ${this.root}.before-pull), then run harvgen pull, which makes ` +
          `${this.root} a link to ${this.versionsDir}/<digest>; delete the old copy once the site is verified.`,
      );
    }
    const target = readlinkSync(this.root);
    const hex = basename(target);
    if (resolve(dirname(this.root), target) !== join(this.versionsDir, hex) || !HEX.test(hex))
      throw new PullStoreError(
        'root-foreign-link',
        `${this.root} links to ${target}, not to a version under ${this.versionsDir}; harvgen pull did not make this link. Remove it (rm ${this.root}: a link, its target stays) and pull again.`,
      );
    return hex;
  }

  /**
   * Serve versions/<hex>: `hooks.check(versionDir)` first (if it throws, nothing changes and the
   * error is rethrown), then state.json records the switch (`reloaded: false`), a new link
   * replaces `root` by rename(2), `hooks.reload()`, and state.json says `reloaded: true`. A reload
   * that throws leaves the new version served with `reloaded: false` (resumeReload() retries) and
   * is rethrown. Switching to the version already served only checks and reloads if needed.
   */
  async switchTo(hex: string, meta: SwitchMeta, hooks: SwitchHooks): Promise<void> {
    const h = digestHex(hex);
    if (meta.serial !== undefined && !isNonNegInt(meta.serial))
      throw new PullStoreError('bad-argument', `serial must be a non-negative integer: ${meta.serial}`);
    if (meta.commit !== undefined && !COMMIT.test(meta.commit))
      throw new PullStoreError('bad-argument', `commit must be a git commit (hex): ${JSON.stringify(meta.commit)}`);
    if (!this.has(h)) throw new PullStoreError('version-missing', `version ${h} is not in ${this.versionsDir}: commit() it first`);
    const served = this.servedHex();
    const dir = join(this.versionsDir, h);
    await hooks.check(dir);
    const before = this.state() ?? { format: 1 as const, site: this.site, history: [] };
    if (served === h && before.digest === `sha256:${h}`) {
      if (before.reloaded === false) await this.reloadAndRecord(hooks);
      return;
    }
    const record: SwitchRecord = { digest: `sha256:${h}`, switched_at: this.now().toISOString() };
    if (meta.serial !== undefined) record.serial = meta.serial;
    if (meta.commit !== undefined) record.commit = meta.commit;
    const history = [record, ...before.history].slice(0, HISTORY_MAX);
    const next = this.fromHistory(before, history);
    // What was served, even when state.json lagged behind the link.
    if (served !== undefined && served !== h) next.previous = `sha256:${served}`;
    next.reloaded = false;
    this.writeState(next);
    pausePoint('after-state-before-switch');
    mkdirSync(dirname(this.root), { recursive: true, mode: 0o755 });
    if (lstatOrUndefined(this.tempLink)?.isSymbolicLink()) unlinkSync(this.tempLink);
    symlinkSync(dir, this.tempLink);
    fsyncPath(dirname(this.root));
    pausePoint('before-rename');
    renameSync(this.tempLink, this.root);
    fsyncPath(dirname(this.root));
    pausePoint('after-switch-before-reload');
    await this.reloadAndRecord(hooks);
  }

  private async reloadAndRecord(hooks: Pick<SwitchHooks, 'reload'>): Promise<void> {
    await hooks.reload();
    const s = this.state();
    if (s) this.writeState({ ...s, reloaded: true });
  }

  /** After a kill between the switch and the reload (`reloaded: false`): reload now. True when it did. */
  async resumeReload(hooks: Pick<SwitchHooks, 'reload'>): Promise<boolean> {
    const s = this.state();
    if (s?.reloaded !== false || this.servedHex() === undefined) return false;
    await this.reloadAndRecord(hooks);
    return true;
  }

  /**
   * Serve the previous version again, or `to` (hex or sha256:hex) if it is still kept
   * (`harvgen pull --rollback`). The switch is recorded like any other, with the version's serial
   * and commit from the history. Returns the digests switched from and to.
   */
  async rollback(to: string | undefined, hooks: SwitchHooks): Promise<{ from?: string; to: string }> {
    const state = this.state();
    const served = this.servedHex();
    let target: string;
    if (to !== undefined) target = digestHex(to);
    else {
      if (!state?.previous)
        throw new PullStoreError('no-previous', `nothing to roll back to: ${join(this.stateDir, STATE_FILE)} records no previous version`);
      target = digestHex(state.previous);
    }
    if (!this.has(target))
      throw new PullStoreError(
        'version-missing',
        `version ${target} is no longer kept in ${this.versionsDir}; kept: ${
          this.versions()
            .map((v) => v.hex)
            .join(', ') || 'none'
        }`,
      );
    const known = state?.history.find((h) => h.digest === `sha256:${target}`);
    const meta: SwitchMeta = {};
    if (known?.serial !== undefined) meta.serial = known.serial;
    if (known?.commit !== undefined) meta.commit = known.commit;
    await this.switchTo(target, meta, hooks);
    return { ...(served !== undefined ? { from: `sha256:${served}` } : {}), to: `sha256:${target}` };
  }

  /**
   * The kept versions, newest first: by the last switch to each (state.json's history), then
   * versions never served (committed, but their check failed or no switch followed), by name.
   */
  versions(): VersionInfo[] {
    const state = this.state();
    let served: string | undefined;
    try {
      served = this.servedHex();
    } catch {
      served = undefined;
    }
    const present = new Set(
      (lstatOrUndefined(this.versionsDir)?.isDirectory() ? readdirSync(this.versionsDir, { withFileTypes: true }) : [])
        .filter((e) => e.isDirectory() && HEX.test(e.name))
        .map((e) => e.name),
    );
    const out: VersionInfo[] = [];
    const seen = new Set<string>();
    const previous = state?.previous ? digestHex(state.previous) : undefined;
    const info = (hex: string, rec?: SwitchRecord): VersionInfo => ({
      hex,
      dir: join(this.versionsDir, hex),
      served: hex === served,
      previous: hex === previous,
      ...(rec ? { switched_at: rec.switched_at } : {}),
      ...(rec?.serial !== undefined ? { serial: rec.serial } : {}),
      ...(rec?.commit !== undefined ? { commit: rec.commit } : {}),
    });
    if (served !== undefined && present.has(served) && !(state?.history.some((r) => r.digest === `sha256:${served}`) ?? false)) {
      out.push(info(served));
      seen.add(served);
    }
    for (const rec of state?.history ?? []) {
      const hex = digestHex(rec.digest);
      if (seen.has(hex) || !present.has(hex)) continue;
      seen.add(hex);
      out.push(info(hex, rec));
    }
    for (const hex of [...present].sort()) if (!seen.has(hex)) out.push(info(hex));
    return out;
  }

  /**
   * Delete every version but the newest `keep` (versions() order), never the served one nor the
   * previous one. Run it after a switch: a committed version not yet switched to is the oldest.
   * Returns the hex names deleted.
   */
  prune(keep: number): string[] {
    if (!Number.isSafeInteger(keep) || keep < 1)
      throw new PullStoreError('bad-argument', `keep must be a whole number of at least 1 (got ${keep})`);
    const all = this.versions();
    const gone: string[] = [];
    all.forEach((v, i) => {
      if (i < keep || v.served || v.previous) return;
      removeTree(v.dir);
      gone.push(v.hex);
    });
    if (gone.length) fsyncPath(this.versionsDir);
    return gone;
  }

  /** Record verify's verdict about the served version in state.json (atomically). */
  writeVerdict(verdict: PullVerdict): void {
    const problem = verdictProblem(verdict);
    if (problem) throw new PullStoreError('bad-argument', `invalid verdict: ${problem}`);
    const s = this.state();
    if (!s?.digest) throw new PullStoreError('version-missing', 'no version is served yet: nothing to record a verdict about');
    this.writeState({
      ...s,
      verdict: {
        ok: verdict.ok,
        checks: verdict.checks,
        failed: verdict.failed,
        at: verdict.at,
        ...(verdict.problems ? { problems: [...verdict.problems] } : {}),
      },
    });
  }

  /** After a rollback: keep it while the tag still names `digest` (the one rolled back from). */
  hold(digest: string): void {
    const s = this.state();
    if (!s?.digest) throw new PullStoreError('version-missing', 'no version is served yet: nothing to hold');
    this.writeState({ ...s, held: `sha256:${digestHex(digest)}` });
  }
}
