// The two passes of src/pipeline.ts as plain data: compileModel's ModelledSite carries what
// rendering needs (`renderable`), renderModelled finishes it, and both give what compileSite
// gives. The values a site masks travel as its `masked` field, which is never serialized.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileModel, compileSite, renderModelled, siteSecretValues } from '../src/pipeline.ts';
import { exampleWithSecrets } from './helpers/example.ts';
import type { ParseCache } from '../src/load/index.ts';
import { RACY_MS } from '../src/load/stamps.ts';

const TOKEN = 'K10-pipeline-test-token.2027';

test('compileModel then renderModelled is compileSite; a site with an error is not renderable', async () => {
  const dir = exampleWithSecrets('location_x');
  const modelled = await compileModel(dir, { secrets: 'filled', stamps: true });
  assert.ok(modelled.renderable, JSON.stringify(modelled.diagnostics));
  assert.ok(modelled.inputs?.complete, 'every input stamped');
  assert.ok(
    modelled.inputs!.stamps.some((s) => s[0] === join(dir, 'secrets/token')),
    'the secret file is an input',
  );
  const rendered = renderModelled(modelled);
  const whole = await compileSite(dir, { secrets: 'filled', stamps: true });
  assert.not.ok('renderable' in rendered, 'the second pass leaves nothing of the first behind');
  assert.equal(
    rendered.artifacts!.map((a) => [a.path, a.contents]),
    whole.artifacts!.map((a) => [a.path, a.contents]),
  );
  assert.equal(rendered.diagnostics, whole.diagnostics);
  writeFileSync(join(dir, 'site.yaml'), 'site: location_x\n');
  const broken = await compileModel(dir, { stamps: true });
  assert.ok(broken.diagnostics.length > 0);
  assert.is(broken.renderable, undefined);
  assert.is(broken.inputs?.complete, false, 'compiling stopped before every input was read');
  assert.is(renderModelled(broken).artifacts, undefined);
});

test('the masked values are a field of the site, kept through copies, never serialized or shown', async () => {
  const dir = exampleWithSecrets('location_x');
  writeFileSync(join(dir, 'secrets/token'), `${TOKEN}\n`);
  const site = await compileSite(dir, { secrets: 'filled' });
  assert.ok(site.masked.values.includes(TOKEN));
  assert.equal(siteSecretValues({ ...site }), site.masked.values, 'a copy masks the same values');
  const { model: _model, artifacts: _files, ...printed } = site;
  const json = JSON.stringify(printed);
  assert.not.ok(json.includes(TOKEN), 'no secret in a serialized site');
  assert.not.ok(json.includes('"masked"'), 'the field is left out');
  assert.not.ok(inspect(printed, { depth: 9 }).includes(TOKEN), 'nor in what console.log shows');
  assert.match(inspect(site.masked), /^MaskedValues\(\d+\)$/);
});

test('masked sources under a parse cache follow the secret values: a kept file is masked again when they change', async () => {
  const dir = exampleWithSecrets('location_x');
  const token = readFileSync(join(dir, 'secrets/token'), 'utf8').trim();
  const other = 'K10-rotated-token-value-2028';
  const yaml = join(dir, 'site.yaml');
  writeFileSync(yaml, `${readFileSync(yaml, 'utf8')}# rotation: ${token} then ${other}\n`);
  // A file changed within RACY_MS of its read is not kept.
  await new Promise((r) => setTimeout(r, RACY_MS + 50));
  const parseCache: ParseCache = new Map();
  const shown = async (cached: boolean) => {
    const c = await compileModel(dir, { secrets: 'filled', ...(cached ? { parseCache } : {}) });
    return Object.entries(c.sources).find(([path]) => path.endsWith('site.yaml'))![1];
  };
  for (const [secret, clear] of [
    [token, other],
    [other, token],
    [token, other],
  ] as const) {
    writeFileSync(join(dir, 'secrets/token'), `${secret}\n`);
    const text = await shown(true);
    assert.ok(!text.includes(secret), `${secret} masked`);
    assert.ok(text.includes(clear), `${clear} shown`);
    assert.is(text, await shown(false));
    assert.is(parseCache.size, 1, 'site.yaml is kept');
  }
});

test("a node's `config:` secret found under a parse cache as without it, once the node gains one and after it loses it", async () => {
  const dir = exampleWithSecrets('location_x');
  const yaml = join(dir, 'site.yaml');
  const plain = readFileSync(yaml, 'utf8');
  const parseCache: ParseCache = new Map();
  const inline = async () => {
    await new Promise((r) => setTimeout(r, RACY_MS + 50));
    const cached = await compileModel(dir, { parseCache });
    const fresh = await compileModel(dir);
    const codes = (c: typeof cached) => c.diagnostics.filter((d) => d.code === 'SECRET_INLINE').map((d) => d.path);
    assert.equal(codes(cached), codes(fresh));
    return codes(cached);
  };
  assert.equal(await inline(), []);
  assert.equal(await inline(), []);
  writeFileSync(yaml, plain.replace('  - hostname: hv-1\n', '  - hostname: hv-1\n    config: { token: K10-inline-node-token }\n'));
  assert.equal(await inline(), ['nodes[0].config.token']);
  assert.equal(await inline(), ['nodes[0].config.token']);
  writeFileSync(yaml, plain);
  assert.equal(await inline(), []);
});

test.run();
