// Every command's exit codes and `--json` (issue 19): each run prints one document that validates
// against the published schema (schema/cli-output.schema.json) with ajv, names its command, and
// exits as docs/commands.md "Exit codes" says: check, build, watch (one line per rebuild, then Ctrl-C),
// explain, init, hash-password, verify, help, --help, --version. Errors under --json are a JSON document
// too, usage errors (command null, CLI_USAGE) and internal errors (INTERNAL_ERROR) alike.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../src/cli.ts';
import { runCli } from './helpers/cli.ts';
import { assertJson, runCliWith, startCli } from './helpers/cli-spawn.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');
const X = join(repo, 'sites', 'location_x');
const bad = join(repo, 'test/fixtures/check/node-duplicate-mac/bad');

interface Doc {
  version: number;
  command: string | null;
  ok: boolean;
  errors: number;
  sites: { site: string | null; dir: string }[];
  diagnostics: { code: string; message: string }[];
}

/** Run with --json; check the exit code, the schema, the command; return the document. */
function json<T = object>(args: string[], code: number, command: string | null, options: { cwd?: string; input?: string } = {}): Doc & T {
  const r = runCliWith([...args, '--json'], { cwd: options.cwd ?? repo, input: options.input ?? '' });
  assert.is(r.code, code, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  const doc = assertJson<Doc & T>(r.stdout, args.join(' '));
  assert.is(doc.version, 1);
  assert.is(doc.command, command, args.join(' '));
  assert.is(doc.ok, code === 0, `${args.join(' ')}: ok`);
  return doc;
}

test('check: 0 when clean, 1 with inventory errors, 2 without a site (usage, naming the directory)', () => {
  json(['check', X], 0, 'check');
  assert.ok(json(['check', bad], 1, 'check').diagnostics.some((d) => d.code === 'NODE_DUPLICATE_MAC'));
  const empty = tempDir('json-empty');
  const u = json(['check'], 2, null, { cwd: empty });
  assert.is(u.diagnostics[0]!.code, 'CLI_USAGE');
  assert.match(
    u.diagnostics[0]!.message,
    new RegExp(
      `no sites/ directory in ${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; \`harvgen init sites/<site>\` creates a starting site$`,
    ),
  );
});

test('build: 0 when written, 1 with errors or a stale tree (--check), 0 for --dry-run', () => {
  const out = join(tempDir('json-build'), 'out');
  json(['build', X, '--out', out, '--check'], 1, 'build');
  json(['build', X, '--out', out, '--dry-run'], 0, 'build');
  const b = json<{ sites: { written: string[] }[] }>(['build', X, '--out', out], 0, 'build');
  assert.ok(b.sites[0]!.written.includes('boot.ipxe'));
  json(['build', X, '--out', out, '--check'], 0, 'build');
  json(['build', bad, '--out', out], 1, 'build');
});

test('explain: the envelope with site, hostname and values (as before, at the top); unknown node and broken site', () => {
  const e = json<{ site: string; hostname: string; values: { key: string; value: unknown; source: { kind: string } }[] }>(
    ['explain', X, 'hv-2'],
    0,
    'explain',
  );
  assert.is(e.site, 'location_x');
  assert.is(e.hostname, 'hv-2');
  assert.is(e.values.find((v) => v.key === 'hostname')!.value, 'hv-2');
  assert.is(e.sites[0]!.site, 'location_x');
  const unknown = json(['explain', X, 'hv-22'], 2, null);
  assert.match(unknown.diagnostics[0]!.message, /did you mean "hv-2"/);
  const dir = join(tempDir('json-explain'), 'broken');
  mkdirSync(dir);
  writeFileSync(join(dir, 'site.yaml'), 'site: [\n');
  const broken = json(['explain', dir, 'hv-1'], 1, 'explain');
  assert.is(broken.diagnostics[0]!.code, 'YAML_SYNTAX');
});

test('init: the files created; an existing site is a usage error; an unwritable place exit 2, not an internal error', () => {
  const dir = join(tempDir('json-init'), 'new-site');
  const i = json<{ created: string[] }>(['init', dir], 0, 'init');
  assert.equal(
    i.created,
    [
      'site.yaml',
      'nodes/node-1.yaml',
      'nodes/node-2.yaml',
      'nodes/node-3.yaml',
      'secrets/token',
      'secrets/password',
      'secrets/.gitignore',
    ].map((f) => join(dir, f)),
  );
  assert.is(i.sites[0]!.site, 'new-site');
  assert.match(json(['init', dir], 2, null).diagnostics[0]!.message, /never overwrites/);
  const file = join(tempDir('json-init-file'), 'plain-file');
  writeFileSync(file, '');
  const io = json(['init', join(file, 'site')], 2, 'init');
  assert.is(io.diagnostics[0]!.code, 'EMIT_WRITE_FAILED');
  const text = runCli(['init', join(file, 'site')]);
  assert.is(text.code, 2);
  assert.not.match(text.stderr, /internal error|this is a bug/);
});

test('hash-password: the hash (never the password), exit 0; nothing on stdin is a usage error, exit 2', () => {
  const h = json<{ hash: string }>(['hash-password'], 0, 'hash-password', { input: 'pw-for-test\n' });
  assert.match(h.hash, /^\$6\$[./0-9A-Za-z]{16}\$/);
  assert.not.ok(JSON.stringify(h).includes('pw-for-test'));
  json(['hash-password'], 2, null, { input: '' });
});

test('watch --json: one schema-valid line per rebuild; Ctrl-C then exits 130', async () => {
  const out = join(tempDir('json-watch'), 'out');
  const w = startCli(['watch', X, '--out', out, '--json']);
  try {
    const line = await w.next();
    const doc = assertJson<Doc & { time: string; duration_ms: number; changed: string[] }>(line, 'watch line');
    assert.is(doc.command, 'watch');
    assert.ok(doc.ok);
    assert.equal(doc.changed, []);
  } finally {
    w.child.kill('SIGINT');
  }
  assert.is(await w.exitWithin(), 130, w.stderr());
  assert.is(w.stdout().trim().split('\n').length, 1, 'one line for the one build');
});

test('watch: a missing directory and a bad --debounce are JSON usage errors (exit 2)', () => {
  json(['watch', join(tempDir('json-watch-missing'), 'nope')], 2, null);
  json(['watch', X, '--debounce', 'soon'], 2, null);
});

test('help, --help, --version exit 0; no command, an unknown command or flag exit 2 (JSON with --json)', () => {
  for (const args of [['--help'], ['-h'], ['help'], ['help', 'build'], ['build', '--help'], ['--version'], ['-v']]) {
    const r = runCli(args);
    assert.is(r.code, 0, args.join(' '));
    assert.ok(r.stdout.length > 0, args.join(' '));
  }
  assert.is(runCli([]).code, 2);
  json([], 2, null);
  json(['biuld'], 2, null);
  json(['help', 'biuld'], 2, null);
  json(['check', X, '--stirct'], 2, null);
});

test('an internal error under --json is a JSON document (INTERNAL_ERROR, exit 2), its stack only with --debug', async () => {
  const broken = Object.defineProperty(new PassThrough(), 'isTTY', {
    get(): boolean {
      throw new Error('the terminal went away');
    },
  });
  for (const debug of [false, true]) {
    let stdout = '';
    let stderr = '';
    const io = { out: { write: (s: string) => (stdout += s) }, err: { write: (s: string) => (stderr += s) }, in: broken };
    const code = await main(['hash-password', '--json', ...(debug ? ['--debug'] : [])], io);
    assert.is(code, 2);
    const doc = assertJson<Doc & { diagnostics: { code: string; detail?: string }[] }>(stdout, 'internal error');
    assert.is(doc.command, 'hash-password');
    assert.is(doc.diagnostics[0]!.code, 'INTERNAL_ERROR');
    assert.match(doc.diagnostics[0]!.message, /the terminal went away/);
    assert.is(doc.diagnostics[0]!.detail !== undefined, debug);
    assert.is(stderr, '');
  }
});

test('verify: exit 2 with VERIFY_NO_DEPLOY_TREE when there is no deploy tree (test/verify.test.ts has the rest)', () => {
  const v = json<{ servers: unknown[]; checks: number }>(['verify', X, '--out', join(tempDir('json-verify'), 'deploy')], 2, 'verify');
  assert.is(v.diagnostics[0]!.code, 'VERIFY_NO_DEPLOY_TREE');
  assert.equal(v.servers, []);
  assert.is(v.checks, 0);
});

test('the schema lists every command that prints JSON', () => {
  const schema = JSON.parse(readFileSync(join(repo, 'schema/cli-output.schema.json'), 'utf8')) as {
    properties: { command: { enum: (string | null)[] } };
  };
  assert.equal(schema.properties.command.enum, [
    'check',
    'build',
    'watch',
    'explain',
    'init',
    'hash-password',
    'verify',
    'status',
    'discover',
    'publish',
    'export',
    'import',
    'pull',
    'facts',
    'report',
    null,
  ]);
});

test.run();
