// Writes schema/site.schema.json and src/types/site-input.ts from scripts/site-schema.ts.
// `npm run gen:schema`; test/schema-drift.test.ts fails when the committed files differ.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSchemaJson, renderInputTypes } from './schema-outputs.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
writeFileSync(`${root}schema/site.schema.json`, renderSchemaJson());
writeFileSync(`${root}src/types/site-input.ts`, await renderInputTypes());
console.log('wrote schema/site.schema.json and src/types/site-input.ts');
