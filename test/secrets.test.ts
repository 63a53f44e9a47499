// Secrets out of git: `{ env: NAME }` and `{ file: path }` for the token and the password, clear
// positioned errors when they are missing (never an empty token), a warning for plain text in
// the YAML, `harvgen hash-password`, and no secret value in anything harvgen prints.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { build, check } from '../src/index.ts';
import { sha512Crypt } from '../src/util/sha512-crypt.ts';
import { exampleSite } from './helpers/example.ts';
import { runCli } from './helpers/cli.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

const bin = fileURLToPath(new URL('../bin/harvgen.js', import.meta.url));
const TOKEN = 'Tok3n-from-the-vault.7f3a';
const PASSWORD = 'pa55word-from-the-vault';

/** A site in `sites/<name>/` of a repository of its own (secret files must be inside it). */
function site(cluster: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const repoDir = tempDir('secrets');
  mkdirSync(join(repoDir, '.git'));
  const dir = join(repoDir, 'sites', 's');
  mkdirSync(dir, { recursive: true });
  const doc: Record<string, Record<string, unknown>> = { ...exampleSite(), ...(extra as Record<string, Record<string, unknown>>) };
  doc.cluster = { ...doc.cluster, ...cluster };
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

test('{ env: NAME } and { file: path } give the token and the password, with no warning', async () => {
  const dir = site({ token: { env: 'HG_T_TOKEN' }, password: { file: 'vault/password' } });
  mkdirSync(join(dir, 'vault'));
  writeFileSync(join(dir, 'vault/password'), `${PASSWORD}\n`);
  const out = tempDir();
  const r = await build({ sites: [dir], outDir: out, env: { HG_T_TOKEN: TOKEN }, secrets: 'filled' });
  assert.equal(r.diagnostics, []);
  const config = parse(readFileSync(join(out, 'location_x/harvester/hv-1.yaml'), 'utf8')) as { token: string; os: { password: string } };
  assert.is(config.token, TOKEN);
  assert.match(config.os.password, /^\$6\$/);
  assert.not.ok(readFileSync(join(out, 'location_x/harvester/hv-1.yaml'), 'utf8').includes(PASSWORD));
});

test('a missing variable or file is a positioned error naming it, and nothing is written', async () => {
  const dir = site({ token: { env: 'HG_T_UNSET' }, password: { file: 'nope/password' } });
  const out = tempDir();
  const r = await build({ sites: [dir], outDir: out, env: {}, secrets: 'filled' });
  assert.not.ok(r.ok);
  const env = r.diagnostics.find((d) => d.code === 'SECRET_ENV_MISSING')!;
  assert.ok(
    env && env.path === 'cluster.token' && env.line !== undefined && /HG_T_UNSET, which is not set/.test(env.message),
    JSON.stringify(r.diagnostics),
  );
  const file = r.diagnostics.find((d) => d.code === 'SECRET_FILE_MISSING')!;
  assert.ok(file && file.path === 'cluster.password' && /nope\/password .* does not exist/.test(file.message), JSON.stringify(file));
  assert.equal(readTree(out).size, 0);
  // An empty variable is no better than a missing one: never an empty token.
  const empty = await check({ sites: [dir], env: { HG_T_UNSET: '' }, secrets: 'filled' });
  assert.ok(empty.diagnostics.some((d) => d.code === 'SECRET_ENV_MISSING' && /is empty/.test(d.message)));
  // The committed tree needs no secret: the same site checks and builds where none is set (CI).
  assert.equal((await check({ sites: [dir], env: {} })).diagnostics, []);
  const committed = await build({ sites: [dir], outDir: tempDir(), env: {} });
  assert.ok(committed.ok, JSON.stringify(committed.diagnostics));
});

test('a file secret is read relative to the YAML file that names it (a node file in nodes/ too)', async () => {
  const dir = site({ token: { file: '../shared/token' } });
  mkdirSync(join(dir, '../shared'), { recursive: true });
  writeFileSync(join(dir, '../shared/token'), TOKEN);
  const r = await check({ sites: [dir], secrets: 'filled' });
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
});

test('a secret file must be a regular file inside the repository: no absolute path, no FIFO, nothing outside', async () => {
  const repoDir = tempDir('secrets-repo');
  mkdirSync(join(repoDir, '.git'));
  const dir = join(repoDir, 'sites/s1');
  mkdirSync(dir, { recursive: true });
  const outside = join(tempDir('outside'), 'machine-id');
  writeFileSync(outside, 'not-for-the-nodes');
  spawnSync('mkfifo', [join(dir, 'fifo')]);
  const cases: [unknown, RegExp][] = [
    [{ file: outside }, /is an absolute path/],
    [{ file: relative(dir, outside) }, /is outside /],
    [{ file: 'fifo' }, /is not a regular file/],
  ];
  for (const [token, why] of cases) {
    const doc: Record<string, Record<string, unknown>> = exampleSite();
    doc.cluster = { ...doc.cluster, token };
    writeFileSync(join(dir, 'site.yaml'), stringify(doc));
    const r = await check({ sites: [dir], secrets: 'filled' });
    const d = r.diagnostics.find((x) => x.code === 'SECRET_FILE_MISSING');
    assert.ok(d && why.test(d.message), `${JSON.stringify(token)}: ${JSON.stringify(r.diagnostics)}`);
  }
});

test('plain text in the YAML is SECRET_INLINE (a warning; --strict fails); a crypt hash is not', async () => {
  const dir = site({ token: TOKEN, password: sha512Crypt(PASSWORD, 'saltsalt') });
  const r = await check({ sites: [dir] });
  assert.equal(
    r.diagnostics.map((d) => `${d.code} ${d.path}`),
    ['SECRET_INLINE cluster.token'],
  );
  assert.ok(r.ok);
  assert.not.ok((await check({ sites: [dir], strict: true })).ok);
  const plain = await check({ sites: [site({ token: { env: 'HG_T_TOKEN' }, password: PASSWORD })], env: { HG_T_TOKEN: TOKEN } });
  assert.equal(
    plain.diagnostics.map((d) => `${d.code} ${d.path}`),
    ['SECRET_INLINE cluster.password'],
  );
});

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

test('a secret longer than 4096 bytes is SECRET_TOO_LONG at its reference, whatever its source; never hashed, never printed', async () => {
  const long = 'L0ng-'.repeat(1000); // 5000 bytes
  // From a file, from the environment, inline, and under config: of a node.
  const dir = site({ token: { env: 'HG_T_LONG' }, password: { file: 'secrets/password' } });
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets/password'), `${long}\n`);
  const r = await check({ sites: [dir], env: { HG_T_LONG: long }, secrets: 'filled' });
  assert.not.ok(r.ok);
  const tooLong = r.diagnostics.filter((d) => d.code === 'SECRET_TOO_LONG');
  assert.equal(tooLong.map((d) => `${d.path} ${d.line !== undefined}`).sort(), ['cluster.password true', 'cluster.token true']);
  const byPath = (p: string) => tooLong.find((d) => d.path === p)!.message;
  assert.match(
    byPath('cluster.password'),
    /^cluster\.password \(the file secrets\/password\) is 5000 bytes long; a secret may be at most 4096 bytes$/,
  );
  assert.match(byPath('cluster.token'), /the environment variable HG_T_LONG\) is 5000 bytes long/);
  assert.not.ok(JSON.stringify(r.diagnostics).includes('L0ng-L0ng-'), 'the secret is not printed');
  // The limit itself passes; one byte more does not (multi-byte characters count as their bytes).
  const at = await check({ sites: [site({ token: 'x'.repeat(4096), password: 'é'.repeat(2048) })] });
  assert.not.ok(
    at.diagnostics.some((d) => d.code === 'SECRET_TOO_LONG'),
    JSON.stringify(at.diagnostics),
  );
  const over = await check({ sites: [site({ token: 'x'.repeat(4097), password: 'é'.repeat(2049) })] });
  assert.equal(
    over.diagnostics
      .filter((d) => d.code === 'SECRET_TOO_LONG')
      .map((d) => d.path)
      .sort(),
    ['cluster.password', 'cluster.token'],
  );
  // Under config: too (a node's os.password is written as it is into the deploy tree).
  const doc = exampleSite();
  (doc.nodes as unknown as Record<string, unknown>[])[0]!.config = { os: { password: long } };
  const cfgDir = site({}, { nodes: doc.nodes });
  const cfg = await check({ sites: [cfgDir] });
  assert.ok(
    cfg.diagnostics.some((d) => d.code === 'SECRET_TOO_LONG' && d.path === 'nodes[0].config.os.password' && d.line !== undefined),
    JSON.stringify(cfg.diagnostics.map((d) => d.code)),
  );
});

test('hashing a password of the limit is cheap: SHA-512 crypt of 4096 bytes in well under a second', () => {
  const t0 = performance.now();
  const h = sha512Crypt('p'.repeat(4096), 'saltsaltsaltsalt');
  const ms = performance.now() - t0;
  assert.match(h, /^\$6\$saltsaltsaltsalt\$/);
  assert.ok(ms < 5000, `${ms} ms`);
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
