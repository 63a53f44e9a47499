// `npm run bench:fleet`: the center's work on a fleet, each beside a baseline measured in the same
// run (a benchmark, never a timed test), at `--sites N` (default 1,000) sites of `--nodes N`
// (default 10) rich nodes:
//   publish  bench/fleet-publish.ts: a real registry (docker-registry) started by the bench; a cold
//            publish against `build --deploy` + `rsync -a` of the deploy tree, and `publish sites/*`
//            after a one-node edit against the same two after that edit (targets: <= 2x each)
//   status   bench/fleet-status.ts: `status --log-dir` over every site's logs against zcat/cat | awk
//            over the same logs, and its peak RSS against a tenth of the fleet (flat in the lines)
//   verify   bench/fleet-verify.ts: `verify --fleet` of every boot server (one nginx, an address
//            each) against curl fetching every state.json
// Each runs as its own process, one after the other (a 2-core machine: nothing else runs); their
// figures are written together to bench/results-fleet.json (`--no-write`: printed only).
//   npm run bench:fleet [-- --sites N] [-- --nodes N] [-- --only publish,status,verify] [-- --no-write]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const value = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const sites = value('--sites') ?? '1000';
const nodes = value('--nodes') ?? '10';
const only = (value('--only') ?? 'publish,status,verify').split(',');
const tmp = mkdtempSync(join(tmpdir(), 'harvgen-bench-fleet-'));
const shm = (() => {
  try {
    return spawnSync('test', ['-w', '/dev/shm']).status === 0 ? ['--dir', '/dev/shm'] : [];
  } catch {
    return [];
  }
})();

const doc: Record<string, unknown> = {
  generated: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? '?', cores: availableParallelism(), node: process.version },
  sites: Number(sites),
  nodes_per_site: Number(nodes),
};
try {
  for (const part of only) {
    const script = { publish: 'fleet-publish.ts', status: 'fleet-status.ts', verify: 'fleet-verify.ts' }[part];
    if (!script) throw new Error(`--only: publish, status or verify, not ${part}`);
    const results = join(tmp, `${part}.json`);
    console.log(`\n== ${part} (bench/${script})`);
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(repo, 'bench', script),
        '--sites',
        sites,
        '--nodes',
        nodes,
        '--results',
        results,
        ...(part === 'publish' ? [] : shm),
      ],
      { cwd: repo, stdio: 'inherit' },
    );
    if (r.status !== 0) throw new Error(`bench/${script} exited ${r.status}`);
    doc[part] = JSON.parse(readFileSync(results, 'utf8'));
  }
  (doc.machine as Record<string, unknown>).load_at_end = loadavg().map((l) => Math.round(l * 10) / 10);
  if (!args.includes('--no-write')) {
    const file = join(repo, 'bench/results-fleet.json');
    writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`wrote ${file}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
