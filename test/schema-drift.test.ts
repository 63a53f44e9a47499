// The inventory schema and its TypeScript types are generated from scripts/site-schema.ts;
// the committed files must be exactly what the generator writes today.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  renderInputTypes,
  renderLayerSchemaJson,
  renderNodeSchemaJson,
  GENERATED_DOCS,
  renderDocPage,
  renderSchemaJson,
} from '../scripts/schema-outputs.ts';

const repo = resolve(import.meta.dirname, '..');

test('schema/site.schema.json matches its source (run `npm run gen:schema`)', () => {
  assert.fixture(readFileSync(resolve(repo, 'schema/site.schema.json'), 'utf8'), renderSchemaJson());
});

test('schema/node.schema.json matches its source (run `npm run gen:schema`)', () => {
  assert.fixture(readFileSync(resolve(repo, 'schema/node.schema.json'), 'utf8'), renderNodeSchemaJson());
});

test('schema/layer.schema.json matches its source (run `npm run gen:schema`)', () => {
  assert.fixture(readFileSync(resolve(repo, 'schema/layer.schema.json'), 'utf8'), renderLayerSchemaJson());
});

test('the node schema accepts every node file of the example sites and refuses an unknown key', async () => {
  const { Ajv } = await import('ajv');
  const { parse } = await import('yaml');
  const { readdirSync } = await import('node:fs');
  const ajv = new Ajv({ strict: true, allowUnionTypes: true });
  ajv.addKeyword({ keyword: 'x-harvgen-value', schemaType: 'string' });
  const validate = ajv.compile(JSON.parse(renderNodeSchemaJson()) as object);
  const dir = resolve(repo, 'sites/location_y/nodes');
  for (const f of readdirSync(dir))
    assert.ok(validate(parse(readFileSync(resolve(dir, f), 'utf8'))), `${f}: ${JSON.stringify(validate.errors)}`);
  assert.not.ok(validate({ hostname: 'a', mac: '52:54:00:00:00:01', macc: 'x' }));
});

test('src/types/site-input.ts matches the schema (run `npm run gen:schema`)', async () => {
  assert.fixture(readFileSync(resolve(repo, 'src/types/site-input.ts'), 'utf8'), await renderInputTypes());
});

test('the schema is draft-07 with an $id and a description on every property', () => {
  const schema = JSON.parse(renderSchemaJson()) as Record<string, unknown>;
  assert.is(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.ok(typeof schema.$id === 'string');
  const missing: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (!node || typeof node !== 'object') return;
    const n = node as { properties?: Record<string, unknown>; items?: unknown; description?: string };
    for (const [k, v] of Object.entries(n.properties ?? {})) {
      if (!(v as { description?: string }).description) missing.push(`${path}.${k}`);
      walk(v, `${path}.${k}`);
    }
    if (n.items) walk(n.items, `${path}[]`);
  };
  walk(schema, '');
  assert.equal(missing, []);
});

test('package.json exports the schema for editors and tools', () => {
  const pkg = JSON.parse(readFileSync(resolve(repo, 'package.json'), 'utf8')) as { exports: Record<string, string> };
  assert.is(pkg.exports['./schema.json'], './schema/site.schema.json');
});

for (const page of Object.keys(GENERATED_DOCS)) {
  test(`the generated sections of ${page} are current (run \`npm run gen:schema\`)`, () => {
    const text = readFileSync(resolve(repo, page), 'utf8');
    assert.fixture(text, renderDocPage(page, text));
  });
}

test.run();
