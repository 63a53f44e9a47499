/** Process helpers for the real-program tests: bounded runs and daemons stopped by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** Outcome of one finished (or killed) command. */
export interface RunResult {
  cmd: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/** Options for run(). */
export interface RunOptions {
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
}

/** Quote an argv for display in failure messages. */
export function showCmd(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * Run a command to completion, with a hard timeout (SIGKILL by PID when it expires).
 * Never throws for a non-zero exit: the caller asserts on the result.
 */
export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('run: empty argv');
  const started = Date.now();
  const child = spawn(file, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid) killPid(child.pid, 'SIGKILL');
  }, opts.timeoutMs ?? 30_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('error', (err) => {
      stderr += String(err);
      resolve([127, null]);
    });
    child.on('close', (c, s) => resolve([c, s]));
  });
  clearTimeout(timer);
  return { cmd: showCmd(argv), code, signal, stdout, stderr, timedOut, ms: Date.now() - started };
}

/** Human-readable report of a command result, for assertion messages. */
export function describe(r: RunResult): string {
  const status = r.timedOut ? `TIMED OUT after ${r.ms} ms` : `exit ${r.code ?? r.signal}`;
  return [`$ ${r.cmd}`, `-> ${status}`, indent('stdout', r.stdout), indent('stderr', r.stderr)].join('\n');
}

function indent(label: string, text: string): string {
  const t = text.trimEnd();
  return t ? `--- ${label} ---\n${t}` : `--- ${label}: (empty)`;
}

/** Send a signal to one PID, ignoring "no such process". */
export function killPid(pid: number, sig: NodeJS.Signals = 'SIGTERM'): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** A background process started by a test; stop() kills it by PID. */
export interface Daemon {
  name: string;
  pid: number;
  cmd: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  exited(): boolean;
  exitCode(): number | null;
  /** Resolves when the process has exited. */
  done: Promise<void>;
  /** SIGTERM, then SIGKILL after graceMs; resolves once it is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Every daemon still running, so a crashing or interrupted run still kills them (by PID) on exit. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) if (c.pid && c.exitCode === null && c.signalCode === null) killPid(c.pid, 'SIGKILL');
});
// Ctrl-C / CI cancellation: exit normally so the 'exit' hooks (here and in netns.ts) run.
for (const [sig, n] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
] as const) {
  process.once(sig, () => process.exit(128 + n));
}

/** Start a long-running process in the background and keep its output. */
export function startDaemon(name: string, argv: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Daemon {
  const [file, ...args] = argv;
  if (!file) throw new Error('startDaemon: empty argv');
  const child = spawn(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (!child.pid) throw new Error(`${name}: could not start ${showCmd(argv)}`);
  const pid = child.pid;
  live.add(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.on('error', (err) => (out += `\n[spawn error] ${String(err)}`));
  const done = once(child, 'close').then(() => {
    live.delete(child);
  });
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  let stopping: Promise<void> | undefined;
  return {
    name,
    pid,
    cmd: showCmd(argv),
    output: () => out,
    exited,
    exitCode: () => child.exitCode,
    done,
    stop(graceMs = 2000): Promise<void> {
      stopping ??= (async () => {
        if (exited()) return done;
        killPid(pid, 'SIGTERM');
        const t = setTimeout(() => killPid(pid, 'SIGKILL'), graceMs);
        await done;
        clearTimeout(t);
      })();
      return stopping;
    },
  };
}

/** Poll until check() returns a truthy value or the deadline passes. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs: number, intervalMs = 50): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

/** Promise-based sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
