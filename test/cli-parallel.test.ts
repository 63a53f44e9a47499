// `harvgen build --jobs N` (src/orchestrate/pool.ts), through the binary (test/parallel.test.ts has the
// library): the sites compiled on N worker threads give the same tree, records, printed output and
// --json as the serial build (`--jobs 1`), whatever N (more workers than sites or cores too); an
// error in one site, and between sites, is reported the same way; a worker that throws or dies is
// an INTERNAL_ERROR, never a hang or a stack trace.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasStackTrace, runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';
import { readTree } from './helpers/tree.ts';
import { inventory } from './helpers/parallel.ts';

const edit = (path: string, from: string, to: string) => {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.includes(from), `${path} holds ${from}`);
  writeFileSync(path, text.replace(from, to));
};

/**
 * The state's records of an output root, less what differs by nature (root, time, inodes, seal),
 * and their companion files (each file's hash and node's render digest: the same whatever the root).
 */
function records(out: string): Map<string, unknown> {
  const dir = join(out, '.harvgen-cache');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json') || f.endsWith('.nodes'))
    .sort();
  return new Map(
    files.map((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      if (f.endsWith('.nodes')) return [f, JSON.parse(text)];
      const { out: _root, settled: _time, manifestStat: _inode, dirId: _dir, ...rest } = JSON.parse(text.split('\n')[1]!);
      return [f, rest];
    }),
  );
}

/** `harvgen build` with each number of workers into its own root; what each printed, the root named `<out>`. */
function buildEach(root: string, dirs: readonly string[], jobs: readonly number[], extra: readonly string[] = []) {
  return jobs.map((n) => {
    const out = join(root, `out-${n}${extra.join('')}`);
    const r = runCli(['build', ...dirs, '--out', out, '--jobs', String(n), ...extra], root);
    const shown = (t: string) => t.split(out).join('<out>');
    return { n, out, code: r.code, stdout: shown(r.stdout), stderr: shown(r.stderr) };
  });
}

function assertSame(runs: ReturnType<typeof buildEach>, what: string): void {
  const [serial, ...others] = runs;
  for (const r of others) {
    assert.is(r.code, serial!.code, `${what}: exit code with --jobs ${r.n}`);
    assert.fixture(r.stdout, serial!.stdout, `${what}: stdout with --jobs ${r.n}`);
    assert.fixture(r.stderr, serial!.stderr, `${what}: stderr with --jobs ${r.n}`);
    assert.is(existsSync(r.out), existsSync(serial!.out), `${what}: an output root with --jobs ${r.n}`);
    if (!existsSync(serial!.out)) continue;
    assert.equal(readTree(r.out), readTree(serial!.out), `${what}: the tree with --jobs ${r.n}`);
    assert.equal(records(r.out), records(serial!.out), `${what}: the records with --jobs ${r.n}`);
  }
}

test('parallel and serial builds give identical trees, records, printed output and --json', () => {
  const { root, dirs } = inventory('parallel');
  // One site with errors (not written), one on another site's boot server under its own prefix.
  writeFileSync(join(root, dirs[3]!, 'nodes', 'zz-bad.yaml'), 'mac: not-a-mac\nip: 10.103.9.9\n');
  const shared = join(root, dirs[4]!, 'site.yaml');
  edit(shared, '  server: http://10.104.0.5:8080', '  server: http://10.100.0.5:8080/r004');
  edit(shared, '  artifacts: http://10.104.0.5:8080/', '  artifacts: http://10.100.0.5:8080/r004/');
  const text = buildEach(root, dirs, [1, 2, 4]);
  assert.is(text[0]!.code, 1, text[0]!.stderr);
  assert.match(text[0]!.stderr, 'NODE_MAC_INVALID');
  assert.match(text[0]!.stderr, 'NODE_SETTING_IGNORED');
  for (const site of ['r000', 'r001', 'r002', 'r004'])
    assert.match(text[0]!.stdout, `${site}: 47 files for 10 nodes in <out>/${site} (wrote 47,`);
  assert.ok(!text[0]!.stdout.includes('r003:'), 'the site with errors is not written');
  assertSame(text, 'text');
  const json = buildEach(root, dirs, [1, 4], ['--json']);
  assertSame(json, '--json');
  assert.match(json[0]!.stdout, '"NODE_MAC_INVALID"');
  // The records a parallel build wrote are good ones: a rebuild skips every site written but the
  // two on one boot server (always compiled, for the checks between sites), and writes nothing.
  const again = runCli(['build', ...dirs, '--out', text[1]!.out, '--jobs', '2'], root);
  assert.is(again.code, 1);
  assert.is(again.stdout.match(/wrote 0, removed 0, unchanged 47; up to date, not compiled/g)?.length, 2, again.stdout);
  assert.is(again.stdout.match(/wrote 0, removed 0, unchanged 47\)/g)?.length, 2, again.stdout);
});

test('an error between sites is reported the same way whatever the number of workers', () => {
  const { root, dirs } = inventory('parallel-cross');
  // r001 on r000's boot server without a prefix of its own; r001 and r002 on one dnsmasq that
  // they configure differently.
  edit(join(root, dirs[1]!, 'site.yaml'), '  server: http://10.101.0.5:8080', '  server: http://10.100.0.5:8080');
  edit(join(root, dirs[1]!, 'site.yaml'), 'dnsmasq:\n', 'dnsmasq:\n  host: pxe1\n');
  edit(join(root, dirs[2]!, 'site.yaml'), 'dnsmasq:\n', 'dnsmasq:\n  host: pxe1\n');
  edit(join(root, dirs[2]!, 'site.yaml'), '  tftp_root: /srv/tftp', '  tftp_root: /srv/tftp2');
  const text = buildEach(root, dirs, [1, 2, 4]);
  assert.is(text[0]!.code, 1);
  assert.match(text[0]!.stderr, 'SITE_SERVER_CONFLICT');
  assert.match(text[0]!.stderr, 'SITE_DNSMASQ_CONFLICT');
  assert.match(text[0]!.stderr, 'nothing was written');
  assertSame(text, 'text');
  assertSame(buildEach(root, dirs, [1, 4], ['--json']), '--json');
});

test('a worker that throws or dies is an INTERNAL_ERROR of its sites, never a hang or a stack trace', () => {
  const { root, dirs } = inventory('parallel-crash');
  for (const point of ['worker', 'worker-exit']) {
    const out = join(root, `out-${point}`);
    process.env.HARVGEN_TEST_THROW = point;
    let r;
    try {
      r = runCli(['build', ...dirs, '--out', out, '--jobs', '2'], root);
    } finally {
      delete process.env.HARVGEN_TEST_THROW;
    }
    assert.is(r.code, 2, `${point}: ${r.stderr}`);
    assert.is(r.stderr.match(/error {2}INTERNAL_ERROR {2}harvgen failed on sites\/s00\d: /g)?.length, 5, r.stderr);
    assert.match(r.stderr, point === 'worker' ? 'HARVGEN_TEST_THROW=worker' : 'worker thread exited (code 3)');
    assert.ok(!hasStackTrace(r.stderr), r.stderr);
    assert.match(r.stderr, 'nothing was written');
  }
  // --jobs 1 has no worker: the same sites build.
  process.env.HARVGEN_TEST_THROW = 'worker';
  try {
    const serial = runCli(['build', ...dirs, '--out', join(root, 'serial'), '--jobs', '1'], root);
    assert.is(serial.code, 0, serial.stderr);
  } finally {
    delete process.env.HARVGEN_TEST_THROW;
  }
});

test('--jobs takes a whole number of workers from 1 to 256', () => {
  for (const bad of ['0', '257', '1.5', 'all']) {
    const r = runCli(['build', 'sites/location_x', '--out', join(tempDir('parallel-usage'), 'out'), '--jobs', bad]);
    assert.is(r.code, 2, bad);
    assert.match(r.stderr, `CLI_USAGE: --jobs must be a whole number of worker threads from 1 to 256`);
  }
});

test.run();
