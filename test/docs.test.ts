// The developer notes' "output file -> renderer -> template" table (docs/dev/output-sources.md)
// names things that exist, and every template is in it; the real-test requirements are written
// down (docs/dev/testing.md).
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const repo = resolve(import.meta.dirname, '..');
const sources = readFileSync(join(repo, 'docs/dev/output-sources.md'), 'utf8');
const testing = readFileSync(join(repo, 'docs/dev/testing.md'), 'utf8');
const table = sources.slice(sources.indexOf('| output file | renderer | template |'));
const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);

test('every template is named in the output-sources table, and every named template exists', () => {
  const templates = readdirSync(join(repo, 'templates')).filter((f) => f.endsWith('.eta'));
  const named = [...rows.join('\n').matchAll(/`([a-z.-]+\.eta)`/g)].map((m) => m[1]!);
  for (const t of templates) assert.ok(named.includes(t), `${t} is not in the table`);
  for (const n of named) assert.ok(templates.includes(n), `the table names ${n}, which does not exist`);
});

test('every renderer the output-sources table names is exported from that file', async () => {
  for (const row of rows) {
    for (const m of row.matchAll(/`(\w+)` \(`([\w/-]+\.ts)`\)/g)) {
      // Paths are under src/render/ unless they say src/ themselves.
      const file = m[2]!.startsWith('src/') ? m[2]! : `src/render/${m[2]}`;
      const mod = (await import(join(repo, file))) as Record<string, unknown>;
      assert.type(mod[m[1]!], 'function', `${m[1]} in ${file}`);
    }
  }
  assert.ok(rows.length >= 12, `${rows.length} rows`);
});

test('the developer notes say the real-program tests need root and how long they take', () => {
  assert.match(testing, /need \*\*root\*\*/);
  assert.match(testing, /about\s+\*\*\d+ minutes\*\*/);
});

test.run();
