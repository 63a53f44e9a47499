// Renders the two generated artifacts of the inventory schema (shared by the generator
// script and the drift test, so both always agree on the exact bytes).
import { posix } from 'node:path';
import { compile } from 'json-schema-to-typescript';
import schema, { layerSchema, nodeSchema } from './site-schema.ts';
import { CODES } from '../src/diagnostics/codes.ts';
import { EXIT } from '../src/diagnostics/exit.ts';
import { INSTALLER_RULES, RULES_IN_CI } from '../src/harvester/installer-rules.ts';
import { KNOWN_RELEASES } from '../src/harvester/releases.ts';
import { VALUE_KINDS, type ValueKindName } from '../src/util/value-kinds.ts';

/** The JSON Schema file contents (2-space indent, trailing newline). */
export function renderSchemaJson(): string {
  return JSON.stringify(schema, null, 2) + '\n';
}

/** The node-file schema (schema/node.schema.json). */
export function renderNodeSchemaJson(): string {
  return JSON.stringify(nodeSchema, null, 2) + '\n';
}

/** The layer-file schema (schema/layer.schema.json). */
export function renderLayerSchemaJson(): string {
  return JSON.stringify(layerSchema, null, 2) + '\n';
}

/** TypeScript types for what the user writes (SiteInput and its parts). */
export async function renderInputTypes(): Promise<string> {
  const ts = await compile(structuredClone(schema) as never, 'SiteInput', {
    bannerComment: '/* Generated from scripts/site-schema.ts by `npm run gen:schema`. Do not edit by hand. */',
    additionalProperties: false,
    strictIndexSignatures: true,
    style: { singleQuote: true },
    format: true,
  });
  return ts;
}

interface SchemaNode {
  type?: string | string[];
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  enum?: unknown[];
  required?: string[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
}

/** A description's mentions of docs pages (`docs/day-2.md`) as links from docs/reference/. */
const linkDocs = (text: string): string =>
  text.replace(/\bdocs\/([\w/-]+\.md)/g, (m, page: string) => `[${m}](${posix.relative('reference', page)})`);

/** Markdown table of every inventory field (docs/reference/inventory.md), from the schema. */
export function renderInventoryDocs(): string {
  const rows: string[] = ['| field | type | required | description |', '| --- | --- | --- | --- |'];
  const typeOf = (n: SchemaNode): string => {
    if (n.enum) return n.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
    if (n.type === 'array') return `list of ${n.items ? typeOf(n.items) : 'any'}`;
    if (n.type === 'object' && !n.properties) return 'map';
    if (Array.isArray(n.type)) return n.type.join(' \\| ');
    return n.type === 'object' ? 'map' : (n.type ?? 'any');
  };
  const walk = (node: SchemaNode, prefix: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (key === '$schema') continue;
      const path = prefix ? `${prefix}.${key}` : key;
      const req = node.required?.includes(key) ? 'yes' : '';
      rows.push(
        `| \`${path}\` | ${typeOf(child)} | ${req} | ${linkDocs((child.description ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' '))} |`,
      );
      if (child.properties && key !== 'defaults') walk(child, path);
      if (child.type === 'array' && child.items?.properties) walk(child.items, `${path}[]`);
    }
  };
  walk(schema as SchemaNode, '');
  return rows.join('\n') + '\n';
}

/** Markdown table of every value kind and the fields of that kind (docs/security.md), from the schema. */
export function renderValueKindsDocs(): string {
  const fields = new Map<ValueKindName, string[]>();
  const walk = (node: SchemaNode & { 'x-harvgen-value'?: ValueKindName }, path: string) => {
    const kind = node['x-harvgen-value'];
    if (kind) fields.set(kind, [...(fields.get(kind) ?? []), `\`${path}\``]);
    for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, path ? `${path}.${key}` : key);
    if (node.items) walk(node.items, `${path}[]`);
  };
  walk(schema as SchemaNode, '');
  const rows = ['| kind | fields | allowed form |', '| --- | --- | --- |'];
  for (const [kind, k] of Object.entries(VALUE_KINDS) as [ValueKindName, (typeof VALUE_KINDS)[ValueKindName]][]) {
    rows.push(`| ${kind} | ${(fields.get(kind) ?? []).join(', ')} | ${k.form.replace(/\|/g, '\\|')}; e.g. \`${k.example}\` |`);
  }
  return rows.join('\n') + '\n';
}

/**
 * The docs pages that hold generated sections, and what each section is made from. Each section
 * sits between `<!-- BEGIN GENERATED name -->` and `<!-- END GENERATED name -->`; the prose around
 * it is written by hand.
 */
export const GENERATED_DOCS: Readonly<Record<string, Readonly<Record<string, () => string>>>> = {
  'docs/reference/inventory.md': { inventory: renderInventoryDocs },
  'docs/reference/codes.md': { codes: renderCodesDocs },
  'docs/reference/installer-rules.md': { releases: renderReleasesDocs, 'installer-rules': renderInstallerRulesDocs },
  'docs/security.md': { 'value-kinds': renderValueKindsDocs },
};

/** A docs page (a key of GENERATED_DOCS) with every generated section brought up to date. */
export function renderDocPage(page: string, text: string): string {
  let result = text;
  for (const [name, render] of Object.entries(GENERATED_DOCS[page] ?? {})) result = replaceSection(result, name, render());
  return result;
}

/** The releases harvgen knows were published (docs/reference/installer-rules.md), from the one table the rules use. */
export function renderReleasesDocs(): string {
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  const rows = ['| release | seen at | rules read from |', '| --- | --- | --- |'];
  for (const r of KNOWN_RELEASES) rows.push(`| \`${r.version}\` | ${cell(r.source)} | ${cell(r.rulesFrom)} |`);
  return rows.join('\n') + '\n';
}

/** Markdown table of the installer's rules harvgen checks (docs/reference/installer-rules.md). */
export function renderInstallerRulesDocs(): string {
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  const rows = [
    '| rule | releases | when | the installer | skipchecks lifts it | code | in CI | source |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of INSTALLER_RULES) {
    const ci = RULES_IN_CI[r.id];
    const inCi =
      ci === undefined
        ? '?'
        : ci.by === 'installer'
          ? "run by the installer's code"
          : ci.by === 'after'
            ? `run: ${ci.why}`
            : `not run: ${ci.why}`;
    rows.push(
      `| \`${r.id}\` | \`${r.releases}\` | ${cell(r.when)} | ${cell(r.effect)} | ${r.lifted ? `\`${r.lifted}\`` : 'no'} | \`${r.code}\` | ${cell(inCi)} | ${cell(r.source)} |`,
    );
  }
  return rows.join('\n') + '\n';
}

/** Replace the text between `<!-- BEGIN name -->` and `<!-- END name -->`. */
export function replaceSection(text: string, name: string, body: string): string {
  const begin = `<!-- BEGIN GENERATED ${name} -->\n`;
  const end = `<!-- END GENERATED ${name} -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a === -1 || b === -1) throw new Error(`no generated section ${name}`);
  return text.slice(0, a + begin.length) + body + text.slice(b);
}

/** Markdown table of every diagnostic code (docs/reference/codes.md). */
export function renderCodesDocs(): string {
  const rows = ['| code | severity | exit | meaning |', '| --- | --- | --- | --- |'];
  for (const [code, info] of Object.entries(CODES)) {
    rows.push(`| \`${code}\` | ${info.severity} | ${EXIT[info.exit]} | ${info.summary.replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n') + '\n';
}
