// `npm run bench:fleet-status`: `harvgen status` over a fleet, timed as whole processes (a
// benchmark, never a timed test). bench/gen-fleet.ts writes 1,000 sites of 100 nodes with their
// collected access logs (rotated: .2.gz, .1, current); then, for the whole fleet and for its first
// 100 sites (the same logs: peak memory must not grow with the number of sites):
//   full         status --log-dir (no state: every log read whole)
//   cold         status --log-dir --state <fresh dir> --metrics (the first run of a state)
//   incremental  the same again after 1% more lines were appended to every site's current log
// Peak RSS from each process itself (as bench/rss-probe.cjs does; the preload here also reports
// the CPU time, user + system, which a machine shared with other work inflates far less than the
// wall time). Targets: <= 60 s for 100,000 nodes.
//   npm run bench:fleet-status [-- --sites N] [-- --nodes N] [-- --dir /dev/shm] [-- --keep]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { appendFleet, fleetSiteName, generateFleet } from './gen-fleet.ts';
import { shellTimed } from './shell-times.ts';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin/harvgen.js');
const args = process.argv.slice(2);
const value = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const sites = Number(value('--sites') ?? 1000);
const nodes = Number(value('--nodes') ?? 100);
const small = Math.min(100, sites);
const work = mkdtempSync(join(value('--dir') ?? tmpdir(), 'harvgen-fleet-bench-'));
// The preload: at exit, peak RSS (KiB) and CPU time (µs, user + system) to $HARVGEN_BENCH_RSS_FILE.
const probe = join(work, 'probe.mjs');
writeFileSync(
  probe,
  [
    "import { writeFileSync } from 'node:fs';",
    'const file = process.env.HARVGEN_BENCH_RSS_FILE;',
    'if (file) process.on("exit", () => { const u = process.resourceUsage(); writeFileSync(file, `${u.maxRSS} ${u.userCPUTime + u.systemCPUTime}`); });',
    '',
  ].join('\n'),
);

interface Run {
  s: number;
  cpuS: number;
  rssMb: number;
  stdout: string;
}

function run(cmd: string[]): Run {
  const rssFile = join(work, `rss-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', probe, bin, ...cmd], {
    cwd: work,
    env: { ...process.env, HARVGEN_BENCH_RSS_FILE: rssFile, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`harvgen ${cmd.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 3000)}`);
  const [rss, cpu] = readFileSync(rssFile, 'utf8').split(' ').map(Number) as [number, number];
  rmSync(rssFile);
  return { s, cpuS: cpu / 1e6, rssMb: rss / 1024, stdout: r.stdout.toString() };
}

try {
  console.log(
    `machine: ${cpus()[0]?.model ?? '?'} x${availableParallelism()}, node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  let t0 = performance.now();
  generateFleet(work, sites, nodes);
  const { size } = spawnSync('du', ['-sb', join(work, 'logs')], { encoding: 'utf8' }).stdout
    ? { size: Number(spawnSync('du', ['-sb', join(work, 'logs')], { encoding: 'utf8' }).stdout.split('\t')[0]) }
    : { size: 0 };
  console.log(
    `generated ${sites} sites x ${nodes} nodes, logs ${(size / 1e6).toFixed(0)} MB on disk, in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const smallDirs = Array.from({ length: small }, (_, i) => join('sites', fleetSiteName(i)));
  const results: Record<string, Run> = {};
  const line = (name: string, r: Run, n: number) =>
    console.log(
      `${name.padEnd(24)} ${r.s.toFixed(2).padStart(7)} s wall ${r.cpuS.toFixed(2).padStart(7)} s CPU  ${r.rssMb.toFixed(0).padStart(5)} MB peak RSS  (${n} sites, ${n * nodes} nodes)`,
    );
  // The small fleet first, then the whole one, each: full, cold, then incremental after the append.
  for (const [label, dirs, n] of [
    ['small', smallDirs, small],
    ['large', [] as string[], sites],
  ] as const) {
    const state = join(work, `state-${label}`);
    results[`${label}-full`] = run(['status', ...dirs, '--log-dir', 'logs', '--deployed-at', '2026-11-16T07:00:00Z']);
    line(`${label} full (no state)`, results[`${label}-full`]!, n);
    results[`${label}-cold`] = run(['status', ...dirs, '--log-dir', 'logs', '--state', state, '--metrics', join(work, `${label}.prom`)]);
    line(`${label} cold (--state)`, results[`${label}-cold`]!, n);
    if (label === 'small') {
      // Appended once for both fleets: the small one's state then the large one's see the same 1%.
      t0 = performance.now();
      const added = appendFleet(work, sites, nodes);
      console.log(`appended ${added} lines (1%) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    results[`${label}-incremental`] = run([
      'status',
      ...dirs,
      '--log-dir',
      'logs',
      '--state',
      state,
      '--metrics',
      join(work, `${label}.prom`),
    ]);
    line(`${label} incremental`, results[`${label}-incremental`]!, n);
  }
  // The baseline: every log read once by the shell's tools, rotated ones decompressed, every line
  // split into fields by awk and counted per site (no parsing of what a line says, no state).
  const awk = shellTimed(
    'cd "$1" && { find logs -type f -name "*.gz" -exec zcat {} + ; find logs -type f ! -name "*.gz" -exec cat {} + ; } | awk \'{ n[$1]++ } END { for (k in n) t += n[k]; print t }\'',
    [work],
  );
  results.awk = { s: awk.s, cpuS: awk.cpuS, rssMb: 0, stdout: '' };
  console.log(`baseline: zcat/cat | awk over every log (${awk.stdout} lines): ${awk.s.toFixed(2)} s wall ${awk.cpuS.toFixed(2)} s CPU`);
  const big = results['large-cold']!;
  console.log(
    `RSS large/small: full ${(results['large-full']!.rssMb / results['small-full']!.rssMb).toFixed(2)}, cold ${(big.rssMb / results['small-cold']!.rssMb).toFixed(2)}, incremental ${(results['large-incremental']!.rssMb / results['small-incremental']!.rssMb).toFixed(2)}`,
  );
  const inc = results['large-incremental']!;
  console.log(
    `target <= 60 s for ${sites * nodes} nodes: cold ${big.s <= 60 ? 'met' : 'MISSED'} (${big.s.toFixed(1)} s wall, ${big.cpuS.toFixed(1)} s CPU), incremental ${inc.s <= 60 ? 'met' : 'MISSED'} (${inc.s.toFixed(1)} s wall, ${inc.cpuS.toFixed(1)} s CPU)`,
  );
  const resultsFile = value('--results');
  if (resultsFile) {
    const fig = (r: Run) => ({
      wall_s: Math.round(r.s * 100) / 100,
      cpu_s: Math.round(r.cpuS * 100) / 100,
      peak_rss_mb: Math.round(r.rssMb),
    });
    writeFileSync(
      resultsFile,
      `${JSON.stringify(
        {
          sites,
          nodes_per_site: nodes,
          ...Object.fromEntries(Object.entries(results).map(([k, r]) => [k.replace(/-/g, '_'), fig(r)])),
          full_over_awk_wall: Math.round((results['large-full']!.s / results.awk!.s) * 100) / 100,
          rss_large_over_small_full: Math.round((results['large-full']!.rssMb / results['small-full']!.rssMb) * 100) / 100,
        },
        null,
        2,
      )}\n`,
    );
  }
} finally {
  if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
