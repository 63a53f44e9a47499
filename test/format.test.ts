// The printed form of diagnostics (the only place full message text is pinned down).
// UPDATE_GOLDEN=1 rewrites the expected files; review the diff.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

test.run();
