// `npm run bench:fleet-verify`: `harvgen verify --fleet` over a large fleet, measured as a whole
// process (a benchmark, never a timed test). It writes 1,000 sites (`--sites N`), each a tree
// like one `harvgen pull` materializes (boot.ipxe, unknown.ipxe, manifest.json, 100 nodes' worth
// of small files: an iPXE script, a Harvester config and a libvirt domain per node, `--nodes N`)
// with its state.json beside it, a fleet record per site (`published/<site>.json`, its sample 16
// public files), and one real nginx with a server block per site on its own loopback address
// (127.1.x.y:8080; Linux routes all of 127/8 to lo). Then it times `harvgen verify --fleet
// published/ --json` (wall time, peak RSS from getrusage at the process's exit, requests from
// its document and from nginx's access log) and checks that every site passed.
//   npm run bench:fleet-verify [-- --sites N] [-- --nodes N] [-- --concurrency N] [-- --dir /dev/shm] [-- --keep]
// Target: 1,000 sites in at most 5 minutes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { shellTimed } from './shell-times.ts';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin/harvgen.js');
const probe = join(repo, 'bench/rss-probe.cjs');
const args = process.argv.slice(2);
const value = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const SITES = Number(value('--sites') ?? 1000);
const NODES = Number(value('--nodes') ?? 100);
const CONCURRENCY = value('--concurrency');
const PORT = 8080;
const work = mkdtempSync(join(value('--dir') ?? tmpdir(), 'harvgen-fleet-bench-'));

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const address = (i: number) => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
const siteName = (i: number) => `site_${String(i).padStart(4, '0')}`;
const mac = (n: number) => `52-54-00-${[n >> 16, (n >> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0')).join('-')}`;

if (process.platform !== 'linux' || spawnSync('nginx', ['-v']).error) {
  console.error('bench:fleet-verify needs Linux (127/8 on lo) and nginx (Debian: apt-get install nginx)');
  process.exit(2);
}
if (spawnSync(process.execPath, [bin, '--version']).status !== 0)
  spawnSync('npm', ['run', 'build', '--silent'], { cwd: repo, stdio: 'inherit' });

/** The node files every site holds (the same bytes at every site: hard links, so 1,000 sites fit in a few MB). */
function writeTemplate(dir: string): string[] {
  const files: string[] = [];
  const put = (rel: string, text: string) => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
    files.push(rel);
  };
  for (let n = 0; n < NODES; n++) {
    const host = `hv-${n + 1}`;
    put(
      `ipxe/${mac(n)}.ipxe`,
      `#!ipxe\n# ${host}\nkernel http://boot/artifacts/v1.4.1/harvester-v1.4.1-vmlinuz-amd64 initrd=initrd ip=dhcp harvester.install.config_url=http://boot/harvester/${host}.yaml\ninitrd http://boot/artifacts/v1.4.1/harvester-v1.4.1-initrd-amd64\nboot\n`,
    );
    put(
      `harvester/${host}.yaml`,
      `scheme_version: 1\ntoken: bench-token\nos:\n  hostname: ${host}\ninstall:\n  mode: join\n  device: /dev/vda\n`,
    );
    put(`libvirt/${host}.xml`, `<domain type="kvm"><name>${host}</name><memory unit="GiB">16</memory></domain>\n`);
  }
  return files;
}

/** One site: its tree (unique entry scripts, the node files linked), state.json and record. */
function writeSite(i: number, template: string, nodeFiles: readonly string[], records: string): string {
  const site = siteName(i);
  const root = join(work, 'srv', site);
  for (const d of ['ipxe', 'harvester', 'libvirt', 'nginx']) mkdirSync(join(root, d), { recursive: true });
  const boot = `#!ipxe\n# ${site}\nchain ipxe/\${net0/mac:hexhyp}.ipxe || chain unknown.ipxe\n`;
  const unknown = `#!ipxe\n# ${site}: a machine harvgen does not know\nchain http://${address(i)}:${PORT}/harvgen-discover || shell\n`;
  writeFileSync(join(root, 'boot.ipxe'), boot);
  writeFileSync(join(root, 'unknown.ipxe'), unknown);
  writeFileSync(join(root, 'manifest.json'), JSON.stringify({ generator: 'harvgen', site, files: nodeFiles.length + 2 }));
  for (const f of nodeFiles) linkSync(join(template, f), join(root, f));
  const digest = `sha256:${sha(site)}`;
  mkdirSync(join(work, 'state', site), { recursive: true });
  writeFileSync(
    join(work, 'state', site, 'state.json'),
    JSON.stringify({
      format: 1,
      site,
      digest,
      previous: `sha256:${sha(`${site}-old`)}`,
      serial: 1764000000,
      commit: sha(site).slice(0, 40),
      switched_at: '2026-11-24T10:00:00Z',
      verdict: { ok: true, checks: 120, failed: 0, at: '2026-11-24T10:00:03Z' },
    }),
  );
  const file = (rel: string, bytes: string | Buffer) => ({ path: rel, sha256: sha(bytes), size: Buffer.byteLength(bytes) });
  const scripts = nodeFiles.filter((f) => f.startsWith('ipxe/')).slice(0, 14);
  const sample = [file('boot.ipxe', boot), file('unknown.ipxe', unknown), ...scripts.map((f) => file(f, readFileSync(join(template, f))))];
  writeFileSync(
    join(records, `${site}.json`),
    JSON.stringify({
      boot_server: `http://${address(i)}:${PORT}`,
      digest,
      repository: `registry.example.net/harvgen/${site}`,
      sample,
      site,
      tag: site,
    }),
  );
  return [
    'server {',
    `    listen ${address(i)}:${PORT};`,
    '    server_name _;',
    `    root ${root};`,
    '    autoindex off;',
    '    absolute_redirect off;',
    '    server_tokens off;',
    '    default_type application/octet-stream;',
    '    location = /boot.ipxe { types { } default_type text/plain; charset utf-8; }',
    '    location = /unknown.ipxe { types { } default_type text/plain; charset utf-8; }',
    '    location ~ "^/ipxe/([0-9a-f]{2}(-[0-9a-f]{2}){5}\\.ipxe)$" { types { } default_type text/plain; charset utf-8; }',
    '    location ~ "^/harvester/([a-z0-9-]+\\.yaml)$" { types { } default_type text/plain; charset utf-8; allow 10.0.0.0/8; deny all; }',
    `    location = /.harvgen/state.json { types { } default_type application/json; alias ${join(work, 'state', site, 'state.json')}; }`,
    '    location / { return 404; }',
    '}',
  ].join('\n');
}

function probeTcp(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = net.connect({ host, port });
    s.once('connect', () => (s.destroy(), done(true)));
    s.once('error', () => done(false));
  });
}

async function main() {
  const t0 = performance.now();
  const template = join(work, 'template');
  const nodeFiles = writeTemplate(template);
  const records = join(work, 'published');
  mkdirSync(records, { recursive: true });
  const servers: string[] = [];
  for (let i = 0; i < SITES; i++) servers.push(writeSite(i, template, nodeFiles, records));
  const prefix = join(work, 'nginx');
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const accessLog = join(prefix, 'access.log');
  writeFileSync(join(prefix, 'sites.conf'), `${servers.join('\n')}\n`);
  writeFileSync(
    join(prefix, 'nginx.conf'),
    [
      'daemon off;',
      'master_process off;',
      'user root;',
      'worker_processes 1;',
      `worker_rlimit_nofile ${SITES * 2 + 4096};`,
      `pid ${join(prefix, 'nginx.pid')};`,
      `error_log ${join(prefix, 'error.log')} warn;`,
      `events { worker_connections ${SITES + 4096}; }`,
      'http {',
      `    access_log ${accessLog} combined buffer=256k;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((n) => `    ${n}_temp_path ${join(prefix, 'tmp', n)};`),
      `    include ${join(prefix, 'sites.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const prepared = performance.now() - t0;
  console.log(
    `${SITES} sites of ${NODES} nodes (${nodeFiles.length + 3} files each) written in ${(prepared / 1000).toFixed(1)} s under ${work}`,
  );
  const nginx: ChildProcess = spawn('nginx', ['-p', `${prefix}/`, '-c', join(prefix, 'nginx.conf'), '-e', 'stderr'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    const until = Date.now() + 30_000;
    while (!(await probeTcp(address(SITES - 1), PORT))) {
      if (nginx.exitCode !== null || Date.now() > until) throw new Error(`nginx did not start (see ${join(prefix, 'error.log')})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const rssFile = join(work, 'rss');
    const started = performance.now();
    const r = spawnSync(
      process.execPath,
      [
        '--require',
        probe,
        bin,
        'verify',
        '--fleet',
        records,
        '--json',
        ...(CONCURRENCY !== undefined ? ['--concurrency', CONCURRENCY] : []),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, HARVGEN_BENCH_RSS_FILE: rssFile, NO_COLOR: '1' } },
    );
    const wallMs = performance.now() - started;
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: number;
      duration_ms: number;
      fleet: { state: string }[];
      diagnostics: unknown[];
    };
    const rssKiB = Number(readFileSync(rssFile, 'utf8').split(' ')[0]);
    // The baseline: curl fetching every site's state.json (what a script would do), 8 at a time
    // as verify runs its checks, each body read and thrown away.
    const urls = join(work, 'curl-urls');
    writeFileSync(
      urls,
      Array.from({ length: SITES }, (_, i) => `url = "http://${address(i)}:${PORT}/.harvgen/state.json"\noutput = "/dev/null"\n`).join(''),
    );
    const curl = shellTimed('curl -sS --fail --parallel --parallel-max 8 -K "$1"', [urls]);
    const curlMs = curl.s * 1000;
    nginx.kill('SIGQUIT');
    await new Promise((done) => nginx.once('exit', done));
    const logged = readFileSync(accessLog, 'utf8').split('\n').filter(Boolean).length;
    const states = new Map<string, number>();
    for (const s of doc.fleet) states.set(s.state, (states.get(s.state) ?? 0) + 1);
    const result = {
      sites: SITES,
      nodes_per_site: NODES,
      exit: r.status,
      ok: doc.ok,
      states: Object.fromEntries(states),
      wall_s: Math.round(wallMs / 100) / 10,
      verify_duration_s: Math.round(doc.duration_ms / 100) / 10,
      requests: doc.checks,
      requests_logged_by_nginx: logged,
      requests_per_s: Math.round(doc.checks / (wallMs / 1000)),
      peak_rss_mib: Math.round(rssKiB / 102.4) / 10,
      target_s: 300,
      baseline_curl_every_state_json: { wall_s: Math.round(curlMs / 100) / 10, cpu_s: Math.round(curl.cpuS * 100) / 100, requests: SITES },
      verify_over_curl_wall: Math.round((wallMs / curlMs) * 10) / 10,
    };
    console.log(JSON.stringify(result, null, 2));
    const resultsFile = value('--results');
    if (resultsFile) writeFileSync(resultsFile, `${JSON.stringify(result, null, 2)}\n`);
    if (r.status !== 0 || !doc.ok) {
      console.error(`verify --fleet did not pass: exit ${r.status}\n${JSON.stringify(doc.diagnostics.slice(0, 5), null, 1)}\n${r.stderr}`);
      process.exitCode = 1;
    } else if (wallMs > 300_000) {
      console.error(`over the target: ${result.wall_s} s > 300 s`);
      process.exitCode = 1;
    }
  } finally {
    if (nginx.exitCode === null) nginx.kill('SIGTERM');
    if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true });
  }
}

await main();
