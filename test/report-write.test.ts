// writeReport (src/page/write.ts) against an output directory someone else can touch: a link below
// it is never followed (nothing written or removed outside), a FIFO in a page's place cannot hang
// the run, a page's place taken by a directory fails before any page is replaced (no temp left),
// and the temps a killed run left are removed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { report, writeReport, type PageFile } from '../src/page/index.ts';
import { site } from './helpers/status.ts';
import { tempDir } from './helpers/tmp.ts';

const AT = '2026-11-23T12:00:00Z';
let files: readonly PageFile[] = [];

test.before(async () => {
  const r = await report({ sites: [site('rw')], generatedAt: AT });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  files = r.files;
});

/** Every entry under `dir`, recursively, sorted. */
const tree = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).sort();

test('a link below the output directory is refused: nothing is written or removed through it', async () => {
  const root = tempDir('report-write-link');
  const outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep.html'), 'keep');
  const out = join(root, 'out');
  mkdirSync(out);
  writeFileSync(join(out, '.harvgen-report'), 'sites/keep.html\n');
  symlinkSync(outside, join(out, 'sites'));
  const w = await writeReport(out, files);
  assert.ok('diagnostic' in w && w.diagnostic.code === 'EMIT_WRITE_FAILED', JSON.stringify(w));
  assert.match(w.diagnostic.message, 'symbolic link');
  assert.equal(tree(outside), ['keep.html']);
  assert.equal(readdirSync(out).sort(), ['.harvgen-report', 'sites']);
});

test('a FIFO in a page place or as the page list does not hang the run: refused, said', async () => {
  const out = join(tempDir('report-write-fifo'), 'out');
  assert.not.ok('diagnostic' in (await writeReport(out, files)));
  execFileSync('rm', [join(out, 'index.html')]);
  execFileSync('mkfifo', [join(out, 'index.html')]);
  const w = await writeReport(out, files);
  assert.ok('diagnostic' in w, JSON.stringify(w));
  assert.match(w.diagnostic.message, 'index.html is not a regular file');
  const other = join(tempDir('report-write-fifo'), 'out');
  mkdirSync(other);
  execFileSync('mkfifo', [join(other, '.harvgen-report')]);
  const l = await writeReport(other, files);
  assert.ok('diagnostic' in l && /holds no report/.test(l.diagnostic.message), JSON.stringify(l));
});

test("a page's place taken by a directory: no page replaced, no temp left; a dead run's temps removed", async () => {
  const out = join(tempDir('report-write-dir'), 'out');
  assert.not.ok('diagnostic' in (await writeReport(out, files)));
  const before = readFileSync(join(out, 'index.html'), 'utf8');
  // A dead process's temp (pid 2^22 + 1 is above Linux's pid_max limit).
  writeFileSync(join(out, `.index.html.harvgen-tmp-${2 ** 22 + 1}-abcd1234`), 'torn');
  execFileSync('rm', [join(out, 'sites/rw/print.html')]);
  mkdirSync(join(out, 'sites/rw/print.html'));
  const changed = files.map((f) => (f.path === 'index.html' ? { ...f, contents: `${f.contents}<!-- new -->` } : f));
  const w = await writeReport(out, changed);
  assert.ok('diagnostic' in w && /is not a regular file/.test(w.diagnostic.message), JSON.stringify(w));
  assert.is(readFileSync(join(out, 'index.html'), 'utf8'), before, 'the previous page is as it was');
  assert.equal(
    tree(out).filter((p) => p.includes('harvgen-tmp')),
    [],
  );
  execFileSync('rmdir', [join(out, 'sites/rw/print.html')]);
  const again = await writeReport(out, changed);
  assert.ok(!('diagnostic' in again) && again.written === 2, JSON.stringify(again));
  assert.ok(existsSync(join(out, 'sites/rw/print.html')));
});

test.run();
