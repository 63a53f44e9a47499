// Writes schema/site.schema.json, src/types/site-input.ts and the README's generated
// sections (inventory reference, diagnostic codes) from their sources.
// `npm run gen:schema`; test/schema-drift.test.ts fails when the committed files differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSchemaJson, renderInputTypes, renderLayerSchemaJson, renderNodeSchemaJson, renderReadme } from './schema-outputs.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
writeFileSync(`${root}schema/site.schema.json`, renderSchemaJson());
writeFileSync(`${root}schema/node.schema.json`, renderNodeSchemaJson());
writeFileSync(`${root}schema/layer.schema.json`, renderLayerSchemaJson());
writeFileSync(`${root}src/types/site-input.ts`, await renderInputTypes());
const readme = readFileSync(`${root}README.md`, 'utf8');
writeFileSync(`${root}README.md`, renderReadme(readme));
console.log('wrote schema/site.schema.json, src/types/site-input.ts and the generated README sections');
