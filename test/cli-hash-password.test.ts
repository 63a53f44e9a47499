// `harvgen hash-password` (issue 19): Ctrl-C exits 130 like watch (it used to be a usage error,
// exit 2), at the terminal's prompt (raw mode: a byte, not a signal) and while reading a pipe
// (SIGINT); `--json` prints the hash in a schema-valid document and never the password.
import { spawn, spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hashPasswordFromStdin } from '../src/cli/hash-password.ts';
import { sha512Crypt } from '../src/util/sha512-crypt.ts';
import { assertJson, runCliWith, startCli } from './helpers/cli-spawn.ts';

const bin = fileURLToPath(new URL('../bin/harvgen.js', import.meta.url));

/** A terminal-like input: isTTY, raw mode switchable, bytes written by the test. */
function fakeTty() {
  const s = new PassThrough() as PassThrough & { isTTY: boolean; setRawMode: (raw: boolean) => void; raw: boolean[] };
  s.isTTY = true;
  s.raw = [];
  s.setRawMode = (raw: boolean) => void s.raw.push(raw);
  return s;
}

test('Ctrl-C at the prompt is an interruption (not an empty password), and the terminal leaves raw mode', async () => {
  const tty = fakeTty();
  const prompt: string[] = [];
  const pending = hashPasswordFromStdin(tty, { write: (s) => prompt.push(s) });
  tty.write('sec\u0003');
  assert.equal(await pending, { interrupted: true });
  assert.equal(tty.raw, [true, false]);
  assert.equal(prompt, ['Password: ', '\n']);
});

test('an abort (SIGINT while reading a pipe) stops the read: interrupted, not a hash of what came so far', async () => {
  const pipe = new PassThrough();
  const stop = new AbortController();
  const pending = hashPasswordFromStdin(pipe, { write: () => undefined }, stop.signal);
  pipe.write('half a pass');
  await new Promise((r) => setTimeout(r, 10));
  stop.abort();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((r) => (timer = setTimeout(() => r('still reading 2 s after the abort'), 2000)));
  const result = await Promise.race([pending, timeout]);
  clearTimeout(timer);
  assert.equal(result, { interrupted: true });
});

test('the password typed at the prompt is hashed (Enter ends it; backspace deletes)', async () => {
  const tty = fakeTty();
  const pending = hashPasswordFromStdin(tty, { write: () => undefined });
  tty.write('pw-x\u007f1\r');
  const r = (await pending) as { hash: string };
  const salt = r.hash.split('$')[2]!;
  assert.is(r.hash, sha512Crypt('pw-1', salt));
});

test('the binary: SIGINT while it reads a password from a pipe exits 130, printing nothing on stdout', async () => {
  const c = startCli(['hash-password']);
  await c.readingStdin(10_000);
  c.child.kill('SIGINT');
  assert.is(await c.exitWithin(), 130, c.stderr());
  assert.is(c.stdout(), '');
});

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

test('the binary on a terminal: Ctrl-C at the prompt exits 130 (was 2, "interrupted" as a usage error)', async () => {
  if (!hasScript) return console.warn('  (skipped: no `script` to give the binary a terminal)');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const c = spawn('script', ['-qec', `${quote(process.execPath)} ${quote(bin)} hash-password`, '/dev/null'], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let sent = false;
  c.stdin.on('error', () => undefined);
  c.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (!sent && out.includes('Password: ')) {
      sent = true;
      c.stdin.write('\u0003');
    }
  });
  const code = await Promise.race([
    new Promise<number | null>((r) => c.on('exit', (code) => r(code))),
    new Promise<number>((r) => setTimeout(() => r(-99), 20_000)),
  ]);
  c.kill('SIGKILL');
  assert.is(code, 130, out);
  assert.not.match(out, /CLI_USAGE/);
});

test('--json: one schema-valid document with the hash; the password is never printed', () => {
  const password = 'correct horse battery staple';
  const r = runCliWith(['hash-password', '--json'], { input: `${password}\n` });
  assert.is(r.code, 0, r.stderr);
  const doc = assertJson<{ command: string; ok: boolean; hash: string }>(r.stdout, 'hash-password --json');
  assert.is(doc.command, 'hash-password');
  assert.ok(doc.ok);
  assert.is(doc.hash, sha512Crypt(password, doc.hash.split('$')[2]!));
  assert.not.ok((r.stdout + r.stderr).includes(password), 'the password was printed');
});

test('--json: an empty password is a JSON usage error (exit 2)', () => {
  const r = runCliWith(['hash-password', '--json'], { input: '' });
  assert.is(r.code, 2);
  const doc = assertJson<{ command: null; diagnostics: { code: string; message: string }[] }>(r.stdout, 'empty password');
  assert.is(doc.command, null);
  assert.is(doc.diagnostics[0]!.code, 'CLI_USAGE');
  assert.match(doc.diagnostics[0]!.message, /no password on stdin/);
  assert.is(r.stderr, '');
});

test.run();
