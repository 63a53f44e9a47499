#!/usr/bin/env node
// `npm test`'s test run: the unit and golden tests and the real-program tests, as two lanes that
// run at the same time (each test file in its own uvu process):
//
//   vm     the real-program tests that boot QEMU guests (two at a time each, one guest per core)
//   other  the unit and golden tests (test/*.test.ts), then the other real-program tests, one
//          file after another
//
// The suites are CPU-bound on a 2-core machine, but the other lane also waits a lot (cloud-init's
// retries, nginx and dnsmasq starting in their namespaces): side by side they take the time of
// the longer lane instead of the sum (CONTRIBUTING.md, "How long the tests take"). Each test file's
// output is printed whole when it ends, with its duration, so that files never interleave; the
// run ends with one line per file, the slowest files, and exits 1 when any file failed.
//
//   node scripts/run-tests.mjs [unit|real|all] [--serial] [--jobs N] [--only <name,...>]
//
// `unit` and `real` run one suite (what `npm run test:unit` / `test:real` run). `unit` alone runs
// its files two at a time (`--jobs N`: N at a time; the lanes of `all` run theirs one at a time,
// since the vm lane keeps the cores busy); `--serial` runs one file at a time. `--only` runs the
// named files: real-program files by name (`lifecycle`), `unit` for every unit file, `unit:<name>`
// for one (with `unit`, plain names are unit files). The test kernel is fetched before the lanes
// start, so that two files never fetch it at once.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const valued = ['--only', '--jobs'];
const what = args.find((a, i) => !a.startsWith('--') && !valued.includes(args[i - 1] ?? '')) ?? 'all';
const serial = args.includes('--serial');
const jobsAt = args.indexOf('--jobs');
const width = serial ? 1 : jobsAt >= 0 ? Number(args[jobsAt + 1]) : what === 'unit' ? 2 : 1;
if (!['unit', 'real', 'all'].includes(what)) {
  console.error(`run-tests: unknown suite "${what}" (unit, real or all)`);
  process.exit(2);
}
if (!Number.isInteger(width) || width < 1) {
  console.error(`run-tests: --jobs takes a whole number of at least 1`);
  process.exit(2);
}

/** Real-program test files that boot QEMU guests (they run in the `vm` lane, longest first). */
const VM_FILES = ['lifecycle', 'reinstall', 'boot', 'generic', 'dhcp-forms', 'dnsmasq-proxy', 'secureboot', 'lab-arm64'];

const uvu = join(repo, 'node_modules/uvu/bin.js');
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** One uvu process for one real-program test file. */
const realJob = (name) => ({
  name: `test/real/${name}.test.ts`,
  argv: [uvu, '-r', 'tsx', 'test/real', `^${escape(name)}\\.test\\.ts$`, '-i', 'helpers'],
});
/**
 * Unit files that must run with no other file beside them: `npm pack` runs the `prepare` script,
 * which compiles dist/ again under the feet of the files running the binary; cli-cache moves
 * dist/index.js's mtime (another harvgen) while the others compare it in their up-to-date checks.
 */
const ALONE = ['cli-package', 'cli-cache'];

/** One uvu process for one unit test file. */
const unitJob = (name) => ({
  name: `test/${name}.test.ts`,
  unit: name,
  alone: ALONE.includes(name),
  argv: [uvu, '-r', 'tsx', 'test', `^${escape(name)}\\.test\\.ts$`, '-i', 'fixtures', '-i', 'helpers', '-i', 'real'],
});
const testNames = (dir) =>
  readdirSync(join(repo, dir))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -'.test.ts'.length))
    .sort();
// The files that run the binary (test/cli*.test.ts) are the slow ones: first, so that two at a
// time the lane does not end on one of them alone.
const unitNames = testNames('test').sort((a, b) => Number(b.startsWith('cli')) - Number(a.startsWith('cli')));

const realNames = testNames('test/real');
// A file that boots guests belongs to the vm lane (two lanes of guests would overload 2 cores).
const boots = realNames.filter((n) => /\bbootVm\(/.test(readFileSync(join(repo, 'test/real', `${n}.test.ts`), 'utf8')));
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
const AFTER_VM = ['cloud-init', 'bmc', 'dnsmasq', 'access'].filter((n) => realNames.includes(n));
const vm = what === 'unit' ? [] : [...VM_FILES, ...AFTER_VM].map(realJob);
const other = [
  ...(what === 'real' ? [] : unitNames.map(unitJob)),
  ...(what === 'unit' ? [] : realNames.filter((n) => !VM_FILES.includes(n) && !AFTER_VM.includes(n)).map(realJob)),
];
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
          { lane: 'vm', jobs: picked(vm) },
          { lane: 'other', jobs: picked(other) },
        ]
).filter((l) => l.jobs.length > 0);

// The boot tests share one test kernel (scripts/fetch-test-kernel.sh); fetched once, up front. A
// failure here is not the run's: the tests that need the kernel report it themselves.
if (vm.length > 0 && process.getuid?.() === 0) {
  spawnSync('bash', [join(repo, 'scripts/fetch-test-kernel.sh')], { cwd: repo, stdio: 'ignore', timeout: 300_000 });
}

const results = [];
const started = Date.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Run one job with its output captured; print it whole when the job ends. */
function run(job, lane) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, job.argv, { cwd: repo, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    child.on('close', (code, signal) => {
      const ms = Date.now() - t0;
      const text = Buffer.concat(chunks)
        .toString('utf8')
        .replace(/\x1b\[[0-9;]*m/g, '');
      // uvu exits 0 for a file that ran no test (no test.run(), or a filter that matched none):
      // that is a failure here. Real-program checks skipped without their programs are counted.
      const total = Number(/^\s*Total:\s+(\d+)/m.exec(text)?.[1] ?? 0);
      const skips = Number(/^(\d+) real-program check\(s\) SKIPPED/m.exec(text)?.[1] ?? 0);
      const ok = code === 0 && total > 0;
      const verdict = ok ? 'passed' : code === 0 ? 'FAILED (it ran no test)' : 'FAILED';
      process.stdout.write(`\n== ${job.name} (${lane} lane): ${verdict} in ${secs(ms)}\n`);
      process.stdout.write(Buffer.concat(chunks));
      results.push({ name: job.name, ok, ms, skips, code: code ?? signal });
      resolve();
    });
  });
}

// A lane runs `width` files at a time (`unit` alone: two, the lanes of `all`: one), each taking
// the next file of the lane when it ends; the ALONE files first, one by one.
await Promise.all(
  lanes.map(async ({ lane, jobs }) => {
    for (const job of jobs.filter((j) => j.alone)) await run(job, lane);
    const queue = jobs.filter((j) => !j.alone);
    const worker = async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await run(job, lane);
    };
    await Promise.all(Array.from({ length: Math.min(width, queue.length) }, worker));
    if (!serial) process.stdout.write(`\n== ${lane} lane done after ${secs(Date.now() - started)}\n`);
  }),
);

const failed = results.filter((r) => !r.ok);
process.stdout.write(`\n== test files (${results.length}, ${secs(Date.now() - started)} in all)\n`);
for (const r of results) {
  const skipped = r.skips > 0 ? ` (${r.skips} real-program check(s) SKIPPED: programs missing)` : '';
  process.stdout.write(`  ${r.ok ? 'ok    ' : 'FAILED'} ${secs(r.ms).padStart(8)}  ${r.name}${skipped}\n`);
}
const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 10);
if (results.length > 10) {
  process.stdout.write(`\n== slowest test files\n`);
  for (const r of slowest) process.stdout.write(`  ${secs(r.ms).padStart(8)}  ${r.name}\n`);
}
if (failed.length > 0) process.stdout.write(`\n${failed.length} test file(s) failed: ${failed.map((r) => r.name).join(', ')}\n`);
process.exit(failed.length > 0 ? 1 : 0);
