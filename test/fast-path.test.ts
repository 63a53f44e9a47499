// The fast path of the compiler against its general path (`HARVGEN_GENERAL_PATH=1`,
// src/util/general-path.ts): inventory files parsed by the yaml library only, templates rendered
// with strict data always. Every golden tree, every check fixture, the example sites' deploy
// trees and the benchmark's rich inventory are built both ways, each way in its own process: the
// trees, the exit codes and everything printed (text and --json) must be byte for byte the same.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readTree } from './helpers/tree.ts';
import { tempDir } from './helpers/tmp.ts';
import { exampleWithSecrets } from './helpers/example.ts';
import { inventory } from './helpers/parallel.ts';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin/harvgen.js');

function run(args: readonly string[], cwd: string, general: boolean) {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  if (general) env.HARVGEN_GENERAL_PATH = '1';
  else delete env.HARVGEN_GENERAL_PATH;
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env, timeout: 300_000, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `args` run both ways (`<out>` replaced by a fresh output root each); what each did and wrote. */
function bothWays(args: readonly string[], cwd = repo) {
  return [false, true].map((general) => {
    const out = tempDir(general ? 'general' : 'fast');
    const r = run(
      args.map((a) => (a === '<out>' ? out : a)),
      cwd,
      general,
    );
    const shown = (t: string) => t.split(out).join('<out>');
    return { ...r, stdout: shown(r.stdout), stderr: shown(r.stderr), tree: args.includes('<out>') ? readTree(out) : undefined };
  });
}

function assertSame(what: string, [fast, general]: ReturnType<typeof bothWays>): void {
  assert.is(fast!.code, general!.code, `${what}: exit code (${fast!.stderr.slice(0, 2000)})`);
  assert.fixture(fast!.stdout, general!.stdout, `${what}: stdout`);
  assert.fixture(fast!.stderr, general!.stderr, `${what}: stderr`);
  if (general!.tree) {
    assert.ok(general!.tree.size > 0 || general!.code !== 0, `${what}: the general path wrote a tree`);
    assert.equal([...fast!.tree!.keys()], [...general!.tree.keys()], `${what}: the file list`);
    for (const [path, bytes] of general!.tree) assert.ok(fast!.tree!.get(path) === bytes, `${what}: ${path} differs`);
  }
}

const goldenSites = [
  'sites/location_x',
  'sites/location_y',
  'test/fixtures/layers/sites/lab_a',
  ...readdirSync(join(repo, 'test/fixtures/build'))
    .filter((d) => !d.startsWith('layers'))
    .sort()
    .map((d) => `test/fixtures/build/${d}/site`),
];

for (const site of goldenSites) {
  test(`golden ${site}: the same tree and output both ways`, () => {
    assertSame(site, bothWays(['build', site, '--out', '<out>', '--json']));
  });
}

test('every check fixture: the same diagnostics both ways (text and --json)', () => {
  const dirs = readdirSync(join(repo, 'test/fixtures/check'))
    .sort()
    .flatMap((c) => ['good', 'bad'].map((k) => `test/fixtures/check/${c}/${k}`))
    .filter((d) => {
      try {
        return readdirSync(join(repo, d)).length > 0;
      } catch {
        return false;
      }
    });
  assert.ok(dirs.length > 150, `${dirs.length} fixture sites`);
  // All in one run each way (the sites clash between them, on one boot server: the same both ways).
  assertSame('check --json', bothWays(['check', ...dirs, '--json']));
  assertSame('check', bothWays(['check', ...dirs]));
});

test('the example sites deploy trees (secrets filled): the same both ways', () => {
  const x = exampleWithSecrets('location_x');
  const y = exampleWithSecrets('location_y');
  assertSame('deploy', bothWays(['build', x, y, '--deploy', '--out', '<out>']));
});

test('a rich inventory of five sites (bonds, VLANs, config:, warnings, env secrets): the same both ways', () => {
  const { root, dirs } = inventory('fast-path');
  assertSame('rich', bothWays(['build', ...dirs, '--out', '<out>', '--jobs', '1'], root));
});

test.run();
