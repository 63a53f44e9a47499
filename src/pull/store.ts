// The materializer's versions on the boot server (docs/fleet.md, "What one pull does"): every
// pulled tree unpacked once into <state_dir>/versions/<digest>/, and the served path (nginx.root)
// a symbolic link to one of them, replaced with rename(2), so nginx sees the old tree or the new
// one, never a mix. state.json (written to a temporary name, fsync'd, renamed, the directory
// fsync'd) records what is served, what was before, the order of switches, whether nginx was
// reloaded since, and the last verdict. A run killed at any point leaves the link on a whole
// version; the next run's recover() removes what it left.
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, basename } from 'node:path';

/** What the last verify of the local server said. */
export interface Verdict {
  readonly ok: boolean;
  readonly checks: number;
  readonly failed: number;
  /** ISO 8601. */
  readonly at: string;
  readonly problems: readonly string[];
}

/** state.json. */
export interface PullState {
  readonly format: 1;
  readonly site: string;
  /** The artifact served (`sha256:...`). */
  readonly digest?: string;
  /** The one served before it. */
  readonly previous?: string;
  /** The signed serial (commit time) of the served artifact. */
  readonly serial?: number;
  readonly commit?: string;
  /** When the served version was switched to (ISO 8601). */
  readonly switched_at?: string;
  /** False between a switch and nginx's reload (a run killed there reloads next time). */
  readonly reloaded?: boolean;
  /** Digests (hex) in switch order, newest first: rollback and prune read it. */
  readonly history: readonly string[];
  /**
   * After a rollback: the digest rolled back from. A pull leaves the rollback in place while the
   * tag still names it, and goes on as usual once the tag names anything else (a new publish).
   */
  readonly held?: string;
  readonly verdict?: Verdict;
}

/** What a switch records besides the digest. */
export interface SwitchMeta {
  readonly digest: string;
  readonly serial?: number;
  readonly commit?: string;
}

/** The nginx test (against the new version's directory) and reload. */
export interface SwitchHooks {
  check(versionDir: string): void | Promise<void>;
  reload(): void | Promise<void>;
}

/** A state directory or served path harvgen must not touch, or a rollback without a target. */
export class StoreError extends Error {}

/** Test hook: the named point to stop at (HARVGEN_TEST_PAUSE_AT), read in this one place. */
function pauseAt(point: string): void {
  if (process.env.HARVGEN_TEST_PAUSE_AT !== point) return;
  process.stdout.write(`paused at ${point}\n`);
  // Block until killed: the test sends SIGKILL here.
  const until = Date.now() + 60_000;
  while (Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Write a file whole: temporary name, fsync, rename, fsync of the directory. */
function writeDurably(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  fsyncPath(tmp);
  renameSync(tmp, file);
  fsyncPath(dirname(file));
}

const HEX = /^[0-9a-f]{64}$/;

export class VersionStore {
  readonly versionsDir: string;
  readonly incomingDir: string;
  readonly stateFile: string;

  constructor(
    readonly stateDir: string,
    /** The served path (nginx.root): a symbolic link the store manages. */
    readonly root: string,
    readonly site = '',
  ) {
    this.versionsDir = join(stateDir, 'versions');
    this.incomingDir = join(stateDir, 'incoming');
    this.stateFile = join(stateDir, 'state.json');
  }

  /** Refuse a served path that is not ours; remove what a killed run left; create the directories. */
  recover(): void {
    const st = lstatSync(this.root, { throwIfNoEntry: false });
    if (st && !st.isSymbolicLink())
      throw new StoreError(
        `${this.root} is a ${st.isDirectory() ? 'directory' : 'file'}, not the link harvgen pull manages: move it aside (\`mv ${this.root} ${this.root}.before-pull\`), then pull again; harvgen never deletes it`,
      );
    mkdirSync(this.versionsDir, { recursive: true, mode: 0o755 });
    mkdirSync(dirname(this.root), { recursive: true, mode: 0o755 });
    rmSync(this.incomingDir, { recursive: true, force: true });
    mkdirSync(this.incomingDir, { recursive: true, mode: 0o755 });
    for (const name of readdirSync(dirname(this.root)))
      if (name.startsWith(`${basename(this.root)}.harvgen-link-`)) rmSync(join(dirname(this.root), name), { force: true });
    for (const name of readdirSync(this.stateDir))
      if (name.startsWith('state.json.tmp-')) rmSync(join(this.stateDir, name), { force: true });
  }

  /** state.json, or undefined when there is none (or it is not one harvgen wrote). */
  state(): PullState | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.stateFile, 'utf8'));
    } catch {
      return undefined;
    }
    const s = raw as Partial<PullState>;
    if (s.format !== 1 || !Array.isArray(s.history) || !s.history.every((h) => typeof h === 'string' && HEX.test(h))) return undefined;
    if (s.digest !== undefined && (typeof s.digest !== 'string' || !HEX.test(s.digest.replace(/^sha256:/, '')))) return undefined;
    return s as PullState;
  }

  /** The version directory of a digest (hex). */
  versionDir(hex: string): string {
    return join(this.versionsDir, hex);
  }

  /** A complete version of this digest is kept. */
  has(hex: string): boolean {
    return HEX.test(hex) && existsSync(join(this.versionDir(hex), '.complete'));
  }

  /** A fresh, empty directory to unpack a new tree into. */
  stage(hex: string): string {
    if (!HEX.test(hex)) throw new StoreError(`${hex} is not a SHA-256 digest`);
    const dir = join(this.incomingDir, hex);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    return dir;
  }

  /** Make a staged tree a version: every file and directory fsync'd, marked complete, renamed into versions/. */
  commit(hex: string): void {
    const dir = join(this.incomingDir, hex);
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else fsyncPath(p);
      }
      fsyncPath(d);
    };
    walk(dir);
    writeFileSync(join(dir, '.complete'), `${hex}\n`);
    fsyncPath(join(dir, '.complete'));
    fsyncPath(dir);
    pauseAt('before-commit-rename');
    const target = this.versionDir(hex);
    rmSync(target, { recursive: true, force: true });
    renameSync(dir, target);
    fsyncPath(this.versionsDir);
  }

  /** Point the served link at a version: a new link beside it, renamed over it (atomic). */
  #link(hex: string): void {
    const tmp = `${this.root}.harvgen-link-${process.pid}`;
    rmSync(tmp, { force: true });
    mkdirSync(dirname(this.root), { recursive: true });
    symlinkSync(this.versionDir(hex), tmp);
    pauseAt('before-switch-rename');
    renameSync(tmp, this.root);
    fsyncPath(dirname(this.root));
  }

  /** The digest (hex) the served link points at, or undefined. */
  served(): string | undefined {
    try {
      const target = readlinkSync(this.root);
      const hex = basename(target);
      return HEX.test(hex) ? hex : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Serve version `hex`: nginx's config test against it first (nothing changes if it fails), the
   * link switched, nginx reloaded, state.json updated (`reloaded` false in between).
   */
  async switchTo(hex: string, meta: SwitchMeta, hooks: SwitchHooks): Promise<void> {
    if (!this.has(hex)) throw new StoreError(`version ${hex} is not complete in ${this.versionsDir}`);
    await hooks.check(this.versionDir(hex));
    const before = this.state();
    const served = this.served();
    const previous = served !== undefined && served !== hex ? `sha256:${served}` : before?.previous;
    const history = [hex, ...(before?.history ?? []).filter((h) => h !== hex)];
    const next: PullState = {
      format: 1,
      site: this.site || before?.site || '',
      digest: `sha256:${hex}`,
      ...(previous !== undefined ? { previous } : {}),
      ...(meta.serial !== undefined ? { serial: meta.serial } : {}),
      ...(meta.commit !== undefined ? { commit: meta.commit } : {}),
      switched_at: new Date().toISOString(),
      reloaded: false,
      history,
    };
    this.#write(next);
    this.#link(hex);
    pauseAt('after-switch-before-reload');
    await hooks.reload();
    this.#write({ ...next, reloaded: true });
  }

  /** A killed run switched but did not reload: reload now. */
  async reloadIfNeeded(hooks: SwitchHooks): Promise<boolean> {
    const s = this.state();
    if (!s || s.reloaded !== false || s.digest === undefined) return false;
    // The link is what counts: state.json may name the version about to be switched to.
    const served = this.served();
    if (served !== undefined && `sha256:${served}` !== s.digest) {
      this.#write({ ...s, digest: `sha256:${served}`, reloaded: true });
      await hooks.reload();
      return true;
    }
    await hooks.reload();
    this.#write({ ...s, reloaded: true });
    return true;
  }

  /** Serve the version before the served one (or `to`, a digest still kept) again. */
  async rollback(to: string | undefined, hooks: SwitchHooks): Promise<string> {
    const s = this.state();
    const served = this.served();
    const hex = to !== undefined ? to.replace(/^sha256:/, '') : s?.history.find((h) => h !== served && this.has(h));
    if (hex === undefined) throw new StoreError('there is no earlier version to roll back to');
    if (!this.has(hex)) throw new StoreError(`sha256:${hex} is not kept in ${this.versionsDir} (\`harvgen pull --list\` lists what is)`);
    await this.switchTo(hex, { digest: `sha256:${hex}` }, hooks);
    // A rollback keeps the serial of what it left, so the same old tag is not pulled back in by accident.
    const after = this.state()!;
    this.#write({
      ...after,
      ...(s?.serial !== undefined ? { serial: s.serial } : {}),
      ...(served !== undefined && served !== hex ? { held: `sha256:${served}` } : s?.held ? { held: s.held } : {}),
    });
    return hex;
  }

  /** The versions kept, in switch order (newest first), then any others. */
  versions(): { hex: string; served: boolean; previous: boolean }[] {
    const s = this.state();
    const served = this.served();
    const kept = readdirSync(this.versionsDir).filter((n) => HEX.test(n) && this.has(n));
    const order = [...(s?.history ?? []).filter((h) => kept.includes(h)), ...kept.filter((h) => !(s?.history ?? []).includes(h)).sort()];
    return order.map((hex) => ({ hex, served: hex === served, previous: `sha256:${hex}` === s?.previous }));
  }

  /** Delete all but the newest `keep` versions; never the served one or the one before it. Returns what was deleted. */
  prune(keep: number): string[] {
    const s = this.state();
    const served = this.served();
    const protect = new Set([served, s?.previous?.replace(/^sha256:/, '')].filter((x): x is string => x !== undefined));
    const order = this.versions().map((v) => v.hex);
    const drop = order.filter((hex, i) => i >= keep && !protect.has(hex));
    for (const hex of drop) {
      const dir = this.versionDir(hex);
      rmSync(dir, { recursive: true, force: true });
    }
    if (drop.length > 0 && s) this.#write({ ...s, history: s.history.filter((h) => !drop.includes(h)) });
    return drop;
  }

  /** Record the verdict of the local verify. */
  writeVerdict(verdict: Verdict): void {
    const s = this.state();
    if (s) this.#write({ ...s, verdict });
  }

  #write(state: PullState): void {
    writeDurably(this.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  }
}
