// Which tree an output directory's site holds, read from the first lines of its manifest.json
// (src/emit/out-dir.ts, `manifestKind`): the same answer as parsing the whole manifest for every
// manifest harvgen writes, and no answer (the whole manifest is parsed) for any other text.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { manifestKind as kindOfBytes } from '../src/emit/out-dir.ts';

const manifestKind = (text: string) => kindOfBytes(Buffer.from(text));

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

test.run();
