// `build()` on worker threads (src/orchestrate/pool.ts) from the sources (tsx): the same tree as the
// serial build. `harvgen build --jobs N` through the binary: test/cli-parallel.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { build } from '../src/index.ts';
import { readTree } from './helpers/tree.ts';
import { inventory } from './helpers/parallel.ts';

test('the library compiles on workers from the sources too (tsx), with the same tree', async () => {
  const { root, dirs } = inventory('parallel-lib');
  const serial = await build({ sites: dirs, cwd: root, outDir: 'serial', jobs: 1 });
  const pooled = await build({ sites: dirs, cwd: root, outDir: 'pooled', jobs: 3 });
  assert.ok(serial.ok && pooled.ok, JSON.stringify(pooled.diagnostics));
  assert.equal(
    pooled.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.code}`),
    serial.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.code}`),
  );
  assert.equal(
    pooled.sites.map((s) => [s.site, s.nodes, s.files.length]),
    serial.sites.map((s) => [s.site, s.nodes, s.files.length]),
  );
  assert.equal(readTree(join(root, 'pooled')), readTree(join(root, 'serial')));
});

test.run();
