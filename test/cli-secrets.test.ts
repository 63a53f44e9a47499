// Secrets through the binary (test/secrets.test.ts has the rest): no secret value in anything
// harvgen prints (diagnostics, code frames, --json, watch, manifests), and `harvgen hash-password`.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sha512Crypt } from '../src/util/sha512-crypt.ts';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';
import { TOKEN, PASSWORD, site } from './helpers/secrets.ts';

const bin = fileURLToPath(new URL('../bin/harvgen.js', import.meta.url));

test('no secret value appears in anything harvgen prints: diagnostics, code frames, --json, watch, manifests', async () => {
  // Inline secrets next to errors, so code frames show their lines; plus an env secret.
  const dir = site({ token: TOKEN, password: PASSWORD, vip: '192.168.122.200' });
  const out = tempDir();
  const printed: string[] = [];
  for (const args of [
    ['check', dir],
    ['check', dir, '--json'],
    ['build', dir, '--out', out],
    ['build', dir, '--out', out, '--json', '--debug'],
  ]) {
    const r = runCli(args);
    printed.push(r.stdout, r.stderr);
    assert.is(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.ok(printed.join('').includes('CLUSTER_VIP_IN_DHCP_RANGE'), 'the errors were printed');
  const ok = site({ token: { env: 'HG_T_TOKEN' }, password: PASSWORD });
  const env = { ...process.env, NO_COLOR: '1', HG_T_TOKEN: TOKEN };
  // The deploy tree reads and writes the secrets; what it prints must not show them.
  const deployOut = tempDir();
  const b = spawnSync(process.execPath, [bin, 'build', ok, '--deploy', '--out', deployOut, '--json'], { env, encoding: 'utf8' });
  printed.push(b.stdout, b.stderr);
  assert.is(b.status, 0, b.stderr);
  // watch --json: its first rebuild line, then Ctrl-C.
  const w = spawn(process.execPath, [bin, 'watch', ok, '--deploy', '--out', tempDir(), '--json'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    w.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf);
    });
    w.stderr.on('data', (d: Buffer) => printed.push(d.toString()));
  });
  w.kill('SIGINT');
  printed.push(line);
  const manifest = readFileSync(join(deployOut, 'location_x/manifest.json'), 'utf8');
  assert.match(readFileSync(join(deployOut, 'location_x/harvester/hv-1.yaml'), 'utf8'), new RegExp(TOKEN.replace(/[.]/g, '\\.')));
  const all = printed.join('\n') + manifest;
  for (const secret of [TOKEN, PASSWORD]) assert.not.ok(all.includes(secret), `${secret} was printed`);
});

test('`harvgen hash-password` prints a $6$ hash of the password on stdin; empty input is a usage error', () => {
  const r = spawnSync(process.execPath, [bin, 'hash-password'], { input: `${PASSWORD}\n`, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const hash = r.stdout.trim();
  const m = /^\$6\$([./0-9A-Za-z]{16})\$[./0-9A-Za-z]{86}$/.exec(hash);
  assert.ok(m, hash);
  assert.is(sha512Crypt(PASSWORD, m[1]!), hash, 'the hash verifies');
  assert.not.ok(r.stdout.includes(PASSWORD) || r.stderr.includes(PASSWORD));
  const again = spawnSync(process.execPath, [bin, 'hash-password'], { input: PASSWORD, encoding: 'utf8' });
  assert.is.not(again.stdout.trim(), hash, 'a fresh random salt each time');
  const empty = spawnSync(process.execPath, [bin, 'hash-password'], { input: '', encoding: 'utf8' });
  assert.is(empty.status, 2);
  assert.match(empty.stderr, /no password on stdin/);
});

test('`harvgen hash-password` refuses a password longer than 4096 bytes with a clear error (100 KB on stdin was an internal error)', () => {
  for (const input of ['x'.repeat(100 * 1024), 'x'.repeat(4097), `${'x'.repeat(4097)}\n`]) {
    const r = spawnSync(process.execPath, [bin, 'hash-password'], { input, encoding: 'utf8' });
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, /CLI_USAGE: the password is longer than 4096 bytes/);
    assert.not.match(r.stderr, /internal error/);
    assert.is(r.stdout, '');
  }
  // An endless stream ends at the limit: nothing more is read.
  const endless = spawnSync('sh', ['-c', `head -c 10000000 /dev/zero | tr '\\0' x | "${process.execPath}" "${bin}" hash-password --json`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.is(endless.status, 2, endless.stderr);
  assert.match(JSON.parse(endless.stdout).diagnostics[0].message, /longer than 4096 bytes/);
  const ok = spawnSync(process.execPath, [bin, 'hash-password'], { input: `${'x'.repeat(4096)}\n`, encoding: 'utf8' });
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^\$6\$/);
});

test.run();
