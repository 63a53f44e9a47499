#!/usr/bin/env node
// `npm test`'s test run: the unit and golden tests and the real-program tests, as two lanes that
// run at the same time (each test file in its own uvu process):
//
//   vm     the real-program tests that boot QEMU guests (two at a time each, one guest per core)
//   other  the unit and golden tests (test/*.test.ts), then the other real-program tests, one
//          file after another
//   wait   the files that mostly wait on other programs' timers (WAITING), one after another
//
// The suites are CPU-bound on a 2-core machine, but the other lane also waits a lot (cloud-init's
// retries, nginx and dnsmasq starting in their namespaces): side by side they take the time of
// the longer lane instead of the sum (CONTRIBUTING.md, "How long the tests take"). Each test file's
// output is printed whole when it ends, with its duration, so that files never interleave; the
// run ends with one line per file, the slowest files, and exits 1 when any file failed.
//
//   node scripts/run-tests.mjs [unit|real|all] [--serial] [--jobs N] [--only <name,...>] [--dir <dir>]
//
// `unit` and `real` run one suite (what `npm run test:unit` / `test:real` run). `unit` alone runs
// its files two at a time (`--jobs N`: N at a time; the lanes of `all` run theirs one at a time,
// since the vm lane keeps the cores busy); `--serial` runs one file at a time. `--only` runs the
// named files: real-program files by name (`lifecycle`), `unit` for every unit file, `unit:<name>`
// for one (with `unit`, plain names are unit files). `--dir <dir>` takes the unit files from <dir>
// instead of test/ (the runner's own test runs it on test/fixtures/run-tests/). As root, the files
// the vm lane's tests download (the test kernel, cloud-init's packages, the signed shim and GRUB,
// Debian 13's iPXE)
// are fetched once, in the background, while the other lane runs: no two files fetch them at once.
//
// Each file runs as the leader of its own process group. A file still running after its time limit
// (HARVGEN_TEST_TIMEOUT_UNIT, default 600 s, HARVGEN_TEST_TIMEOUT_REAL, default 900 s, or
// HARVGEN_TEST_TIMEOUT for both; in seconds) fails: its whole group gets SIGTERM, then SIGKILL.
// A file that leaves a process of its group running when it ends (a server it started and did not
// stop) fails too, naming the command, and the process is killed. Ctrl-C stops every group.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const valued = ['--only', '--jobs', '--dir'];
const what = args.find((a, i) => !a.startsWith('--') && !valued.includes(args[i - 1] ?? '')) ?? 'all';
const serial = args.includes('--serial');
const jobsAt = args.indexOf('--jobs');
const width = serial ? 1 : jobsAt >= 0 ? Number(args[jobsAt + 1]) : what === 'unit' ? 2 : 1;
if (!['unit', 'real', 'all'].includes(what)) {
  console.error(`run-tests: unknown suite "${what}" (unit, real or all)`);
  process.exit(2);
}
const dirAt = args.indexOf('--dir');
const unitDir = dirAt >= 0 ? (args[dirAt + 1] ?? '') : 'test';
if (dirAt >= 0 && (what !== 'unit' || !existsSync(join(repo, unitDir)))) {
  console.error(`run-tests: --dir takes a directory under the repository, with the unit suite`);
  process.exit(2);
}
/** Seconds from an environment variable, else the default. */
const seconds = (names, dflt) => {
  const set = names.map((n) => process.env[n]).find((v) => v !== undefined && v !== '');
  const n = set === undefined ? dflt : Number(set);
  if (!(n > 0)) {
    console.error(`run-tests: ${names.join(' or ')} takes a number of seconds above 0`);
    process.exit(2);
  }
  return n;
};
const UNIT_TIMEOUT_S = seconds(['HARVGEN_TEST_TIMEOUT_UNIT', 'HARVGEN_TEST_TIMEOUT'], 600);
const REAL_TIMEOUT_S = seconds(['HARVGEN_TEST_TIMEOUT_REAL', 'HARVGEN_TEST_TIMEOUT'], 900);
if (!Number.isInteger(width) || width < 1) {
  console.error(`run-tests: --jobs takes a whole number of at least 1`);
  process.exit(2);
}

/**
 * Real-program test files that boot QEMU guests (they run in the `vm` lane, longest first;
 * bmc-emulators boots its guests through libvirt, started by the BMC emulators; disk-selector
 * runs QEMU itself, with no network).
 */
const VM_FILES = [
  'bmc-emulators',
  'lifecycle',
  'reinstall',
  'http-boot-offer',
  'boot',
  'generic',
  'media',
  'media-messages',
  'dhcp-forms',
  'dnsmasq-proxy',
  'secureboot',
  'lab-arm64',
  'ipxe-exit',
  'ipxe-204',
  'ipv6',
  'vlan',
  'disk-selector',
  'failover-install',
  'failover-split',
];

const uvu = join(repo, 'node_modules/uvu/bin.js');
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Each real-program file's source, read once (what it calls decides its lane and whether it waits). */
const sources = new Map();
const realSource = (name) => {
  if (!sources.has(name)) sources.set(name, readFileSync(join(repo, 'test/real', `${name}.test.ts`), 'utf8'));
  return sources.get(name);
};
/** Real-program files that build a test oracle or run the installer's (they wait for .ci/run's builds). */
const ORACLE_USE = /\b(buildOracle|oraclesReady)\(/;
/** One uvu process for one real-program test file. */
const realJob = (name) => ({
  name: `test/real/${name}.test.ts`,
  real: name,
  oracle: ORACLE_USE.test(realSource(name)),
  timeoutS: REAL_TIMEOUT_S,
  argv: [uvu, '-r', 'tsx', 'test/real', `^${escape(name)}\\.test\\.ts$`, '-i', 'helpers'],
});
/** One uvu process for one unit test file (`--dir`: a file of that directory, nothing ignored). */
const unitJob = (name) => ({
  name: `${unitDir}/${name}.test.ts`,
  unit: name,
  timeoutS: UNIT_TIMEOUT_S,
  argv:
    dirAt >= 0
      ? [uvu, '-r', 'tsx', unitDir, `^${escape(name)}\\.test\\.ts$`]
      : [uvu, '-r', 'tsx', 'test', `^${escape(name)}\\.test\\.ts$`, '-i', 'fixtures', '-i', 'helpers', '-i', 'real'],
});
const testNames = (dir) =>
  readdirSync(join(repo, dir))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -'.test.ts'.length))
    .sort();
// The files that run the binary (test/cli*.test.ts) are the slow ones: first, so that two at a
// time the lane does not end on one of them alone.
const unitNames = testNames(unitDir).sort((a, b) => Number(b.startsWith('cli')) - Number(a.startsWith('cli')));

const realNames = testNames('test/real');
// A file that boots guests (QEMU directly, or libvirt domains) belongs to the vm lane (two lanes of
// guests would overload 2 cores).
const boots = realNames.filter((n) => /\b(bootVm|defineDomain)\(/.test(realSource(n)));
const unlisted = boots.filter((n) => !VM_FILES.includes(n));
if (unlisted.length > 0) {
  console.error(`run-tests: ${unlisted.join(', ')} boot QEMU guests: add them to VM_FILES in scripts/run-tests.mjs`);
  process.exit(2);
}
const unknownVm = VM_FILES.filter((n) => !realNames.includes(n));
if (unknownVm.length > 0) {
  console.error(`run-tests: VM_FILES names files that do not exist: ${unknownVm.join(', ')}`);
  process.exit(2);
}
/**
 * Real-program files without guests that run on the vm lane once its guests are done, so that
 * both lanes end about together (CI, 2 cores: the vm lane took 631 s, the other 862 s with them;
 * these four are about 115 s).
 */
const AFTER_VM = ['cloud-init', 'media-cloud-init', 'ipv6-cloud-init', 'bmc', 'dnsmasq', 'access'].filter((n) => realNames.includes(n));
// The vm lane's files need the downloaded files (the test kernel, cloud-init, Secure Boot's): `fetch`.
const vm = what === 'unit' ? [] : [...VM_FILES, ...AFTER_VM].map((n) => ({ ...realJob(n), fetch: true }));
const other = [
  ...(what === 'real' ? [] : unitNames.map(unitJob)),
  ...(what === 'unit' ? [] : realNames.filter((n) => !VM_FILES.includes(n) && !AFTER_VM.includes(n)).map(realJob)),
];
/**
 * Files that mostly wait, on the timers of the programs they drive (keepalived's and Kea's
 * failover, a BMC emulator's, a killed build's grace, a watcher's debounce), not on the CPU: with
 * the two lanes (`all`, `real`) they run in a third lane of their own, one at a time, beside them
 * (CI, 2 cores: about 360 s of wall time for 75 s of CPU, taken off the two lanes).
 */
const WAITING = [
  'real:failover',
  'real:failover-guard',
  'real:bmc-sushy-tools',
  'unit:cli-crash',
  'unit:pull-hostile',
  'unit:watch-random',
];
const waits = (j) => WAITING.includes(j.unit !== undefined ? `unit:${j.unit}` : `real:${j.real}`);
const unknownWaiting = WAITING.filter((w) => {
  const [kind, name] = w.split(':');
  return !(kind === 'unit' ? unitNames : realNames).includes(name) || VM_FILES.includes(name);
});
if (unknownWaiting.length > 0 && dirAt < 0) {
  console.error(`run-tests: WAITING names files that do not exist or boot guests: ${unknownWaiting.join(', ')}`);
  process.exit(2);
}
// `--only a,b`: just the files of those names (`unit`: every unit file; `unit:<name>`: one).
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',') : undefined;
const chosen = (j, n) =>
  j.unit !== undefined ? n === 'unit' || n === `unit:${j.unit}` || (what === 'unit' && n === j.unit) : j.name === `test/real/${n}.test.ts`;
const picked = (jobs) => (only ? jobs.filter((j) => only.some((n) => chosen(j, n))) : jobs);
if (only) {
  const known = [...other, ...vm];
  const none = only.filter((n) => !known.some((j) => chosen(j, n)));
  if (none.length > 0) {
    console.error(`run-tests: --only names no test file of this suite: ${none.join(', ')}`);
    process.exit(2);
  }
}
const lanes = (
  serial
    ? [{ lane: 'serial', jobs: picked([...other, ...vm]) }]
    : what === 'unit'
      ? [{ lane: 'unit', jobs: picked(other) }]
      : [
          { lane: 'vm', jobs: picked(vm.filter((j) => !waits(j))) },
          { lane: 'other', jobs: picked(other.filter((j) => !waits(j))) },
          { lane: 'wait', jobs: picked([...other, ...vm].filter(waits)) },
        ]
).filter((l) => l.jobs.length > 0);

// The files the vm lane's tests download from Debian (scripts/fetch-*.sh: the test kernel,
// cloud-init's packages, the signed shim and GRUB, Debian 13's iPXE; about 75 s on a clean clone, bound by the
// network) are fetched once, in the background, as root: the other lane starts at once, and the
// vm lane takes the other lane's last files until they are there (nextJob), so that the download
// costs the run no time. A failure here is not the run's: the tests that need the files report
// it themselves (and fail in CI, HARVGEN_REQUIRE_REAL=1); the fetch's output is printed.
const FETCHES = ['fetch-test-kernel.sh', 'fetch-cloud-init.sh', 'fetch-secureboot.sh', 'fetch-ipxe.sh'];
/** The fetch's process group while it runs (stopped on Ctrl-C like a file's). */
let fetching;
let fetchDone = true;
const fetched =
  lanes.some((l) => l.jobs.some((j) => j.fetch)) && process.getuid?.() === 0
    ? new Promise((resolve) => {
        fetchDone = false;
        const t0 = Date.now();
        // Each one tried, whatever the one before did; failed when any failed.
        const script = `rc=0; ${FETCHES.map((f) => `bash scripts/${f} || rc=1;`).join(' ')} exit $rc`;
        const child = spawn('bash', ['-c', script], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        fetching = child.pid;
        const out = [];
        child.stdout.on('data', (d) => out.push(d));
        child.stderr.on('data', (d) => out.push(d));
        const limit = setTimeout(() => fetching !== undefined && signalGroup(fetching, 'SIGKILL'), 600_000);
        let ended = false;
        const done = (code) => {
          if (ended) return;
          ended = true;
          clearTimeout(limit);
          fetching = undefined;
          fetchDone = true;
          const verdict = code === 0 ? 'fetched' : `FAILED to fetch (${code ?? 'killed'})`;
          process.stdout.write(`\n== the real-program tests' downloads (${FETCHES.join(', ')}): ${verdict} in ${secs(Date.now() - t0)}\n`);
          if (code !== 0) process.stdout.write(Buffer.concat(out));
          resolve();
        };
        child.on('error', () => done(undefined));
        // Done when bash exits: a process it left behind that holds the pipes open (and would keep
        // 'close' from coming) is not waited for; its output is not needed.
        child.on('exit', (code) => setTimeout(() => done(code), 1_000));
        child.on('close', (code) => done(code));
      })
    : Promise.resolve();

const results = [];
const started = Date.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
/** Where each file's process leaves its CPU seconds (scripts/lib/cpu-time.cjs); removed at the end. */
const cpuDir = mkdtempSync(join(tmpdir(), 'harvgen-run-tests-cpu-'));
const cpuPreload = join(repo, 'scripts/lib/cpu-time.cjs');
let jobCount = 0;
/** CPU seconds as shown: `-` when the file's process left none (killed, or no /proc). */
const cpuText = (cpu) => (cpu === undefined ? '-' : `${cpu.toFixed(1)} s`);

/** Seconds between SIGTERM and SIGKILL for a group that is stopped. */
const KILL_GRACE_MS = 5_000;
/** How long a file's processes may take to end after it ended before they count as left behind. */
const LINGER_MS = 2_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The groups of the files running now (stopped on Ctrl-C). */
const running = new Set();

/** The live processes of process group `pgid` (zombies are ended already), with their commands, from /proc. */
function groupMembers(pgid) {
  if (!existsSync('/proc/self/stat')) return [];
  const found = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) !== pgid || state === 'Z') continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {}
    found.push({ pid: Number(pid), cmd: cmd || stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
  }
  return found;
}

/** Signal a whole group; false when it has no process left. */
function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the group, then SIGKILL to what is left after the grace time. */
async function stopGroup(pgid) {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  for (let waited = 0; waited < KILL_GRACE_MS && groupMembers(pgid).length > 0; waited += 100) await sleep(100);
  signalGroup(pgid, 'SIGKILL');
}

/** Processes of the group still running LINGER_MS after its leader ended (polled: most end sooner). */
async function leftBehind(pgid) {
  let left = groupMembers(pgid);
  for (let waited = 0; waited < LINGER_MS && left.length > 0; waited += 100) {
    await sleep(100);
    left = groupMembers(pgid);
  }
  return left;
}

/**
 * The part of a failed file's output that says why: `verdict` (a time limit, processes left
 * running, an exit code), then uvu's FAIL blocks (a line that starts with `FAIL` after spaces: at
 * most 4,000 characters from the first), else the output's last 2,000 characters.
 */
function failureText(text, verdict) {
  const at = /^ *FAIL {2}/m.exec(text)?.index;
  const part = at !== undefined ? text.slice(at, at + 4_000) : text.slice(-2_000);
  return `${verdict}\n${part.trimEnd()}`;
}

/** Run one job with its output captured; print it whole when the job ends. */
function run(job, lane) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const cpuFile = join(cpuDir, String(++jobCount));
    // detached: the file leads a process group of its own, which holds every process it starts
    // (unless one makes a group or session of its own), so that all of them can be found and stopped.
    const child = spawn(process.execPath, ['--require', cpuPreload, ...job.argv], {
      cwd: repo,
      env: { ...process.env, HARVGEN_TEST_CPU_FILE: cpuFile },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const pgid = child.pid;
    running.add(pgid);
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void stopGroup(pgid);
    }, job.timeoutS * 1000);
    const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
    const closed = new Promise((r) => child.on('close', r));
    void (async () => {
      const { code, signal } = await exited;
      clearTimeout(timer);
      // A process left behind may hold the output pipes open: it is found and killed before
      // waiting for them to close.
      const left = pgid === undefined ? [] : await leftBehind(pgid);
      if (left.length > 0) await stopGroup(pgid);
      await Promise.race([closed, sleep(KILL_GRACE_MS)]);
      running.delete(pgid);
      const ms = Date.now() - t0;
      const text = Buffer.concat(chunks)
        .toString('utf8')
        .replace(/\x1b\[[0-9;]*m/g, '');
      // uvu exits 0 for a file that ran no test (no test.run(), or a filter that matched none):
      // that is a failure here. Real-program checks skipped without their programs are counted.
      const total = Number(/^\s*Total:\s+(\d+)/m.exec(text)?.[1] ?? 0);
      const skips = Number(/^(\d+) real-program check\(s\) SKIPPED/m.exec(text)?.[1] ?? 0);
      const why = [];
      if (timedOut) why.push(`timed out after ${job.timeoutS} s: its process group was killed`);
      if (left.length > 0)
        why.push(`left ${left.length} process(es) running, now killed: ${left.map((p) => `[${p.pid}] ${p.cmd.slice(0, 200)}`).join('; ')}`);
      if (why.length === 0 && code !== 0) why.push(code === null ? `killed by ${signal}` : `exit code ${code}`);
      if (why.length === 0 && total === 0) why.push('it ran no test');
      const ok = why.length === 0;
      const verdict = ok ? 'passed' : `FAILED (${why.join('; ')})`;
      let cpu;
      try {
        cpu = Number(readFileSync(cpuFile, 'utf8'));
        if (!Number.isFinite(cpu)) cpu = undefined;
      } catch {}
      process.stdout.write(`\n== ${job.name} (${lane} lane): ${verdict} in ${secs(ms)} (CPU ${cpuText(cpu)})\n`);
      process.stdout.write(Buffer.concat(chunks));
      // Repeated below the file's output, where a reader of a long log looks first.
      if (timedOut || left.length > 0) process.stdout.write(`\n== ${job.name}: ${verdict}\n`);
      results.push({ name: job.name, ok, ms, cpu, skips, code: code ?? signal, text: ok ? undefined : failureText(text, verdict) });
      resolve();
    })();
  });
}

// Ctrl-C (or a CI's SIGTERM) stops every running file's group: they are not in the runner's group.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (fetching !== undefined) signalGroup(fetching, 'SIGTERM');
    for (const pgid of running) signalGroup(pgid, 'SIGTERM');
    setTimeout(() => {
      if (fetching !== undefined) signalGroup(fetching, 'SIGKILL');
      for (const pgid of running) signalGroup(pgid, 'SIGKILL');
      rmSync(cpuDir, { recursive: true, force: true });
      process.exit(130);
    }, 1_000);
  });
}

// A lane runs `width` files at a time (`unit` alone: two, the lanes of `all`: one), each taking
// the next file of the lane when it ends. The vm lane, once its own files are done, takes files
// from the end of the other lane's queue (the other lane takes from its front), so that the two
// lanes end about together instead of the other lane running alone for minutes. Guests never
// move to the other lane: two lanes of guests would overload 2 cores.
const queues = new Map(lanes.map(({ lane, jobs }) => [lane, [...jobs]]));
/**
 * The other lane's last file that does not build or run an oracle (test/oracle/, the installer's):
 * .ci/run builds those beside the first files, and a file that waits for their build's lock would
 * hold the vm lane still while it waits.
 */
const borrowable = () => {
  const q = queues.get('other') ?? [];
  for (let i = q.length - 1; i >= 0; i--) if (!q[i].oracle) return q.splice(i, 1)[0];
  return undefined;
};
/**
 * The next file for `lane`: its own first, then (the vm lane only) the other lane's last. While the
 * downloads run, the vm lane takes the other lane's last files first (its own wait for them).
 */
const nextJob = (lane) => {
  const borrowed = lane === 'vm' && !fetchDone ? borrowable() : undefined;
  return borrowed ?? queues.get(lane).shift() ?? (lane === 'vm' ? queues.get('other')?.pop() : undefined);
};
await Promise.all(
  lanes.map(async ({ lane }) => {
    const worker = async () => {
      for (let job = nextJob(lane); job; job = nextJob(lane)) {
        // A file that needs the downloads waits for them in any lane (--serial, a vm file borrowed).
        if (job.fetch && !fetchDone) await fetched;
        await run(job, lane);
      }
    };
    await Promise.all(Array.from({ length: Math.min(width, queues.get(lane).length) }, worker));
    if (!serial) process.stdout.write(`\n== ${lane} lane done after ${secs(Date.now() - started)}\n`);
  }),
);

rmSync(cpuDir, { recursive: true, force: true });
// Every file that needed the downloads waited for them; nothing of theirs outlives the run.
if (fetching !== undefined) signalGroup(fetching, 'SIGKILL');
const failed = results.filter((r) => !r.ok);
const elapsedMs = Date.now() - started;
/** The files whose process left a CPU figure (all of them on Linux, but a file killed at its limit). */
const measured = results.filter((r) => r.cpu !== undefined);
process.stdout.write(`\n== test files (${results.length}, ${secs(elapsedMs)} in all; wall time, then CPU time)\n`);
for (const r of results) {
  const skipped = r.skips > 0 ? ` (${r.skips} real-program check(s) SKIPPED: programs missing)` : '';
  process.stdout.write(`  ${r.ok ? 'ok    ' : 'FAILED'} ${secs(r.ms).padStart(8)} ${cpuText(r.cpu).padStart(8)}  ${r.name}${skipped}\n`);
}
if (results.length > 10) {
  // Wall time depends on what ran beside a file; CPU time is what a file costs a machine whose
  // cores are all busy (2 cores: the whole run is bound by it).
  process.stdout.write(`\n== slowest test files (wall time)\n`);
  for (const r of [...results].sort((a, b) => b.ms - a.ms).slice(0, 10)) process.stdout.write(`  ${secs(r.ms).padStart(8)}  ${r.name}\n`);
  process.stdout.write(`\n== costliest test files (CPU time: the file's process and the processes it started)\n`);
  for (const r of [...measured].sort((a, b) => b.cpu - a.cpu).slice(0, 10))
    process.stdout.write(`  ${cpuText(r.cpu).padStart(8)}  ${r.name}\n`);
}
if (measured.length > 0) {
  const cpuS = measured.reduce((sum, r) => sum + r.cpu, 0);
  process.stdout.write(
    `\n== CPU time: ${cpuS.toFixed(0)} s over ${secs(elapsedMs)}, ${(cpuS / (elapsedMs / 1000)).toFixed(2)} cores busy on average` +
      `${measured.length < results.length ? ` (${results.length - measured.length} file(s) without a figure)` : ''}\n`,
  );
}
// A failed file's words again at the end, where a reader of a long log (or of its last lines
// alone) finds them: uvu's FAIL blocks, else the end of the file's output.
for (const r of failed.slice(0, 5)) process.stdout.write(`\n== why ${r.name} failed\n${r.text}\n`);
if (failed.length > 0) process.stdout.write(`\n${failed.length} test file(s) failed: ${failed.map((r) => r.name).join(', ')}\n`);
process.exit(failed.length > 0 ? 1 : 0);
