// Writes schema/site.schema.json, src/types/site-input.ts and the generated sections of the docs
// pages (inventory settings, diagnostic codes, installer rules, releases, value kinds) from their
// sources.
// `npm run gen:schema`; test/schema-drift.test.ts fails when the committed files differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  renderSchemaJson,
  renderInputTypes,
  renderLayerSchemaJson,
  renderNodeSchemaJson,
  GENERATED_DOCS,
  renderDocPage,
} from './schema-outputs.ts';
import { writeValidators } from './gen-validators.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
writeFileSync(`${root}schema/site.schema.json`, renderSchemaJson());
writeFileSync(`${root}schema/node.schema.json`, renderNodeSchemaJson());
writeFileSync(`${root}schema/layer.schema.json`, renderLayerSchemaJson());
writeFileSync(`${root}src/types/site-input.ts`, await renderInputTypes());
for (const page of Object.keys(GENERATED_DOCS))
  writeFileSync(`${root}${page}`, renderDocPage(page, readFileSync(`${root}${page}`, 'utf8')));
console.log(`wrote schema/site.schema.json, src/types/site-input.ts and ${Object.keys(GENERATED_DOCS).join(', ')}`);
// The validators compiled ahead of time from the schemas just written.
writeValidators();
