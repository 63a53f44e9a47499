// Sites held light between the passes of a run (src/orchestrate/held.ts): past the run's budget
// of nodes, a site keeps only its summary, facts and diagnostics after the first pass and is
// compiled again for its render. `HARVGEN_TEST_HELD_NODES` shrinks the budget so that a run of
// five 10-node sites keeps the first whole and holds the other four light: the tree, the records,
// what is printed and --json must be those of a run that keeps every site, for build and check,
// with an error in one site and a clash between two.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inventory } from './helpers/parallel.ts';
import { readTree } from './helpers/tree.ts';
import { HeldNodes } from '../src/orchestrate/held.ts';
import { lighten, recompile } from '../src/orchestrate/light.ts';
import { compileModel } from '../src/pipeline.ts';
import { writtenText } from '../src/load/index.ts';

const bin = resolve(import.meta.dirname, '../bin/harvgen.js');

/** The CLI with a budget of `held` nodes (undefined: the default, which holds every site here). */
function run(args: readonly string[], cwd: string, held?: number) {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  delete env.HARVGEN_TEST_HELD_NODES;
  if (held !== undefined) env.HARVGEN_TEST_HELD_NODES = String(held);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const edit = (path: string, from: string, to: string) => {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.includes(from), `${path} holds ${from}`);
  writeFileSync(path, text.replace(from, to));
};

/** The records of an output root, less what differs by nature (root, time, inode). */
function records(out: string): string {
  const dir = join(out, '.harvgen-cache');
  return JSON.stringify(
    Object.entries(readTree(dir))
      .filter(([f]) => f.endsWith('.json'))
      .map(([f, text]) => {
        const { out: _root, settled: _time, manifestStat: _inode, ...rest } = JSON.parse(String(text).split('\n')[1]!);
        return [f, rest];
      }),
  );
}

test('a run that holds its sites light writes and prints exactly what a run that keeps them does', () => {
  const { root, dirs } = inventory('held');
  // An error in one site (not written) and two sites on one boot server (checked between sites
  // from the light sites' facts: the later one is light).
  writeFileSync(join(root, dirs[3]!, 'nodes', 'zz-bad.yaml'), 'mac: not-a-mac\nip: 10.103.9.9\n');
  const shared = join(root, dirs[4]!, 'site.yaml');
  edit(shared, '  server: http://10.104.0.5:8080', '  server: http://10.100.0.5:8080/r004');
  edit(shared, '  artifacts: http://10.104.0.5:8080/', '  artifacts: http://10.100.0.5:8080/r004/');
  for (const extra of [[], ['--json']]) {
    const kept = run(['build', ...dirs, '--out', 'out-kept', '--jobs', '1', ...extra], root);
    const light = run(['build', ...dirs, '--out', 'out-light', '--jobs', '1', ...extra], root, 10);
    assert.is(kept.code, 1, kept.stderr);
    assert.is(light.code, kept.code);
    const shown = (t: string, out: string) => t.split(out).join('<out>');
    assert.fixture(shown(light.stdout, 'out-light'), shown(kept.stdout, 'out-kept'));
    assert.fixture(light.stderr, kept.stderr);
    assert.match(kept.stderr + kept.stdout, 'NODE_MAC_INVALID');
    assert.equal(readTree(join(root, 'out-light')), readTree(join(root, 'out-kept')));
    assert.is(records(join(root, 'out-light')), records(join(root, 'out-kept')));
  }
  // The same server under two prefixes is fine; under none it is a clash between sites, which
  // a light site reports from its facts with the code frame of its own site.yaml.
  edit(shared, '  server: http://10.100.0.5:8080/r004', '  server: http://10.100.0.5:8080');
  for (const cmd of [['check'], ['build', '--out', 'out-clash', '--jobs', '1']]) {
    const kept = run([...cmd, ...dirs], root);
    const light = run([...cmd, ...dirs], root, 10);
    assert.match(kept.stderr, 'SITE_SERVER_CONFLICT');
    assert.match(kept.stderr, `${dirs[4]}/site.yaml:`);
    assert.is(light.code, kept.code);
    assert.fixture(light.stderr, kept.stderr);
    assert.fixture(light.stdout, kept.stdout);
  }
  const kept = run(['check', ...dirs, '--json'], root);
  const light = run(['check', ...dirs, '--json'], root, 10);
  assert.fixture(light.stdout, kept.stdout);
});

test('on worker threads too: each worker keeps its share whole and compiles the others again', () => {
  const { root, dirs } = inventory('held-workers');
  writeFileSync(join(root, dirs[3]!, 'nodes', 'zz-bad.yaml'), 'mac: not-a-mac\nip: 10.103.9.9\n');
  const kept = run(['build', ...dirs, '--out', 'out-kept', '--jobs', '1', '--json'], root);
  // A budget of 20 nodes, less 2 for each of the five sites, over two workers: each keeps its first site whole, holds the rest light.
  const light = run(['build', ...dirs, '--out', 'out-light', '--jobs', '2', '--json'], root, 20);
  assert.is(light.code, kept.code, light.stderr);
  assert.fixture(light.stdout.split('out-light').join('<out>'), kept.stdout.split('out-kept').join('<out>'));
  assert.fixture(light.stderr, kept.stderr);
  assert.equal(readTree(join(root, 'out-light')), readTree(join(root, 'out-kept')));
});

test('past the budget a build holds its sites light (no model) and still writes them', async () => {
  const { build } = await import('../src/orchestrate/build.ts');
  const { root, dirs } = inventory('held-lib');
  process.env.HARVGEN_TEST_HELD_NODES = '10';
  try {
    const r = await build({ sites: dirs, cwd: root, outDir: join(root, 'out'), jobs: 1 });
    assert.ok(r.ok);
    assert.equal(
      r.compiled.map((c) => [c.model !== undefined, c.sources !== undefined && Object.keys(c.sources).length > 0]),
      [
        [true, true],
        // Light: no model; the sources of the files their warnings point into only.
        ...dirs.slice(1).map(() => [false, true]),
      ],
    );
    // site.yaml, the node file of its NODE_SETTING_IGNORED and the profile its MEASURED_FACT_DISAGREES points into.
    for (const c of r.compiled.slice(1)) assert.ok(Object.keys(c.sources).length <= 3, Object.keys(c.sources).join(', '));
    assert.is(r.sites.length, 5);
  } finally {
    delete process.env.HARVGEN_TEST_HELD_NODES;
  }
});

test('HeldNodes keeps whole sites up to its budget, and always the first', () => {
  const held = new HeldNodes(25);
  assert.equal([held.keep(30), held.keep(1), new HeldNodes(25).keep(20)], [true, false, true]);
  const some = new HeldNodes(25);
  assert.equal([some.keep(10), some.keep(15), some.keep(1)], [true, true, false]);
});

test('a site whose inventory changed between the two readings is not rendered, and says so', async () => {
  const { root, dirs } = inventory('held-changed');
  const dir = join(root, dirs[0]!);
  const first = await compileModel(dir, {});
  assert.ok(first.renderable);
  const light = lighten(first);
  assert.is((light as { model?: unknown }).model, undefined);
  assert.ok(light.summary?.facts, 'the facts between sites stay');
  // Its positions are copies: the locator's own location objects keep every file of the site alive
  // (through what `writtenText` reads), which made 1,000 light sites hold about 1 GB.
  const positions = light.summary.facts.positions ?? [];
  assert.ok(positions.some((p) => p.at !== undefined));
  for (const p of positions) if (p.at) assert.is(writtenText(p.at), undefined, p.path);
  // Unchanged: the second reading is the site itself, renderable.
  const same = await recompile(light, dir, {}, compileModel);
  assert.ok(same.renderable);
  // Changed in between: a node file gained an error.
  writeFileSync(join(dir, 'nodes', 'zz-bad.yaml'), 'mac: not-a-mac\nip: 10.100.9.9\n');
  const changed = await recompile(light, dir, {}, compileModel);
  assert.is(changed.renderable, undefined);
  assert.equal(
    changed.diagnostics.map((d) => d.code),
    [...first.diagnostics.map((d) => d.code), 'LOAD_CHANGED_DURING_BUILD'],
  );
});

test.run();
