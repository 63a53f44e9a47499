/**
 * The materializer's version store (`harvgen pull`, docs/dev/fleet-format.md "The materializer"):
 * makes a checked tree the served one, and survives a kill -9 at any point. state.json's shape is
 * src/pull/state.ts, the versions kept src/pull/kept.ts.
 *
 * ```
 * <stateDir>/versions/<hex>/   one complete tree per pulled artifact, read-only
 * <stateDir>/incoming/<hex>/   a tree being written (removed by recover())
 * <stateDir>/state.json        what is served, what was before, the switch history, the verdict
 * <root> -> <stateDir>/versions/<hex>   a symbolic link, replaced with rename(2)
 * ```
 *
 * Crash safety, step by step (each named step is a test pause point, src/pull/pause.ts):
 * - a tree is written under `incoming/`, every file and directory fsynced, made read-only, then
 *   renamed into `versions/` (`mid-commit`, `before-commit-rename`): a `versions/<hex>` that exists
 *   is complete;
 * - switching first records its intent in state.json (`switching`: the new version's record;
 *   `digest` still the one served; `mid-state-write`, `after-state-before-switch`), then makes a
 *   new link beside `root` and renames it over `root` (`before-rename`): `root` is at every
 *   instant a link to one complete version, old or new; right after the rename state.json names
 *   the new version (`reloaded: false`), then the reload (`after-switch-before-reload`), then
 *   state.json again with `reloaded: true`. So state.json, which nginx serves, names what is
 *   served at every pause point;
 * - every write of state.json is the durable layer's atomic write (temp, fsync, rename, fsync of
 *   the directory); recover() removes the temp a killed writer left;
 * - `recover()` removes `incoming/`'s content, the temp link and the temp state, and reconciles
 *   state.json with the link (`reconciledState`). A served version not known to be reloaded
 *   keeps `reloaded: false`: `resumeReload()` reloads it.
 *
 * The store never deletes a tree it did not make: a real directory at `root` (a tree rsynced
 * before) is refused with the way to migrate.
 */
import { chmodSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { acquireLockSync, DurableError, removeStaleTemps, writeFileAtomic } from '../durable/index.ts';
import { pausePoint as pauseAt } from './pause.ts';
import {
  COMMIT,
  HEX,
  HISTORY_MAX,
  isNonNegInt,
  PullStoreError,
  serializeState,
  STATE_FILE,
  STATE_TEMP,
  stateProblem,
  verdictProblem,
  reconciledState,
  stateFromHistory,
  type PullState,
  type PullVerdict,
  type SwitchRecord,
  type SwitchMeta,
  type SwitchHooks,
  type RecoverReport,
} from './state.ts';
import { digestHex, fsyncPath, lstatOrUndefined, makeReadOnly, removeTree } from './store-fs.ts';
import { keptVersions, pruneVersions, rollbackTarget, type VersionInfo } from './kept.ts';

export {
  HISTORY_MAX,
  PullStoreError,
  type PullState,
  type PullStoreReason,
  type PullVerdict,
  type RecoverReport,
  type SwitchHooks,
  type SwitchMeta,
  type SwitchRecord,
} from './state.ts';
export { digestHex } from './store-fs.ts';
export type { VersionInfo } from './kept.ts';

/**
 * Test-only kill points of the store (src/pull/pause.ts): with `HARVGEN_TEST_PAUSE_AT=<point>`
 * the process blocks there until it is killed.
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
  pauseAt(point);
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
   * Take the store's lock (`<stateDir>/lock`, the durable layer's: the holder's pid, start time
   * and boot) for one pull: a second pull on the same state directory fails with `locked` while
   * the holder lives; a lock whose holder is gone (a kill -9, a reused pid, a reboot) is taken
   * over. Take it before recover().
   */
  lock(): { release(): void } {
    mkdirSync(this.stateDir, { recursive: true, mode: 0o755 });
    try {
      return acquireLockSync(this.stateDir, {
        file: 'lock',
        code: 'PULL_FAILED',
        what: 'pulling into',
        hint: 'Wait for that pull to finish (the timer runs one at a time).',
      });
    } catch (e) {
      if (e instanceof DurableError) throw new PullStoreError('locked', e.message);
      throw e;
    }
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
    // The temp of a state write a kill interrupted (and the fixed name an earlier harvgen used).
    for (const name of removeStaleTemps(this.stateDir)) removed.push(join(this.stateDir, name));
    const legacy = join(this.stateDir, STATE_TEMP);
    if (lstatOrUndefined(legacy)) {
      rmSync(legacy, { force: true });
      removed.push(legacy);
    }
    if (removed.length) {
      fsyncPath(this.incomingDir);
      fsyncPath(this.stateDir);
      fsyncPath(dirname(this.root));
    }
    return { removed, reconciled: this.reconcile() };
  }

  /** Make state.json agree with what `root` links to (a kill between the intent and the state write). */
  private reconcile(): boolean {
    const served = this.servedHex(); // first: a root that is not the store's link is refused
    const state = this.state();
    if (!state) return false;
    const next = reconciledState(state, served, this.site, this.now());
    if (next) this.writeState(next);
    return next !== undefined;
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
    pausePoint('mid-state-write');
    writeFileAtomic(join(this.stateDir, STATE_FILE), serializeState(s));
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
    makeReadOnly(staged, () => {
      if (++files === 2) pausePoint('mid-commit');
    });
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
    const next = stateFromHistory(this.site, before, history);
    // What was served, even when state.json lagged behind the link.
    if (served !== undefined && served !== h) next.previous = `sha256:${served}`;
    next.reloaded = false;
    // The intent first, while state.json still names what is served: a kill before the rename
    // leaves it true, and recover() finds the switch's serial and commit if the rename happened.
    this.writeState({ ...before, switching: record });
    pausePoint('after-state-before-switch');
    mkdirSync(dirname(this.root), { recursive: true, mode: 0o755 });
    if (lstatOrUndefined(this.tempLink)?.isSymbolicLink()) unlinkSync(this.tempLink);
    symlinkSync(dir, this.tempLink);
    fsyncPath(dirname(this.root));
    pausePoint('before-rename');
    renameSync(this.tempLink, this.root);
    this.writeState(next);
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
    const served = this.servedHex();
    const { hex, meta } = rollbackTarget(this, to);
    await this.switchTo(hex, meta, hooks);
    return { ...(served !== undefined ? { from: `sha256:${served}` } : {}), to: `sha256:${hex}` };
  }

  /** The kept versions, newest first (src/pull/kept.ts). */
  versions(): VersionInfo[] {
    return keptVersions(this);
  }

  /** Delete every version but the newest `keep`, never the served one nor the previous one; the hex names deleted. */
  prune(keep: number): string[] {
    return pruneVersions(this, keep);
  }

  /** Record verify's verdict about the served version in state.json (atomically), and where it was read from when given. */
  writeVerdict(verdict: PullVerdict, source?: string): void {
    const problem = verdictProblem(verdict);
    if (problem) throw new PullStoreError('bad-argument', `invalid verdict: ${problem}`);
    const s = this.state();
    if (!s?.digest) throw new PullStoreError('version-missing', 'no version is served yet: nothing to record a verdict about');
    this.writeState({
      ...s,
      ...(source !== undefined ? { source } : {}),
      verdict: {
        ok: verdict.ok,
        checks: verdict.checks,
        failed: verdict.failed,
        at: verdict.at,
        ...(verdict.problems ? { problems: [...verdict.problems] } : {}),
        ...(verdict.skipped !== undefined ? { skipped: verdict.skipped } : {}),
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
