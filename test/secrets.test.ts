// Secrets out of git: `{ env: NAME }` and `{ file: path }` for the token and the password, clear
// positioned errors when they are missing (never an empty token), a warning for plain text in
// the YAML, `harvgen hash-password`, and no secret value in anything harvgen prints.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { build, check } from '../src/index.ts';
import { sha512Crypt } from '../src/util/sha512-crypt.ts';
import { exampleSite } from './helpers/example.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';
import { TOKEN, PASSWORD, site } from './helpers/secrets.ts';

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

test("resolving secrets never writes into a node of the loaded inventory: watch reuses each node file's parse as it is", async () => {
  const long = 'L0ng-'.repeat(1000);
  const node = (hostname: string, config?: unknown) => ({ hostname, mac: '52:54:00:00:00:01', ...(config ? { config } : {}) });
  const input = {
    site: 's',
    cluster: { token: 'a-token-of-some-length', password: 'pw-of-some-length' },
    nodes: [node('a'), node('b', { token: long, os: { password: long } }), node('c')],
  };
  const before = JSON.stringify(input);
  const { resolveSecrets } = await import('../src/load/secrets.ts');
  const noPositions = (() => undefined) as unknown as Parameters<typeof resolveSecrets>[1];
  const r = await resolveSecrets(input, noPositions, { cwd: '/', env: {}, root: '/', mode: 'filled' });
  assert.is(JSON.stringify(input), before, 'the loaded inventory is as it was');
  const nodes = r.input.nodes as Record<string, Record<string, unknown>>[];
  // The node whose too-long secrets were replaced is a copy; the others are the loaded objects.
  assert.is.not(nodes[1], input.nodes[1]);
  assert.equal(nodes[1]!.config, { token: 'unresolved-secret', os: { password: 'unresolved-secret' } });
  assert.is(nodes[0], input.nodes[0]);
  assert.is(nodes[2], input.nodes[2]);
  assert.is.not(r.input.cluster, input.cluster, 'site-level sections are copied');
});

test('hashing a password of the limit is cheap: SHA-512 crypt of 4096 bytes in well under a second', () => {
  const t0 = performance.now();
  const h = sha512Crypt('p'.repeat(4096), 'saltsaltsaltsalt');
  const ms = performance.now() - t0;
  assert.match(h, /^\$6\$saltsaltsaltsalt\$/);
  assert.ok(ms < 5000, `${ms} ms`);
});

test.run();
