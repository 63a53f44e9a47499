// manifest.json is rendered as its parts (src/render/manifest.ts): the head, then each node's and
// each file's entry serialized alone and indented where it sits. Joined, they must be exactly what
// JSON.stringify(whole, null, 2) and a newline write: parsing the text and writing it again that
// way gives the same bytes, for every example site, under watch's kept entries too (the golden
// trees hold the bytes of every fixture's manifest.json as whole-object rendering wrote them).
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isParts } from '../src/render/artifact.ts';
import { renderCache } from '../src/render/index.ts';
import { compileModel, compileSite, renderModelled } from '../src/pipeline.ts';

const repo = resolve(import.meta.dirname, '..');

function sitesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('_') && readdirSync(join(dir, e.name)).includes('site.yaml'))
    .map((e) => join(dir, e.name));
}

test('manifest.json from its parts is JSON.stringify of the whole, for every example site', async () => {
  const sites = sitesUnder(join(repo, 'sites'));
  assert.ok(sites.length >= 2);
  let checked = 0;
  for (const dir of sites) {
    const site = await compileSite(dir);
    const manifest = site.artifacts?.find((a) => a.path === 'manifest.json');
    if (!manifest) continue;
    assert.ok(isParts(manifest), `${dir}: kept as parts`);
    const text = manifest.contents as string;
    assert.is(text, `${JSON.stringify(JSON.parse(text), null, 2)}\n`, dir);
    assert.ok((JSON.parse(text) as { nodes: unknown[] }).nodes.length > 0, `${dir}: lists its nodes`);
    checked++;
  }
  assert.ok(checked >= 2, 'manifests checked');
});

test("with watch's kept entries the parts give the same text again (a changed one: test/watch-incremental.test.ts)", async () => {
  const dir = join(repo, 'sites/location_x');
  const cache = renderCache();
  const first = await compileModel(dir);
  const once = renderModelled({ ...first, renderable: { ...first.renderable!, cache } });
  const twice = renderModelled({ ...first, renderable: { ...first.renderable!, cache } });
  const text = (s: typeof once) => s.artifacts!.find((a) => a.path === 'manifest.json')!.contents as string;
  assert.is(text(twice), text(once));
  assert.is(text(once), `${JSON.stringify(JSON.parse(text(once)), null, 2)}\n`);
});

test.run();
