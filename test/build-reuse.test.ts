// A plain build's reuse of the nodes its last build rendered (src/cache/reuse.ts), under random
// edits (a seeded sequence, the same on every run): after each edit, a build into the reused
// output gives the tree and diagnostics of a fresh build of the same inventory, byte for byte, and
// reuses every node the edit did not reach. Then what must never be reused: a reused file changed
// on disk, a record of another tree kind; and the worker threads' path.
import {
  appendFileSync,
  cpSync,
  existsSync,
  linkSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateRichRepo, nodeFile, RICH_TOKEN_ENV, richNodeText } from '../bench/gen.ts';
import { build, type BuildResult } from '../src/index.ts';
import { isOnDisk, OnDiskArtifact, OutputChangedError } from '../src/render/artifact.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';
import { prng } from './helpers/prng.ts';

const repo = join(import.meta.dirname, '..');

process.env[RICH_TOKEN_ENV] ??= 'bench-env-token-0123456789abcdef';

/** The files of a build's sites that were reused from disk, by site. */
const reusedFiles = (r: BuildResult): number[] => r.compiled.map((s) => (s.artifacts ?? []).filter((a) => isOnDisk(a)).length);

/** Paths whose bytes differ between two trees. */
function differing(a: string, b: string): string[] {
  const [x, y] = [readTree(a), readTree(b)];
  return [...new Set([...x.keys(), ...y.keys()])].filter((p) => x.get(p) !== y.get(p)).sort();
}

const brief = (r: BuildResult) => r.diagnostics.map((d) => [d.code, d.severity, d.message, d.file, d.line, d.col]);

test('random edits: a plain build into the last output always equals a fresh build, reusing what the edit did not reach', async () => {
  const root = tempDir('build-reuse');
  const nodes = 16;
  const [siteDir] = generateRichRepo(root, 1, nodes);
  const sites = [siteDir!.slice(root.length + 1)];
  writeFileSync(join(siteDir!, 'site.yaml'), `${readFileSync(join(siteDir!, 'site.yaml'), 'utf8')}bss:\n  export: true\n`);
  const first = await build({ cwd: root, sites, outDir: 'out', keepArtifacts: true });
  assert.ok(first.ok);
  assert.equal(reusedFiles(first), [0], 'nothing to reuse in the first build');
  const random = prng(37);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const rewrite = (path: string, change: (text: string) => string) => writeFileSync(path, change(readFileSync(path, 'utf8')));
  const present = () => Array.from({ length: nodes + 8 }, (_, k) => k).filter((k) => existsSync(nodeFile(root, 0, k)));
  let next = nodes;
  const site = join(siteDir!, 'site.yaml');
  const profile = join(root, 'sites/_profiles/r650.yaml');
  const defaults = join(root, 'sites/_defaults.yaml');
  // Each edit says whether it leaves most nodes as they were (then most files must be reused).
  const edits: [string, boolean, () => void][] = [
    [
      'a node value',
      true,
      () => {
        const k = pick(present());
        rewrite(nodeFile(root, 0, k), (t) =>
          t.includes('device: ')
            ? t.replace(/device: [^\n]*/, `device: /dev/vd${pick(['b', 'c', 'd', 'e'])}${Math.floor(random() * 100)}`)
            : t.replace(/rack: r\d+/, `rack: r${Math.floor(random() * 90)}`).replace(/lun: \d+/, `lun: ${1 + Math.floor(random() * 9)}`),
        );
      },
    ],
    ['a node added', true, () => writeFileSync(nodeFile(root, 0, next), richNodeText(0, next++))],
    [
      'a node removed',
      // The nodes after it move up a place, and a node's place is part of what it was resolved from.
      false,
      () => {
        const k = pick(present().filter((k) => k > 0));
        rmSync(nodeFile(root, 0, k));
      },
    ],
    [
      'a site value',
      false,
      () =>
        rewrite(site, (t) =>
          pick([
            () => t.replace(/console: \[tty\d/, `console: [tty${pick([0, 1, 2])}`),
            () => t.replace(/dns: \[([\d.]+), [\d.]+\]/, (_, first: string) => `dns: [${first}, 10.100.0.${pick([3, 4, 9])}]`),
            () => t.replace(/ip=dhcp, ro[^\]]*\]/, `ip=dhcp, ro${pick(['', ', quiet', ', rd.debug'])}]`),
          ])(),
        ),
    ],
    ['a profile value', false, () => rewrite(profile, (t) => t.replace(/miimon: \d+/, `miimon: ${pick([100, 200, 300])}`))],
    [
      'the repo defaults',
      false,
      () => rewrite(defaults, (t) => t.replace(/ntp_servers: \[[^\]]*\]/, `ntp_servers: [${pick(['ntp1', 'ntp2', 'ntp3'])}.example.net]`)),
    ],
  ];
  const order = edits
    .map((e) => [random(), e] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, e]) => e);
  let reusedRounds = 0;
  for (let round = 0; round < 20; round++) {
    const chosen = round < order.length ? [order[round]!] : random() < 0.2 ? [pick(edits), pick(edits)] : [pick(edits)];
    const what = `round ${round}: ${chosen.map(([w]) => w).join(' + ')}`;
    for (const [, , edit] of chosen) edit();
    const plain = await build({ cwd: root, sites, outDir: 'out', keepArtifacts: true });
    const fresh = await build({ cwd: root, sites, outDir: `fresh-${round}` });
    assert.is(plain.ok, fresh.ok, `${what}: ok as a fresh build`);
    assert.equal(brief(plain), brief(fresh), `${what}: the same diagnostics`);
    assert.equal(differing(join(root, 'out'), join(root, `fresh-${round}`)), [], `${what}: byte-identical to a fresh build`);
    rmSync(join(root, `fresh-${round}`), { recursive: true });
    const reused = reusedFiles(plain)[0]!;
    if (plain.ok && chosen.every(([, local]) => local)) {
      // Every file of every node the edits did not touch.
      const perNode = plain.compiled[0]!.rendered!.nodes.map((n) => n[3].length);
      const most = perNode.reduce((a, b) => a + b, 0) - Math.max(...perNode) * chosen.length;
      assert.ok(reused >= most, `${what}: ${reused} files reused, at least ${most} expected`);
      reusedRounds++;
    }
  }
  assert.ok(reusedRounds >= 3, 'rounds that reused most nodes');
});

test('numbers JSON cannot tell apart (NaN, the infinities, -0) never share a key: plain builds and watch caches', async () => {
  const root = tempDir('build-reuse-numbers');
  const [siteDir] = generateRichRepo(root, 1, 10);
  const sites = [siteDir!.slice(root.length + 1)];
  // Node 9 is a generic OS node: its cloud-init meta-data is a free-form map, written as it is.
  const file = nodeFile(root, 0, 9);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /meta_data: \{ rack: r9 \}/);
  const parseCache = new Map();
  const renderCaches = new Map();
  for (const [round, value] of ['.nan', '.inf', '-.inf', '.nan', '0', '-0', '0', '-.inf'].entries()) {
    writeFileSync(file, text.replace('meta_data: { rack: r9 }', `meta_data: { rack: r9, x: ${value} }`));
    const plain = await build({ cwd: root, sites, outDir: 'out' });
    const watched = await build({ cwd: root, sites, outDir: 'out-watch', parseCache, renderCaches });
    const fresh = await build({ cwd: root, sites, outDir: `fresh-${round}` });
    assert.ok(plain.ok && watched.ok && fresh.ok, value);
    assert.equal(differing(join(root, 'out'), join(root, `fresh-${round}`)), [], `plain build, x: ${value}`);
    assert.equal(differing(join(root, 'out-watch'), join(root, `fresh-${round}`)), [], `watch's caches, x: ${value}`);
  }
});

test('a reused file that changed on disk is rendered again, never carried over', async () => {
  const root = tempDir('build-reuse-tamper');
  const [siteDir] = generateRichRepo(root, 1, 6);
  const sites = [siteDir!.slice(root.length + 1)];
  assert.ok((await build({ cwd: root, sites, outDir: 'out' })).ok);
  const manifest = JSON.parse(readFileSync(join(root, 'out/r000/manifest.json'), 'utf8')) as { files: { path: string }[] };
  const victim = manifest.files.map((f) => f.path).find((p) => p.startsWith('harvester/') && p.endsWith('.yaml') && !p.includes('n00001'))!;
  const file = join(root, 'out/r000', victim);
  const text = readFileSync(file, 'utf8');
  // Same size, other bytes, and the old times put back: only the ctime tells.
  const old = new Date(Date.now() - 3_600_000);
  writeFileSync(file, text.replace(/device: \//, 'device: X'));
  utimesSync(file, old, old);
  rewriteNode(root, 1);
  const plain = await build({ cwd: root, sites, outDir: 'out', keepArtifacts: true });
  assert.ok(plain.ok);
  assert.ok(reusedFiles(plain)[0]! > 0, 'the other nodes are reused');
  assert.not.ok(
    plain.compiled[0]!.artifacts!.some((a) => a.path === victim && isOnDisk(a)),
    'the changed file is not reused',
  );
  assert.is(readFileSync(file, 'utf8'), text, 'and it is written back');
  const fresh = await build({ cwd: root, sites, outDir: 'fresh' });
  assert.ok(fresh.ok);
  assert.equal(differing(join(root, 'out'), join(root, 'fresh')), []);
});

test('a site directory swapped for a doctored copy is neither reused nor trusted, even with the manifest hard-linked into it', async () => {
  const root = tempDir('build-reuse-swap');
  const [siteDir] = generateRichRepo(root, 1, 6);
  const sites = [siteDir!.slice(root.length + 1)];
  assert.ok((await build({ cwd: root, sites, outDir: 'out' })).ok);
  const site = join(root, 'out/r000');
  const copy = join(root, 'doctored');
  cpSync(site, copy, { recursive: true, preserveTimestamps: true });
  const victim = 'harvester/n00002.yaml';
  const text = readFileSync(join(copy, victim), 'utf8');
  writeFileSync(join(copy, victim), text.replace(/device: \//, 'device: X'));
  rmSync(join(copy, 'manifest.json'));
  linkSync(join(site, 'manifest.json'), join(copy, 'manifest.json'));
  // A comment: the site is compiled again, its manifest (and so its inode) stays, and the new record vouches for it.
  appendFileSync(nodeFile(root, 0, 1), '# reviewed\n');
  assert.ok((await build({ cwd: root, sites, outDir: 'out' })).ok);
  renameSync(site, join(root, 'old'));
  renameSync(copy, site);
  rewriteNode(root, 3);
  const plain = await build({ cwd: root, sites, outDir: 'out', keepArtifacts: true });
  assert.ok(plain.ok);
  assert.equal(reusedFiles(plain), [0], 'nothing reused from another directory');
  assert.is(readFileSync(join(site, victim), 'utf8'), text, 'the doctored file is written again');
  assert.ok((await build({ cwd: root, sites, outDir: 'fresh' })).ok);
  assert.equal(differing(join(root, 'out'), join(root, 'fresh')), []);
});

test("a build's result lets go of each site's node renders once recorded (unless it keeps the files)", async () => {
  const root = tempDir('build-reuse-result');
  const dirs = generateRichRepo(root, 2, 4);
  const sites = dirs.map((d) => d.slice(root.length + 1));
  const r = await build({ cwd: root, sites, outDir: 'out' });
  assert.ok(r.ok);
  assert.equal(
    r.compiled.map((s) => s.rendered),
    [undefined, undefined],
  );
  rewriteNode(root, 1);
  const kept = await build({ cwd: root, sites, outDir: 'out', keepArtifacts: true });
  assert.is(kept.compiled[0]!.rendered!.nodes.length, 4);
});

test('a reused file read back must hold what was recorded', () => {
  const root = tempDir('build-reuse-read');
  const file = join(root, 'f.txt');
  writeFileSync(file, 'hello\n');
  const sha = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03'; // sha256("hello\n")
  assert.is(new OnDiskArtifact('f.txt', 0o644, undefined, file, sha, 6).contents, 'hello\n');
  writeFileSync(file, 'jello\n');
  assert.throws(
    () => new OnDiskArtifact('f.txt', 0o644, undefined, file, sha, 6).contents,
    (e: unknown) => e instanceof OutputChangedError || (e as Error).constructor.name === 'OutputChangedError',
  );
});

test('the deploy tree never reuses the committed tree, nor the other way round', async () => {
  const root = tempDir('build-reuse-kind');
  const [siteDir] = generateRichRepo(root, 1, 4);
  const sites = [siteDir!.slice(root.length + 1)];
  assert.ok((await build({ cwd: root, sites, outDir: 'out' })).ok);
  rewriteNode(root, 1);
  // A deploy build into its own root; then the committed one again: each reuses only its own.
  const deploy = await build({ cwd: root, sites, outDir: 'deploy', secrets: 'filled', keepArtifacts: true });
  assert.ok(deploy.ok);
  assert.equal(reusedFiles(deploy), [0]);
  const committed = await build({ cwd: root, sites, outDir: 'out', keepArtifacts: true });
  assert.ok(committed.ok);
  assert.ok(reusedFiles(committed)[0]! > 0);
});

test('on worker threads: reused files cross unread, and the trees equal fresh builds', async () => {
  const root = tempDir('build-reuse-jobs');
  const dirs = generateRichRepo(root, 3, 5);
  const sites = dirs.map((d) => d.slice(root.length + 1));
  assert.ok((await build({ cwd: root, sites, outDir: 'out', jobs: 2 })).ok);
  rewriteNode(root, 2, 1);
  rewriteNode(root, 3, 2);
  const plain = await build({ cwd: root, sites, outDir: 'out', jobs: 2, keepArtifacts: true });
  assert.ok(plain.ok);
  assert.equal(
    plain.sites.map((s) => s.upToDate === true),
    [true, false, false],
  );
  const reused = reusedFiles(plain);
  assert.ok(reused[1]! > 0 && reused[2]! > 0, `the edited sites reuse their other nodes: ${reused.join(', ')}`);
  const fresh = await build({ cwd: root, sites, outDir: 'fresh', jobs: 1 });
  assert.ok(fresh.ok);
  assert.equal(differing(join(root, 'out'), join(root, 'fresh')), []);
});

test('the library from dist/ on worker threads reuses too: its workers run its own code, whose identity its records hold', async () => {
  // dist/index.js is tsc's output, whose worker is dist/orchestrate/worker.js; the CLI's bundle
  // starts its own (dist/cli-worker.js). A worker of the other code would judge every record
  // another harvgen's, and render every node again.
  const root = tempDir('build-reuse-dist');
  generateRichRepo(root, 3, 5);
  const script = `
    const { build } = await import(${JSON.stringify(join(repo, 'dist/index.js'))});
    const { readFileSync, writeFileSync } = await import('node:fs');
    const sites = ['sites/s000', 'sites/s001', 'sites/s002'];
    const first = await build({ sites, outDir: 'out', jobs: 2 });
    for (const f of ${JSON.stringify([0, 1, 2].map((k) => nodeFile(root, k, 2)))}) {
      const t = readFileSync(f, 'utf8');
      writeFileSync(f, t.includes('device: ') ? t.replace(/device: [^\\n]*/, 'device: /dev/vdq') : t.replace(/lun: \\d+/, 'lun: 7'));
    }
    await new Promise((r) => setTimeout(r, 150));
    const r = await build({ sites, outDir: 'out', jobs: 2, keepArtifacts: true });
    const onDisk = Symbol.for('harvgen.OnDiskArtifact');
    console.log(JSON.stringify({ errors: [...first.diagnostics, ...r.diagnostics].filter((d) => d.severity === 'error').map((d) => d.message), ok: first.ok && r.ok, reused: r.compiled.map((s) => (s.artifacts ?? []).filter((a) => a[onDisk] === true).length) }));`;
  // A file, not --eval: the workers inherit the process's execArgv.
  writeFileSync(join(root, 'run.mjs'), script);
  const r = spawnSync(process.execPath, [join(root, 'run.mjs')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, [RICH_TOKEN_ENV]: 'bench-env-token-0123456789abcdef' },
  });
  assert.is(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: boolean; reused: number[] };
  assert.ok(got.ok, JSON.stringify(got));
  // Three edited sites, two workers: sites are rendered on the workers too.
  assert.ok(
    got.reused.every((n) => n > 0),
    `each edited site reuses its other nodes: ${got.reused.join(', ')}`,
  );
});

test('a reused file is statted once per build: emit takes what the reuse found', async () => {
  const root = tempDir('build-reuse-stat');
  const [siteDir] = generateRichRepo(root, 1, 6);
  const sites = [siteDir!.slice(root.length + 1)];
  assert.ok((await build({ cwd: root, sites, outDir: 'out' })).ok);
  rewriteNode(root, 1);
  // Count lstat calls per path through the module both the reuse and emit import.
  const calls = new Map<string, number>();
  const real = fs.lstatSync;
  const writable = fs as { lstatSync: typeof fs.lstatSync };
  writable.lstatSync = ((path: string, ...rest: unknown[]) => {
    calls.set(String(path), (calls.get(String(path)) ?? 0) + 1);
    return (real as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.lstatSync;
  syncBuiltinESMExports();
  let r: BuildResult;
  try {
    r = await build({ cwd: root, sites, outDir: 'out', keepArtifacts: true });
  } finally {
    writable.lstatSync = real;
    syncBuiltinESMExports();
  }
  assert.ok(r.ok);
  const reused = (r.compiled[0]!.artifacts ?? []).filter((a) => isOnDisk(a)) as OnDiskArtifact[];
  assert.ok(reused.length > 10, `${reused.length} reused files`);
  // Each node's dnsmasq reservation comes with its other files (made again for every node before).
  const hosts = r.compiled[0]!.artifacts!.filter((a) => a.path.startsWith('dnsmasq/hosts/'));
  assert.is(hosts.length, 6);
  assert.is(hosts.filter((a) => isOnDisk(a)).length, 5, 'the reservations of the nodes not edited are reused');
  for (const a of reused) assert.is(calls.get(a.file), 1, `${a.path}: statted ${calls.get(a.file) ?? 0} times`);
  const fresh = await build({ cwd: root, sites, outDir: 'fresh' });
  assert.ok(fresh.ok);
  assert.equal(differing(join(root, 'out'), join(root, 'fresh')), []);
});

test('a directory of reused files replaced by a file: an error of the write, never an internal error', async () => {
  const root = tempDir('build-reuse-notdir');
  const [siteDir] = generateRichRepo(root, 1, 4);
  const sites = [siteDir!.slice(root.length + 1)];
  assert.ok((await build({ cwd: root, sites, outDir: 'out' })).ok);
  const site = readdirSync(join(root, 'out')).find((n) => !n.startsWith('.'))!;
  rmSync(join(root, 'out', site, 'harvester'), { recursive: true });
  writeFileSync(join(root, 'out', site, 'harvester'), 'not a directory\n');
  rewriteNode(root, 1);
  // Mutation: the reuse's lstat left to throw ENOTDIR ends the build in INTERNAL_ERROR.
  const r = await build({ cwd: root, sites, outDir: 'out' });
  const codes = r.diagnostics.map((d) => d.code);
  assert.not.ok(codes.includes('INTERNAL_ERROR'), codes.join(', '));
  assert.not.ok(r.ok);
  assert.ok(codes.includes('EMIT_WRITE_FAILED'), codes.join(', '));
});

/** Change node `k` of site `site` (its install device). */
function rewriteNode(root: string, k: number, site = 0): void {
  const f = nodeFile(root, site, k);
  const t = readFileSync(f, 'utf8');
  writeFileSync(f, t.includes('device: ') ? t.replace(/device: [^\n]*/, 'device: /dev/vdq') : t.replace(/lun: \d+/, 'lun: 7'));
}

test.run();
