// Emit and sha256Hex encode each text through one reused buffer, large ones in slices
// (src/util/utf8-chunks.ts) instead of a new buffer per file: every file must still hold, and
// every hash be of, exactly the UTF-8 of its text, whatever its size and characters, wherever a
// slice ends, and whatever longer text was encoded before it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emitSite } from '../src/emit/index.ts';
import { sha256Hex, type Artifact } from '../src/render/artifact.ts';
import { tempDir } from './helpers/tmp.ts';

/** UTF-16 units per slice (a 1 MiB buffer, at most 3 bytes a unit). */
const SLICE = Math.floor((1 << 20) / 3);

const texts: Record<string, string> = {
  'a-ascii.txt': 'plain ASCII\n',
  // Longer than the initial 64 KiB buffer in UTF-8 (3 bytes a character), not in UTF-16 units.
  'b-cjk.txt': '日本語のテキスト'.repeat(4000),
  // After a longer one: no bytes of the previous text may follow it.
  'c-short.txt': 'x',
  'd-markers.yaml': 'token: "«harvgen secret cluster.token»"\n',
  // Surrogate pairs (4 bytes in UTF-8).
  'e-emoji.txt': '🚀 boot 🧪\n'.repeat(5000),
  // Over the buffer's 1 MiB bound: encoded alone.
  'f-large.txt': 'ü'.repeat(600_000),
  'g-empty.txt': '',
  'h-after-large.txt': 'é\n',
  // A surrogate pair across the first slice boundary, with one unit before it (odd and even offsets).
  'i-pair-at-boundary.txt': 'a'.repeat(SLICE - 1) + '😀'.repeat(3) + 'b',
  'j-pair-after-boundary.txt': 'a'.repeat(SLICE) + '😀' + 'c'.repeat(SLICE),
  // A lone surrogate at a boundary is U+FFFD, as Buffer.from writes it.
  'k-lone-surrogate.txt': 'x'.repeat(SLICE - 1) + '\ud83d' + 'y'.repeat(10),
  'l-many-slices.txt': '日本😀é\n'.repeat(400_000),
  'm-short-after-slices.txt': 'x',
};

test('every text is written as its exact UTF-8 bytes, in any order of sizes', async () => {
  const dir = join(tempDir('emit-encoding'), 'site');
  const artifacts: Artifact[] = [
    ...Object.entries(texts).map(([path, contents]) => ({ path, contents, mode: 0o644 })),
    { path: 'z-bytes.bin', contents: new Uint8Array([0, 255, 1, 254]), mode: 0o644 },
  ];
  const r = await emitSite(dir, artifacts);
  assert.is(r.written.length, artifacts.length);
  for (const [path, contents] of Object.entries(texts)) {
    assert.ok(readFileSync(join(dir, path)).equals(Buffer.from(contents, 'utf8')), path);
  }
  assert.equal([...readFileSync(join(dir, 'z-bytes.bin'))], [0, 255, 1, 254]);
});

test('a text is hashed as its exact UTF-8 bytes, large ones in slices that never split a surrogate pair', () => {
  for (const [name, text] of Object.entries(texts)) {
    assert.is(sha256Hex(text), createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'), name);
  }
});

test.run();
