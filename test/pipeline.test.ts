// The two passes of src/pipeline.ts as plain data: compileModel's ModelledSite carries what
// rendering needs (`renderable`), renderModelled finishes it, and both give what compileSite
// gives. The values a site masks travel as its `masked` field, which is never serialized.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileModel, compileSite, renderModelled, siteSecretValues } from '../src/pipeline.ts';
import { exampleWithSecrets } from './helpers/example.ts';

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

test.run();
