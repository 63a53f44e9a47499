// Defence in depth: what should never happen still ends in a diagnostic, not a crash.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSite } from '../src/index.ts';
import { renderSite } from '../src/render/index.ts';
import { NO_SOURCE } from '../src/load/index.ts';
import { strict, MissingTemplateValue } from '../src/render/strict.ts';
import { readInventoryText } from '../src/load/read-text.ts';
import { tempDir } from './helpers/tmp.ts';

const repo = resolve(import.meta.dirname, '..');

test('a file that vanishes between listing and reading is LOAD_READ_FAILED', async () => {
  const dir = tempDir();
  const r = await readInventoryText(join(dir, 'gone.yaml'), 'sites/x/nodes/gone.yaml');
  assert.is(r.text, undefined);
  assert.is(r.diagnostics[0]?.code, 'LOAD_READ_FAILED');
  assert.is(r.diagnostics[0]?.file, 'sites/x/nodes/gone.yaml');
  assert.match(r.diagnostics[0]?.message ?? '', /cannot read/);
});

test("a FIFO or a directory in a node file's place is LOAD_READ_FAILED, never a wait", async () => {
  const dir = tempDir();
  execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
  mkdirSync(join(dir, 'dir.yaml'));
  for (const name of ['pipe.yaml', 'dir.yaml']) {
    const r = readInventoryText(join(dir, name), `sites/x/nodes/${name}`);
    assert.is(r.text, undefined);
    assert.is(r.diagnostics[0]?.code, 'LOAD_READ_FAILED', name);
    assert.match(r.diagnostics[0]?.message ?? '', /is not a regular file/);
  }
  // A file read gives the stats of what was read (the stamp of the file opened).
  writeFileSync(join(dir, 'n.yaml'), 'ip: 10.0.0.1\n');
  const r = readInventoryText(join(dir, 'n.yaml'), 'n.yaml');
  assert.is(r.text, 'ip: 10.0.0.1\n');
  assert.is(r.stats?.size, 13);
});

test('a file whose size says it is empty (a proc or FUSE file) is read to its end', () => {
  const r = readInventoryText('/proc/version', 'version.yaml');
  assert.ok(r.diagnostics.length === 0, JSON.stringify(r.diagnostics));
  assert.is(r.stats?.size, 0);
  assert.is(r.text, readFileSync('/proc/version', 'utf8'));
  assert.ok((r.text ?? '').length > 0);
});

test('a node file linked to a FIFO in the repository is LOAD_READ_FAILED: the compile ends (it waited forever before)', async () => {
  const root = tempDir();
  mkdirSync(join(root, '.git'));
  mkdirSync(join(root, 'site/nodes'), { recursive: true });
  writeFileSync(join(root, 'site/site.yaml'), readFileSync(join(repo, 'sites/location_x/site.yaml'), 'utf8'));
  execFileSync('mkfifo', [join(root, 'pipe.yaml')]);
  symlinkSync('../../pipe.yaml', join(root, 'site/nodes/zz.yaml'));
  const r = await compileSite(join(root, 'site'), { cwd: root });
  const d = r.diagnostics.find((x) => x.code === 'LOAD_READ_FAILED');
  assert.ok(d, JSON.stringify(r.diagnostics.map((x) => x.code)));
  assert.is(d.file, 'site/nodes/zz.yaml');
});

test('an exception inside the pipeline becomes INTERNAL_ERROR with the stack kept for --debug', async () => {
  const r = await compileSite(join(repo, 'sites/location_x'), { cwd: 42 as unknown as string });
  const d = r.diagnostics.find((x) => x.code === 'INTERNAL_ERROR');
  assert.ok(d, JSON.stringify(r.diagnostics));
  assert.match(d.message, /this is a bug in harvgen/);
  assert.ok(d.detail && d.detail.includes('at '));
});

test('a rendered path that would leave the output directory is RENDER_PATH_ESCAPE', async () => {
  const model = (await compileSite(join(repo, 'sites/location_x'))).model!;
  const evil = { ...model, nodes: model.nodes.map((n, i) => (i === 0 ? { ...n, hostname: '../../etc/cron.d/x' } : n)) };
  const r = renderSite(evil, NO_SOURCE);
  assert.ok(r.diagnostics.some((d) => d.code === 'RENDER_PATH_ESCAPE'));
  assert.not.ok(r.artifacts.some((a) => a.path.includes('..')));
});

test('templates fail loudly on a missing value', () => {
  const data = strict({ a: { b: 1 }, list: [1, 2] });
  assert.is(data.a.b, 1);
  assert.is(data.list.map((x) => x * 2).join(','), '2,4');
  assert.throws(
    () => (data as unknown as { a: { c: number } }).a.c,
    (e: unknown) => e instanceof MissingTemplateValue && /it\.a\.c/.test((e as Error).message),
  );
});

test.run();
