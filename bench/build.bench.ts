// `npm run bench`: build time and memory of harvgen, measured (never asserted in tests).
// Cases: the two example sites, and generated sites of 100 and 1000 nodes (a large rack
// room). Each case: warm-up, then N timed runs of check() (in memory) and build() (to a temp
// dir, first write and unchanged rebuild). Reports median and p95 in ms, and peak RSS.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, check } from '../src/index.ts';

const repo = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'harvgen-bench-'));

function generatedSite(nodes: number): string {
  const dir = join(work, `site-${nodes}`);
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  const base = readFileSync(join(repo, 'sites/location_x/site.yaml'), 'utf8')
    .replace('site: location_x', `site: gen_${nodes}`)
    .replace('cidr: 192.168.122.0/24', 'cidr: 10.64.0.0/16')
    .replace(/192\.168\.122\./g, '10.64.0.')
    .replace('dhcp_range: 10.64.0.150-10.64.0.250', 'dhcp_range: 10.64.200.1-10.64.200.250')
    .replace(/nodes:[\s\S]*?\n\nlab:/, 'lab:');
  writeFileSync(join(dir, 'site.yaml'), base);
  for (let i = 0; i < nodes; i++) {
    const hex = i.toString(16).padStart(4, '0');
    writeFileSync(
      join(dir, 'nodes', `n${String(i).padStart(4, '0')}.yaml`),
      `mac: 52:54:00:10:${hex.slice(0, 2)}:${hex.slice(2)}\nip: 10.64.${1 + Math.floor(i / 250)}.${1 + (i % 250)}\n`,
    );
  }
  return dir;
}

async function time(runs: number, fn: () => Promise<unknown>): Promise<{ median: number; p95: number }> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return {
    median: samples[Math.floor(samples.length / 2)]!,
    p95: samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.95))]!,
  };
}

const cases: { name: string; dir: string; runs: number }[] = [
  { name: 'location_x (3 nodes)', dir: join(repo, 'sites/location_x'), runs: 30 },
  { name: 'location_y (4 nodes, 7 MACs)', dir: join(repo, 'sites/location_y'), runs: 30 },
  { name: 'generated, 100 nodes', dir: generatedSite(100), runs: 10 },
  { name: 'generated, 1000 nodes', dir: generatedSite(1000), runs: 3 },
];

console.log(`harvgen bench: node ${process.version}, ${process.platform}/${process.arch}`);
console.log('| case | check median ms | check p95 ms | first build ms | rebuild (unchanged) median ms | files |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const c of cases) {
  const chk = await time(c.runs, () => check({ sites: [c.dir] }));
  const out = join(work, 'out');
  rmSync(out, { recursive: true, force: true });
  const t0 = process.hrtime.bigint();
  const first = await build({ sites: [c.dir], outDir: out });
  const firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!first.ok) throw new Error(`${c.name}: ${JSON.stringify(first.diagnostics.slice(0, 3))}`);
  const rebuild = await time(c.runs, () => build({ sites: [c.dir], outDir: out }));
  console.log(
    `| ${c.name} | ${chk.median.toFixed(1)} | ${chk.p95.toFixed(1)} | ${firstMs.toFixed(1)} | ${rebuild.median.toFixed(1)} | ${first.sites[0]!.files.length} |`,
  );
}
const mem = process.memoryUsage();
console.log(
  `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB; heap used at end ${(mem.heapUsed / 1024 / 1024).toFixed(1)} MiB`,
);
rmSync(work, { recursive: true, force: true });
