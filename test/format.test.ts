// The printed form of diagnostics (the only place full message text is pinned down).
// UPDATE_GOLDEN=1 rewrites the expected files; review the diff.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check, formatDiagnostics } from '../src/index.ts';

const repo = resolve(import.meta.dirname, '..');
const root = join(repo, 'test/fixtures/format');

for (const name of readdirSync(root).sort()) {
  test(`formatted diagnostics of "${name}" match expected.txt`, async () => {
    const dir = join(root, name);
    const result = await check({ sites: [`test/fixtures/format/${name}`], cwd: repo });
    const sources = Object.assign({}, ...result.sites.map((s) => s.sources)) as Record<string, string>;
    const text = formatDiagnostics(result.diagnostics, { sources, color: false }) + '\n';
    const expected = join(dir, 'expected.txt');
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(expected)) writeFileSync(expected, text);
    assert.fixture(text, readFileSync(expected, 'utf8'));
  });
}

test('colour codes appear only when asked for', async () => {
  const result = await check({ sites: ['test/fixtures/format/rules'], cwd: repo });
  assert.not.match(formatDiagnostics(result.diagnostics, { color: false }), /\u001b\[/);
  assert.match(formatDiagnostics(result.diagnostics, { color: true }), /\u001b\[31;1merror/);
});

test('a control character or a bidirectional override from the inventory reaches the terminal written out, never raw', async () => {
  // A MAC that is none is quoted by its message as written.
  const site = mkdtempSync(join(tmpdir(), 'harvgen-format-'));
  mkdirSync(join(site, 'nodes'));
  writeFileSync(
    join(site, 'site.yaml'),
    [
      'site: lab',
      'harvester: { version: v1.4.1, artifacts: http://10.0.0.1/a }',
      'boot: { server: http://10.0.0.1 }',
      'network: { cidr: 10.0.0.0/24, gateway: 10.0.0.1, dns: [10.0.0.1], dhcp_range: 10.0.0.100-10.0.0.199 }',
      'cluster: { vip: 10.0.0.10, token: { env: T }, password: { env: P } }',
      'nodes:',
      '  - { hostname: n1, ip: 10.0.0.5, mac: "\\e[2J\\e[41mX\\u202eab", install: { device: /dev/vda } }',
      '',
    ].join('\n'),
  );
  const result = await check({ sites: [site], env: { T: 'token.123', P: 'password.123' } });
  const d = result.diagnostics.find((x) => x.message.includes('\u001b'));
  assert.ok(d, `a message quotes the value: ${JSON.stringify(result.diagnostics.map((x) => x.message))}`);
  const text = formatDiagnostics(result.diagnostics, { sources: result.sites[0]!.sources, color: true });
  // The colours are the formatter's own: each ESC starts one of its SGR sequences.
  assert.not.match(text.replace(/\u001b\[[0-9;]*m/g, ''), /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  assert.ok(formatDiagnostics([d], { color: false }).includes('\\x1b[2J\\x1b[41mX\\u202eab'), formatDiagnostics([d]));
});

test("a code frame's caret stays under the column when a character before it is written out", () => {
  const text = 'a: "\u0007"\nb: 1\n';
  const frame = formatDiagnostics([{ code: 'X', severity: 'error', message: 'm', file: 'f.yaml', line: 2, col: 4 }], {
    sources: { 'f.yaml': text },
  });
  assert.match(frame, /> 2 \| b: 1\n\s+\| {4}\^\n?/);
  const raw = formatDiagnostics([{ code: 'X', severity: 'error', message: 'm', file: 'f.yaml', line: 1, col: 6 }], {
    sources: { 'f.yaml': 'a: "\u0007x"\n' },
  });
  assert.match(raw, /> 1 \| a: "\\x07x"\n\s+\| {9}\^/, raw); // under the x, after the 4 characters of \x07
});

test('a code frame cuts a long line as written, never inside an escape, and underlines at most 80 columns', () => {
  const long = `${'x'.repeat(150)}${'\u001b'.repeat(20)}`;
  const cut = formatDiagnostics([{ code: 'X', severity: 'error', message: 'm', file: 'f.yaml', line: 1, col: 1 }], {
    sources: { 'f.yaml': long },
  });
  assert.ok(cut.includes(`${'x'.repeat(150)}${'\\x1b'.repeat(10)}…\n`), cut);
  const escapes = `a: "${'\u001b'.repeat(45)}", b: 1`;
  const col = escapes.indexOf('b:') + 1;
  const wide = formatDiagnostics(
    [{ code: 'X', severity: 'error', message: 'm', file: 'f.yaml', line: 1, col: 5, endLine: 1, endCol: col }],
    {
      sources: { 'f.yaml': escapes },
    },
  );
  assert.match(wide, /\| {5}\^{80}$/m);
});

test.run();
