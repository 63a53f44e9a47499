// `npm run bench -- --report` (and part of the full `npm run bench`): `harvgen report` at fleet
// scale, timed as whole processes (a benchmark, never a timed test). Two generated inventories
// (bench/gen.ts): 1,000 sites of 10 nodes, and one site of 10,000 nodes. For each, round by
// round so that a noisy moment hits both alike:
//   floor   harvgen check (the compile every report needs: load, validate, model)
//   report  harvgen report --out <fresh dir> (the compile, status's view of no logs, explain's
//           settings of every node, the pages, written atomically; the 1,000 sites with their
//           fleet record and a verify result of each, the fleet's pages)
// and once, the size of the largest page (pages are bounded: a site's nodes are paged). The
// limits: report at most 3x its floor, the per-node cost of the 10,000-node site at most 2x that
// of the 1,000 sites (time proportional to the nodes, not to their grouping), no page over 1 MB.
// Writes bench/results-report.json.
//   npm run bench -- --report [--rounds N] [--dir /dev/shm]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { generateRepo } from './gen.ts';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin/harvgen.js');

/** One measured inventory. */
export interface ReportCase {
  readonly name: string;
  readonly sites: number;
  readonly nodes: number;
  /** Medians over the rounds, ms; peak RSS of the slowest report, MB. */
  readonly floorMs: number;
  readonly reportMs: number;
  readonly reportRssMb: number;
  readonly pages: number;
  readonly largestPageBytes: number;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One process of harvgen, timed, with its peak RSS (the preload `probe` writes it at exit). */
function timed(args: readonly string[], cwd: string, probe: string): { ms: number; rssMb: number } {
  const rssFile = join(cwd, `.rss-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', probe, bin, ...args], {
    cwd,
    env: { ...process.env, HARVGEN_BENCH_RSS_FILE: rssFile, NO_COLOR: '1', SOURCE_DATE_EPOCH: '1795435200' },
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`harvgen ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 2000)}`);
  const rssMb = Number(readFileSync(rssFile, 'utf8').split(' ')[0]) / 1024;
  rmSync(rssFile);
  return { ms, rssMb };
}

/** Every file under `dir` (recursively) with its size. */
function sizes(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile() && e.name.endsWith('.html')) out.push(statSync(join(e.parentPath, e.name)).size);
  return out;
}

/** A fleet record of every site and a verify result for it (every tenth site drifted): the report's fleet arguments. */
function writeFleet(root: string, dirs: readonly string[]): string[] {
  mkdirSync(join(root, 'published'));
  const digest = (i: number) => `sha256:${createHash('sha256').update(String(i)).digest('hex')}`;
  const fleet = dirs.map((dir, i) => {
    const site = basename(dir);
    const url = `http://10.${i >> 8}.${i & 255}.1`;
    writeFileSync(
      join(root, 'published', `${site}.json`),
      JSON.stringify({ site, boot_server: url, digest: digest(i), repository: 'registry.example/harvgen', tag: site, sample: [] }),
    );
    const drift = i % 10 === 0;
    return {
      site,
      record: `published/${site}.json`,
      url,
      state: drift ? 'drift' : 'ok',
      expected: digest(i),
      served: drift ? digest(i + 1) : digest(i),
      source: 'registry.example/harvgen',
      verdict: { ok: true, checks: 20, failed: 0, at: '2026-11-23T10:00:00Z' },
      checks: 20,
      failed: 0,
      reachable: true,
      duration_ms: 15,
      problem: drift ? `serves ${digest(i + 1)}, git says ${digest(i)}` : null,
    };
  });
  writeFileSync(join(root, 'verified.json'), JSON.stringify({ command: 'verify', ok: false, fleet }));
  return ['--fleet', 'published', '--verified', 'verified.json'];
}

/** Measure one inventory of `sites` x `nodes` under `work`. */
function measureOne(work: string, probe: string, plan: { name: string; sites: number; nodes: number; rounds: number }): ReportCase {
  const root = join(work, plan.name);
  mkdirSync(root, { recursive: true });
  const dirs = generateRepo(root, plan.sites, plan.nodes);
  const fleet = plan.sites > 1 ? writeFleet(root, dirs) : [];
  const floor: number[] = [];
  const report: { ms: number; rssMb: number }[] = [];
  let out = '';
  for (let i = 0; i < plan.rounds; i++) {
    floor.push(timed(['check'], root, probe).ms);
    out = join(root, `report-${i + 1}`);
    report.push(timed(['report', '--out', out, ...fleet], root, probe));
  }
  const pages = sizes(out);
  const slowest = report.reduce((a, b) => (b.ms > a.ms ? b : a));
  return {
    name: plan.name,
    sites: plan.sites,
    nodes: plan.sites * plan.nodes,
    floorMs: median(floor),
    reportMs: median(report.map((r) => r.ms)),
    reportRssMb: slowest.rssMb,
    pages: pages.length,
    largestPageBytes: Math.max(...pages),
  };
}

/** The cases: 1,000 sites of 10 nodes and one site of 10,000 nodes (`quick`: a tenth of each). */
export function measureReport(work: string, probe: string, rounds: number, quick = false): ReportCase[] {
  const scale = quick ? 10 : 1;
  return [
    measureOne(work, probe, { name: `report-${1000 / scale}sites-10`, sites: 1000 / scale, nodes: 10, rounds }),
    measureOne(work, probe, { name: `report-1site-${10_000 / scale}`, sites: 1, nodes: 10_000 / scale, rounds }),
  ];
}

/** The limits the report keeps, each measured: met or not. */
export function reportLimits(cases: readonly ReportCase[]): { case: string; what: string; value: number; limit: number; met: boolean }[] {
  const perNode = (c: ReportCase) => c.reportMs / c.nodes;
  const [many, one] = cases;
  const limits = cases.flatMap((c) => [
    { case: c.name, what: 'report / check', value: c.reportMs / c.floorMs, limit: 3 },
    { case: c.name, what: 'largest page MB', value: c.largestPageBytes / 1e6, limit: 1 },
  ]);
  if (many && one) limits.push({ case: one.name, what: `per-node cost / ${many.name}'s`, value: perNode(one) / perNode(many), limit: 2 });
  return limits.map((l) => ({ ...l, value: Math.round(l.value * 1000) / 1000, met: l.value <= l.limit }));
}

/** The table of the cases, and the limits, as printed. */
export function reportTable(cases: readonly ReportCase[]): string {
  const rows = cases.map(
    (c) =>
      `| ${c.name} | ${c.sites} | ${c.nodes} | ${c.floorMs.toFixed(0)} | ${c.reportMs.toFixed(0)} | ${(c.reportMs / c.floorMs).toFixed(2)}x | ${((c.reportMs / c.nodes) * 1000).toFixed(0)} | ${c.pages} | ${(c.largestPageBytes / 1024).toFixed(0)} | ${c.reportRssMb.toFixed(0)} |`,
  );
  const limits = reportLimits(cases).map((l) => `limit ${l.case} ${l.what}: ${l.value} (<= ${l.limit}: ${l.met ? 'met' : 'MISSED'})`);
  return [
    '| report case | sites | nodes | check ms (floor) | report ms | report/check | µs per node | pages | largest page KiB | peak RSS MB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...limits,
  ].join('\n');
}

/** `--report`: measure, print, write bench/results-report.json. */
export function benchReport(work: string, probe: string, rounds: number, quick: boolean): void {
  const cases = measureReport(work, probe, rounds, quick);
  console.log(`\n${reportTable(cases)}`);
  const file = join(repo, quick ? 'bench/results-report-quick.json' : 'bench/results-report.json');
  writeFileSync(file, JSON.stringify({ version: 1, quick, rounds, cases, limits: reportLimits(cases) }, null, 2) + '\n');
  console.log(`wrote ${file}`);
}
