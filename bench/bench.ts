// `npm run bench`: harvgen's speed and memory, measured as whole processes (a benchmark, never a
// timed test). For each generated inventory (1,000 and 10,000 nodes, in one site and in 100
// sites) it runs, interleaved round by round so that a noisy moment hits every measure alike:
//   floor     node bench/floor.mjs: the same bytes to the same paths, nothing else (the floor)
//   cold      harvgen build into a fresh output directory
//   no-op     harvgen build again (nothing changed)
//   edit      one node file changed, then harvgen build
//   check     harvgen check
//   deploy    harvgen build --deploy into a fresh directory (reads the secrets, hashes the password)
// then, once per inventory, `harvgen watch`: the time from writing one node file until the new
// bytes of that node's config are on disk. Peak RSS comes from each process itself (a preload,
// bench/rss-probe.mjs, reports process.resourceUsage().maxRSS at exit). Startup: `harvgen
// --version` against `node -e 0`. Then the bounds: `harvgen check` on an inventory at each size
// limit and just past it (aliases, keys per mapping, profile chain, node config), its time and
// peak RSS (`--bounds` runs only these, in under 30 s, and writes nothing). Prints a table of
// medians and ratios and writes bench/results.json.
//   npm run bench [-- --quick] [-- --bounds] [-- --dir /dev/shm] [-- --rounds N]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { generateRepo, nodeFile, nodeText } from './gen.ts';
import { aliasSite, chainSite, configSite, keysSite, SITE, writeRepo } from '../test/fixtures/bounds/inventories.ts';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin/harvgen.js');
const probe = join(repo, 'bench/rss-probe.mjs');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const quick = flag('--quick');
const work = mkdtempSync(join(value('--dir') ?? tmpdir(), 'harvgen-bench-'));

interface Run {
  ms: number;
  rssMb: number;
  code: number | null;
}

/** One whole process, timed from spawn to exit; its peak RSS as it reported it. */
function run(cmd: string[], cwd: string, exit = 0): Run {
  const rssFile = join(work, `rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', probe, ...cmd], {
    cwd,
    env: { ...process.env, HARVGEN_BENCH_RSS_FILE: rssFile, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  if (r.status !== exit) throw new Error(`${cmd.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 2000)}`);
  const rssKb = Number(readFileSync(rssFile, 'utf8'));
  rmSync(rssFile);
  return { ms, rssMb: rssKb / 1024, code: r.status };
}

/** Every file of a built output root as [path, mode, contents] (the floor's input). */
function pack(out: string, file: string): number {
  const files: [string, number, string][] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory() && e.name !== '.harvgen-cache') walk(p);
      else if (e.isFile()) files.push([relative(out, p), statSync(p).mode & 0o777, readFileSync(p, 'utf8')]);
    }
  };
  walk(out);
  writeFileSync(file, JSON.stringify(files));
  return files.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One watch session: `rounds` node edits, each timed from the write until the new config is on disk. */
async function watchEdits(root: string, site: number, rounds: number): Promise<number[]> {
  const out = join(root, 'out-watch');
  // Built once beforehand, so watch starts from an up-to-date tree, as in daily use.
  run([bin, 'build', '--out', out], root);
  const child = spawn(process.execPath, [bin, 'watch', ...listSites(root), '--out', out, '--json'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lines = 0;
  let buffered = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines += parts.length;
    while (waiters.length) waiters.shift()!();
  });
  const nextLine = (n: number, timeoutMs = 600_000) =>
    new Promise<boolean>((res) => {
      const timer = setTimeout(() => res(false), timeoutMs);
      const check = () => (lines >= n ? (clearTimeout(timer), res(true)) : waiters.push(check));
      check();
    });
  await nextLine(1); // the first build
  const k = 7;
  // The first build may end before chokidar has scanned the tree: touch a node file until a
  // rebuild answers, so that the measured edits meet a watcher that is ready.
  for (let seen = 1; ;) {
    writeFileSync(nodeFile(root, site, k), nodeText(site, k));
    if (await nextLine(seen + 1, 5000)) break;
  }
  await new Promise((r) => setTimeout(r, 300));
  let base = lines;
  const times: number[] = [];
  const target = join(out, `s${String(site).padStart(3, '0')}`, 'harvester', `n${String(k).padStart(5, '0')}.yaml`);
  for (let i = 0; i < rounds; i++) {
    const device = `/dev/vd${'bc'[i % 2]}`;
    const t0 = performance.now();
    writeFileSync(nodeFile(root, site, k), `${nodeText(site, k)}install:\n  device: ${device}\n`);
    for (;;) {
      let text = '';
      try {
        text = readFileSync(target, 'utf8');
      } catch {
        // renamed into place this instant
      }
      if (text.includes(`device: ${device}`)) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    times.push(performance.now() - t0);
    await nextLine(++base); // let the rebuild finish before the next edit
    await new Promise((r) => setTimeout(r, 300));
  }
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
  return times;
}

function listSites(root: string): string[] {
  return readdirSync(join(root, 'sites'))
    .filter((d) => !d.startsWith('_') && d !== 'secrets')
    .sort()
    .map((d) => join('sites', d));
}

interface CaseResult {
  name: string;
  sites: number;
  nodes: number;
  files: number;
  ms: Record<string, number>;
  rssMb: Record<string, number>;
  ratios: {
    coldVsFloor: number;
    noopVsCold: number;
    editVsCold: number;
    watchEditVsCold: number;
    checkVsCold: number;
    deployVsCold: number;
  };
}

async function measureCase(name: string, sites: number, perSite: number, rounds: number): Promise<CaseResult> {
  const root = join(work, name);
  generateRepo(root, sites, perSite);
  // A first build to learn the tree (its pack feeds the floor); not measured.
  run([bin, 'build', '--out', join(root, 'out-0')], root);
  const packFile = join(root, 'pack.json');
  const files = pack(join(root, 'out-0'), packFile);
  const samples: Record<string, Run[]> = { floor: [], cold: [], noop: [], edit: [], check: [], deploy: [] };
  const edited = sites > 1 ? Math.floor(sites / 2) : 0;
  for (let i = 0; i < rounds; i++) {
    const out = join(root, `out-${i + 1}`);
    samples.floor!.push(run([join(repo, 'bench/floor.mjs'), packFile, join(root, `floor-${i + 1}`)], root));
    samples.cold!.push(run([bin, 'build', '--out', out], root));
    samples.noop!.push(run([bin, 'build', '--out', out], root));
    writeFileSync(nodeFile(root, edited, 3), `${nodeText(edited, 3)}install:\n  device: /dev/vd${'bc'[i % 2]}\n`);
    samples.edit!.push(run([bin, 'build', '--out', out], root));
    samples.check!.push(run([bin, 'check'], root));
    // The deploy tree: the same build, reading the secret files and hashing the password.
    samples.deploy!.push(run([bin, 'build', '--deploy', '--out', join(root, `deploy-${i + 1}`)], root));
  }
  const watch = await watchEdits(root, edited, rounds);
  const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v.map((r) => r.ms))]));
  ms.watchEdit = median(watch);
  const rssMb = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.max(...v.map((r) => r.rssMb))]));
  const ratios: CaseResult['ratios'] = {
    coldVsFloor: ms.cold! / ms.floor!,
    noopVsCold: ms.noop! / ms.cold!,
    editVsCold: ms.edit! / ms.cold!,
    watchEditVsCold: ms.watchEdit! / ms.cold!,
    checkVsCold: ms.check! / ms.cold!,
    deployVsCold: ms.deploy! / ms.cold!,
  };
  rmSync(root, { recursive: true, force: true });
  return { name, sites, nodes: sites * perSite, files, ms, rssMb, ratios };
}

function startup(rounds: number) {
  const version: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < rounds; i++) {
    bare.push(run(['-e', '0'], repo).ms);
    version.push(run([bin, '--version'], repo).ms);
  }
  return { nodeMs: median(bare), versionMs: median(version), ratio: median(version) / median(bare) };
}

interface BoundResult {
  name: string;
  /** What the inventory is and what check says of it. */
  what: string;
  inventoryKb: number;
  exit: number;
  ms: number;
  rssMb: number;
}

/**
 * `harvgen check` on an inventory at each limit (the most work an accepted inventory can ask
 * for) and just past it (what refusing it costs): the slower of two runs (`rounds`) and the
 * peak RSS. About 25 s on the 2-core development VM.
 */
function measureBounds(rounds: number): BoundResult[] {
  const MiB = 1024 * 1024;
  const thirteen = (files: Record<string, string>) => {
    // 13 nodes share the config, as in the report (2.3 GB for 13 nodes before).
    const nodes = Array.from(
      { length: 13 },
      (_, i) => `  - { hostname: n${i + 1}, mac: 52:54:00:00:00:${(i + 1).toString(16).padStart(2, '0')}, ip: 10.0.0.${11 + i} }\n`,
    );
    const key = `${SITE}/site.yaml`;
    return { ...files, [key]: files[key]!.replace('  - { hostname: n1, mac: 52:54:00:00:00:01, ip: 10.0.0.11 }\n', nodes.join('')) };
  };
  const plan: [string, string, Record<string, string>, number][] = [
    ['aliases-limit', '83 aliases of 24,000 characters: 2.0 of 2 MiB expanded (then its config is too large)', aliasSite(83, 24_000), 1],
    ['aliases-over', "99 aliases of a 950 KB value (the issue's 94 MB config): refused", aliasSite(99, 950_000), 1],
    ['keys-limit', 'a mapping of 10,000 keys in `config:`: passes', keysSite(10_000), 0],
    ['keys-over', 'a mapping of 20,000 keys: refused', keysSite(20_000), 1],
    ['chain-limit', 'a chain of 16 profiles: passes', chainSite(16), 0],
    ['chain-over', 'a chain of 2,000 profiles: refused', chainSite(2_000), 1],
    ['config-limit', '13 nodes with a node config of 0.95 MiB: passes', thirteen(configSite(1_000_000)), 0],
    ['config-over', '13 nodes with a node config of 1.1 MiB: refused before it is built', thirteen(configSite(1.2 * MiB)), 1],
    ['config-over-file', '13 nodes, 0.6 MiB of config written as 1.2 MiB: refused as rendered', thirteen(configSite(1.2 * MiB, true)), 1],
  ];
  const out: BoundResult[] = [];
  for (const [name, what, files, exit] of plan) {
    const root = writeRepo(join(work, `bounds-${name}`), files);
    const bytes = Object.values(files).reduce((n, t) => n + Buffer.byteLength(t), 0);
    const runs = Array.from({ length: rounds }, () => run([bin, 'check', SITE], root, exit));
    out.push({
      name,
      what,
      inventoryKb: Math.round(bytes / 1024),
      exit,
      ms: median(runs.map((r) => r.ms)),
      rssMb: Math.max(...runs.map((r) => r.rssMb)),
    });
    rmSync(root, { recursive: true, force: true });
  }
  return out;
}

function printBounds(bounds: readonly BoundResult[]): void {
  console.log('\n| limit case | inventory KB | exit | check ms | peak RSS MB |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const b of bounds)
    console.log(`| ${b.name}: ${b.what} | ${b.inventoryKb} | ${b.exit} | ${b.ms.toFixed(0)} | ${b.rssMb.toFixed(0)} |`);
}

if (flag('--bounds')) {
  const bounds = measureBounds(value('--rounds') ? Number(value('--rounds')) : 2);
  rmSync(work, { recursive: true, force: true });
  printBounds(bounds);
  process.exit(0);
}

// The compiled CLI is what users run: build it first (npm run bench does).
const machine = {
  node: process.version,
  platform: `${process.platform}/${process.arch}`,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
  memGb: Math.round(totalmem() / 1024 ** 3),
  dir: work,
};
console.log(`harvgen bench: ${machine.node}, ${machine.platform}, ${machine.cpus}, ${machine.memGb} GiB; work dir ${work}`);
const plan: [string, number, number, number][] = quick
  ? [
      ['1k-1site', 1, 1000, 3],
      ['1k-100sites', 100, 10, 3],
    ]
  : [
      ['1k-1site', 1, 1000, 5],
      ['10k-1site', 1, 10000, 3],
      ['1k-100sites', 100, 10, 5],
      ['10k-100sites', 100, 100, 3],
    ];
const rounds = value('--rounds');
const cases: CaseResult[] = [];
for (const [name, sites, perSite, n] of plan) {
  process.stderr.write(`  ${name}...\n`);
  cases.push(await measureCase(name, sites, perSite, rounds ? Number(rounds) : n));
}
const start = startup(15);
process.stderr.write('  bounds...\n');
const bounds = measureBounds(2);
rmSync(work, { recursive: true, force: true });

const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const r = (x: number) => `${x.toFixed(2)}x`;
console.log(
  '\n| inventory | files | floor ms | cold ms | cold/floor | no-op ms | no-op/cold | edit (build) ms | edit/cold | edit (watch) ms | watch/cold | check ms | check/cold | deploy ms | deploy/cold | peak RSS MB (cold) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const c of cases) {
  const { ms, ratios } = c;
  console.log(
    `| ${c.nodes} nodes in ${c.sites} site${c.sites > 1 ? 's' : ''} | ${c.files} | ${f(ms.floor!)} | ${f(ms.cold!)} | ${r(ratios.coldVsFloor)} | ${f(ms.noop!)} | ${r(ratios.noopVsCold)} | ${f(ms.edit!)} | ${r(ratios.editVsCold)} | ${f(ms.watchEdit!)} | ${r(ratios.watchEditVsCold)} | ${f(ms.check!)} | ${r(ratios.checkVsCold)} | ${f(ms.deploy!)} | ${r(ratios.deployVsCold)} | ${f(c.rssMb.cold!)} |`,
  );
}
const perNode = (name: string) => {
  const c = cases.find((x) => x.name === name);
  return c ? c.ms.cold! / c.nodes : undefined;
};
const flat = {
  oneSite: perNode('1k-1site') && perNode('10k-1site') ? perNode('10k-1site')! / perNode('1k-1site')! : null,
  manySites: perNode('1k-100sites') && perNode('10k-100sites') ? perNode('10k-100sites')! / perNode('1k-100sites')! : null,
};
console.log(
  `\nper-node cold cost, 10k / 1k: one site ${flat.oneSite?.toFixed(2) ?? '-'}x, 100 sites ${flat.manySites?.toFixed(2) ?? '-'}x (1.00x = flat)`,
);
console.log(`startup: harvgen --version ${f(start.versionMs)} ms, node -e 0 ${f(start.nodeMs)} ms: ${r(start.ratio)}`);
printBounds(bounds);
const result = { version: 1, machine: { ...machine, dir: undefined }, quick, cases, perNodeCost10kVs1k: flat, startup: start, bounds };
const file = join(repo, 'bench/results.json');
mkdirSync(join(repo, 'bench'), { recursive: true });
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
console.log(`\nwrote ${relative(process.cwd(), file)}`);
