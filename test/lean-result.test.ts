// What a run returns for each of its sites, kept small when the caller asks (the CLI does unless it
// prints more): build({ paths: false }) counts each site's paths instead of listing them,
// check({ keepModels: false }) holds every site light once checked, and a site held light keeps no
// input stamps once written. Each is compared with the default result.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { inventory } from './helpers/parallel.ts';
import { build, type SiteBuild } from '../src/orchestrate/build.ts';
import { check } from '../src/orchestrate/check.ts';
import { inProcess } from '../src/orchestrate/passes.ts';
import { HeldNodes, LIGHT_SITE_NODES, runHeldNodes } from '../src/orchestrate/held.ts';
import { summaryOf, type Summarized } from '../src/orchestrate/summary.ts';
import { deployHints, hintFiles } from '../src/cli/hints.ts';
import { DIRS, LAYOUT } from '../src/derive/layout.ts';
import { RACY_MS } from '../src/load/stamps.ts';

/**
 * Past RACY_MS since the inventory was written: a stamp taken sooner is racy and never matches, so
 * the site would be compiled again instead of up to date (a fast first build reaches it that soon).
 */
const settle = () => new Promise((r) => setTimeout(r, RACY_MS + 20));

const withBudget = async <T>(nodes: number, run: () => Promise<T>): Promise<T> => {
  process.env.HARVGEN_TEST_HELD_NODES = String(nodes);
  try {
    return await run();
  } finally {
    delete process.env.HARVGEN_TEST_HELD_NODES;
  }
};

test("paths: false counts each site's paths, as many as the default lists; onSite sees the lists", async () => {
  const { root, dirs } = inventory('lean-paths');
  await settle();
  const listed = await build({ sites: dirs, cwd: root, outDir: join(root, 'out-listed'), jobs: 1 });
  const seen: SiteBuild[] = [];
  const counted = await build({
    sites: dirs,
    cwd: root,
    outDir: join(root, 'out-counted'),
    jobs: 1,
    paths: false,
    onSite: (s) => seen.push(s),
  });
  assert.ok(listed.ok && counted.ok);
  assert.is(counted.sites.length, 5);
  for (const [i, s] of counted.sites.entries()) {
    const l = listed.sites[i]!;
    for (const list of ['files', 'written', 'missing', 'removed', 'unchanged'] as const)
      assert.not.ok(list in s, `${s.site} lists ${list}`);
    assert.equal(s.counts, {
      files: l.files.length,
      written: l.written.length,
      missing: l.missing?.length ?? 0,
      removed: l.removed.length,
      unchanged: l.unchanged.length,
    });
    assert.ok(s.counts.files > 0 && s.counts.written === s.counts.files, 'a first build writes every file');
    assert.equal(l.counts, s.counts, 'the default lists and counts');
    // onSite: the same site, its paths listed.
    assert.equal(seen[i]!.files, l.files);
    assert.equal(seen[i]!.written, l.written);
  }
  // Up to date: counted from the record.
  const again = await build({ sites: dirs, cwd: root, outDir: join(root, 'out-counted'), jobs: 1, paths: false });
  assert.ok(again.sites.every((s) => s.upToDate && s.counts.unchanged === s.counts.files && s.counts.written === 0 && !('files' in s)));
});

test('a site held light keeps no input stamps once written, from its first pass on; a whole one keeps them', async () => {
  const { root, dirs } = inventory('lean-stamps');
  await settle();
  const r = await withBudget(10, () => build({ sites: dirs, cwd: root, outDir: join(root, 'out'), jobs: 1 }));
  assert.ok(r.ok);
  assert.equal(
    r.compiled.map((c) => [c.model !== undefined, c.inputs !== undefined]),
    [[true, true], ...dirs.slice(1).map(() => [false, false])],
  );
  // The light sites' records were written with their stamps: the next build finds them up to date.
  const again = await build({ sites: dirs, cwd: root, outDir: join(root, 'out'), jobs: 1 });
  assert.equal(
    again.sites.slice(1).map((s) => s.upToDate),
    dirs.slice(1).map(() => true),
  );
  // The first pass already holds a light site without them (its second reading stamps again).
  const passes = inProcess(new HeldNodes(10));
  const options = { cwd: root, stamps: true };
  const whole = await passes.model(dirs[0]!, options, 0);
  const light = await passes.model(dirs[1]!, options, 1);
  assert.ok(whole.inputs && !passes.light(0));
  assert.ok(passes.light(1));
  assert.is(light.inputs, undefined);
  const rendered = await passes.render(1, light);
  assert.ok(rendered.inputs?.complete, 'the render of a light site carries the stamps of its second reading');
});

test('paths: false lets a whole site go once written: no model, locator or stamps; the sources its report points into stay', async () => {
  const { root, dirs } = inventory('lean-release');
  const listed = await build({ sites: dirs, cwd: root, outDir: join(root, 'out-listed'), jobs: 1 });
  const counted = await build({ sites: dirs, cwd: root, outDir: join(root, 'out-counted'), jobs: 1, paths: false });
  assert.ok(listed.ok && counted.ok);
  assert.equal(counted.diagnostics, listed.diagnostics);
  // Every site fits the budget: the default result keeps each whole, with every file it read.
  assert.ok(listed.compiled.every((c) => c.model !== undefined && c.locate !== undefined && c.inputs !== undefined));
  assert.ok(counted.compiled.every((c) => c.model === undefined && c.locate === undefined && c.inputs === undefined));
  const named = new Set(counted.diagnostics.flatMap((d) => (d.file !== undefined ? [d.file] : [])));
  assert.ok(named.size >= dirs.length, 'each rich site warns about one of its files');
  for (const [i, c] of counted.compiled.entries()) {
    const all = listed.compiled[i]!.sources;
    const kept = Object.keys(c.sources).sort();
    assert.equal(
      kept,
      Object.keys(all)
        .filter((f) => named.has(f))
        .sort(),
      `${c.dir}: the sources the report shows, no other`,
    );
    assert.ok(kept.length > 0 && kept.length < Object.keys(all).length);
    for (const f of kept) assert.is(c.sources[f], all[f]);
  }
});

test('the budget of a run of many sites is smaller by what its light sites weigh', async () => {
  const { root, dirs } = inventory('lean-budget');
  await withBudget(100, async () => {
    assert.is(runHeldNodes(5), 100 - 5 * LIGHT_SITE_NODES);
    assert.is(runHeldNodes(1_000), 0);
  });
  // Five sites of 10 nodes on a budget of 25: without the light sites' weight the first two would be
  // kept whole; with it (25 - 5 x 2 = 15) only the first.
  const r = await withBudget(25, () => build({ sites: dirs, cwd: root, outDir: join(root, 'out'), jobs: 1 }));
  assert.ok(r.ok);
  assert.equal(
    r.compiled.map((c) => c.model !== undefined),
    [true, false, false, false, false],
  );
});

test('check keepModels: false holds every site light: same diagnostics, nodes and file counts', async () => {
  const { root, dirs } = inventory('lean-check');
  const kept = await check({ sites: dirs, cwd: root });
  const lean = await check({ sites: dirs, cwd: root, keepModels: false });
  assert.equal(lean.diagnostics, kept.diagnostics);
  assert.is(lean.ok, kept.ok);
  assert.ok(kept.sites.every((c) => c.model !== undefined && c.artifacts !== undefined));
  assert.ok(lean.sites.every((c) => c.model === undefined && c.artifacts === undefined));
  assert.equal(
    lean.sites.map((c) => [summaryOf(c)?.nodes, (c as Summarized).summary?.files]),
    kept.sites.map((c) => [c.model!.nodes.length, c.artifacts!.length]),
  );
});

test('the next steps from the few files hintFiles keeps are those from every file', () => {
  const { nginx, dnsmasq, kea, dhcpd, defineScript, fetchScript, unknownJoinConfig } = LAYOUT;
  const config = (n: string) => `${DIRS.configs}/${n}.yaml`;
  const sites = [
    { site: 'a', dir: 'out/a', files: ['boot.ipxe', nginx, dnsmasq, config('n1'), config('n2'), 'ipxe/x.ipxe'] },
    { site: 'b', dir: 'out/b', files: ['boot.ipxe', nginx, kea, fetchScript, defineScript] },
    { site: 'c', dir: 'out/c', files: ['boot.ipxe', dhcpd, unknownJoinConfig] },
    { site: 'd', dir: 'out/d', files: ['boot.ipxe', dhcpd] },
  ];
  const fewer = sites.map((s) => ({ ...s, files: hintFiles(s.files) }));
  for (const secrets of ['markers', 'filled'] as const) {
    assert.equal(deployHints(fewer, secrets), deployHints(sites, secrets));
    for (const k of [1, 2, 3]) assert.equal(deployHints(fewer.slice(k), secrets), deployHints(sites.slice(k), secrets));
  }
  assert.ok(fewer[0]!.files.length < sites[0]!.files.length);
});

test.run();
