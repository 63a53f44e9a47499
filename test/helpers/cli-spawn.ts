// The real binary with stdin (runCliWith) or running in the background (startCli: read its
// stdout line by line, send it signals, wait for its exit code), and the published JSON schema
// of `--json` output compiled with ajv (assertJson).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import type { CliRun } from './cli.ts';

const repo = resolve(import.meta.dirname, '../..');
const bin = fileURLToPath(new URL('../../bin/harvgen.js', import.meta.url));
const schema = JSON.parse(readFileSync(join(repo, 'schema/cli-output.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

/** Parse stdout as one JSON document and check it against schema/cli-output.schema.json. */
export function assertJson<T = Record<string, unknown>>(stdout: string, what: string): T {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new Error(`${what}: stdout is not one JSON document:\n${stdout}`);
  }
  assert.ok(validate(doc), `${what}: ${JSON.stringify(validate.errors)}\n${stdout}`);
  return doc as T;
}

/** Run `harvgen <args>` with `input` on stdin (a pipe), NO_COLOR set. */
export function runCliWith(args: readonly string[], options: { cwd?: string; input?: string; env?: Record<string, string> } = {}): CliRun {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? repo,
    encoding: 'utf8',
    input: options.input ?? '',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A running `harvgen <args>`: its stdout lines through `next()`, stdin left open (a pipe). */
export function startCli(args: readonly string[], cwd = repo) {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let waiting: ((l: string) => void) | undefined;
  let buf = '';
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w(l);
      } else lines.push(l);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  /** The exit code; `signal:<name>` when a signal ended the process instead. */
  const exited = new Promise<number | string>((r) => child.on('exit', (code, signal) => r(code ?? `signal:${signal}`)));
  const next = (ms = 20_000) =>
    lines.length > 0
      ? Promise.resolve(lines.shift()!)
      : new Promise<string>((res, rej) => {
          const t = setTimeout(() => rej(new Error(`no output within ${ms} ms; stderr: ${stderr}`)), ms);
          waiting = (l) => {
            clearTimeout(t);
            res(l);
          };
        });
  /** Resolves once stderr contains `text` (a prompt, a "watching" note). */
  const stderrHas = async (text: string, ms = 20_000) => {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (stderr.includes(text)) return;
    throw new Error(`stderr never said ${JSON.stringify(text)}: ${stderr}`);
  };
  /**
   * Resolves once the process reads its stdin (a pipe): Node makes the pipe non-blocking
   * (O_NONBLOCK in /proc/<pid>/fdinfo/0) when it starts reading. Elsewhere than Linux: after a second.
   */
  const readingStdin = async (ms = 20_000) => {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
      let info: string;
      try {
        info = readFileSync(`/proc/${child.pid}/fdinfo/0`, 'utf8');
      } catch {
        if (child.exitCode !== null) throw new Error(`the process exited (${child.exitCode}); stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 1000));
        return;
      }
      const m = /^flags:\s*([0-7]+)$/m.exec(info);
      if (m && (parseInt(m[1]!, 8) & 0o4000) !== 0) return;
    }
    throw new Error(`the process never read its stdin; stderr: ${stderr}`);
  };
  /** The exit code, or -99 when it has not exited within `ms`. */
  const exitWithin = (ms = 20_000) => Promise.race([exited, new Promise<number>((r) => setTimeout(() => r(-99), ms))]);
  return { child, next, exited, exitWithin, stderrHas, readingStdin, stdout: () => stdout, stderr: () => stderr };
}
