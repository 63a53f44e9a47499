// `npm run bench:fleet-publish`: `harvgen publish` to a real registry, measured as whole processes
// (a benchmark, never a timed test). It writes a git repository of `--sites N` (default 1,000)
// rich sites of `--nodes N` (default 100) nodes (the nodes of bench/gen.ts's rich inventory:
// bonds, several MACs, VLANs, `config:`, iSCSI and generic OS nodes, one warning per site, the
// token from the environment, the password from a file, a profile and repo-wide defaults), each
// with `signing:` (one ed25519 key made with ssh-keygen, shared, under the git-ignored secrets/)
// and `publish:` (its own 64-hex publishing key), commits it, and starts the CNCF Distribution
// registry (Debian's /usr/bin/docker-registry) on 127.0.0.1 and a free port, its storage on
// tmpfs when there is room, plain HTTP and no authentication: the figures are harvgen's cost,
// not TLS's or a password hash's. Then, each as a whole process (wall time, CPU time user +
// system, peak RSS reported by the process itself at exit):
//   floor        node -e 0
//   baseline     harvgen build <every site> --deploy --out <dir> (as typed: default jobs), then
//                rsync -a of the deploy tree (what a fleet without a registry does)
//   cold         harvgen publish <every site> into the empty registry
//   edit-all     one node file of one site edited and committed: the baseline again (an
//                incremental build and rsync), then publish <every site> (what a CI job on main
//                runs), then publish <every site> once more with nothing changed
//   empty runner the records committed and the repository cloned (a CI runner that starts empty:
//                no cache directory, the git-ignored keys copied in), a one-node edit committed in
//                both; the baseline (incremental build --deploy + rsync -a) on the operator's
//                machine, then publish <every site> in the clone: the registry's fleet state
//                answers the unchanged sites (one read for the namespace)
//   edit-one     another one-node edit, then publish <that site>
//   profile      another one-node edit, publish <that site> under node --cpu-prof, and a cold
//                publish of 5 sites into a namespace of their own under it: the time by
//                library, by function (self) and harvgen's functions (inclusive)
// Bytes, blobs and requests come from the `transfer` of `publish --json` (its bytes count every
// request body: blobs and manifests, the index once per PUT); the registry's size from du, its
// CPU time from /proc, the blobs and manifests the one-site edit stored from their mtimes.
// Prints a table and writes bench/results-fleet-publish.json (or --results <file>).
//   npm run bench:fleet-publish [-- --sites N] [-- --nodes N] [-- --dir /dev/shm] [-- --keep] [-- --no-write] [-- --results <file>]
// Targets: the one-node edit of one site in <= 1 s and < 64 KB uploaded; publish <every site> after
// a one-node edit, on the operator's machine and on the empty runner, each <= 1.5x the baseline
// measured in the same run; a cold publish <= 2x the cold baseline. Publish's
// state and the build's key live in the bench's own XDG_CACHE_HOME.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  statSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateRichRepo, RICH_TOKEN_ENV, siteName as richSiteDir } from './gen.ts';
import { shellTimed } from './shell-times.ts';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin/harvgen.js');
const args = process.argv.slice(2);
const value = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const SITES = Number(value('--sites') ?? 1000);
const NODES = Number(value('--nodes') ?? 100);
if (!Number.isInteger(SITES) || SITES < 1 || SITES > 4096 || !Number.isInteger(NODES) || NODES < 1 || NODES > 250) {
  console.error('bench:fleet-publish: --sites 1..4096, --nodes 1..250 (a /22 per site)');
  process.exit(2);
}
for (const [program, probeArgs] of [
  ['/usr/bin/docker-registry', ['--version']],
  ['ssh-keygen', ['-?']],
  ['git', ['--version']],
] as const) {
  const r = spawnSync(program, probeArgs);
  if (r.error) {
    console.error(`bench:fleet-publish needs ${program} (Debian: docker-registry, openssh-client, git)`);
    process.exit(2);
  }
}
const work = mkdtempSync(join(value('--dir') ?? tmpdir(), 'harvgen-publish-bench-'));
const root = join(work, 'repo');
const records = join(work, 'published');
// The build state's key and publish's state of each site, kept in the bench's own directory.
const cacheHome = join(work, 'cache');
process.env[RICH_TOKEN_ENV] ??= 'bench-env-token-0123456789abcdef';

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

const h2 = (n: number) => n.toString(16).padStart(2, '0');
export const publishSiteName = (i: number) => `p${String(i).padStart(4, '0')}`;
/** The first octets of site `i`'s /22: 10.a.b.0/22 (from 10.64.0.0 on, up to 4,096 sites). */
const net22 = (i: number): [number, number] => [64 + (i >> 6), (i & 63) * 4];

/**
 * A rich site of bench/gen.ts (`generateRichRepo`'s site and nodes, written once as a template)
 * moved to the address plan of site `i` (a /22 and MAC prefix of its own, so 4,096 sites pass the
 * checks between sites), with `signing:` and `publish:`.
 */
function siteText(template: string, i: number, publicKey: string, registry: string): string {
  const [a, b] = net22(i);
  const name = publishSiteName(i);
  return (
    template
      .replaceAll('r000', name)
      .replace('cidr: 10.100.0.0/16', `cidr: 10.${a}.${b}.0/22`)
      .replace('dhcp_range: 10.100.220.1-10.100.220.250', `dhcp_range: 10.${a}.${b + 3}.1-10.${a}.${b + 3}.250`)
      .replace(/10\.100\.(\d+)\./g, (_, o: string) => `10.${a}.${b + Number(o)}.`) +
    [
      'signing:',
      '  private_key: { file: ../../secrets/harvgen-sign }',
      `  public_key: ${publicKey}`,
      'publish:',
      `  registry: ${registry}`,
      '  key: { file: secrets/publish-key }',
      '',
    ].join('\n')
  );
}

function nodeTextOf(template: string, i: number): string {
  const [a, b] = net22(i);
  return template
    .replace(/b4:96:01:(\d)0:/g, (_, nic: string) => `b4:9${nic}:${h2(i >> 8)}:${h2(i & 255)}:`)
    .replace(/10\.100\.(\d+)\./g, (_, o: string) => `10.${a}.${b + Number(o)}.`);
}

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.net',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.net',
};
const git = (...a: string[]) =>
  execFileSync('git', a, {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: gitEnv,
  });

/** Write and commit the repository; returns the site directories (relative to the repository). */
function generate(registry: string): string[] {
  // The rich inventory's defaults, profile, password, and one site as the template.
  generateRichRepo(root, 1, NODES);
  rmSync(join(root, '.git'), { recursive: true, force: true });
  const tdir = join(root, 'sites', richSiteDir(0));
  const siteTemplate = readFileSync(join(tdir, 'site.yaml'), 'utf8');
  const nodeTemplates = readdirSync(join(tdir, 'nodes'))
    .sort()
    .map((f) => [f, readFileSync(join(tdir, 'nodes', f), 'utf8')] as const);
  rmSync(tdir, { recursive: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'harvgen-bench', '-f', join(root, 'secrets/harvgen-sign')]);
  const publicKey = readFileSync(join(root, 'secrets/harvgen-sign.pub'), 'utf8').trim();
  writeFileSync(join(root, '.gitignore'), 'secrets/\nsites/*/secrets/\n');
  const dirs: string[] = [];
  for (let i = 0; i < SITES; i++) {
    const rel = join('sites', publishSiteName(i));
    const dir = join(root, rel);
    mkdirSync(join(dir, 'nodes'), { recursive: true });
    mkdirSync(join(dir, 'secrets'), { recursive: true });
    writeFileSync(join(dir, 'secrets/publish-key'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'site.yaml'), siteText(siteTemplate, i, publicKey, registry));
    for (const [f, text] of nodeTemplates) writeFileSync(join(dir, 'nodes', f), nodeTextOf(text, i));
    dirs.push(rel);
  }
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', `${SITES} sites of ${NODES} nodes`);
  return dirs;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = net.createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => done(port));
    });
  });
}

/** Where the registry keeps its blobs: tmpfs when it has room (a 1,000-site fleet needs a few hundred MB). */
function storageBase(): string {
  try {
    const s = statfsSync('/dev/shm');
    if (s.bavail * s.bsize > 4 * 1024 ** 3) return '/dev/shm';
  } catch {
    /* no /dev/shm */
  }
  return work;
}

let registry: ChildProcess | undefined;
let storage: string | undefined;

async function startRegistry(port: number): Promise<void> {
  storage = mkdtempSync(join(storageBase(), 'harvgen-publish-bench-registry-'));
  const config = join(work, 'registry.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  cache:',
      '    blobdescriptor: inmemory',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  // Its log (a 404 for each blob or manifest it lacks is logged at level error) to a file, not the table.
  const log = openSync(join(work, 'registry.log'), 'a');
  registry = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', log, log] });
  closeSync(log);
  const until = Date.now() + 30_000;
  for (;;) {
    if (registry.exitCode !== null) throw new Error(`docker-registry exited ${registry.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/`)).status === 200) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error('docker-registry did not answer in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopRegistry(): Promise<void> {
  const r = registry;
  if (!r || r.exitCode !== null || r.signalCode !== null) return;
  const exited = new Promise((done) => r.once('exit', done));
  r.kill('SIGTERM');
  const timer = setTimeout(() => r.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
// Never a registry left behind, however the bench ends.
process.on('exit', () => {
  if (registry && registry.exitCode === null && registry.signalCode === null) registry.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    if (registry && registry.exitCode === null) registry.kill('SIGKILL');
    process.exit(130);
  });

interface Transfer {
  blobsUploaded: number;
  blobsSkipped: number;
  blobsMounted: number;
  bytesUploaded: number;
  manifestsPut: number;
  requests: number;
}

/** The registry's CPU time so far (user + system, s), from /proc. */
function registryCpu(): number {
  if (!registry?.pid) return 0;
  try {
    const f = readFileSync(`/proc/${registry.pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

interface Run {
  s: number;
  /** The registry's CPU time during the run (s). */
  registryCpuS?: number;
  cpuS: number;
  rssMb: number;
  stdout: string;
  transfer?: Transfer;
  changed?: number;
  compiled?: number;
  sites?: number;
}

function run(cmd: string[], nodeArgs: string[] = [], where: { cwd: string; cache: string } = { cwd: root, cache: cacheHome }): Run {
  const rssFile = join(work, `rss-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const reg0 = registryCpu();
  const r = spawnSync(process.execPath, ['--import', probe, ...nodeArgs, ...cmd], {
    cwd: where.cwd,
    env: { ...process.env, HARVGEN_BENCH_RSS_FILE: rssFile, NO_COLOR: '1', XDG_CACHE_HOME: where.cache },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 30,
  });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(' ').slice(0, 200)} exited ${r.status}: ${r.stderr.toString().slice(0, 3000)}`);
  const [rss, cpu] = readFileSync(rssFile, 'utf8').split(' ').map(Number) as [number, number];
  rmSync(rssFile);
  return { s, cpuS: cpu / 1e6, rssMb: rss / 1024, stdout: r.stdout.toString(), registryCpuS: registryCpu() - reg0 };
}

/** `rsync -a <from>/ <to>/` (what the baseline ships the deploy tree with): wall and CPU time (bash's `times`). */
function rsync(from: string, to: string): Run {
  const { s, cpuS } = shellTimed('rsync -a --delete "$1/" "$2/"', [from, to]);
  return { s, cpuS, rssMb: 0, stdout: '' };
}

/** Two runs one after the other, as one figure (wall and CPU add up, the larger RSS). */
const sum = (a: Run, b: Run): Run => ({ s: a.s + b.s, cpuS: a.cpuS + b.cpuS, rssMb: Math.max(a.rssMb, b.rssMb), stdout: '' });

function publishRun(dirs: readonly string[], nodeArgs: string[] = [], where?: { cwd: string; cache: string; records: string }): Run {
  const r = run([bin, 'publish', ...dirs, '--insecure', '--json', '--record', where?.records ?? records], nodeArgs, where);
  const doc = JSON.parse(r.stdout) as {
    ok: boolean;
    transfer: Transfer;
    published: { changed: boolean; compiled: boolean }[];
    diagnostics: unknown[];
  };
  if (!doc.ok) throw new Error(`publish did not pass: ${JSON.stringify(doc.diagnostics.slice(0, 3))}`);
  return {
    ...r,
    stdout: '',
    transfer: doc.transfer,
    changed: doc.published.filter((p) => p.changed).length,
    compiled: doc.published.filter((p) => p.compiled).length,
    sites: doc.published.length,
  };
}

/** The blobs (and manifests, which the registry keeps as blobs too) written since `since` (ms): their sizes, largest first. */
function newBlobs(since: number): number[] {
  const sizes: number[] = [];
  const base = join(storage!, 'docker/registry/v2/blobs/sha256');
  for (const p of readdirSync(base))
    for (const d of readdirSync(join(base, p))) {
      const st = statSync(join(base, p, d, 'data'));
      if (st.mtimeMs >= since) sizes.push(st.size);
    }
  return sizes.sort((a, b) => b - a);
}

const du = (dir: string) => Number(spawnSync('du', ['-sb', dir], { encoding: 'utf8' }).stdout.split('\t')[0]);

/** Edit node `k` of site 0 (add kernel arguments of its own) and commit. */
function editNode(k: number, arg: string, top = root): string {
  const file = join(top, 'sites', publishSiteName(0), 'nodes', `n${String(k % NODES).padStart(5, '0')}.yaml`);
  writeFileSync(file, `${readFileSync(file, 'utf8')}kernel_args: [nomodeset, ${arg}]\n`);
  execFileSync('git', ['-C', top, 'commit', '-q', '-a', '-m', `${publishSiteName(0)}: ${arg} on node ${k}`], { env: gitEnv });
  return file;
}

/** Where a .cpuprofile's time goes: by self time (functions, files, libraries) and the harvgen functions by inclusive time. */
function summarizeProfile(file: string, top = 15) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const where = (n: (typeof p.nodes)[number]) => {
    const url = n.callFrame.url.replace(`file://${repo}/`, '').replace(/^file:\/\//, '') || '(native)';
    return { url, name: `${n.callFrame.functionName || '(anonymous)'} ${url}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}` };
  };
  // A library, harvgen's own code, Node's internals, or the engine (garbage collector, idle).
  const library = (url: string) =>
    url.startsWith('node_modules/')
      ? url.split('/')[1]!
      : url.startsWith('dist/') || url.startsWith('src/')
        ? `harvgen ${url.split('/')[1]}`
        : url.startsWith('node:')
          ? 'node internals'
          : url;
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const libs = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const n = byId.get(id)!;
    const w = where(n);
    const key = w.url === '(native)' ? w.name : w.url;
    self.set(w.name, (self.get(w.name) ?? 0) + dt);
    files.set(key, (files.get(key) ?? 0) + dt);
    const lib = w.url === '(native)' ? n.callFrame.functionName : library(w.url);
    libs.set(lib, (libs.get(lib) ?? 0) + dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const x = byId.get(at)!;
      const wx = where(x);
      if (!wx.url.startsWith('dist/') || seen.has(wx.name)) continue;
      seen.add(wx.name);
      inclusive.set(wx.name, (inclusive.get(wx.name) ?? 0) + dt);
    }
  });
  const list = (m: Map<string, number>, n = top) =>
    [...m]
      .sort((x, y) => y[1] - x[1])
      .slice(0, n)
      .map(([at, ms]) => ({ ms: Math.round(ms), share: Math.round((ms / total) * 1000) / 10, where: at }));
  return {
    total_ms: Math.round(total),
    libraries: list(libs, 12),
    files: list(files),
    self: list(self),
    harvgen_inclusive: list(inclusive, 25),
  };
}

async function main() {
  console.log(
    `machine: ${cpus()[0]?.model ?? '?'} x${availableParallelism()}, node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const port = await freePort();
  const registryRef = `127.0.0.1:${port}/bench`;
  let t0 = performance.now();
  const dirs = generate(registryRef);
  const inputBytes = du(join(root, 'sites'));
  console.log(
    `generated and committed ${SITES} sites x ${NODES} nodes (${(inputBytes / 1e6).toFixed(1)} MB of inventory) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  await startRegistry(port);
  console.log(`registry: docker-registry on 127.0.0.1:${port}, storage ${storage}, plain HTTP, no auth`);
  const results: Record<string, Run & { registryBytes?: number }> = {};
  const line = (name: string, r: Run, extra = '') =>
    console.log(
      `${name.padEnd(28)} ${r.s.toFixed(2).padStart(8)} s wall ${r.cpuS.toFixed(2).padStart(8)} s CPU ${r.rssMb.toFixed(0).padStart(5)} MB RSS${
        r.transfer
          ? `  ${(r.transfer.bytesUploaded / 1024).toFixed(1).padStart(9)} KiB up, ${String(r.transfer.blobsUploaded).padStart(6)} blobs up, ${String(r.transfer.blobsSkipped).padStart(6)} skipped, ${String(r.transfer.manifestsPut).padStart(5)} manifests, ${String(r.transfer.requests).padStart(6)} requests, ${r.changed}/${r.sites} changed, ${r.compiled} compiled`
          : ''
      }${r.transfer ? `, registry ${r.registryCpuS!.toFixed(1)} s CPU` : ''}${extra}`,
    );
  results.floor = run(['-e', '0']);
  line('floor (node -e 0)', results.floor);
  // The baseline: what a fleet without a registry does, `build --deploy sites/*` (as typed: its
  // default jobs) and `rsync -a` of the deploy tree to where it is served from.
  const out = join(work, 'out');
  const mirror = join(work, 'mirror');
  results.build = run([bin, 'build', ...dirs, '--deploy', '--out', out]);
  line(`build --deploy (${SITES} sites)`, results.build);
  results.rsyncCold = rsync(out, mirror);
  line('rsync -a of the deploy tree', results.rsyncCold);
  results.baselineCold = sum(results.build, results.rsyncCold);

  results.cold = publishRun(dirs);
  results.cold.registryBytes = du(storage!);
  line(`publish cold (${SITES} sites)`, results.cold, `, registry ${(results.cold.registryBytes / 1e6).toFixed(1)} MB`);

  // One node of one site edited and committed: the baseline rebuilds and rsyncs, publish sites/* publishes.
  editNode(3, 'pci=realloc');
  await new Promise((r) => setTimeout(r, 150)); // past the racy window of the edited file's stamp
  results.buildEdit = run([bin, 'build', ...dirs, '--deploy', '--out', out]);
  line(`edit: build --deploy (${SITES} sites)`, results.buildEdit);
  results.rsyncEdit = rsync(out, mirror);
  line('edit: rsync -a', results.rsyncEdit);
  results.baselineEdit = sum(results.buildEdit, results.rsyncEdit);
  results.editAll = publishRun(dirs);
  results.editAll.registryBytes = du(storage!);
  line(`edit: publish ${SITES} sites`, results.editAll, `, registry ${(results.editAll.registryBytes / 1e6).toFixed(1)} MB`);
  results.noopAll = publishRun(dirs);
  line(`no change: publish ${SITES} sites`, results.noopAll);

  // A CI runner that starts empty: a fresh clone of the repository (the fleet records committed, as
  // docs/fleet.md says), the git-ignored keys put in as a CI secret store would, no cache directory.
  // A one-node edit arrives as a commit; the baseline is the same edit on the operator's machine
  // (an incremental build --deploy and rsync -a); the runner publishes every site.
  cpSync(records, join(root, 'published'), { recursive: true });
  git('add', 'published');
  git('commit', '-q', '-m', 'published');
  const runner = join(work, 'runner');
  execFileSync('git', ['clone', '-q', root, runner]);
  cpSync(join(root, 'secrets'), join(runner, 'secrets'), { recursive: true });
  for (const d of dirs) cpSync(join(root, d, 'secrets'), join(runner, d, 'secrets'), { recursive: true });
  editNode(7, 'quiet');
  editNode(7, 'quiet', runner);
  await new Promise((r) => setTimeout(r, 150));
  results.buildRunner = run([bin, 'build', ...dirs, '--deploy', '--out', out]);
  results.rsyncRunner = rsync(out, mirror);
  results.baselineRunner = sum(results.buildRunner, results.rsyncRunner);
  line(`edit: build --deploy + rsync -a (${SITES} sites)`, results.baselineRunner);
  // The site directories are relative: the same in the runner's clone.
  results.runnerAll = publishRun(dirs, [], { cwd: runner, cache: join(work, 'runner-cache'), records: join(runner, 'published') });
  line(`empty runner: publish ${SITES} sites`, results.runnerAll);
  if (results.runnerAll.compiled !== 1)
    throw new Error(`the empty runner compiled ${results.runnerAll.compiled} sites, not the one edited`);

  editNode(5, 'pcie_ports=native');
  const before = Date.now() - 1;
  await new Promise((r) => setTimeout(r, 150));
  results.editOne = publishRun([dirs[0]!]);
  const stored = newBlobs(before);
  line('edit: publish 1 site', results.editOne);
  console.log(`  stored by it (blobs and manifests, bytes): ${stored.join(', ')} = ${stored.reduce((a, b) => a + b, 0)} bytes`);
  const oneSiteCold = run([bin, 'build', dirs[0]!, '--deploy', '--out', join(work, 'out1'), '--jobs', '1']);
  line('build --deploy (1 site)', oneSiteCold);
  results.buildOne = oneSiteCold;

  // Where the one-site publish's time goes: another one-node edit under the profiler.
  editNode(4, 'pcie_aspm=off');
  const profDir = join(work, 'prof');
  results.profiled = publishRun([dirs[0]!], ['--cpu-prof', '--cpu-prof-dir', profDir]);
  line('edit: publish 1 site (prof)', results.profiled);
  const prof = summarizeProfile(
    join(
      profDir,
      readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!,
    ),
  );
  const show = (title: string, xs: { ms: number; share: number; where: string }[]) => {
    console.log(title);
    for (const f of xs) console.log(`  ${String(f.ms).padStart(6)} ms ${f.share.toFixed(1).padStart(5)}%  ${f.where}`);
  };
  const showProfile = (what: string, p: ReturnType<typeof summarizeProfile>) => {
    console.log(`profile of ${what}: ${p.total_ms} ms sampled`);
    show('by library (self time):', p.libraries);
    show('by function (self time):', p.self.slice(0, 12));
    show("harvgen's functions (inclusive time, synchronous stacks only):", p.harvgen_inclusive.slice(0, 20));
  };
  showProfile('the one-site edit', prof);

  // Where a cold publish's time goes: a few sites into a namespace of their own (nothing there yet).
  const coldProfDir = join(work, 'prof-cold');
  const few = dirs.slice(0, Math.min(5, dirs.length));
  const coldRun = run(
    [bin, 'publish', ...few, '--insecure', '--json', '--record', join(work, 'published-prof'), '--registry', `127.0.0.1:${port}/profile`],
    ['--cpu-prof', '--cpu-prof-dir', coldProfDir],
  );
  results.coldProfiled = coldRun;
  line(`publish cold (${few.length} sites, prof)`, coldRun);
  const coldProf = summarizeProfile(
    join(
      coldProfDir,
      readdirSync(coldProfDir).find((f) => f.endsWith('.cpuprofile'))!,
    ),
  );
  showProfile(`a cold publish of ${few.length} sites`, coldProf);

  const e1 = results.editOne;
  const target = { seconds: 1, bytes: 64 * 1024 };
  console.log(
    `target one-node edit <= 1 s: ${e1.s <= target.seconds ? 'met' : 'MISSED'} (${e1.s.toFixed(2)} s wall, ${e1.cpuS.toFixed(2)} s CPU); < 64 KB: ${
      e1.transfer!.bytesUploaded < target.bytes ? 'met' : 'MISSED'
    } (${e1.transfer!.bytesUploaded} bytes)`,
  );
  const floor = results.floor.s;
  const ratio = (a: Run, b: Run) => ({ wall: Math.round((a.s / b.s) * 100) / 100, cpu: Math.round((a.cpuS / b.cpuS) * 100) / 100 });
  const editRatio = ratio(results.editAll, results.baselineEdit);
  const runnerRatio = ratio(results.runnerAll, results.baselineRunner);
  const coldRatio = ratio(results.cold, results.baselineCold);
  console.log(
    `publish sites/* after a one-node edit / (build --deploy sites/* + rsync -a): ${editRatio.wall}x wall, ${editRatio.cpu}x CPU (target <= 1.5x: ${editRatio.wall <= 1.5 ? 'met' : 'MISSED'})`,
  );
  console.log(
    `the same on a CI runner that starts empty: ${runnerRatio.wall}x wall, ${runnerRatio.cpu}x CPU (target <= 1.5x: ${runnerRatio.wall <= 1.5 ? 'met' : 'MISSED'}); ${results.runnerAll.transfer!.requests} requests`,
  );
  console.log(
    `cold publish / (cold build --deploy + rsync -a): ${coldRatio.wall}x wall, ${coldRatio.cpu}x CPU; with the registry's CPU ${(
      (results.cold.cpuS + results.cold.registryCpuS!) /
      results.baselineCold.cpuS
    ).toFixed(
      2,
    )}x (target <= 2x wall: ${coldRatio.wall <= 2 ? 'met' : 'MISSED'}); ${(results.cold.transfer!.requests / SITES).toFixed(1)} requests per site`,
  );
  console.log(
    `ratios: cold publish / build --deploy ${(results.cold.s / results.build.s).toFixed(2)} wall, ${(results.cold.cpuS / results.build.cpuS).toFixed(2)} CPU; edit 1 site / node -e 0 ${(e1.s / floor).toFixed(1)}; edit 1 site / build 1 site ${(e1.s / oneSiteCold.s).toFixed(2)}`,
  );
  const fig = (r: Run & { registryBytes?: number }) => ({
    wall_s: Math.round(r.s * 100) / 100,
    cpu_s: Math.round(r.cpuS * 100) / 100,
    peak_rss_mb: Math.round(r.rssMb),
    ...(r.transfer
      ? {
          bytes_uploaded: r.transfer.bytesUploaded,
          blobs_uploaded: r.transfer.blobsUploaded,
          blobs_skipped: r.transfer.blobsSkipped,
          blobs_mounted: r.transfer.blobsMounted,
          manifests_put: r.transfer.manifestsPut,
          requests: r.transfer.requests,
          sites_changed: r.changed,
          sites_compiled: r.compiled,
          registry_cpu_s: Math.round(r.registryCpuS! * 100) / 100,
        }
      : {}),
    ...(r.registryBytes !== undefined ? { registry_bytes_after: r.registryBytes } : {}),
  });
  const doc = {
    generated: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? '?',
      cores: availableParallelism(),
      node: process.version,
      load_at_end: loadavg().map((l) => Math.round(l * 10) / 10),
    },
    sites: SITES,
    nodes_per_site: NODES,
    registry:
      'docker-registry 2.8 (Debian), 127.0.0.1, plain HTTP, no auth, filesystem storage' +
      (storage!.startsWith('/dev/shm') ? ' on tmpfs' : ''),
    inventory_bytes: inputBytes,
    floor_node_e_0: fig(results.floor),
    build_deploy_all: fig(results.build),
    rsync_deploy_tree_cold: fig(results.rsyncCold),
    baseline_cold: fig(results.baselineCold),
    edit_build_deploy_all: fig(results.buildEdit),
    edit_rsync_deploy_tree: fig(results.rsyncEdit),
    baseline_edit: fig(results.baselineEdit),
    ratios: {
      edit_publish_all_over_baseline: editRatio,
      empty_runner_publish_all_over_baseline: runnerRatio,
      cold_publish_over_baseline: coldRatio,
      cold_publish_with_registry_cpu_over_baseline_cpu:
        Math.round(((results.cold.cpuS + results.cold.registryCpuS!) / results.baselineCold.cpuS) * 100) / 100,
      cold_requests_per_site: Math.round((results.cold.transfer!.requests / SITES) * 10) / 10,
    },
    build_deploy_one_site_jobs1: fig(results.buildOne),
    publish_cold_all: fig(results.cold),
    edit_publish_one_site: { ...fig(results.editOne), stored_blob_and_manifest_sizes: stored },
    edit_publish_all_sites: fig(results.editAll),
    noop_publish_all_sites: fig(results.noopAll),
    empty_runner_edit_baseline: fig(results.baselineRunner),
    empty_runner_publish_all_sites: fig(results.runnerAll),
    edit_publish_one_site_profiled: fig(results.profiled),
    targets: {
      one_site_edit_wall_s: target.seconds,
      one_site_edit_bytes: target.bytes,
      met_time: e1.s <= target.seconds,
      met_bytes: e1.transfer!.bytesUploaded < target.bytes,
    },
    profile_one_site_edit: prof,
    publish_cold_few_profiled: { sites: few.length, ...fig(results.coldProfiled) },
    profile_cold_publish_few: coldProf,
  };
  if (!args.includes('--no-write')) {
    const out = resolve(value('--results') ?? join(repo, 'bench/results-fleet-publish.json'));
    writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`wrote ${out}`);
  }
}

try {
  await main();
} finally {
  await stopRegistry();
  if (storage) rmSync(storage, { recursive: true, force: true });
  if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
