// `npm run bench`: harvgen's speed and memory, measured as whole processes (a benchmark, never a
// timed test). For each generated inventory (1,000 and 10,000 nodes, in one site and in 100
// sites) it runs, interleaved round by round so that a noisy moment hits every measure alike:
//   floor     node bench/floor.mjs: the same bytes to the same paths from a binary pack, nothing parsed (the floor)
//   cold      harvgen build into a fresh output directory
//   no-op     harvgen build again (nothing changed)
//   edit      one node file changed, then harvgen build
//   check     harvgen check
//   deploy    harvgen build --deploy into a fresh directory (reads the secrets, hashes the password)
// then, once per inventory, `harvgen watch`: the time from writing one node file until the new
// bytes of that node's config are on disk (the median of at least 7 edits). Peak RSS comes from each process itself (a preload,
// bench/rss-probe.cjs, reports process.resourceUsage().maxRSS at exit). Startup: `harvgen
// --version` against `node -e 0`. Then the bounds: `harvgen check` on an inventory at each size
// limit and just past it (aliases, keys per mapping, profile chain, node config), its time and
// peak RSS (`--bounds` runs only these, in under 30 s, and writes nothing). Prints a table of
// medians and ratios and writes bench/results.json.
//   npm run bench [-- --quick] [-- --bounds] [-- --dir /dev/shm] [-- --rounds N]
// `--per-core` measures only the cold build with `--jobs 1`, `--jobs 2` and `--jobs <every core>`
// (the default), interleaved with the floor, and prints each against the floor and against
// `--jobs 1` (the speedup); with `--only` for some inventories.
// `--rss` measures memory at fleet scale, and only that: for rich inventories of 10,000 nodes in
// 100 sites and of 100,000 nodes in 1,000 sites (gen.ts gives the sites past the 150th a /22 each)
// it times the writing of the inventory, then runs `harvgen build --jobs 1` into a fresh directory
// and `harvgen check`, and the floor of that build (replayed 100 sites per process: one pack of the
// large tree would be gigabytes in memory), and prints each one's wall time and peak RSS, the large
// inventory against the small one, as a table; it writes bench/results-rss.json. One run of each by
// default (`--rounds N` for more: the slowest time and highest RSS are kept); a process past 15
// minutes is stopped and reported as such. About 30 minutes on the 2-core development VM, nearly all
// of it the large build (about 9 minutes) and its check (about 12).
//   npm run bench -- --rss [--rounds 2] [--only rich-10k-100sites] [--dir /dev/shm]
// `--media` measures boot media only: one site of 1,000 nodes (`--quick`: 300) with `medium:
// network` (the floor of the run), `medium: iso` (one shared image) and `medium: iso` with
// `medium_image: own` (an image per node), each a cold `build --deploy` and a cold committed
// `build`, the bytes of the images and of the committed tree, and what a deploy build writes after
// a one-node edit (a kernel argument; then its address, which the shared image's table holds). It
// checks the limits (shared: at most 1.3x network, at most 5 MB of images, no image written by
// the one-node edit) and writes bench/results-media.json.
//   npm run bench -- --media [--rounds 3] [--quick]
// `--report` measures only `harvgen report` (bench/report.ts: 1,000 sites of 10 nodes, one site of
// 10,000 nodes, against `harvgen check`); the full run measures it too, last.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg as loadavgOf, totalmem, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { generateRepo, generateRichRepo, nodeFile, nodeText, RICH_TOKEN_ENV, richNodeText } from './gen.ts';
import { aliasSite, chainSite, configSite, keysSite, SITE, writeRepo } from '../test/fixtures/bounds/inventories.ts';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin/harvgen.js');
const probe = join(repo, 'bench/rss-probe.cjs');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const quick = flag('--quick');
// The rich inventory's cluster token comes from the environment, as the README recommends for CI.
process.env[RICH_TOKEN_ENV] ??= 'bench-env-token-0123456789abcdef';
const work = mkdtempSync(join(value('--dir') ?? tmpdir(), 'harvgen-bench-'));

interface Run {
  ms: number;
  rssMb: number;
  /** CPU time, user + system, every thread. */
  cpuMs: number;
  /** Bytes allocated on the main thread's heap, and the time spent collecting them (bench/rss-probe.cjs). */
  allocMb: number;
  gcMs: number;
  /** Worker threads the process started: its allocation and collection are then the main thread's part only. */
  workers: number;
  code: number | null;
}

/** A process stopped at its time limit (`run`'s `limitMs`): what `--rss` reports instead of a figure. */
class TimedOut extends Error {}

/** The machine the figures were taken on, as the results files record it. */
function machineOf() {
  return {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    parallelism: availableParallelism(),
    memGb: Math.round(totalmem() / 1024 ** 3),
  };
}

/** One whole process, timed from spawn to exit; its peak RSS as it reported it. */
function run(cmd: string[], cwd: string, exit = 0, limitMs?: number): Run {
  const rssFile = join(work, `rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', probe, ...cmd], {
    cwd,
    env: { ...process.env, HARVGEN_BENCH_RSS_FILE: rssFile, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    // SIGKILL: a build stopped at its limit has nothing more to report.
    ...(limitMs !== undefined ? { timeout: limitMs, killSignal: 'SIGKILL' as const } : {}),
  });
  const ms = performance.now() - t0;
  if (limitMs !== undefined && r.signal === 'SIGKILL' && ms >= limitMs)
    throw new TimedOut(`${cmd.join(' ')}: stopped after ${(ms / 60_000).toFixed(1)} min`);
  if (r.status !== exit) throw new Error(`${cmd.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 2000)}`);
  const [rssKb, cpuUs, allocated, gcUs, workers] = readFileSync(rssFile, 'utf8').split(' ').map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  rmSync(rssFile);
  return { ms, rssMb: rssKb / 1024, cpuMs: cpuUs / 1000, allocMb: allocated / 2 ** 20, gcMs: gcUs / 1000, workers, code: r.status };
}

/**
 * Every directory and file of a built output root, in the order they are made, as the floor's
 * binary pack (bench/floor.mjs: kind, path, and a file's mode and bytes); with `only`, just the
 * entries under those top-level entries of it. Returns the number of files.
 */
function pack(out: string, file: string, only?: readonly string[]): number {
  const chunks: Buffer[] = [Buffer.from('HGP1', 'latin1')];
  let files = 0;
  const entry = (kind: 1 | 2, path: string) => {
    const name = Buffer.from(path, 'utf8');
    const head = Buffer.alloc(3);
    head[0] = kind;
    head.writeUInt16LE(name.length, 1);
    chunks.push(head, name);
  };
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (dir === out && only && !only.includes(e.name)) continue;
      if (e.isDirectory() && e.name !== '.harvgen-cache') {
        entry(1, relative(out, p));
        walk(p);
      } else if (e.isFile()) {
        const bytes = readFileSync(p);
        entry(2, relative(out, p));
        const meta = Buffer.alloc(6);
        meta.writeUInt16LE(statSync(p).mode & 0o777, 0);
        meta.writeUInt32LE(bytes.length, 2);
        chunks.push(meta, bytes);
        files++;
      }
    }
  };
  walk(out);
  writeFileSync(file, Buffer.concat(chunks));
  return files;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Edits timed under `watch`, at least (`--rounds` more). */
const WATCH_EDITS = 7;

/** One watch session: `rounds` node edits, each timed from the write until the new config is on disk. */
async function watchEdits(root: string, site: number, rounds: number, text: (i: number, k: number) => string): Promise<number[]> {
  const out = join(root, 'out-watch');
  // Built once beforehand, so watch starts from an up-to-date tree, as in daily use.
  run([bin, 'build', '--out', out], root);
  // stderr goes to a file, never a pipe that could fill and stall the watcher: read if it exits.
  const errFile = join(work, `watch-err-${process.pid}`);
  const errFd = openSync(errFile, 'w');
  const child = spawn(process.execPath, [bin, 'watch', ...listSites(root), '--out', out, '--json'], {
    cwd: root,
    stdio: ['ignore', 'pipe', errFd],
  });
  closeSync(errFd);
  // A watcher that exits before it is stopped ends the measurement with its reason (it would
  // otherwise leave every wait below to its time limit, and the touch loop to retry forever).
  let exited: string | undefined;
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (stopping) return;
    exited = `watch exited early (${signal ?? `code ${code}`}): ${readFileSync(errFile, 'utf8').slice(-2000)}`;
    for (const w of waiters.splice(0)) w(); // a waiter not yet satisfied queues itself again
  });
  // Lines counted by their newlines as they come (a line of --json output can be megabytes: it is
  // never held or split whole).
  let lines = 0;
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
    for (const w of waiters.splice(0)) w(); // a waiter not yet satisfied queues itself again
  });
  const nextLine = (n: number, timeoutMs = 600_000) =>
    new Promise<boolean>((res, rej) => {
      const timer = setTimeout(() => res(false), timeoutMs);
      const check = () => {
        if (exited !== undefined) {
          clearTimeout(timer);
          rej(new Error(exited));
        } else if (lines >= n) {
          clearTimeout(timer);
          res(true);
        } else waiters.push(check);
      };
      check();
    });
  await nextLine(1); // the first build
  const k = 7;
  // The first build may end before chokidar has scanned the tree: touch a node file until a
  // rebuild answers, so that the measured edits meet a watcher that is ready.
  for (let seen = 1; ;) {
    writeFileSync(nodeFile(root, site, k), text(site, k));
    if (await nextLine(seen + 1, 5000)) break;
  }
  await new Promise((r) => setTimeout(r, 300));
  let base = lines;
  const times: number[] = [];
  const target = join(
    out,
    `${text === richNodeText ? 'r' : 's'}${String(site).padStart(3, '0')}`,
    'harvester',
    `n${String(k).padStart(5, '0')}.yaml`,
  );
  for (let i = 0; i < rounds; i++) {
    const device = `/dev/vd${'bc'[i % 2]}`;
    const t0 = performance.now();
    writeFileSync(nodeFile(root, site, k), edited(text(site, k), device));
    for (;;) {
      let text = '';
      try {
        text = readFileSync(target, 'utf8');
      } catch {
        // renamed into place this instant
      }
      if (text.includes(`device: ${device}`)) break;
      if (exited !== undefined) throw new Error(exited);
      await new Promise((r) => setTimeout(r, 2));
    }
    times.push(performance.now() - t0);
    await nextLine(++base); // let the rebuild finish before the next edit
    await new Promise((r) => setTimeout(r, 300));
  }
  stopping = true;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await gone;
  rmSync(errFile, { force: true });
  return times;
}

function listSites(root: string): string[] {
  return readdirSync(join(root, 'sites'))
    .filter((d) => !d.startsWith('_') && d !== 'secrets')
    .sort()
    .map((d) => join('sites', d));
}

/** A node file with its install device set to `device` (the edit every measure makes). */
function edited(text: string, device: string): string {
  return text.includes('\ninstall:\n  device: ')
    ? text.replace(/\ninstall:\n  device: [^\n]*/, `\ninstall:\n  device: ${device}`)
    : `${text}install:\n  device: ${device}\n`;
}

/** What an inventory's nodes are like: `simple` (a MAC and an address) or `rich` (see gen.ts). */
type Inventory = 'simple' | 'rich';

interface CaseResult {
  name: string;
  inventory: Inventory;
  sites: number;
  nodes: number;
  files: number;
  ms: Record<string, number>;
  rssMb: Record<string, number>;
  /** Medians of CPU time (user + system) and main-thread garbage collection, in ms; allocated KB per node. */
  cpuMs: Record<string, number>;
  gcMs: Record<string, number>;
  allocKbPerNode: Record<string, number>;
  ratios: {
    coldVsFloor: number;
    /** By CPU time: what the speed targets are set in (wall time adds the disk's writeback). */
    coldVsFloorCpu: number;
    noopVsColdCpu: number;
    editVsColdCpu: number;
    noopVsCold: number;
    editVsCold: number;
    watchEditVsCold: number;
    checkVsCold: number;
    deployVsCold: number;
    deployNoopVsDeploy: number;
  };
  /** `uptime`'s load averages when the case started and ended (the machine is shared). */
  load: [string, string];
}

/** The 1, 5 and 15 minute load averages, as `uptime` shows them. */
const loadavg = () =>
  loadavgOf()
    .map((x) => x.toFixed(2))
    .join(' ');

async function measureCase(name: string, inventory: Inventory, sites: number, perSite: number, rounds: number): Promise<CaseResult> {
  const root = join(work, name);
  const loadAtStart = loadavg();
  (inventory === 'rich' ? generateRichRepo : generateRepo)(root, sites, perSite);
  const text = inventory === 'rich' ? richNodeText : nodeText;
  // A first build to learn the tree (its pack feeds the floor); not measured.
  run([bin, 'build', '--out', join(root, 'out-0')], root);
  const packFile = join(root, 'pack.bin');
  const files = pack(join(root, 'out-0'), packFile);
  const samples: Record<string, Run[]> = { floor: [], cold: [], noop: [], edit: [], check: [], deploy: [], deployNoop: [] };
  const editedSite = sites > 1 ? Math.floor(sites / 2) : 0;
  for (let i = 0; i < rounds; i++) {
    const out = join(root, `out-${i + 1}`);
    samples.floor!.push(run([join(repo, 'bench/floor.mjs'), packFile, join(root, `floor-${i + 1}`)], root));
    samples.cold!.push(run([bin, 'build', '--out', out], root));
    samples.noop!.push(run([bin, 'build', '--out', out], root));
    writeFileSync(nodeFile(root, editedSite, 3), edited(text(editedSite, 3), `/dev/vd${'bc'[i % 2]}`));
    samples.edit!.push(run([bin, 'build', '--out', out], root));
    samples.check!.push(run([bin, 'check'], root));
    // The deploy tree: the same build, reading the secret files and hashing the password.
    samples.deploy!.push(run([bin, 'build', '--deploy', '--out', join(root, `deploy-${i + 1}`)], root));
    // Nothing changed: the deploy tree is up to date (secrets from files and the environment).
    samples.deployNoop!.push(run([bin, 'build', '--deploy', '--out', join(root, `deploy-${i + 1}`)], root));
  }
  // At least 7 edits (about a second each): the median of 3 moved by 10-25% between runs.
  const watch = await watchEdits(root, editedSite, Math.max(WATCH_EDITS, rounds), text);
  const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v.map((r) => r.ms))]));
  ms.watchEdit = median(watch);
  const rssMb = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.max(...v.map((r) => r.rssMb))]));
  const medianOf = (f: (r: Run) => number) => Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v.map(f))]));
  const cpuMs = medianOf((r) => r.cpuMs);
  // A process that built on worker threads: its main thread's part only, not comparable (NaN, printed as -).
  const mainOnly = (f: (r: Run) => number) => (r: Run) => (r.workers > 0 ? NaN : f(r));
  const gcMs = medianOf(mainOnly((r) => r.gcMs));
  const allocKbPerNode = medianOf(mainOnly((r) => (r.allocMb * 1024) / (sites * perSite)));
  const ratios: CaseResult['ratios'] = {
    coldVsFloor: ms.cold! / ms.floor!,
    coldVsFloorCpu: cpuMs.cold! / cpuMs.floor!,
    noopVsColdCpu: cpuMs.noop! / cpuMs.cold!,
    editVsColdCpu: cpuMs.edit! / cpuMs.cold!,
    noopVsCold: ms.noop! / ms.cold!,
    editVsCold: ms.edit! / ms.cold!,
    watchEditVsCold: ms.watchEdit! / ms.cold!,
    checkVsCold: ms.check! / ms.cold!,
    deployVsCold: ms.deploy! / ms.cold!,
    deployNoopVsDeploy: ms.deployNoop! / ms.deploy!,
  };
  rmSync(root, { recursive: true, force: true });
  return {
    name,
    inventory,
    sites,
    nodes: sites * perSite,
    files,
    ms,
    rssMb,
    cpuMs,
    gcMs,
    allocKbPerNode,
    ratios,
    load: [loadAtStart, loadavg()],
  };
}

interface CoresResult {
  name: string;
  files: number;
  floorMs: number;
  /** By number of workers: median ms and peak RSS (workers included: one process). */
  jobs: { n: number; ms: number; rssMb: number }[];
  load: [string, string];
}

/** `--per-core`: cold builds with 1, 2 and every core's worth of workers, round by round with the floor. */
function measureCores(name: string, inventory: Inventory, sites: number, perSite: number, rounds: number): CoresResult {
  const root = join(work, name);
  const loadAtStart = loadavg();
  (inventory === 'rich' ? generateRichRepo : generateRepo)(root, sites, perSite);
  run([bin, 'build', '--out', join(root, 'out-0'), '--jobs', '1'], root);
  const packFile = join(root, 'pack.bin');
  const files = pack(join(root, 'out-0'), packFile);
  const counts = [...new Set([1, 2, availableParallelism()])];
  const floor: Run[] = [];
  const samples = new Map<number, Run[]>(counts.map((n) => [n, []]));
  for (let i = 0; i < rounds; i++) {
    floor.push(run([join(repo, 'bench/floor.mjs'), packFile, join(root, `floor-${i + 1}`)], root));
    // Every other round in the other order, so that neither end of a round is always the later one.
    for (const n of i % 2 === 0 ? counts : [...counts].reverse()) {
      samples.get(n)!.push(run([bin, 'build', '--out', join(root, `out-${n}-${i + 1}`), '--jobs', String(n)], root));
    }
  }
  rmSync(root, { recursive: true, force: true });
  const jobs = counts.map((n) => ({
    n,
    ms: median(samples.get(n)!.map((x) => x.ms)),
    rssMb: Math.max(...samples.get(n)!.map((x) => x.rssMb)),
  }));
  return { name, files, floorMs: median(floor.map((x) => x.ms)), jobs, load: [loadAtStart, loadavg()] };
}

function coresRow(c: CoresResult): string {
  const serial = c.jobs[0]!.ms;
  const cells = c.jobs.map(
    (j) => `${j.ms.toFixed(0)} (${(j.ms / c.floorMs).toFixed(2)}x floor, ${(serial / j.ms).toFixed(2)}x speedup, ${j.rssMb.toFixed(0)} MB)`,
  );
  return `| ${c.name} | ${c.files} | ${c.floorMs.toFixed(0)} | ${cells.join(' | ')} | ${c.load[0]}; ${c.load[1]} |`;
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
    // 13 nodes share the config, as in the issue's report (2.3 GB for 13 nodes before).
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

/** One medium setting of `--media`'s site: how a cold build, an edit and the trees came out. */
interface MediaCase {
  name: string;
  /** Cold `build --deploy` into a fresh directory, and the committed `build`: median ms, peak RSS. */
  deploy: { ms: number; rssMb: number };
  committed: { ms: number; rssMb: number };
  /** Bytes under `media/` of the deploy tree, and of the committed tree (git's share). */
  mediaBytes: number;
  committedBytes: number;
  committedMediaBytes: number;
  /** After editing one node (a kernel argument, not its address), then after changing its address: files and bytes the deploy build wrote. */
  edit: { files: number; bytes: number; images: number; ms: number };
  addressEdit: { files: number; bytes: number; images: number; ms: number };
}

/** Every file under `dir` with its size and mtime. */
function snapshot(dir: string): Map<string, { size: number; mtimeMs: number }> {
  const out = new Map<string, { size: number; mtimeMs: number }>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = statSync(p);
        out.set(p, { size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  walk(dir);
  return out;
}

/** The files of `after` that are new or rewritten since `before`: how many, their bytes, and how many are images (under `media/`). */
function rewritten(
  before: ReturnType<typeof snapshot>,
  after: ReturnType<typeof snapshot>,
): { files: number; bytes: number; images: number } {
  let files = 0;
  let bytes = 0;
  let images = 0;
  for (const [p, a] of after) {
    const b = before.get(p);
    if (b && b.mtimeMs === a.mtimeMs && b.size === a.size) continue;
    files++;
    bytes += a.size;
    if (p.includes('/media/')) images++;
  }
  return { files, bytes, images };
}

const sumBytes = (dir: string, under = '') =>
  [...snapshot(dir).entries()].filter(([p]) => p.startsWith(join(dir, under))).reduce((n, [, f]) => n + f.size, 0);

/**
 * `--media`: one site of 1,000 nodes built with `medium: network` (the floor of this run), with
 * `medium: iso` (one shared image), and with `medium: iso` and `medium_image: own` (an image per
 * node, as every ISO node had before the shared image). The boot programs are stand-ins of
 * Debian's sizes (isolinux.bin, ldlinux.c32, ipxe.lkrn, ipxe.efi). Each setting: a cold
 * `build --deploy` and a cold committed `build`, interleaved round by round; the bytes of its
 * images; then one node edited twice (a kernel argument, then its address), each followed by a
 * deploy build, and what that wrote.
 */
function measureMedia(rounds: number, nodes: number): MediaCase[] {
  const root = join(work, 'media');
  const [dir] = generateRepo(root, 1, nodes);
  const loaders = join(root, 'loaders');
  mkdirSync(loaders);
  // Debian's sizes (isolinux 6.04, iPXE 1.21.1+git-20220113 of Debian 13): what the images carry.
  const fill = (n: number, b: number, head: Buffer = Buffer.alloc(0)) => Buffer.concat([head, Buffer.alloc(n - head.length, b)]);
  writeFileSync(join(loaders, 'isolinux.bin'), fill(38_912, 0x11));
  writeFileSync(join(loaders, 'ldlinux.c32'), fill(119_524, 0x22));
  writeFileSync(join(loaders, 'ipxe.lkrn'), fill(351_727, 0x33));
  writeFileSync(join(loaders, 'ipxe.efi'), fill(996_864, 0x44, Buffer.from('MZ\0\0file:/autoexec.ipxe\0')));
  const site = readFileSync(join(dir!, 'site.yaml'), 'utf8');
  const settings: [string, string][] = [
    ['network', ''],
    ['iso (shared)', '  medium: iso\n  method: static\n'],
    ['iso (own)', '  medium: iso\n  medium_image: own\n  method: static\n'],
  ];
  const withSetting = (extra: string) =>
    site.replace('\ndefaults:\n', `\ndefaults:\n${extra}`).replace('\nboot:\n', `\nboot:\n  media_loaders: ../../loaders\n`) +
    '\nnginx:\n  access: open\n';
  const samples = new Map<string, { deploy: Run[]; committed: Run[] }>(settings.map(([n]) => [n, { deploy: [], committed: [] }]));
  for (let round = 0; round < rounds; round++)
    for (const [name, extra] of settings) {
      writeFileSync(join(dir!, 'site.yaml'), withSetting(extra));
      const d = join(work, `media-deploy-${round}-${name.replace(/\W+/g, '')}`);
      const c = join(work, `media-out-${round}-${name.replace(/\W+/g, '')}`);
      samples.get(name)!.deploy.push(run([bin, 'build', dir!, '--deploy', '--out', d], root));
      samples.get(name)!.committed.push(run([bin, 'build', dir!, '--out', c], root));
      if (round < rounds - 1) {
        rmSync(d, { recursive: true, force: true });
        rmSync(c, { recursive: true, force: true });
      }
    }
  const med = (xs: Run[]) => ({ ms: median(xs.map((x) => x.ms)), rssMb: median(xs.map((x) => x.rssMb)) });
  const cases: MediaCase[] = [];
  const nodeFile0 = nodeFile(root, 0, 0);
  const nodeText0 = readFileSync(nodeFile0, 'utf8');
  for (const [name, extra] of settings) {
    writeFileSync(join(dir!, 'site.yaml'), withSetting(extra));
    const tag = name.replace(/\W+/g, '');
    const deployRoot = join(work, `media-deploy-${rounds - 1}-${tag}`);
    const siteOf = (root: string) =>
      join(
        root,
        readdirSync(root).find((d) => !d.startsWith('.'))!,
      );
    const tree = siteOf(deployRoot);
    const committedRoot = join(work, `media-out-${rounds - 1}-${tag}`);
    const committedTree = siteOf(committedRoot);
    const editWith = (text: string) => {
      writeFileSync(nodeFile0, text);
      const before = snapshot(tree);
      const r = run([bin, 'build', dir!, '--deploy', '--out', deployRoot], root);
      return { ...rewritten(before, snapshot(tree)), ms: r.ms };
    };
    const edit = editWith(`${nodeText0}kernel_args: [quiet]\n`);
    const address = nodeText0.replace(
      /^ip: (\S+)\.(\d+)$/m,
      (_, net: string, last: string) => `ip: ${net}.${Number(last) === 254 ? 253 : 254}`,
    );
    const addressEdit = editWith(address);
    writeFileSync(nodeFile0, nodeText0);
    cases.push({
      name,
      ...samples.get(name)!,
      deploy: med(samples.get(name)!.deploy),
      committed: med(samples.get(name)!.committed),
      mediaBytes: sumBytes(tree, 'media'),
      committedBytes: sumBytes(committedTree),
      committedMediaBytes: sumBytes(committedTree, 'media'),
      edit,
      addressEdit,
    });
  }
  return cases;
}

if (flag('--media')) {
  const nodes = quick ? 300 : 1000;
  const rounds = value('--rounds') ? Number(value('--rounds')) : 3;
  process.stderr.write(`  media: one site of ${nodes} nodes, ${rounds} rounds (load ${loadavg()})...\n`);
  const cases = measureMedia(rounds, nodes);
  rmSync(work, { recursive: true, force: true });
  const mb = (b: number) => (b / 1024 / 1024).toFixed(2);
  const floor = cases[0]!;
  console.log(
    `\n| medium (${nodes} nodes) | deploy ms | /network | committed ms | /network | peak RSS MB (deploy) | media MB (deploy) | committed tree MB | of it media MB | one-node edit: files, KB, images | address edit: files, KB, images |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const c of cases)
    console.log(
      `| ${c.name} | ${c.deploy.ms.toFixed(0)} | ${(c.deploy.ms / floor.deploy.ms).toFixed(2)}x | ${c.committed.ms.toFixed(0)} | ${(c.committed.ms / floor.committed.ms).toFixed(2)}x | ${c.deploy.rssMb.toFixed(0)} | ${mb(c.mediaBytes)} | ${mb(c.committedBytes)} | ${mb(c.committedMediaBytes)} | ${c.edit.files}, ${(c.edit.bytes / 1024).toFixed(1)}, ${c.edit.images} | ${c.addressEdit.files}, ${(c.addressEdit.bytes / 1024).toFixed(1)}, ${c.addressEdit.images} |`,
    );
  const shared = cases[1]!;
  const limits = [
    { what: 'iso (shared) deploy / network deploy', value: shared.deploy.ms / floor.deploy.ms, limit: 1.3 },
    { what: 'iso (shared) committed / network committed', value: shared.committed.ms / floor.committed.ms, limit: 1.3 },
    { what: 'iso (shared) media MB', value: shared.mediaBytes / 1024 / 1024, limit: 5 },
    { what: 'iso (shared) one-node edit: images written', value: shared.edit.images, limit: 0 },
  ].map((l) => ({ ...l, value: Math.round(l.value * 1000) / 1000, met: l.value <= l.limit }));
  for (const l of limits) console.log(`limit ${l.what}: ${l.value} (<= ${l.limit}: ${l.met ? 'met' : 'MISSED'})`);
  const file = join(repo, 'bench/results-media.json');
  writeFileSync(file, JSON.stringify({ version: 1, machine: machineOf(), nodes, rounds, cases, limits }, null, 2) + '\n');
  console.log(`\nwrote ${relative(process.cwd(), file)}`);
  process.exit(0);
}

interface RssCase {
  name: string;
  sites: number;
  nodes: number;
  /** Files in the built tree. */
  files: number;
  /** Writing the inventory (gen.ts), once. */
  generateMs: number;
  /** Per measure: the slowest run's wall time and the highest peak RSS (the sum and the highest for the floor's processes); null when stopped at the time limit. */
  build: { ms: number; rssMb: number } | null;
  check: { ms: number; rssMb: number } | null;
  floor: { ms: number; rssMb: number; processes: number } | null;
  load: [string, string];
}

/**
 * `--rss`: memory at fleet scale. A cold `harvgen build --jobs 1` (one thread: its peak RSS is the
 * compiler's own, not a pool's) into a fresh directory and `harvgen check`, for `rounds` runs each,
 * then the floor of that build. The floor's pack is written and replayed 100 sites at a time (the
 * tree of 100,000 rich nodes is gigabytes, one pack in memory would measure the pack): its time is
 * the sum of those processes and its RSS the highest of them.
 */
function measureRss(name: string, sites: number, perSite: number, rounds: number, limitMs: number): RssCase {
  const root = join(work, name);
  const loadAtStart = loadavg();
  const t0 = performance.now();
  generateRichRepo(root, sites, perSite);
  const generateMs = performance.now() - t0;
  const builds: Run[] = [];
  const checks: Run[] = [];
  const floors: Run[][] = [];
  let files = 0;
  let stopped = false;
  for (let i = 0; i < rounds && !stopped; i++) {
    const out = join(root, `out-${i + 1}`);
    try {
      builds.push(run([bin, 'build', '--jobs', '1', '--out', out], root, 0, limitMs));
    } catch (e) {
      if (!(e instanceof TimedOut)) throw e;
      process.stderr.write(`    ${e.message}\n`);
      stopped = true;
      break;
    }
    try {
      checks.push(run([bin, 'check'], root, 0, limitMs));
    } catch (e) {
      if (!(e instanceof TimedOut)) throw e;
      process.stderr.write(`    ${e.message}\n`);
    }
    const entries = readdirSync(out).sort();
    const floor: Run[] = [];
    files = 0;
    for (let at = 0; at < entries.length; at += 100) {
      const packFile = join(root, 'pack.bin');
      files += pack(out, packFile, entries.slice(at, at + 100));
      floor.push(run([join(repo, 'bench/floor.mjs'), packFile, join(root, `floor-${i + 1}`)], root));
      rmSync(packFile);
    }
    floors.push(floor);
    // Each round's trees are gone before the next: /dev/shm holds them in memory.
    rmSync(out, { recursive: true, force: true });
    rmSync(join(root, `floor-${i + 1}`), { recursive: true, force: true });
  }
  rmSync(root, { recursive: true, force: true });
  const worst = (xs: Run[]) => (xs.length ? { ms: Math.max(...xs.map((x) => x.ms)), rssMb: Math.max(...xs.map((x) => x.rssMb)) } : null);
  const floorRuns = floors.map((f) => ({
    ms: f.reduce((n, x) => n + x.ms, 0),
    rssMb: Math.max(...f.map((x) => x.rssMb)),
    processes: f.length,
  }));
  const floor = floorRuns.length
    ? { ms: Math.max(...floorRuns.map((f) => f.ms)), rssMb: Math.max(...floorRuns.map((f) => f.rssMb)), processes: floorRuns[0]!.processes }
    : null;
  const build = stopped ? null : worst(builds);
  return {
    name,
    sites,
    nodes: sites * perSite,
    files,
    generateMs,
    build,
    check: worst(checks),
    floor: stopped ? null : floor,
    load: [loadAtStart, loadavg()],
  };
}

function rssRow(c: RssCase): string {
  const cell = (m: { ms: number; rssMb: number } | null) => (m ? `${(m.ms / 1000).toFixed(1)} | ${m.rssMb.toFixed(0)}` : 'stopped | -');
  const vsFloor = c.build && c.floor ? `${(c.build.ms / c.floor.ms).toFixed(2)}x` : '-';
  return `| ${c.nodes} rich nodes in ${c.sites} sites | ${c.files} | ${(c.generateMs / 1000).toFixed(1)} | ${cell(c.build)} | ${cell(c.check)} | ${cell(c.floor)} | ${vsFloor} | ${c.load[0]}; ${c.load[1]} |`;
}

if (flag('--rss')) {
  const rssRounds = value('--rounds') ? Number(value('--rounds')) : 1;
  // Past 15 minutes a build is reported as stopped, not waited for.
  const limitMs = 15 * 60_000;
  const plan: [string, number, number][] = [
    ['rich-10k-100sites', 100, 100],
    ['rich-100k-1000sites', 1000, 100],
  ];
  const rss: RssCase[] = [];
  for (const [name, sites, perSite] of plan) {
    if (value('--only') && !value('--only')!.split(',').includes(name)) continue;
    process.stderr.write(`  ${name}, memory (load ${loadavg()})...\n`);
    rss.push(measureRss(name, sites, perSite, rssRounds, limitMs));
    process.stderr.write(`${rssRow(rss.at(-1)!)}\n`);
  }
  rmSync(work, { recursive: true, force: true });
  console.log(
    `\n| inventory | files | generate s | build --jobs 1 s | build peak RSS MB | check s | check peak RSS MB | floor s | floor peak RSS MB | build/floor | load at start, end |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const c of rss) console.log(rssRow(c));
  const [small, big] = rss;
  const ratio = (f: (c: RssCase) => number | undefined) => {
    const a = small && f(small);
    const b = big && f(big);
    return a && b ? b / a : null;
  };
  const ratios = {
    nodes: ratio((c) => c.nodes),
    buildRss: ratio((c) => c.build?.rssMb),
    checkRss: ratio((c) => c.check?.rssMb),
    floorRss: ratio((c) => c.floor?.rssMb),
    buildTime: ratio((c) => c.build?.ms),
    checkTime: ratio((c) => c.check?.ms),
    floorTime: ratio((c) => c.floor?.ms),
  };
  const x = (v: number | null) => (v === null ? '-' : `${v.toFixed(2)}x`);
  console.log(
    `\n${big?.name ?? '-'} / ${small?.name ?? '-'} (${x(ratios.nodes)} the nodes): peak RSS build ${x(ratios.buildRss)}, check ${x(ratios.checkRss)}, floor ${x(ratios.floorRss)}; time build ${x(ratios.buildTime)}, check ${x(ratios.checkTime)}, floor ${x(ratios.floorTime)}`,
  );
  // `--only` prints its figures and leaves results-rss.json as the last full run wrote it.
  if (!value('--only')) {
    const file = join(repo, 'bench/results-rss.json');
    writeFileSync(
      file,
      JSON.stringify({ version: 1, machine: machineOf(), rounds: rssRounds, cases: rss, bigVsSmall: ratios }, null, 2) + '\n',
    );
    console.log(`\nwrote ${relative(process.cwd(), file)}`);
  }
  process.exit(0);
}

// The compiled CLI is what users run: build it first (npm run bench does).
const perCore = flag('--per-core');
const machine = { ...machineOf(), dir: work };
console.log(`harvgen bench: ${machine.node}, ${machine.platform}, ${machine.cpus}, ${machine.memGb} GiB; work dir ${work}`);
const plan: [string, Inventory, number, number, number][] = quick
  ? [
      ['1k-1site', 'simple', 1, 1000, 3],
      ['1k-100sites', 'simple', 100, 10, 3],
      ['rich-1k-1site', 'rich', 1, 1000, 3],
      ['rich-3k-1site', 'rich', 1, 3000, 3],
    ]
  : [
      ['1k-1site', 'simple', 1, 1000, 5],
      ['10k-1site', 'simple', 1, 10000, 3],
      ['1k-100sites', 'simple', 100, 10, 5],
      ['10k-100sites', 'simple', 100, 100, 3],
      ['rich-1k-1site', 'rich', 1, 1000, 5],
      ['rich-3k-1site', 'rich', 1, 3000, 3],
      ['rich-10k-1site', 'rich', 1, 10000, 3],
      ['rich-10k-100sites', 'rich', 100, 100, 3],
    ];
const f = (x: number) => (Number.isNaN(x) ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const r = (x: number) => `${x.toFixed(2)}x`;
/** One case as a row of the table printed at the end (and on stderr as soon as it is measured). */
function row(c: CaseResult): string {
  const { ms, ratios } = c;
  return `| ${c.nodes} ${c.inventory} nodes in ${c.sites} site${c.sites > 1 ? 's' : ''} | ${c.files} | ${f(ms.floor!)} | ${f(ms.cold!)} | ${r(ratios.coldVsFloor)} | ${f(ms.noop!)} | ${r(ratios.noopVsCold)} | ${f(ms.edit!)} | ${r(ratios.editVsCold)} | ${f(ms.watchEdit!)} | ${r(ratios.watchEditVsCold)} | ${f(ms.check!)} | ${r(ratios.checkVsCold)} | ${f(ms.deploy!)} | ${r(ratios.deployVsCold)} | ${f(ms.deployNoop!)} | ${r(ratios.deployNoopVsDeploy)} | ${f(c.rssMb.cold!)} | ${c.load[0]}; ${c.load[1]} |`;
}
/** One case's CPU time, allocation and garbage collection, as a row of the second table. */
function cpuRow(c: CaseResult): string {
  const { cpuMs, ratios, allocKbPerNode: a, gcMs } = c;
  return `| ${c.nodes} ${c.inventory} nodes in ${c.sites} site${c.sites > 1 ? 's' : ''} | ${f(cpuMs.floor!)} | ${f(cpuMs.cold!)} | ${r(ratios.coldVsFloorCpu)} | ${f(cpuMs.noop!)} | ${r(ratios.noopVsColdCpu)} | ${f(cpuMs.edit!)} | ${r(ratios.editVsColdCpu)} | ${f(a.cold!)} | ${f(a.edit!)} | ${f(gcMs.cold!)} | ${f(gcMs.edit!)} |`;
}
// `--report`: only `harvgen report` at fleet scale (bench/report.ts).
if (flag('--report')) {
  const { benchReport } = await import('./report.ts');
  benchReport(work, probe, Number(value('--rounds') ?? 3), quick);
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}
// `--only a,b`: just those cases (by name).
const only = value('--only')?.split(',');
const rounds = value('--rounds');
const cases: CaseResult[] = [];
const coreCases: CoresResult[] = [];
for (const [name, inventory, sites, perSite, n] of perCore ? plan : []) {
  if (only && !only.includes(name)) continue;
  process.stderr.write(`  ${name}, per core (load ${loadavg()})...\n`);
  coreCases.push(measureCores(name, inventory, sites, perSite, rounds ? Number(rounds) : n));
  process.stderr.write(`${coresRow(coreCases.at(-1)!)}\n`);
}
if (perCore) {
  rmSync(work, { recursive: true, force: true });
  const counts = coreCases[0]?.jobs.map((j) => `--jobs ${j.n} ms`) ?? [];
  console.log(`\n| inventory | files | floor ms | ${counts.join(' | ')} | load at start, end |`);
  console.log(`| --- | --- | --- | ${counts.map(() => '---').join(' | ')} | --- |`);
  for (const c of coreCases) console.log(coresRow(c));
  process.exit(0);
}
for (const [name, inventory, sites, perSite, n] of plan) {
  if (only && !only.includes(name)) continue;
  process.stderr.write(`  ${name} (load ${loadavg()})...\n`);
  cases.push(await measureCase(name, inventory, sites, perSite, rounds ? Number(rounds) : n));
  process.stderr.write(`${row(cases.at(-1)!)}\n${cpuRow(cases.at(-1)!)}\n`);
}
const skipRest = only !== undefined;
const start = skipRest ? undefined : startup(15);
if (!skipRest) process.stderr.write('  bounds...\n');
const bounds = skipRest ? [] : measureBounds(2);
if (!skipRest) {
  process.stderr.write('  report...\n');
  (await import('./report.ts')).benchReport(work, probe, 3, quick);
}
rmSync(work, { recursive: true, force: true });

console.log(
  '\n| inventory | files | floor ms | cold ms | cold/floor | no-op ms | no-op/cold | edit (build) ms | edit/cold | edit (watch) ms | watch/cold | check ms | check/cold | deploy ms | deploy/cold | deploy no-op ms | /deploy | peak RSS MB (cold) | load at start, end |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const c of cases) console.log(row(c));
console.log(
  '\n| inventory | floor CPU ms | cold CPU ms | /floor | no-op CPU ms | /cold | edit (build) CPU ms | /cold | allocated KB per node, cold | edit | GC ms (main thread), cold | edit |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const c of cases) console.log(cpuRow(c));
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
if (start) console.log(`startup: harvgen --version ${f(start.versionMs)} ms, node -e 0 ${f(start.nodeMs)} ms: ${r(start.ratio)}`);
printBounds(bounds);
// The limits the rich inventories keep (a no-op, committed or deploy, at most a tenth of its cold
// build; a 10,000-node rich site's cold build within 300 MB): each case measured, met or not. What
// part of each cold build Node.js's own start is (`node -e 0`), which no no-op can go below.
for (const c of cases.filter((x) => x.inventory === 'rich'))
  if (start) console.log(`${c.name}: node -e 0 alone is ${(start.nodeMs / c.ms.cold!).toFixed(3)} of its cold build`);
const limits = cases
  .filter((c) => c.inventory === 'rich')
  .flatMap((c) => [
    { case: c.name, what: 'no-op / cold', value: c.ratios.noopVsCold, limit: 0.1 },
    { case: c.name, what: 'deploy no-op / deploy', value: c.ratios.deployNoopVsDeploy, limit: 0.1 },
    ...(c.nodes >= 10_000 && c.sites === 1 ? [{ case: c.name, what: 'peak RSS MB (cold)', value: c.rssMb.cold!, limit: 300 }] : []),
    // The speed goals (docs/dev/speed-history.md, "Speed IV"): by CPU time against the floor's in
    // the same run; a watch edit by wall time (the watching process runs on: its CPU is not its edit's).
    ...(c.nodes >= 10_000
      ? [
          { case: c.name, what: 'cold CPU / floor CPU', value: c.ratios.coldVsFloorCpu, limit: c.sites === 1 ? 3 : 4 },
          { case: c.name, what: 'edit (build) CPU / cold CPU', value: c.ratios.editVsColdCpu, limit: 0.05 },
          { case: c.name, what: 'edit (watch) wall / cold wall', value: c.ratios.watchEditVsCold, limit: 0.02 },
        ]
      : []),
  ])
  .map((l) => ({ ...l, value: Math.round(l.value * 1000) / 1000, met: l.value <= l.limit }));
for (const l of limits) console.log(`limit ${l.case} ${l.what}: ${l.value} (<= ${l.limit}: ${l.met ? 'met' : 'MISSED'})`);
const result = {
  version: 2,
  machine: { ...machine, dir: undefined },
  quick,
  cases,
  perNodeCost10kVs1k: flat,
  startup: start,
  bounds,
  limits,
};
const file = join(repo, 'bench/results.json');
mkdirSync(join(repo, 'bench'), { recursive: true });
// A partial run (`--only`) prints its figures and leaves results.json as the last full run wrote it.
if (!skipRest) writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
if (!skipRest) console.log(`\nwrote ${relative(process.cwd(), file)}`);
