// kill -9 during builds of a few hundred nodes, at chosen points of the write phase and at
// spread moments in time: after recovery each tree is exactly the old one or exactly the new
// one, no temp file or journal is left, and the next build gives exactly the new tree. The
// number of kills is bounded (15, about 25 s on 2 idle cores); the test-only crash points are
// HARVGEN_TEST_CRASH=<point>:<n> (src/durable/crash-point.ts, crashPoint). The killed builds run
// bin/harvgen.js, that is dist/: `npm run build` first (npm test does).
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { build, recoverSite, type Artifact } from '../src/index.ts';
import { emitSite } from '../src/emit/index.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';
import { exampleSite } from './helpers/example.ts';

const bin = fileURLToPath(new URL('../bin/harvgen.js', import.meta.url));
const NODES = 300;
// Any sha512-crypt hash: the build passes it through, so no time goes into hashing.
const PASSWORD_HASH = '$6$crashsalt$VAIbL5.ZxwYzPdZLWfMReDII8tiSghWhHWdjfrRqT0qUYW13AMSaONLGSBGEHnAmeA2rNa9sXEMrEWT0Dx9fl.';

/** location_x with `count` nodes starting at `first`, `retries` in boot; the password pre-hashed (no hashing time). */
function inventory(dir: string, first: number, count: number, retries: number): string {
  const doc = exampleSite();
  doc.network = { ...doc.network, cidr: '10.64.0.0/16', gateway: '10.64.0.1', dns: ['10.64.0.1'], dhcp_range: '10.64.200.1-10.64.200.250' };
  doc.boot = { ...doc.boot, server: 'http://10.64.0.1', retries };
  doc.harvester = { ...doc.harvester, artifacts: 'http://10.64.0.1/artifacts/v1.4.1' };
  doc.cluster = { ...doc.cluster, vip: '10.64.0.10', password: PASSWORD_HASH };
  doc.nodes = Array.from({ length: count }, (_, i) => {
    const n = first + i;
    return {
      hostname: `n${n}`,
      mac: `52:54:00:10:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`,
      ip: `10.64.${1 + (n >> 8)}.${n & 255}`,
    };
  }) as never;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

interface Run {
  readonly code: number | null;
  readonly signal: string | null;
  readonly ms: number;
  /** When the build took the site's lock (it writes only after that), if it got that far. */
  readonly lockedMs?: number;
  readonly stderr: string;
}

/** `harvgen build` as a child process, killed with SIGKILL after `killAfterMs` when given. */
function runBuild(site: string, out: string, env: Record<string, string>, killAfterMs?: number): Promise<Run> {
  return new Promise((res) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [bin, 'build', site, '--out', out, '--quiet'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    let lockedMs: number | undefined;
    const lock = join(out, 'location_x/.harvgen.lock');
    const poll = setInterval(() => {
      if (lockedMs === undefined && existsSync(lock)) lockedMs = Date.now() - t0;
    }, 2);
    const timer = killAfterMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), killAfterMs) : undefined;
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      res({ code, signal, ms: Date.now() - t0, stderr, ...(lockedMs !== undefined ? { lockedMs } : {}) });
    });
  });
}

const equal = (a: Map<string, string>, b: Map<string, string>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

test(`kill -9 at any moment of a ${NODES}-node build leaves a tree that the next run makes wholly old or wholly new`, async () => {
  const t0 = Date.now();
  const root = tempDir('crash');
  // A: nodes 0..299, retries 3. B: nodes 50..349 (50 gone, 50 new), retries 5: most files change.
  const siteA = inventory(join(root, 'a'), 0, NODES, 3);
  const siteB = inventory(join(root, 'b'), 50, NODES, 5);
  const refA = join(root, 'ref-a');
  assert.ok((await build({ sites: [siteA], outDir: refA })).ok);
  const treeA = readTree(join(refA, 'location_x'));
  const refB = join(root, 'ref-b');
  const builtB = await build({ sites: [siteB], outDir: refB, keepArtifacts: true });
  assert.ok(builtB.ok);
  const treeB = readTree(join(refB, 'location_x'));
  const artifactsB: readonly Artifact[] = builtB.compiled[0]!.artifacts!;
  assert.ok(treeA.size > 600 && !equal(treeA, treeB), `trees of ${treeA.size} and ${treeB.size} files`);
  // Each run starts from a copy of A's output (modes kept), as if A had been built there.
  let runs = 0;
  const fresh = () => {
    const out = join(root, `run-${runs++}`);
    cpSync(refA, out, { recursive: true });
    return out;
  };

  const tally = { kills: 0, finishedFirst: 0, old: 0, new: 0, rolledBack: 0, rolledForward: 0, tempsLeft: 0 };
  /** One killed build: recover, compare with A and B, then the emit of a normal build of B. */
  const verify = async (label: string, out: string, r: Run) => {
    if (r.signal === 'SIGKILL') tally.kills++;
    else tally.finishedFirst++;
    assert.ok(r.signal === 'SIGKILL' || r.code === 0, `${label}: exit ${r.code}: ${r.stderr}`);
    const dir = join(out, 'location_x');
    const recovery = await recoverSite(dir);
    if (recovery.recovered === 'rolled-back') tally.rolledBack++;
    if (recovery.recovered === 'rolled-forward') tally.rolledForward++;
    const after = readTree(dir);
    const left = [...after.keys()].filter((k) => /\.harvgen-tmp$|\.harvgen-journal\.json$|\.harvgen\.lock$/.test(k));
    tally.tempsLeft += left.length;
    assert.equal(left, [], `${label}: left behind`);
    const isOld = equal(after, treeA);
    const isNew = equal(after, treeB);
    const torn = [...after.keys()].filter((k) => after.get(k) !== treeA.get(k) && after.get(k) !== treeB.get(k));
    assert.ok(isOld || isNew, `${label}: the tree is torn (${torn.slice(0, 5).join(', ')})`);
    if (isOld) tally.old++;
    else tally.new++;
    // What build() does after compiling (compiling B again would only cost time: it is deterministic).
    const next = await emitSite(dir, artifactsB);
    assert.is(next.recovery, undefined, `${label}: recovered twice`);
    assert.ok(equal(readTree(dir), treeB), `${label}: the next build is not exactly B`);
  };

  // Builds run two at a time (2 cores), each killed one verified while the next pair runs.
  const pairs = async (runs: { label: string; env: Record<string, string>; delay?: number }[]) => {
    for (let i = 0; i < runs.length; i += 2) {
      const pair = runs.slice(i, i + 2).map((c) => ({ ...c, out: fresh() }));
      const results = await Promise.all(pair.map((c) => runBuild(siteB, c.out, c.env, c.delay)));
      for (const [j, c] of pair.entries()) {
        if (c.delay === undefined)
          assert.is(results[j]!.signal, 'SIGKILL', `${c.label}: the crash point was never reached (${results[j]!.stderr})`);
        await verify(c.label, c.out, results[j]!);
      }
    }
  };
  // How long an uninterrupted build from A to B takes as a whole process, and when it takes the
  // lock (then recovers and writes); two side by side, as the kills run.
  const timings = await Promise.all([runBuild(siteB, fresh(), {}), runBuild(siteB, fresh(), {})]);
  for (const t of timings) assert.ok(t.code === 0 && t.lockedMs !== undefined, t.stderr);
  const total = Math.round((timings[0]!.ms + timings[1]!.ms) / 2);
  const locked = Math.round((timings[0]!.lockedMs! + timings[1]!.lockedMs!) / 2);
  // (a) Every point of the write phase.
  const points = ['temp:1', `temp:${NODES}`, 'journal:1', 'rename:1', `rename:${NODES}`, 'manifest:1', 'before-journal-delete:1'];
  await pairs(points.map((p) => ({ label: p, env: { HARVGEN_TEST_CRASH: p } })));
  // (b) 8 moments in time, spread from just before the lock (compiling is over) to the end of the build.
  const from = locked - (total - locked) / 7;
  const delays = Array.from({ length: 8 }, (_, i) => Math.round(from + ((total - from) * i) / 7));
  await pairs(delays.map((d) => ({ label: `${d} ms`, env: {}, delay: d })));
  console.log(
    `crash test: ${points.length + delays.length} runs, ${tally.kills} killed (${tally.finishedFirst} finished first; ` +
      `build ${total} ms, locked at ~${locked} ms): ${tally.old} old, ${tally.new} new, 0 torn ` +
      `(recovery rolled back ${tally.rolledBack}, forward ${tally.rolledForward}), ${tally.tempsLeft} temp files left, ${Date.now() - t0} ms`,
  );
  assert.ok(tally.old > 0 && tally.new > 0, 'both outcomes were reached');
});

test.run();
