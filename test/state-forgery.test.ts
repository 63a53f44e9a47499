// Build state cannot be forged into trust (issue 20, finding 6). Whoever can write to the output
// directory can rewrite everything in it: the up-to-date records in `.harvgen-cache/`, manifest.json,
// a journal, the lock. None of it may make harvgen keep a tampered output, hide an input change
// or a token rotation, touch a file no manifest lists, fail every later build, or block builds
// behind a process that is not a harvgen. Each case below reproduces what the previous state
// handling allowed.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateRepo, nodeFile, nodeText } from '../bench/gen.ts';
import { build, type BuildOptions, type BuildResult } from '../src/index.ts';
import { stateMac } from '../src/cache/key.ts';
import { RACY_MS } from '../src/load/stamps.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';

/** Files changed less than RACY_MS before a build are compiled again anyway: let an edit settle first. */
const settle = (ms = RACY_MS + 20) => new Promise((r) => setTimeout(r, ms));

/** One generated site of 3 nodes (in a git repository), built once into `out` (or `deploy` with the secrets). */
async function fresh(secrets: 'markers' | 'filled' = 'markers') {
  const root = tempDir('forgery');
  mkdirSync(join(root, '.git'));
  const sites = generateRepo(root, 1, 3);
  await settle();
  const out = join(root, secrets === 'filled' ? 'deploy' : 'out');
  const run = (extra: Partial<BuildOptions> = {}) => build({ sites, outDir: out, cwd: root, secrets, ...extra });
  const first = await run();
  assert.ok(first.ok, JSON.stringify(first.diagnostics));
  const dir = join(out, 's000');
  return { root, sites, out, dir, run, tree: readTree(dir) };
}

const upToDate = (r: BuildResult) => r.sites[0]?.upToDate === true;
const codes = (r: BuildResult) => r.diagnostics.map((d) => d.code);

/** The record file of the one site (whatever its format). */
function recordOf(out: string): string {
  const cache = join(out, '.harvgen-cache');
  const files = readdirSync(cache).filter((f) => f.endsWith('.json'));
  assert.is(files.length, 1, files.join());
  return join(cache, files[0]!);
}

type Stamp = [string, number, number, number, number];

/**
 * Edit a record as a forger with write access to the output would: the JSON is changed, whatever
 * authenticates it is kept as it was (a forger cannot compute it). With `mac`, the record is
 * authenticated again with this user's key, as harvgen itself would: the case of a file system
 * whose timestamps do not change.
 */
function forgeRecord(out: string, edit: (record: { inputs: Stamp[] }) => void, options: { mac?: boolean } = {}): void {
  const file = recordOf(out);
  const text = readFileSync(file, 'utf8');
  if (text.startsWith('{')) {
    const record = JSON.parse(text) as { inputs: Stamp[] };
    edit(record);
    writeFileSync(file, JSON.stringify(record));
    return;
  }
  const nl = text.indexOf('\n');
  const record = JSON.parse(text.slice(nl + 1)) as { inputs: Stamp[] };
  edit(record);
  const body = JSON.stringify(record);
  writeFileSync(file, `${options.mac ? stateMac('record', body) : text.slice(0, nl)}\n${body}`);
}

/** Put the current stamp of every recorded input whose path ends in `suffix` into the record. */
const restamp = (suffix: string) => (record: { inputs: Stamp[] }) => {
  let n = 0;
  record.inputs = record.inputs.map((s) => {
    if (!s[0].endsWith(suffix)) return s;
    n++;
    const st = statSync(s[0]);
    return [s[0], st.size, st.mtimeMs, st.ctimeMs, st.ino];
  });
  assert.ok(n > 0, `no recorded input ends in ${suffix}`);
};

test('a record rewritten after an output file was tampered with does not make build trust the file', async () => {
  const { out, dir, run, tree } = await fresh();
  const file = join(dir, 'boot.ipxe');
  const good = readFileSync(file, 'utf8');
  const forged = good.replace('#!ipxe', '#!IPXE');
  assert.is(forged.length, good.length);
  writeFileSync(file, forged);
  await settle(30);
  // Same bytes rewritten: the record's file is now newer than the tampered output.
  const record = recordOf(out);
  writeFileSync(record, readFileSync(record));
  const r = await run();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.not.ok(upToDate(r), 'the tampered tree was called up to date');
  assert.equal(r.sites[0]!.written, ['boot.ipxe']);
  assert.equal(readTree(dir), tree);
});

test('a manifest.json rewritten after an output file was tampered with does not make emit trust the file by its hash', async () => {
  const { dir, run, tree } = await fresh();
  const file = join(dir, 'ipxe/52-54-01-10-00-01.ipxe');
  const good = readFileSync(file, 'utf8');
  const forged = good.replace('#!ipxe', '#!IPXE');
  writeFileSync(file, forged);
  await settle(30);
  // The edit now predates manifest.json, which still lists the good file's SHA-256.
  const manifest = join(dir, 'manifest.json');
  writeFileSync(manifest, readFileSync(manifest));
  const r = await run();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.equal(r.sites[0]!.written, ['ipxe/52-54-01-10-00-01.ipxe'], 'the tampered file was kept');
  assert.equal(readTree(dir), tree);
});

test('a record whose MAC line is not ASCII, or that is well signed but malformed, is no record: the site is compiled, never a crash', async () => {
  const { out, run } = await fresh();
  await settle();
  assert.ok(upToDate(await run()), 'up to date before the forgery');
  // A MAC line of 64 bytes, two of them one character that is not ASCII.
  const file = recordOf(out);
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, `é${text.slice(2)}`);
  assert.is(readFileSync(file).indexOf(0x0a), 64);
  let r = await run();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.not.ok(upToDate(r), 'a MAC line with a non-ASCII character');
  await settle();
  assert.ok(upToDate(await run()), 'the build wrote a good record again');
  // Signed with this user's key (as harvgen would), but malformed: columns of other lengths, a
  // size that is no number, an environment entry that is no pair. Each: compiled, not a crash.
  const malformed: ((record: Record<string, unknown>) => void)[] = [
    (record) => (record.files as { sizes: number[] }).sizes.pop(),
    (record) => ((record.files as { sizes: unknown[] }).sizes[0] = 'large'),
    (record) => (record.env = [42]),
  ];
  for (const edit of malformed) {
    forgeRecord(out, edit as (record: { inputs: Stamp[] }) => void, { mac: true });
    r = await run();
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    assert.not.ok(upToDate(r), String(edit));
    await settle();
    assert.ok(upToDate(await run()));
  }
});

test('a record with forged input stamps cannot hide an input change', async () => {
  const { root, out, dir, run } = await fresh();
  writeFileSync(nodeFile(root, 0, 1), nodeText(0, 1).replace(/ip: .*/, 'ip: 10.100.9.9'));
  await settle();
  forgeRecord(out, restamp('n00001.yaml'));
  const r = await run();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.not.ok(upToDate(r), 'the forged stamps hid the edit');
  assert.match(
    readdirSync(join(dir, 'dnsmasq/hosts'))
      .map((f) => readFileSync(join(join(dir, 'dnsmasq/hosts'), f), 'utf8'))
      .join(''),
    /10\.100\.9\.9/,
  );
});

test('a record with forged stamps cannot hide a token rotation from the deploy tree', async () => {
  const { root, out, dir, run } = await fresh('filled');
  const config = join(dir, 'harvester/n00000.yaml');
  assert.match(readFileSync(config, 'utf8'), /bench-token-0123456789abcdef/);
  writeFileSync(join(root, 'secrets/token'), 'rotated-token-fedcba9876543210\n');
  await settle();
  forgeRecord(out, restamp('secrets/token'));
  const r = await run();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.not.ok(upToDate(r), 'the rotation was hidden');
  assert.match(readFileSync(config, 'utf8'), /rotated-token-fedcba9876543210/);
});

test('the content of a secret file is bound too: a rotation is found even when every stamp matches', async () => {
  const { root, out, dir, run } = await fresh('filled');
  // Same size; the record then made to match the new stamps and authenticated with the real key,
  // which is what a file system that does not change timestamps (a FUSE secret store) would leave.
  const rotated = 'bench-token-ROTATED-01234567\n';
  assert.is(rotated.length, readFileSync(join(root, 'secrets/token'), 'utf8').length);
  writeFileSync(join(root, 'secrets/token'), rotated);
  await settle();
  forgeRecord(out, restamp('secrets/token'), { mac: true });
  const r = await run();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.not.ok(upToDate(r), 'the new token content was not noticed');
  assert.match(readFileSync(join(dir, 'harvester/n00000.yaml'), 'utf8'), /bench-token-ROTATED/);
  // And a record so authenticated, with nothing changed, is trusted (the test forges correctly).
  await settle();
  const again = await run();
  assert.ok(upToDate(again));
});

test('a forged journal cannot overwrite, chmod or delete a file no manifest lists; it is reported once and discarded', async () => {
  const { dir, run, tree } = await fresh();
  writeFileSync(join(dir, 'README.operator'), 'mine\n');
  writeFileSync(join(dir, 'notes.txt'), 'mine too\n', { mode: 0o600 });
  chmodSync(join(dir, 'notes.txt'), 0o600);
  writeFileSync(join(dir, 'keep.txt'), 'keep\n');
  writeFileSync(join(dir, '.README.operator.harvgen-tmp'), 'overwritten by a forged journal\n');
  writeFileSync(
    join(dir, '.harvgen-journal.json'),
    JSON.stringify({
      version: 1,
      renames: [{ path: 'README.operator', mode: 0o644 }],
      chmods: [{ path: 'notes.txt', mode: 0o755 }],
      removals: ['keep.txt'],
    }),
  );
  const r = await run();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.equal(codes(r), ['EMIT_JOURNAL_DISCARDED']);
  assert.match(r.diagnostics[0]!.message, /\(it renames README\.operator into place, which no manifest\.json of the build lists\)/);
  assert.is(readFileSync(join(dir, 'README.operator'), 'utf8'), 'mine\n');
  assert.is(statSync(join(dir, 'notes.txt')).mode & 0o777, 0o600);
  assert.ok(existsSync(join(dir, 'keep.txt')));
  assert.not.ok(existsSync(join(dir, '.harvgen-journal.json')));
  assert.equal(readTree(dir), new Map([...tree, ['README.operator', 'mine\n'], ['keep.txt', 'keep\n'], ['notes.txt', 'mine too\n']]));
  // Reported once: the next build is clean.
  const again = await run();
  assert.ok(again.ok);
  assert.equal(codes(again), []);
});

test('a corrupt journal never fails every build: reported once, discarded, the tree rebuilt', async () => {
  const { dir, run, tree } = await fresh();
  const journal = join(dir, '.harvgen-journal.json');
  const elsewhere = tempDir('elsewhere');
  writeFileSync(join(elsewhere, 'gone.txt'), "not harvgen's");
  symlinkSync(elsewhere, join(dir, 'old'));
  const cases: [string, string, RegExp][] = [
    // A directory to remove: it used to fail with EISDIR, and the journal stayed for the next build.
    ['a directory', JSON.stringify({ version: 1, renames: [], chmods: [], removals: ['ipxe'] }), /ipxe, which is a directory/],
    // A removal through a link: it used to be EMIT_SYMLINK_REFUSED on every build.
    ['through a link', JSON.stringify({ version: 1, renames: [], chmods: [], removals: ['old/gone.txt'] }), /old is a symbolic link/],
    ['truncated', '{"version":1,"renames":[', /not a harvgen journal/],
    ['not plain', JSON.stringify({ version: 1, renames: [], chmods: [], removals: ['../../x'] }), /not a plain relative path/],
  ];
  for (const [label, text, why] of cases) {
    writeFileSync(journal, text);
    writeFileSync(join(dir, '.boot.ipxe.harvgen-tmp'), 'half');
    const r = await run();
    assert.ok(r.ok, `${label}: ${JSON.stringify(r.diagnostics)}`);
    assert.equal(codes(r), ['EMIT_JOURNAL_DISCARDED'], label);
    assert.match(r.diagnostics[0]!.message, why, label);
    assert.not.ok(existsSync(journal), label);
    const again = await run();
    assert.ok(again.ok && codes(again).length === 0, `${label}: ${JSON.stringify(again.diagnostics)}`);
    const now = readTree(dir);
    now.delete('old/gone.txt');
    assert.equal(now, tree, label);
  }
  assert.is(readFileSync(join(elsewhere, 'gone.txt'), 'utf8'), "not harvgen's");
});

/** A process that is not a harvgen (`sleep`), or one that could be (`node`), and its start time. */
function spawnHolder(kind: 'sleep' | 'node'): { child: ChildProcess; pid: number; start: string } {
  const child =
    kind === 'sleep'
      ? spawn('sleep', ['30'], { stdio: 'ignore' })
      : spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  const pid = child.pid!;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return { child, pid, start: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]! };
}

const stop = async (child: ChildProcess) => {
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
};

test('a lock naming a live process that is not a harvgen is stale, even with its true start time', async () => {
  const { dir, run, tree } = await fresh();
  const lock = join(dir, '.harvgen.lock');
  const sleeper = spawnHolder('sleep');
  try {
    for (const extra of [{}, { start: sleeper.start }]) {
      writeFileSync(lock, JSON.stringify({ pid: sleeper.pid, hostname: hostname(), started: 'then', ...extra }));
      writeFileSync(join(dir, 'boot.ipxe'), 'tampered');
      const r = await run();
      assert.ok(r.ok, `${JSON.stringify(extra)}: ${JSON.stringify(r.diagnostics)}`);
      assert.not.ok(existsSync(lock));
      assert.equal(readTree(dir), tree);
    }
  } finally {
    await stop(sleeper.child);
  }
});

test('a lock naming a live Node.js process is held only while the pid is that process (start time, boot)', async () => {
  const { dir, run, tree } = await fresh();
  const lock = join(dir, '.harvgen.lock');
  const other = spawnHolder('node');
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  try {
    // The very process that took it (a harvgen could be): EMIT_LOCKED.
    writeFileSync(lock, JSON.stringify({ pid: other.pid, hostname: hostname(), started: 'then', start: other.start, boot }));
    const held = await run();
    assert.equal(codes(held), ['EMIT_LOCKED']);
    assert.ok(existsSync(lock));
    // The pid reused by a process that started later: stale.
    writeFileSync(lock, JSON.stringify({ pid: other.pid, hostname: hostname(), started: 'then', start: '1', boot }));
    writeFileSync(join(dir, 'boot.ipxe'), 'tampered');
    const reused = await run();
    assert.ok(reused.ok, JSON.stringify(reused.diagnostics));
    assert.equal(readTree(dir), tree);
    // Taken before a reboot: stale.
    writeFileSync(
      lock,
      JSON.stringify({ pid: other.pid, hostname: hostname(), started: 'then', start: other.start, boot: 'an-earlier-boot' }),
    );
    assert.ok((await run()).ok);
    assert.not.ok(existsSync(lock));
  } finally {
    await stop(other.child);
  }
});

test('a lock file far larger than any lock harvgen writes is stale at once', async () => {
  const { dir, run } = await fresh();
  writeFileSync(join(dir, '.harvgen.lock'), 'x'.repeat(64 * 1024));
  const r = await run();
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
});

test.run();
