// Renders the two generated artifacts of the inventory schema (shared by the generator
// script and the drift test, so both always agree on the exact bytes).
import { compile } from 'json-schema-to-typescript';
import schema from './site-schema.ts';

/** The JSON Schema file contents (2-space indent, trailing newline). */
export function renderSchemaJson(): string {
  return JSON.stringify(schema, null, 2) + '\n';
}

/** TypeScript types for what the user writes (SiteInput and its parts). */
export async function renderInputTypes(): Promise<string> {
  const ts = await compile(structuredClone(schema) as never, 'SiteInput', {
    bannerComment:
      '/* Generated from scripts/site-schema.ts by `npm run gen:schema`. Do not edit by hand. */',
    additionalProperties: false,
    strictIndexSignatures: true,
    style: { singleQuote: true },
    format: true,
  });
  return ts;
}
