// Which tree an output directory's site holds, read from the first lines of its manifest.json
// (src/emit/out-dir.ts, `manifestKind`): the same answer as parsing the whole manifest for every
// manifest harvgen writes, and no answer (the whole manifest is parsed) for any other text. The
// file is read in 1 MiB chunks: a stray `"secrets"` is found wherever it lies, across two chunks too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { manifestKind as kindOfFile } from '../src/emit/out-dir.ts';
import { tempDir } from './helpers/tmp.ts';

const dir = tempDir('out-dir-kind');
let n = 0;
/** manifestKind of `text` written to a file of its own. */
const manifestKind = (text: string) => {
  const file = join(dir, `m${n++}.json`);
  writeFileSync(file, text);
  return kindOfFile(file);
};

const repo = resolve(import.meta.dirname, '..');

test('the committed manifests: the first lines say what the whole manifest says', () => {
  for (const site of ['location_x', 'location_y']) {
    const text = readFileSync(join(repo, 'out', site, 'manifest.json'), 'utf8');
    assert.is(manifestKind(text), 'markers');
    assert.is(manifestKind(text), (JSON.parse(text) as { secrets: string }).secrets);
    const filled = text.replace('"secrets": "markers"', '"secrets": "filled"');
    assert.is(manifestKind(filled), 'filled');
  }
});

test('any other text is left to the whole parse', () => {
  const text = readFileSync(join(repo, 'out/location_x/manifest.json'), 'utf8');
  // A second `secrets` key: JSON.parse takes the last one, so the first lines cannot answer.
  const twice = text.replace(/\n}\n$/, ',\n  "secrets": "filled"\n}\n');
  assert.is((JSON.parse(twice) as { secrets: string }).secrets, 'filled');
  assert.is(manifestKind(twice), undefined);
  // Cut short, reordered, an older or another writer's.
  assert.is(manifestKind(text.slice(0, text.length / 2)), undefined);
  assert.is(manifestKind(text.replace('"generator": "harvgen",\n', '')), undefined);
  assert.is(manifestKind(JSON.stringify(JSON.parse(text))), undefined);
  assert.is(manifestKind(text.replace('"secrets": "markers"', '"secrets": "other"')), undefined);
});

test('a manifest of several chunks: a stray key anywhere, across a chunk boundary too, leaves it to the whole parse', () => {
  const text = readFileSync(join(repo, 'out/location_x/manifest.json'), 'utf8');
  const head = text.slice(0, text.indexOf('  "files"'));
  // A manifest of about 3 MiB as harvgen writes it: many entries.
  const entry = (i: number) => `    "f${String(i).padStart(7, '0')}": { "sha256": "${'a'.repeat(64)}", "size": 1 }`;
  const entries = Array.from({ length: 30_000 }, (_v, i) => entry(i));
  const big = `${head}  "files": {\n${entries.join(',\n')}\n  }\n}\n`;
  assert.ok(Buffer.byteLength(big) > 3 * (1 << 20));
  assert.is(manifestKind(big), 'markers');
  assert.is(manifestKind(big.replace('"secrets": "markers"', '"secrets": "filled"')), 'filled');
  // A key put into the text at offsets around each chunk boundary (1 MiB, less the bytes carried over).
  const stray = '"secrets"';
  for (const boundary of [1 << 20, 2 * (1 << 20) - 8, 3 * (1 << 20) - 16]) {
    for (let k = -stray.length; k <= stray.length; k++) {
      const at = boundary + k;
      const changed = `${big.slice(0, at)}${stray}${big.slice(at + stray.length)}`;
      assert.is(manifestKind(changed), undefined, `"secrets" at byte ${at}`);
    }
  }
  // Not ending as an object, or not a regular file: no answer.
  assert.is(manifestKind(big.slice(0, -1)), undefined);
  assert.is(manifestKind(`${big}\n`), undefined);
  assert.is(kindOfFile(join(dir, 'none.json')), undefined);
  const target = join(dir, 'target.json');
  writeFileSync(target, big);
  symlinkSync(target, join(dir, 'link.json'));
  assert.is(kindOfFile(join(dir, 'link.json')), undefined);
  // A FIFO: answered at once, never waited on.
  execFileSync('mkfifo', [join(dir, 'fifo.json')]);
  assert.is(kindOfFile(join(dir, 'fifo.json')), undefined);
});

test('a short file is judged by its own bytes, not by what the last read left in the buffer', () => {
  const text = readFileSync(join(repo, 'out/location_x/manifest.json'), 'utf8');
  // A file that ends as an object inside the head, read right after one that goes on from there:
  // with the rest of that one behind it in the buffer, its head would match.
  const at = text.indexOf('"site": "') + '"site": "'.length;
  const short = `${text.slice(0, at)}x}\n`;
  assert.is(manifestKind(`${short}${text.slice(at)}`), 'markers');
  assert.is(manifestKind(short), undefined);
});

test.run();
