// manifest.json (src/render/manifest.ts) is one JSON.stringify of the whole in a plain build, and
// under watch its parts: the head, then each node's and each file's entry serialized alone and
// indented where it sits, kept across rebuilds. Both must give the same bytes, which must be what
// JSON.stringify(whole, null, 2) and a newline write (parsing the text and writing it again that
// way gives the same bytes), for every example site, rendered once and again from the kept parts.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { artifactSha, isParts, sameParts, TextParts } from '../src/render/artifact.ts';
import { renderCache } from '../src/render/index.ts';
import { renderManifest } from '../src/render/manifest.ts';
import { protectedFiles } from '../src/render/access.ts';
import { nodeMemo, NodeParts } from '../src/model/memo.ts';
import { compileModel, renderModelled, type CompiledSite } from '../src/pipeline.ts';

const repo = resolve(import.meta.dirname, '..');

const sites = readdirSync(join(repo, 'sites'), { withFileTypes: true })
  .filter((e) => e.isDirectory() && !e.name.startsWith('_') && readdirSync(join(repo, 'sites', e.name)).includes('site.yaml'))
  .map((e) => join(repo, 'sites', e.name));

const manifestOf = (s: CompiledSite) => s.artifacts!.find((a) => a.path === 'manifest.json')!;

test('manifest.json from its kept parts is the plain build one, JSON.stringify of the whole, for every example site', async () => {
  assert.ok(sites.length >= 2);
  for (const dir of sites) {
    const modelled = await compileModel(dir);
    assert.ok(modelled.renderable, dir);
    const plain = manifestOf(renderModelled(modelled));
    const cache = renderCache();
    const once = manifestOf(renderModelled({ ...modelled, renderable: { ...modelled.renderable!, cache } }));
    const again = manifestOf(renderModelled({ ...modelled, renderable: { ...modelled.renderable!, cache } }));
    assert.ok(isParts(once) && once.parts.length > 4, `${dir}: in parts under watch`);
    const text = plain.contents as string;
    assert.is(once.contents, text, `${dir}: parts = whole`);
    assert.is(again.contents, text, `${dir}: kept parts = whole`);
    assert.is(text, `${JSON.stringify(JSON.parse(text), null, 2)}\n`, dir);
    assert.ok((JSON.parse(text) as { nodes: unknown[] }).nodes.length > 0, `${dir}: lists its nodes`);
  }
});

test('file entries kept by place follow a file added before them, manifest.json put in its place between', async () => {
  const modelled = await compileModel(sites[0]!);
  const site = renderModelled(modelled);
  const model = modelled.model!;
  const all = site.artifacts!.filter((a) => a.path !== 'manifest.json');
  const after = all.filter((a) => a.path > 'manifest.json');
  assert.ok(after.length > 0 && all[1]!.path < 'manifest.json', 'files on both sides of manifest.json');
  const memo = nodeMemo(new NodeParts());
  // The same protected list (as watch's render keeps it while no owner changed).
  const guarded = protectedFiles(
    model,
    all.filter((a) => a.url !== undefined).map((a) => a.path),
  );
  // As renderSite does: the entries made, then manifest.json spliced into the same list.
  const first = all.filter((_a, i) => i !== 1);
  const parts = renderManifest(model, first, { secrets: 'markers', memo, guarded });
  first.splice(first.length - after.length, 0, new TextParts('manifest.json', parts, 0o644));
  // The file left out comes back: every later file sits one place further on.
  const kept = renderManifest(model, all, { secrets: 'markers', memo, guarded }).join('');
  assert.is(kept, renderManifest(model, all, { secrets: 'markers', guarded }).join(''));
});

test('sameParts tells two texts of parts apart only where their bytes do, else leaves it to the hash', () => {
  const parts = (...p: string[]) => new TextParts('manifest.json', p, 0o644);
  const a = parts('{\n  "sha256": "', 'aa', '"\n}\n');
  // The same strings, other objects: the same bytes.
  assert.is(sameParts(a, parts('{\n  "sha256": "', 'a' + 'a', '"\n}\n')), true);
  // One part changed, its UTF-8 length kept: the files differ exactly there.
  assert.is(sameParts(a, parts('{\n  "sha256": "', 'ab', '"\n}\n')), false);
  // The same bytes cut elsewhere, another count of parts, another UTF-8 length: not told by parts.
  const recut = parts('{\n  "sha256": "a', 'a', '"\n}\n');
  assert.is(sameParts(a, recut), undefined);
  assert.is(artifactSha(a), artifactSha(recut));
  assert.is(sameParts(a, parts('{\n  "sha256": "', 'aa"\n}\n')), undefined);
  assert.is(sameParts(a, parts('{\n  "sha256": "', 'éa', '"\n}\n')), undefined);
  // As many UTF-8 bytes, other ones: different.
  assert.is(sameParts(a, parts('{\n  "sha256": "', 'é', '"\n}\n')), false);
  // Either one a plain text: not told.
  assert.is(sameParts(a, { path: 'manifest.json', contents: a.contents, mode: 0o644 }), undefined);
});

test('entries joined in runs: a list that shrinks or grows in its last run, or loses an entry before it, reads as the whole', async () => {
  const modelled = await compileModel(sites[0]!);
  const model = modelled.model!;
  const files = Array.from({ length: 700 }, (_v, i) => ({ path: `f/${String(i).padStart(4, '0')}`, contents: `file ${i}\n`, mode: 0o644 }));
  const memo = nodeMemo(new NodeParts());
  const check = (list: typeof files, what: string) =>
    assert.is(
      renderManifest(model, list, { secrets: 'markers', memo }).join(''),
      renderManifest(model, list, { secrets: 'markers' }).join(''),
      what,
    );
  check(files, 'first');
  check(files, 'again, from the kept runs');
  check(files.slice(0, 650), 'the last run shorter');
  check(files.slice(0, 690), 'the last run longer');
  check(files.slice(0, 512), 'the list ending where a run does');
  check(files, 'a run more');
  check([...files.slice(0, 100), ...files.slice(101)], 'an entry gone from the first run');
  check(files, 'back');
});

test.run();
