// The durable layer (src/durable/): the one atomic write, the one lock, the sweep of a killed
// writer's temps. The commands' own tests (emit, pull, status) show each uses it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  acquireLock,
  acquireLockSync,
  DurableError,
  processAlive,
  removeStaleTemps,
  writeFileAtomic,
  writeFileAtomicAsync,
} from '../src/durable/index.ts';
import { tempDir } from './helpers/tmp.ts';

/** A pid that ran and is gone now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  assert.ok(pid > 0 && !processAlive(pid));
  return pid;
}

test('writeFileAtomic replaces the file whole, leaves no temp, and replaces a link by a file instead of writing through it', async () => {
  const dir = tempDir('durable');
  const file = join(dir, 'state.json');
  writeFileAtomic(file, 'one');
  await writeFileAtomicAsync(file, new Uint8Array(Buffer.from('two')));
  assert.is(readFileSync(file, 'utf8'), 'two');
  assert.equal(readdirSync(dir), ['state.json']);
  const outside = join(tempDir('durable-outside'), 'victim');
  writeFileSync(outside, 'keep');
  const link = join(dir, 'link.json');
  symlinkSync(outside, link);
  writeFileAtomic(link, 'new');
  assert.is(readFileSync(outside, 'utf8'), 'keep', 'the link target is untouched');
  assert.is(readFileSync(link, 'utf8'), 'new');
});

test('a failed atomic write removes its temp and leaves the old file', () => {
  const dir = tempDir('durable');
  const file = join(dir, 'a-dir');
  mkdirSync(join(file, 'x'), { recursive: true }); // rename over a non-empty directory fails
  assert.throws(() => writeFileAtomic(file, 'x'));
  assert.equal(readdirSync(dir), ['a-dir']);
});

test('removeStaleTemps removes the temps of dead writers only', () => {
  const dir = tempDir('durable');
  const dead = `.big.iso.harvgen-tmp-${deadPid()}-0a1b2c3d`;
  const live = `.state.json.harvgen-tmp-${process.pid}-00ff00ff`;
  for (const n of [dead, live, 'big.iso', '.journal.harvgen-tmp']) writeFileSync(join(dir, n), 'x');
  assert.equal(removeStaleTemps(dir), [dead]);
  assert.equal(readdirSync(dir).sort(), ['.journal.harvgen-tmp', live, 'big.iso'].sort());
  assert.equal(removeStaleTemps(join(dir, 'missing')), []);
});

test('the lock refuses a second holder with the caller’s code and words, and releases only its own file', async () => {
  const dir = tempDir('durable');
  const lock = acquireLockSync(dir, { file: 'lock', code: 'STATUS_LOCKED' });
  const err = (() => {
    try {
      acquireLockSync(dir, { file: 'lock', code: 'STATUS_LOCKED' });
      return undefined;
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof DurableError);
  assert.is(err.code, 'STATUS_LOCKED');
  assert.equal(err.toDiagnostic().file, join(dir, 'lock'));
  lock.release();
  assert.not.ok(existsSync(join(dir, 'lock')));
  const release = await acquireLock(dir);
  assert.ok(existsSync(join(dir, '.harvgen.lock')));
  await release();
  assert.not.ok(existsSync(join(dir, '.harvgen.lock')));
});

test('a lock naming a live harvgen-like process with its start time is held; the same pid with another start time (a reused pid) is not', async () => {
  const dir = tempDir('durable');
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    const pid = child.pid!;
    await new Promise((r) => setTimeout(r, 100));
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const write = (s: string) =>
      writeFileSync(join(dir, 'lock'), JSON.stringify({ pid, hostname: hostname(), started: 'then', start: s, boot }));
    write(start);
    assert.throws(
      () => acquireLockSync(dir, { file: 'lock', code: 'PULL_FAILED', what: 'pulling into' }),
      (e: unknown) =>
        e instanceof DurableError && e.code === 'PULL_FAILED' && e.message.includes(`pid ${pid}`) && e.message.includes('pulling into'),
    );
    write(String(Number(start) - 1)); // the holder started earlier: its pid now runs another process
    const lock = acquireLockSync(dir, { file: 'lock', code: 'PULL_FAILED' });
    assert.is(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')).pid, process.pid);
    lock.release();
  } finally {
    child.kill('SIGKILL');
  }
});

test('a lock of a dead pid or of a live process that is no harvgen is taken over', async () => {
  const dir = tempDir('durable');
  writeFileSync(join(dir, '.harvgen.lock'), JSON.stringify({ pid: deadPid(), hostname: hostname(), started: 'then' }));
  acquireLockSync(dir).release();
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 100));
    writeFileSync(join(dir, '.harvgen.lock'), JSON.stringify({ pid: sleeper.pid, hostname: hostname(), started: 'then' }));
    acquireLockSync(dir).release();
  } finally {
    sleeper.kill('SIGKILL');
  }
  assert.equal(readdirSync(dir), []);
});

test('a harvgen killed at any instant of taking its lock leaves no lock that blocks the next one (no empty lock file)', async () => {
  const dir = tempDir('durable');
  const lib = new URL('../src/durable/index.ts', import.meta.url).href;
  // A child that takes and releases the lock as fast as it can, killed at spread moments.
  const loop = `const { acquireLockSync } = await import(${JSON.stringify(lib)}); process.stdout.write('go\\n'); for (;;) acquireLockSync(${JSON.stringify(dir)}).release();`;
  let found = 0;
  for (let i = 0; i < 25; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', loop], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => child.stdout!.once('data', () => r()));
    await new Promise((r) => setTimeout(r, 5 + ((i * 7) % 23)));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const file = join(dir, '.harvgen.lock');
    if (existsSync(file)) {
      found++;
      assert.is(JSON.parse(readFileSync(file, 'utf8')).pid, child.pid, `kill ${i}: the lock names its holder`);
    }
    // The dead holder's lock, whole, is taken over at once.
    acquireLockSync(dir).release();
  }
  console.log(`lock kill loop: 25 kills, ${found} left a lock, every one whole`);
});

test.run();
