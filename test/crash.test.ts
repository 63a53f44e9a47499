// kill -9 during builds of a few hundred nodes, at chosen points of the write phase and at
// spread moments in time: after recovery each tree is exactly the old one or exactly the new
// one, no temp file or journal is left, and the next build gives exactly the new tree. The
// number of kills is bounded; the test-only crash points are HARVGEN_TEST_CRASH=<point>:<n>
// (src/emit/journal.ts, crashPoint).
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { build, recoverSite } from '../src/index.ts';
import { sha512Crypt } from '../src/util/sha512-crypt.ts';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';
import { exampleSite } from './helpers/example.ts';

const bin = fileURLToPath(new URL('../bin/harvgen.js', import.meta.url));
const NODES = 300;

/** location_x with `count` nodes starting at `first`, `retries` in boot; the password pre-hashed (no hashing time). */
function inventory(dir: string, first: number, count: number, retries: number): string {
  const doc = exampleSite();
  doc.network = { ...doc.network, cidr: '10.64.0.0/16', gateway: '10.64.0.1', dns: ['10.64.0.1'], dhcp_range: '10.64.200.1-10.64.200.250' };
  doc.boot = { ...doc.boot, server: 'http://10.64.0.1', retries };
  doc.harvester = { ...doc.harvester, artifacts: 'http://10.64.0.1/artifacts/v1.4.1' };
  doc.cluster = { ...doc.cluster, vip: '10.64.0.10', password: sha512Crypt('crash-test', 'crashsalt') };
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

function runBuild(
  site: string,
  out: string,
  env: Record<string, string>,
  killAfterMs?: number,
): Promise<{ code: number | null; signal: string | null; ms: number }> {
  return new Promise((res) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [bin, 'build', site, '--out', out, '--quiet'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    const timer = killAfterMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), killAfterMs) : undefined;
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, ms: Date.now() - t0 });
    });
  });
}

const equal = (a: Map<string, string>, b: Map<string, string>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

test(`kill -9 at any moment of a ${NODES}-node build leaves a tree that the next run makes wholly old or wholly new`, async () => {
  const root = tempDir('crash');
  // A: nodes 0..299, retries 3. B: nodes 50..349 (50 gone, 50 new), retries 5: most files change.
  const siteA = inventory(join(root, 'a'), 0, NODES, 3);
  const siteB = inventory(join(root, 'b'), 50, NODES, 5);
  const refA = join(root, 'ref-a');
  assert.ok((await build({ sites: [siteA], outDir: refA })).ok);
  const treeA = readTree(join(refA, 'location_x'));
  // Each run starts from a copy of A's output (modes kept), as if A had been built there.
  const fresh = async (label: string) => {
    const out = join(root, label);
    cpSync(refA, out, { recursive: true });
    return out;
  };
  const refB = join(root, 'ref-b');
  assert.ok((await build({ sites: [siteB], outDir: refB })).ok);
  const treeB = readTree(join(refB, 'location_x'));
  assert.ok(treeA.size > 600 && !equal(treeA, treeB), `trees of ${treeA.size} and ${treeB.size} files`);

  // How long an uninterrupted build from A to B takes, as a whole process.
  const timing = await runBuild(siteB, await fresh('timing'), {});
  assert.is(timing.code, 0);
  const points = ['temp:1', `temp:${NODES}`, 'journal:1', 'rename:1', `rename:${NODES}`, 'manifest:1', 'before-journal-delete:1'];
  const delays = Array.from({ length: 8 }, (_, i) => Math.round(timing.ms * (0.25 + (0.7 * i) / 7)));
  const tally = { kills: 0, old: 0, new: 0, tempsLeft: 0, finishedBeforeKill: 0 };
  const cases = [
    ...points.map((p) => ({ label: p, env: { HARVGEN_TEST_CRASH: p }, delay: undefined })),
    ...delays.map((d) => ({ label: `${d} ms`, env: {}, delay: d })),
  ];
  for (const [i, c] of cases.entries()) {
    const out = await fresh(`run-${i}`);
    const dir = join(out, 'location_x');
    const r = await runBuild(siteB, out, c.env, c.delay);
    if (r.signal === 'SIGKILL') tally.kills++;
    else tally.finishedBeforeKill++;
    if (c.delay === undefined) assert.is(r.signal, 'SIGKILL', `${c.label}: the crash point was never reached`);
    await recoverSite(dir);
    const after = readTree(dir);
    const left = [...after.keys()].filter((k) => /\.harvgen-tmp$|\.harvgen-journal\.json$|\.harvgen\.lock$/.test(k));
    tally.tempsLeft += left.length;
    assert.equal(left, [], `${c.label}: left behind`);
    const isOld = equal(after, treeA);
    const isNew = equal(after, treeB);
    assert.ok(
      isOld || isNew,
      `${c.label}: the tree is torn (${[...after.keys()]
        .filter((k) => after.get(k) !== treeA.get(k) && after.get(k) !== treeB.get(k))
        .slice(0, 5)
        .join(', ')})`,
    );
    if (isOld) tally.old++;
    else tally.new++;
    assert.ok((await build({ sites: [siteB], outDir: out })).ok);
    assert.ok(equal(readTree(dir), treeB), `${c.label}: the next build is not exactly B`);
  }
  console.log(
    `crash test: ${cases.length} runs (${tally.kills} killed, ${tally.finishedBeforeKill} finished first; build ${timing.ms} ms): ${tally.old} old, ${tally.new} new, 0 torn, ${tally.tempsLeft} temp files left`,
  );
  assert.ok(tally.old > 0 && tally.new > 0, 'both outcomes were reached');
});

test.run();
