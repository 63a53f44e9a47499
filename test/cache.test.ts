// build's up-to-date check (src/cache): a site whose inputs, harvgen and output are as the last
// build left them is not compiled; every change that could alter or damage the output makes it
// compile again: an edited, added or removed node file, a layer, a secret file, a secret from the
// environment, an edited, deleted or half-written output, another harvgen, --force, --check.

import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { createHook } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { test } from 'uvu';
import { contentBound } from '../src/cache/inputs.ts';
import type { InputStamp } from '../src/load/stamps.ts';
import * as assert from 'uvu/assert';
import { generateRepo, nodeFile, nodeText } from '../bench/gen.ts';
import { createHash } from 'node:crypto';
import { build, type BuildOptions } from '../src/index.ts';
import { upToDate as recordUpToDate } from '../src/cache/index.ts';
import { envDigest, prepareEnvDigests } from '../src/cache/env.ts';
import { stateKey } from '../src/cache/key.ts';
import { formatDiagnostics } from '../src/diagnostics/format.ts';
import { jsonBuildOutput } from '../src/report/envelope.ts';
import { RACY_MS } from '../src/load/stamps.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

/**
 * Files changed less than RACY_MS before a build are compiled again by the next one (their
 * stamps could miss an edit in the same clock tick): tests let an edit settle first.
 */
const settle = () => new Promise((r) => setTimeout(r, RACY_MS + 20));

const repo = resolve(import.meta.dirname, '..');

/** A generated repository of 3 sites x 4 nodes, built once. */
async function fresh() {
  const root = tempDir('cache');
  const sites = generateRepo(root, 3, 4);
  await settle();
  const out = join(root, 'out');
  const run = (extra: Partial<BuildOptions> = {}) => build({ sites, outDir: out, cwd: root, ...extra });
  const first = await run();
  assert.ok(first.ok, JSON.stringify(first.diagnostics));
  assert.ok(first.sites.every((s) => !s.upToDate && s.written.length > 0));
  return { root, sites, out, run };
}

const upToDate = (r: Awaited<ReturnType<typeof build>>) => r.sites.map((s) => s.upToDate === true);

test('a rebuild of unchanged sites compiles nothing and writes nothing; the state is ignored by git and holds no secret', async () => {
  const { out, run } = await fresh();
  const before = readTree(join(out, 's001'));
  const again = await run();
  assert.ok(again.ok);
  assert.equal(upToDate(again), [true, true, true]);
  const files = before.size;
  assert.ok(files > 10);
  assert.equal(
    again.sites.map((s) => [s.written.length, s.removed.length, s.unchanged.length, s.nodes, s.files.length]),
    [0, 1, 2].map(() => [0, 0, files, 4, files]),
  );
  assert.ok(again.compiled.every((c) => c.model === undefined && c.diagnostics.length === 0));
  assert.equal(readTree(join(out, 's001')), before);
  const cache = join(out, '.harvgen-cache');
  assert.is(readFileSync(join(cache, '.gitignore'), 'utf8').split('\n')[1], '*');
  for (const f of readdirSync(cache)) {
    const text = readFileSync(join(cache, f), 'utf8');
    assert.not.ok(text.includes('bench-token') || text.includes('bench-password'), `${f} holds a secret`);
  }
  // --force compiles anyway (and still writes nothing).
  const forced = await run({ force: true });
  assert.equal(upToDate(forced), [false, false, false]);
  assert.ok(forced.sites.every((s) => s.written.length === 0));
});

test('an edited, added or removed node file, or a changed secret file, recompiles that site only', async () => {
  const { root, out, run } = await fresh();
  writeFileSync(nodeFile(root, 1, 2), nodeText(1, 2).replace(/ip: .*/, 'ip: 10.101.9.9'));
  await settle();
  let r = await run();
  assert.equal(upToDate(r), [true, false, true]);
  assert.ok(r.sites[1]!.written.includes('manifest.json'), r.sites[1]!.written.join());
  assert.not.ok(r.sites[1]!.written.includes('harvester/n00001.yaml'));
  assert.match(
    readdirSync(join(out, 's001/dnsmasq/hosts'))
      .map((f) => readFileSync(join(join(out, 's001/dnsmasq/hosts'), f), 'utf8'))
      .join(''),
    /10\.101\.9\.9/,
  );
  // A new node file in a new subdirectory.
  const added = join(root, 'sites/s002/nodes/rack9/n00099.yaml');
  mkdirSync(dirname(added), { recursive: true });
  writeFileSync(added, nodeText(2, 99));
  await settle();
  r = await run();
  assert.equal(upToDate(r), [true, true, false]);
  assert.ok(existsSync(join(out, 's002/harvester/n00099.yaml')));
  rmSync(added);
  await settle();
  r = await run();
  assert.equal(upToDate(r), [true, true, false]);
  assert.not.ok(existsSync(join(out, 's002/harvester/n00099.yaml')));
  // The shared password file: the committed tree never reads it; every deploy tree that names it compiles again.
  const deploy = () => run({ outDir: join(root, 'deploy'), secrets: 'filled' });
  assert.equal(upToDate(await deploy()), [false, false, false]);
  await settle();
  assert.equal(upToDate(await deploy()), [true, true, true]);
  writeFileSync(join(root, 'secrets/password'), 'another-password\n');
  await settle();
  assert.equal(upToDate(await run()), [true, true, true], 'the committed tree does not depend on a secret');
  r = await deploy();
  assert.equal(upToDate(r), [false, false, false]);
  assert.ok(r.sites.every((s) => s.written.includes('harvester/n00000.yaml')));
  // A layer next to the sites (sites/_defaults.yaml) appears: every site.
  writeFileSync(join(root, 'sites/_defaults.yaml'), 'mtu: 9000\n');
  await settle();
  r = await run();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.equal(upToDate(r), [false, false, false]);
  assert.equal(
    (await run()).sites.map((s) => s.upToDate),
    [true, true, true],
  );
});

test('an input changed just before a build is racy: the next build compiles that site again, then trusts it', async () => {
  const { root, run } = await fresh();
  // Same size, rewritten within RACY_MS of the build: an edit in the same clock tick after the
  // read could not be told from this state, so the state is not trusted.
  writeFileSync(nodeFile(root, 0, 1), nodeText(0, 1));
  assert.equal(upToDate(await run()), [false, true, true]);
  await settle();
  assert.equal(upToDate(await run()), [false, true, true], 'the racy stamp never matches');
  await settle();
  assert.equal(upToDate(await run()), [true, true, true]);
});

test('a deploy build of a site with a secret from the environment is skipped while the value is unchanged, rebuilt when it changes; the record holds neither the value nor a plain hash of it', async () => {
  const { root, sites } = await fresh();
  const yaml = join(root, 'sites/s000/site.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('{ file: ../../secrets/token }', '{ env: HARVGEN_TEST_TOKEN }'));
  await settle();
  const deploy = join(root, 'deploy');
  const run = (token: string | undefined) =>
    build({ sites, outDir: deploy, cwd: root, env: token === undefined ? {} : { HARVGEN_TEST_TOKEN: token }, secrets: 'filled' });
  assert.equal(upToDate(await run('token-from-env-1')), [false, false, false]);
  await settle();
  let r = await run('token-from-env-1');
  assert.equal(upToDate(r), [true, true, true], 'the same value: nothing compiled');
  assert.ok(r.sites.every((s) => s.written.length === 0));
  const sha = (v: string) => createHash('sha256').update(v).digest('hex');
  for (const f of readdirSync(join(deploy, '.harvgen-cache'))) {
    const text = readFileSync(join(deploy, '.harvgen-cache', f), 'utf8');
    assert.not.ok(text.includes('token-from-env-1'), `${f} holds the secret`);
    assert.not.ok(text.includes(sha('token-from-env-1')) || text.includes(sha('token-from-env-1\n')), `${f} holds its SHA-256`);
  }
  r = await run('token-from-env-2');
  assert.equal(upToDate(r), [false, true, true], 'a changed value compiles that site');
  assert.ok(r.sites[0]!.written.length > 0, 'the new token reached the configs');
  assert.ok(readFileSync(join(deploy, 's000/harvester/n00000.yaml'), 'utf8').includes('token-from-env-2'));
  await settle();
  assert.equal(upToDate(await run('token-from-env-2')), [true, true, true]);
  // Unset: compiled, and the missing variable is reported (nothing written for it).
  r = await run(undefined);
  assert.not.ok(r.ok);
  assert.ok(r.diagnostics.some((d) => d.code === 'SECRET_ENV_MISSING'));
  // The committed tree never reads the variable: skipped whatever it holds.
  const committed = (token: string) => build({ sites, outDir: join(root, 'out'), cwd: root, env: { HARVGEN_TEST_TOKEN: token } });
  await committed('a-value-0123');
  await settle();
  assert.equal(upToDate(await committed('another-value-0123')), [true, true, true]);
});

test('the digests of environment secrets made on the thread pool (while the files are checked) are the ones made in line', async () => {
  if (!stateKey()) return assert.unreachable('a state key is made for the tests');
  // Prepared: one digest made for the variable named twice, none for the unset one; kept for
  // envDigest, which then makes no digest of its own (asked again: none made, it is kept).
  const pairs = [
    ['HARVGEN_TEST_PREPARED', 'value-one-0123'],
    ['HARVGEN_TEST_PREPARED', 'value-one-0123'],
    ['HARVGEN_TEST_UNSET', undefined],
  ] as const;
  assert.is(await prepareEnvDigests(pairs), 1);
  assert.is(await prepareEnvDigests(pairs), 0, 'kept: not made again');
  const prepared = envDigest('HARVGEN_TEST_PREPARED', 'value-one-0123');
  // Another value replaces it (made in line), and the first one made in line again is the same.
  const other = envDigest('HARVGEN_TEST_PREPARED', 'value-two-0123');
  assert.ok(prepared !== undefined && other !== undefined && prepared !== other);
  assert.is(envDigest('HARVGEN_TEST_PREPARED', 'value-one-0123'), prepared, 'the thread pool gives the digest made in line');
  // A second variable with the same value: another digest (the variable's name salts it).
  assert.is(await prepareEnvDigests([['HARVGEN_TEST_PREPARED_2', 'value-one-0123']]), 1);
  assert.ok(envDigest('HARVGEN_TEST_PREPARED_2', 'value-one-0123') !== prepared);
});

test('a site with warnings is skipped while unchanged and replays them exactly (text with code frames, and --json); an edit, --strict or another working directory compiles it', async () => {
  const { root, sites, out, run } = await fresh();
  const yaml = join(root, 'sites/s001/site.yaml');
  // An inline token: SECRET_INLINE (a warning), masked wherever it is printed.
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('{ file: ../../secrets/token }', 'inline-token-0123456789abcdef'));
  await settle();
  const first = await run();
  assert.ok(first.ok);
  assert.equal(upToDate(first), [true, false, true]);
  assert.ok(first.diagnostics.some((d) => d.code === 'SECRET_INLINE' && d.file === 'sites/s001/site.yaml'));
  const shown = (r: Awaited<ReturnType<typeof build>>) =>
    formatDiagnostics(r.diagnostics, { sources: Object.assign({}, ...r.compiled.map((c) => c.sources)) });
  const json = (r: Awaited<ReturnType<typeof build>>) => JSON.stringify(jsonBuildOutput('build', r, false).diagnostics);
  assert.ok(shown(first).includes('> '), 'a code frame');
  assert.ok(shown(first).includes('***'), 'the token masked in it');
  await settle();
  const again = await run();
  assert.equal(upToDate(again), [true, true, true], 'a site with warnings is skipped');
  assert.ok(again.sites.every((s) => s.written.length === 0 && s.removed.length === 0));
  assert.is(shown(again), shown(first));
  assert.is(json(again), json(first));
  assert.equal(again.diagnostics, first.diagnostics);
  for (const f of readdirSync(join(out, '.harvgen-cache')))
    assert.not.ok(readFileSync(join(out, '.harvgen-cache', f), 'utf8').includes('inline-token'), `${f} holds the secret`);
  // --strict: the warning fails the build, as when it was compiled.
  const strict = await run({ strict: true });
  assert.not.ok(strict.ok);
  assert.equal(upToDate(strict), [true, true]);
  // Another working directory shows other paths: compiled.
  const elsewhere = await build({ sites: sites.map((d) => resolve(root, d)), outDir: out, cwd: join(root, 'sites') });
  assert.equal(upToDate(elsewhere)[1], false);
  assert.ok(elsewhere.diagnostics.some((d) => d.code === 'SECRET_INLINE' && d.file === 's001/site.yaml'));
  // An edit compiles it, and its warnings are the new ones.
  writeFileSync(nodeFile(root, 1, 2), nodeText(1, 2).replace(/ip: .*/, 'ip: 10.101.9.9'));
  await settle();
  const edited = await run();
  assert.equal(upToDate(edited), [true, false, true]);
  assert.ok(edited.sites[1]!.written.length > 0);
  assert.is(shown(edited), shown(first));
});

test('an output edited by hand (even in the same clock tick, at the same size), deleted or half-written is repaired', async () => {
  const { out, run } = await fresh();
  const file = join(out, 's000/harvester/n00001.yaml');
  const good = readFileSync(file, 'utf8');
  // Immediately after the build, at the same size: the racy case is read and hashed.
  const forged = good.replace(/[a-y]/, (c) => String.fromCharCode(c.charCodeAt(0) + 1));
  assert.ok(forged !== good && forged.length === good.length);
  writeFileSync(file, forged);
  let r = await run();
  assert.equal(upToDate(r), [false, true, true]);
  assert.equal(r.sites[0]!.written, ['harvester/n00001.yaml']);
  assert.is(readFileSync(file, 'utf8'), good);
  rmSync(file);
  r = await run();
  assert.equal(r.sites[0]!.written, ['harvester/n00001.yaml']);
  // A temp of a killed build: recovery runs (and is reported).
  writeFileSync(join(out, 's000/.boot.ipxe.harvgen-tmp'), 'half');
  r = await run();
  assert.equal(upToDate(r), [false, true, true]);
  assert.ok(r.diagnostics.some((d) => d.code === 'EMIT_RECOVERED'));
  // A mode changed by hand.
  const script = join(out, 's000/libvirt/define.sh');
  const mode = statSync(script).mode & 0o777;
  chmodSync(script, 0o600);
  r = await run();
  assert.equal(upToDate(r), [false, true, true]);
  assert.is(statSync(script).mode & 0o777, mode);
  // Foreign files are allowed next to the output: still up to date.
  writeFileSync(join(out, 's000/README.operator'), 'notes\n');
  assert.equal(upToDate(await run()), [true, true, true]);
});

test('the output is checked without walking it: a temp file in a directory of its files, or a lock, journal or temp file at its top, makes the site compile', async () => {
  const { root, sites, out, run } = await fresh();
  // In a directory of the tree (not its top): creating the file moved that directory's ctime.
  // Mutation: without the directories' ctimes (settledDirectories) this is taken as up to date.
  writeFileSync(join(out, 's000/ipxe/.x.ipxe.harvgen-tmp'), 'half');
  let r = await run();
  assert.equal(upToDate(r), [false, true, true]);
  assert.ok(
    r.diagnostics.some((d) => d.code === 'EMIT_RECOVERED'),
    'recovery removed it',
  );
  assert.not.ok(existsSync(join(out, 's000/ipxe/.x.ipxe.harvgen-tmp')));
  // A lock or a journal at the top of a site's directory (a build running, or one killed), with
  // the directory's times put back. Mutation: without the listing of the site directory these are
  // taken as up to date.
  const realOut = realpathSync(out);
  const siteDir = resolve(root, sites[1]!);
  assert.ok(recordUpToDate(realOut, siteDir), 'up to date before');
  for (const name of ['.harvgen.lock', '.harvgen-journal.json', '.manifest.json.harvgen-tmp']) {
    const dir = join(out, 's001');
    const st = statSync(dir);
    writeFileSync(join(dir, name), '');
    // The directory's own times put back cannot hide it: its ctime moved, which is not checked for the top.
    utimesSync(dir, st.atime, st.mtime);
    assert.is(recordUpToDate(realOut, siteDir), undefined, name);
    rmSync(join(dir, name));
  }
  // A directory with a temp file's name is no temp file: recovery leaves it, so it must not make
  // every build compile. Mutation: the listing's test without the kind of entry.
  mkdirSync(join(out, 's001/notes.harvgen-tmp'));
  assert.ok(recordUpToDate(realOut, siteDir), 'a directory named like a temp file is not a build cut short');
});

/** Whether this kernel gives a fine-grained ctime to a file whose ctime was asked for (Linux 6.13+, multigrain timestamps). */
function fineCtimes(dir: string): boolean {
  const f = join(dir, 'probe');
  writeFileSync(f, '');
  const seen = new Set<number>();
  for (let i = 0; i < 5; i++) {
    seen.add(statSync(f).ctimeMs);
    utimesSync(f, 1, 1);
  }
  rmSync(f);
  return seen.size === 5;
}

test('a record is settled after every file its build wrote: a no-op build reads no file back (fine-grained ctimes)', async () => {
  const root = tempDir('cache-settled');
  const sites = generateRepo(root, 12, 2);
  const out = join(root, 'out');
  assert.ok((await build({ sites, outDir: out, cwd: root })).ok);
  if (!fineCtimes(root)) {
    console.warn(
      '\n  SKIPPED: this kernel gives no fine-grained ctime on demand; files written in the tick of the record are read back by design\n',
    );
    return;
  }
  // Mutation: the record's own ctime taken as created (the clock's coarse tick) shares that tick
  // with the last files of a small site (of most of 12 such sites).
  const cache = join(out, '.harvgen-cache');
  let files = 0;
  for (const f of readdirSync(cache).filter((n) => n.endsWith('.json'))) {
    const text = readFileSync(join(cache, f), 'utf8');
    const record = JSON.parse(text.slice(text.indexOf('\n') + 1)) as { site: string; settled: number; files: { paths: string[] } };
    for (const path of record.files.paths) {
      const ctime = statSync(join(out, record.site, path)).ctimeMs;
      assert.ok(ctime < record.settled, `${record.site}/${path}: ctime ${ctime}, settled ${record.settled}`);
      files++;
    }
  }
  assert.ok(files > 100, `${files} files`);
});

test("a no-op build opens no manifest.json: the tree kind of an up-to-date site is its record's (fine-grained ctimes)", async () => {
  const { root, run } = await fresh();
  if (!fineCtimes(root)) {
    console.warn(
      "\n  SKIPPED: this kernel gives no fine-grained ctime on demand; a manifest.json written in its record's tick is read back by design\n",
    );
    return;
  }
  const opened: string[] = [];
  const real = fs.openSync;
  const writable = fs as { openSync: typeof fs.openSync };
  writable.openSync = ((path: string, ...rest: unknown[]) => {
    if (String(path).endsWith('/manifest.json')) opened.push(String(path));
    return (real as (...a: unknown[]) => number)(path, ...rest);
  }) as typeof fs.openSync;
  syncBuiltinESMExports();
  let r: Awaited<ReturnType<typeof run>>;
  try {
    r = await run();
  } finally {
    writable.openSync = real;
    syncBuiltinESMExports();
  }
  assert.equal(upToDate(r), [true, true, true]);
  // Mutation: the kind check over every site reads each site's manifest.json again.
  assert.equal(opened, []);
  // A deploy build into the same directory is still refused: that check reads them.
  const deploy = await run({ secrets: 'filled' });
  assert.not.ok(deploy.ok);
  assert.ok(
    deploy.diagnostics.some((d) => d.code === 'EMIT_OUT_DIR_UNSAFE'),
    JSON.stringify(deploy.diagnostics.map((d) => d.code)),
  );
});

test('a one-node edit writes the new manifest.json without reading back the old one the record vouches for', async () => {
  const { root, out, run } = await fresh();
  if (!fineCtimes(root)) {
    console.warn(
      "\n  SKIPPED: this kernel gives no fine-grained ctime on demand; a manifest.json written in its record's tick is read back by design\n",
    );
    return;
  }
  const manifest = join(out, 's001/manifest.json');
  const size = statSync(manifest).size;
  /** Builds, counting the opens of s001's manifest.json (the tree kind check opens it once). */
  const opens = async (): Promise<{ r: Awaited<ReturnType<typeof run>>; n: number }> => {
    let n = 0;
    const real = fs.openSync;
    const writable = fs as { openSync: typeof fs.openSync };
    writable.openSync = ((path: string, ...rest: unknown[]) => {
      if (String(path) === manifest) n++;
      return (real as (...a: unknown[]) => number)(path, ...rest);
    }) as typeof fs.openSync;
    syncBuiltinESMExports();
    try {
      return { r: await run(), n };
    } finally {
      writable.openSync = real;
      syncBuiltinESMExports();
    }
  };
  // An address of as many characters: manifest.json keeps its size, so only its SHA-256 tells.
  const text = nodeText(1, 2);
  const ip = /ip: (.*)/.exec(text)![1]!;
  writeFileSync(
    nodeFile(root, 1, 2),
    text.replace(
      ip,
      ip.replace(/\d$/, (d) => (d === '9' ? '8' : '9')),
    ),
  );
  await settle();
  const edited = await opens();
  assert.ok(edited.r.ok, JSON.stringify(edited.r.diagnostics));
  assert.ok(edited.r.sites[1]!.written.includes('manifest.json'));
  assert.is(statSync(manifest).size, size);
  // Mutation: emit hashes the old manifest.json to learn that it differs (a second open).
  assert.is(edited.n, 1);
  // The same bytes again (a new stamp, nothing else): the same SHA-256 as vouched is never taken
  // on trust; the file is read, found the same, and left as it is.
  writeFileSync(nodeFile(root, 1, 2), readFileSync(nodeFile(root, 1, 2), 'utf8'));
  await settle();
  const ctime = statSync(manifest).ctimeMs;
  const same = await opens();
  assert.ok(same.r.ok);
  assert.not.ok(same.r.sites[1]!.written.includes('manifest.json'));
  assert.is(same.n, 2);
  assert.is(statSync(manifest).ctimeMs, ctime);
});

test('--check and --dry-run never trust the state: a stale output is found even when the record says otherwise', async () => {
  const { out, run } = await fresh();
  const file = join(out, 's002/boot.ipxe');
  const st = statSync(file);
  writeFileSync(file, readFileSync(file, 'utf8').replace('#!ipxe', '#!IPXE'));
  utimesSync(file, st.atime, st.mtime);
  const checked = await run({ check: true });
  assert.not.ok(checked.ok);
  assert.ok(checked.diagnostics.some((d) => d.code === 'EMIT_STALE' && d.message.includes('boot.ipxe differs')));
  const dry = await run({ dryRun: true });
  assert.equal(dry.sites[2]!.written, ['boot.ipxe']);
});

test('--force compares every byte; a plain build trusts the hashes of a manifest.json only while the record vouches for it', async () => {
  const { out, run } = await fresh();
  const file = join(out, 's001/boot.ipxe');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, good.replace('#!ipxe', '#!IPXE'));
  // manifest.json rewritten after the edit (same bytes): the edit now predates it, but the
  // manifest is no longer the one the last build settled, so no hash of it is trusted.
  const manifest = join(out, 's001/manifest.json');
  await new Promise((r) => setTimeout(r, 20));
  writeFileSync(manifest, readFileSync(manifest));
  const plain = await run();
  assert.equal(plain.sites[1]!.written, ['boot.ipxe'], 'a plain build read the file back');
  assert.is(readFileSync(file, 'utf8'), good);
  writeFileSync(file, good.replace('#!ipxe', '#!IPXE'));
  const forced = await run({ force: true });
  assert.equal(upToDate(forced), [false, false, false]);
  assert.equal(forced.sites[1]!.written, ['boot.ipxe']);
  assert.is(readFileSync(file, 'utf8'), good);
});

test('sites that share a boot server are compiled together, so a conflict between them is still found', async () => {
  const { root, sites, out } = await fresh();
  const serve = (i: number, prefix: string) => {
    const yaml = join(root, `sites/s00${i}/site.yaml`);
    const text = readFileSync(yaml, 'utf8')
      .replace(/server: http:\/\/[0-9.]+(\/[a-z]*)?/, `server: http://192.0.2.1${prefix}`)
      .replace(/artifacts: http:\/\/[0-9.]+(\/[a-z]*)?\/artifacts/, `artifacts: http://192.0.2.1${prefix}/artifacts`);
    writeFileSync(yaml, text);
  };
  serve(0, '/a');
  serve(1, '/b');
  await settle();
  const run = () => build({ sites, outDir: out, cwd: root });
  assert.ok((await run()).ok);
  const r = await run();
  assert.equal(upToDate(r), [false, false, true], 'the two on one server are compiled, the third is not');
  // Now s001 moves onto s000's prefix; s000 did not change, and the conflict is still reported.
  serve(1, '/a');
  await settle();
  const bad = await run();
  assert.not.ok(bad.ok);
  assert.ok(bad.diagnostics.some((d) => d.code === 'SITE_SERVER_CONFLICT'));
});

test('a record this process wrote is reused from memory only while its file is the one written', async () => {
  const { out, run } = await fresh();
  // Records are kept in memory by a build that keeps what it emitted (watch's): written again here.
  const emitted: NonNullable<BuildOptions['emitted']> = new Map();
  assert.equal(upToDate(await run({ emitted, force: true })), [false, false, false]);
  const cache = join(out, '.harvgen-cache');
  // The record of s001 forged in place at the same size (its MAC kept): the same inode and size,
  // other times. Read again, its MAC fails and the site is compiled.
  const file = readdirSync(cache)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(cache, f))
    .find((f) => readFileSync(f, 'utf8').includes('"site":"s001"'))!;
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes('"nodes":4'));
  const before = statSync(file);
  // Written again until its times differ (a file system with a coarse clock could keep them).
  for (let i = 0; i < 100; i++) {
    writeFileSync(file, text.replace('"nodes":4', '"nodes":5'));
    const now = statSync(file);
    if (now.mtimeMs !== before.mtimeMs || now.ctimeMs !== before.ctimeMs) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const after = statSync(file);
  assert.equal([after.ino, after.size], [before.ino, before.size]);
  assert.ok(after.mtimeMs !== before.mtimeMs || after.ctimeMs !== before.ctimeMs);
  assert.equal(upToDate(await run({ emitted })), [true, false, true]);
  // The records written by that build are reused as written: nothing compiled.
  assert.equal(upToDate(await run({ emitted })), [true, true, true]);
});

test('the state is never written through a link, and a forged record cannot make a site skip', async () => {
  const { out, run } = await fresh();
  const cache = join(out, '.harvgen-cache');
  for (const f of readdirSync(cache)) {
    if (!f.endsWith('.json')) continue;
    // `<HMAC>\n<JSON>`: the forger keeps the MAC (it cannot compute one) and edits the JSON.
    const [mac, body] = readFileSync(join(cache, f), 'utf8').split(/\n(.*)/s) as [string, string];
    const rec = JSON.parse(body) as { code: string; site: string };
    writeFileSync(join(cache, f), `${mac}\n${JSON.stringify({ ...rec, site: '../../..' })}`);
  }
  assert.equal(upToDate(await run()), [false, false, false]);
  // The whole cache directory as a link: ignored, nothing written through it.
  rmSync(cache, { recursive: true });
  const elsewhere = tempDir('elsewhere');
  symlinkSync(elsewhere, cache);
  assert.equal(upToDate(await run()), [false, false, false]);
  assert.equal(readdirSync(elsewhere), []);
});

test('each site of a build is written in a task of its own: what a WeakRef kept alive during one is let go', async () => {
  const root = tempDir('tasks');
  generateRepo(root, 4, 2);
  await settle();
  // The built library in a plain node, as the CLI runs it: under the test's loader every dynamic
  // import is a task of its own, which would hide a build that never leaves one.
  // V8 keeps a WeakRef's target alive until the task that made the WeakRef ends (the models'
  // nodes are held so, src/model/served-releases.ts). Made while the first site is reported, it
  // must be collectable while the third is: the build left that task in between.
  const script = `
    const { build } = await import(${JSON.stringify(join(repo, 'dist/index.js'))});
    const sites = ['s000', 's001', 's002', 's003'].map((s) => 'sites/' + s);
    let ref, collected;
    const r = await build({ sites, outDir: 'out', onSite: (s) => {
      if (s.site === 's000') ref = new WeakRef({ big: new Array(1000).fill(s.site) });
      if (s.site === 's002') { gc(); collected = ref.deref() === undefined; }
    } });
    console.log(JSON.stringify({ ok: r.ok, collected }));`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(r.status, 0, r.stderr);
  // Mutation: without the turn of the event loop before each site is written (src/util/next-task.ts)
  // the whole second pass is one task, and the object is still there.
  assert.equal(JSON.parse(r.stdout.trim().split('\n').at(-1)!), { ok: true, collected: true });
});

test('a build of several sites makes no asynchronous file system call per site: each would wait for the thread pool', async () => {
  const root = tempDir('sync-io');
  const sites = generateRepo(root, 3, 4);
  await settle();
  const out = join(root, 'out');
  // Every request to libuv's thread pool for a file (fs/promises and fs callbacks alike), by the
  // stack that made it.
  const calls: string[] = [];
  const hook = createHook({
    init(_id, type) {
      if (type === 'FSREQPROMISE' || type === 'FSREQCALLBACK')
        calls.push(`${type} ${new Error().stack?.split('\n').slice(2, 6).join(' < ')}`);
    },
  });
  hook.enable();
  try {
    // A first build (every site written), then one with a site edited and a node file removed.
    const first = await build({ sites, outDir: out, cwd: root });
    assert.ok(first.ok, JSON.stringify(first.diagnostics));
    writeFileSync(nodeFile(root, 1, 2), nodeText(1, 2).replace(/ip: .*/, 'ip: 10.101.9.9'));
    rmSync(nodeFile(root, 2, 3));
    await settle();
    const second = await build({ sites, outDir: out, cwd: root });
    assert.ok(second.ok, JSON.stringify(second.diagnostics));
    assert.ok(second.sites[2]!.removed.length > 0);
    // The deploy tree reads each site's secret files.
    const deploy = await build({ sites, outDir: join(root, 'deploy'), cwd: root, secrets: 'filled' });
    assert.ok(deploy.ok, JSON.stringify(deploy.diagnostics));
  } finally {
    hook.disable();
  }
  // Mutation: the lock released with fs/promises' lstat (as before) makes one such request per site.
  assert.equal(calls, []);
});

test('the YAML inventory (site.yaml, nodes/, facts/, shared layers) is judged by its stamps; secret, user-data and other files by their content too', () => {
  const site = '/repo/sites/a';
  const bound = contentBound(site);
  const stamp = (path: string): InputStamp => [path, 100, 1, 1, 1];
  for (const f of ['site.yaml', 'nodes/n1.yaml', 'facts/n1.yaml', '../_defaults.yaml', '../_profiles/p.yaml'])
    assert.not.ok(bound(stamp(join(site, f))), `${f}: stamps only`);
  for (const f of ['secrets/token', 'user-data/n1.yaml', 'facts/notes.txt', 'ipxe/undionly.kpxe'])
    assert.ok(bound(stamp(join(site, f))), `${f}: its content is bound`);
});

test.run();
