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
import { artifactSha, artifactSize, sha256Hex, TextParts, type Artifact } from '../src/render/artifact.ts';
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

// Texts kept as parts (manifest.json, TextParts): written, hashed and measured part by part.
const partLists: Record<string, string[]> = {
  'p-none.txt': [],
  'q-small.txt': ['{', '\n  "a": 1', '', ',\n  "b": "é"', '\n}\n'],
  // Many short parts filling the buffer more than once, a pair in each.
  'r-many.txt': Array.from({ length: 200_000 }, (_, i) => `{"n": ${i}, "s": "😀é"},\n`),
  // A part longer than a slice between short ones, a pair at each of its slice boundaries.
  's-long-between.txt': ['head\n', 'a'.repeat(SLICE - 3) + '😀'.repeat(SLICE), '\ntail', ''],
  // A long part after the buffer is partly full: its first slice is shorter.
  't-long-after.txt': ['x'.repeat(1000), 'y'.repeat(SLICE * 2 + 7) + '😀', 'z'],
  'u-long-last.txt': ['x'.repeat(10), '日'.repeat(SLICE * 3)],
};

test('a text kept as parts is written, hashed and measured as the UTF-8 bytes of their concatenation', async () => {
  const dir = join(tempDir('emit-parts'), 'site');
  const artifacts = Object.entries(partLists).map(([path, parts]) => new TextParts(path, parts, 0o644));
  await emitSite(dir, artifacts);
  for (const a of artifacts) {
    const bytes = Buffer.from(a.parts.join(''), 'utf8');
    assert.ok(readFileSync(join(dir, a.path)).equals(bytes), a.path);
    assert.is(artifactSha(a), createHash('sha256').update(bytes).digest('hex'), a.path);
    assert.is(artifactSize(a), bytes.byteLength, a.path);
    assert.is(a.contents, a.parts.join(''), a.path);
  }
});

test.run();
