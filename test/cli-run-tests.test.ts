// scripts/run-tests.mjs, the runner of `npm test`, on the small test files of
// test/fixtures/run-tests/: a file that passes passes; a file that hangs is stopped at its time
// limit with its child processes and fails; a file that leaves a process running fails, naming
// it, and the process is killed; each file's CPU time counts the processes it started.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

/** The runner on fixture files; the pids their children wrote. */
function runner(only: string, env: Record<string, string> = {}): { code: number | null; out: string; pids: number[]; ms: number } {
  const pidFile = join(tempDir('run-tests'), 'pids');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', 'unit', '--dir', 'test/fixtures/run-tests', '--only', only], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, HARVGEN_RUN_TESTS_PIDS: pidFile, ...env },
  });
  let pids: number[] = [];
  try {
    pids = readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {}
  return { code: r.status, out: `${r.stdout}\n${r.stderr}`, pids, ms: Date.now() - t0 };
}

/** A process is running: it exists and is not a zombie (one ended but not yet collected). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('a file whose tests pass passes', () => {
  const r = runner('passes');
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /== test\/fixtures\/run-tests\/passes\.test\.ts \(unit lane\): passed/);
});

test("each file's CPU time counts the processes it started, and the run's total is printed", () => {
  const r = runner('burns-cpu,passes');
  assert.is(r.code, 0, r.out);
  const cpu = (name: string) => {
    const m = new RegExp(`== test/fixtures/run-tests/${name}\\.test\\.ts \\(unit lane\\): passed in [0-9.]+ s \\(CPU ([0-9.]+) s\\)`).exec(
      r.out,
    );
    assert.ok(m, `no CPU figure for ${name}:\n${r.out}`);
    return Number(m![1]);
  };
  // The child alone used 2 s; the file's own process (uvu and tsx) less than that.
  assert.ok(cpu('burns-cpu') >= 2, `burns-cpu: ${cpu('burns-cpu')} s of CPU`);
  assert.ok(cpu('passes') < 2, `passes: ${cpu('passes')} s of CPU`);
  assert.match(r.out, /^  ok +[0-9.]+ s +[0-9.]+ s  test\/fixtures\/run-tests\/burns-cpu\.test\.ts$/m);
  assert.match(r.out, /^== CPU time: \d+ s over [0-9.]+ s, [0-9.]+ cores busy on average$/m);
});

test('a file still running at its time limit fails, and its process group (a child too) is killed', () => {
  // Long enough for the file to start its child under load (tsx alone takes a few seconds then).
  const r = runner('hangs', { HARVGEN_TEST_TIMEOUT_UNIT: '10' });
  assert.is(r.code, 1, r.out);
  assert.match(r.out, /hangs\.test\.ts \(unit lane\): FAILED \(timed out after 10 s: its process group was killed\)/);
  assert.ok(r.ms < 40_000, `the runner took ${r.ms} ms`);
  assert.is(r.pids.length, 1, `the fixture started its child: ${r.out}`);
  for (const pid of r.pids) assert.not.ok(alive(pid), `the hanging file's child ${pid} still runs`);
});

test('a file that leaves a process running fails naming its command, and the process is killed', () => {
  const r = runner('leaves-child');
  assert.is(r.code, 1, r.out);
  assert.match(
    r.out,
    /leaves-child\.test\.ts \(unit lane\): FAILED \(left 1 process\(es\) running, now killed: \[\d+\] .*harvgen-run-tests-leftover/,
  );
  assert.is(r.pids.length, 1, `the fixture started its child: ${r.out}`);
  for (const pid of r.pids) assert.not.ok(alive(pid), `the left child ${pid} still runs`);
});

test('a time limit that is not a number of seconds is refused', () => {
  const r = runner('passes', { HARVGEN_TEST_TIMEOUT: 'soon' });
  assert.is(r.code, 2, r.out);
  assert.match(r.out, /HARVGEN_TEST_TIMEOUT_UNIT or HARVGEN_TEST_TIMEOUT takes a number of seconds/);
});

test.run();
