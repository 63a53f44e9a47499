// The CLI contract users script against: every `--json` document matches the published schema
// (schema/cli-output.schema.json), `watch` reports each rebuild (one JSON line with --json),
// exits 130 on Ctrl-C and stops with an error when a site directory disappears; colour follows
// NO_COLOR/FORCE_COLOR; a progress line appears on a terminal only, and only for long runs.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';
import { startCli } from './helpers/cli-spawn.ts';
import { useColor } from '../src/cli/output.ts';
import { startProgress } from '../src/cli/progress.ts';

const repo = resolve(import.meta.dirname, '..');
const schema = JSON.parse(readFileSync(join(repo, 'schema/cli-output.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

function assertValid(doc: unknown, what: string): void {
  assert.ok(validate(doc), `${what}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(doc)}`);
}

test('every command prints one document that matches the published JSON schema, the same sites[] shape for all', () => {
  const out = tempDir();
  const bad = join(repo, 'test/fixtures/check/node-duplicate-mac/bad');
  const runs: [string, string[]][] = [
    ['check ok', ['check', 'sites/location_x', 'sites/location_y', '--json']],
    ['check errors', ['check', bad, '--json']],
    ['build', ['build', 'sites/location_x', '--out', out, '--json']],
    ['build --dry-run', ['build', 'sites/location_x', '--out', out, '--dry-run', '--json']],
    ['build errors', ['build', bad, '--out', out, '--json']],
    ['usage error', ['check', '--json']],
    ['unknown command', ['chekc', 'x', '--json']],
  ];
  const keys = new Set<string>();
  for (const [what, args] of runs) {
    const r = runCli(args, repo);
    const doc = JSON.parse(r.stdout) as { version: number; sites: Record<string, unknown>[] };
    assertValid(doc, what);
    assert.is(doc.version, 1);
    for (const s of doc.sites) keys.add(Object.keys(s).join(','));
  }
  assert.is(keys.size, 1, `sites[] shapes: ${[...keys].join(' | ')}`);
});

test('build --json names what it wrote and where', () => {
  const out = tempDir();
  const r = runCli(['build', 'sites/location_x', '--out', out, '--json'], repo);
  const doc = JSON.parse(r.stdout) as {
    command: string;
    sites: { site: string; out: string; written: string[]; files: number; unchanged: number }[];
  };
  assert.is(doc.command, 'build');
  assert.is(doc.sites[0]!.out, join(out, 'location_x'));
  assert.is(doc.sites[0]!.written.length, doc.sites[0]!.files);
  assert.ok(doc.sites[0]!.written.includes('boot.ipxe'));
});

/** Run `harvgen watch` as a child (test/helpers/cli-spawn.ts); lines of stdout arrive through `next()`. */
const startWatch = (args: string[], cwd: string) => startCli(['watch', ...args], cwd);

test('watch --json prints one schema-valid line per rebuild with time, duration and what changed; Ctrl-C exits 130', async () => {
  const site = tempDir('watch-cli');
  cpSync(join(repo, 'sites/location_x'), site, { recursive: true });
  const out = tempDir();
  const w = startWatch([site, '--out', out, '--json'], repo);
  try {
    const first = JSON.parse(await w.next()) as { command: string; ok: boolean; time: string; duration_ms: number; changed: string[] };
    assertValid(first, 'first rebuild');
    assert.is(first.command, 'watch');
    assert.ok(first.ok);
    assert.ok(!Number.isNaN(Date.parse(first.time)) && first.duration_ms >= 0);
    const yaml = join(site, 'site.yaml');
    // Drop node hv-3: its files are removed, and the line says so.
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/  - hostname: hv-3\n    mac: 525400aabb03\n    ip: 192.168.122.13\n/, ''));
    const second = JSON.parse(await w.next()) as { ok: boolean; changed: string[]; sites: { removed: string[] }[] };
    assertValid(second, 'second rebuild');
    assert.ok(second.ok);
    assert.ok(
      second.changed.some((c) => c.endsWith('site.yaml')),
      JSON.stringify(second.changed),
    );
    assert.ok(second.sites[0]!.removed.includes('harvester/hv-3.yaml'), JSON.stringify(second.sites[0]!.removed));
  } finally {
    w.child.kill('SIGINT');
  }
  assert.is(await w.exited, 130);
});

test('watch stops with an error (exit 2) when a site directory disappears', async () => {
  const root = tempDir('watch-gone');
  const site = join(root, 'site');
  cpSync(join(repo, 'sites/location_x'), site, { recursive: true });
  const out = tempDir();
  const w = startWatch([site, '--out', out], repo);
  try {
    assert.match(await w.next(), /built location_x in \d+ ms: 27 written, 0 removed, 0 unchanged/);
    rmSync(site, { recursive: true, force: true });
    assert.is(await Promise.race([w.exited, new Promise<number>((r) => setTimeout(() => r(-99), 20_000))]), 2);
    assert.match(w.stderr(), /LOAD_SITE_DIR_NOT_FOUND/);
    assert.match(w.stderr(), /disappeared; watch stopped/);
  } finally {
    w.child.kill('SIGKILL');
  }
});

test('colour: --no-color and NO_COLOR turn it off, FORCE_COLOR turns it on without a terminal', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  assert.is(useColor(undefined, tty, {}), true);
  assert.is(useColor(undefined, pipe, {}), false);
  assert.is(useColor(false, tty, {}), false);
  assert.is(useColor(undefined, tty, { NO_COLOR: '1' }), false);
  assert.is(useColor(undefined, pipe, { FORCE_COLOR: '1' }), true);
  assert.is(useColor(undefined, tty, { FORCE_COLOR: '0' }), false);
  const bad = join(repo, 'test/fixtures/check/node-duplicate-mac/bad');
  const r = runCli(['check', bad], repo);
  assert.not.match(r.stderr, /\u001b\[/, 'no colour into a pipe');
});

test('progress: nothing on a pipe or for a short run; on a terminal after the delay, erased at the end', async () => {
  const writes: string[] = [];
  const pipe = startProgress({ isTTY: false, write: (s) => writes.push(s) }, 0);
  pipe.update('x');
  pipe.done();
  assert.equal(writes, []);
  const quick = startProgress({ isTTY: true, write: (s) => writes.push(s) }, 50);
  quick.update('harvgen: building a (1/1)');
  quick.done();
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(writes, [], 'a run shorter than the delay draws nothing');
  const slow = startProgress({ isTTY: true, write: (s) => writes.push(s) }, 10);
  slow.update('harvgen: building a (1/2)');
  await new Promise((r) => setTimeout(r, 40));
  slow.update('harvgen: building b (2/2)');
  slow.done();
  assert.equal(writes, ['\r\u001b[Kharvgen: building a (1/2)', '\r\u001b[Kharvgen: building b (2/2)', '\r\u001b[K']);
  // A site directory's name is drawn written out: the line's own escape is the only one.
  writes.length = 0;
  const named = startProgress({ isTTY: true, write: (s) => writes.push(s) }, 0);
  named.update('harvgen: building s\u001b[2Jx (1/1)');
  await new Promise((r) => setTimeout(r, 20));
  named.done();
  assert.equal(writes, ['\r\u001b[Kharvgen: building s\\x1b[2Jx (1/1)', '\r\u001b[K']);
});

test('text output never carries a control character it was given: an argument, a site directory name (JSON carries them escaped by JSON)', () => {
  const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;
  // An unknown command, echoed by the usage error.
  const usage = runCli(['a\u001b[2J\u202eb']);
  assert.is(usage.code, 2);
  assert.ok(usage.stderr.includes('a\\x1b[2J\\u202eb'), usage.stderr);
  assert.not.match(usage.stderr, raw);
  // A site found by `check` with no directory, in a directory whose name holds an escape.
  const root = tempDir('contract');
  cpSync(join(repo, 'sites/location_x'), join(root, 'sites', 's\u001b[2Jx'), { recursive: true });
  const r = runCli(['check', '--no-color'], root);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok {2}sites\/s\\x1b\[2Jx: /m);
  assert.not.match(r.stdout + r.stderr, raw);
  const j = runCli(['check', '--json'], root);
  assert.ok(j.stdout.includes('s\\u001b[2Jx'), 'JSON escapes it its own way');
});

test.run();
