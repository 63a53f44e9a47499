// Writes the JSON Schema validators, as ajv standalone code, beside their users:
// src/validate/compiled/, those of the inventory (site, layer and facts schemas), and
// src/harvester/compiled/, those of the Harvester installer config (one per release line harvgen
// supports; src/harvester/installer-schema.ts calls them). Compiling a schema with ajv took about a third of a `harvgen check`;
// with the code generated here and committed, no run compiles a schema or loads ajv's compiler.
// `npm run gen:validators` (also run by `npm run gen:schema`); test/validators-drift.test.ts
// fails when the committed files differ from what this writes today.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv, type Options } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { installerSchemaFor } from '../src/harvester/installer-schema.ts';
import { SUPPORTED_RANGE } from '../src/harvester/versions.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Where the inventory's generated modules live, relative to the repository. */
export const COMPILED_DIR = 'src/validate/compiled/';

/** Where the installer config's generated modules live, relative to the repository. */
export const INSTALLER_DIR = 'src/harvester/compiled/';

/** The folders this writes, each all generated (a file no longer generated is removed). */
export const GENERATED_DIRS: readonly string[] = [COMPILED_DIR, INSTALLER_DIR];

/** The command that rewrites them (named by the drift test's message). */
export const REGENERATE = 'npm run gen:validators';

// Standalone code, one statement a line so a schema change reads as a diff. CommonJS, not ES
// modules: a run loads the one installer validator its release line needs, synchronously, on
// first use (src/harvester/compiled/index.ts requires it). As ES modules they would all be static
// imports of every run: the eight installer lines and the inventory's cost about 110 ms to load,
// where one line's costs about 20.
const CODE: Options['code'] = { source: true, esm: false, lines: true };

/**
 * The inventory schemas' ajv: every error (allErrors), each with its schema, parent schema and
 * data (verbose; src/validate/schema.ts builds its diagnostics from them). `x-harvgen-value` is an
 * annotation only: it names the value kind (src/util/value-kinds.ts) of a string.
 */
export function inventoryAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, code: CODE, ...options });
  ajv.addKeyword({ keyword: 'x-harvgen-value', schemaType: 'string' });
  return ajv;
}

/**
 * The installer config schema's ajv: verbose, since errors carry parentSchema, which is where
 * `x-message` (and the `x-note` of a pruned alternative) lives. The x- keywords are annotations.
 */
export function installerAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, code: CODE, ...options });
  ajv.addKeyword({ keyword: 'x-since', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-until', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-message', schemaType: 'object' });
  ajv.addKeyword({ keyword: 'x-note', schemaType: 'string' });
  return ajv;
}

/** Every release line from the oldest to the newest harvgen supports, e.g. ['1.2', ..., '1.9']. */
export function supportedMinors(): string[] {
  const [major, oldest] = SUPPORTED_RANGE.oldest.split('.').map(Number) as [number, number];
  const [newestMajor, newest] = SUPPORTED_RANGE.newest.split('.').map(Number) as [number, number];
  // The range has been one major so far; a second would need the minors of each major listed.
  if (newestMajor !== major) throw new Error(`SUPPORTED_RANGE spans majors ${major} and ${newestMajor}: list their release lines here`);
  return Array.from({ length: newest - oldest + 1 }, (_, i) => `${major}.${oldest + i}`);
}

/** One generated file: its path relative to the repository and its text. */
export interface GeneratedFile {
  readonly path: string;
  readonly text: string;
}

/** The inputs of the generation; the drift test passes edited copies to see that a change shows. */
export interface ValidatorSources {
  readonly site: object;
  readonly layer: object;
  /** schema/facts.schema.json (default: the committed file). */
  readonly facts?: object;
  readonly installer: (minor: string) => object;
  readonly minors: readonly string[];
  readonly ajvOptions?: Options;
}

/** The sources as committed: the schema files and the installer schema narrowed per line. */
export function committedSources(): ValidatorSources {
  const json = schemaFile;
  return {
    site: json('site.schema.json'),
    layer: json('layer.schema.json'),
    facts: json('facts.schema.json'),
    installer: installerSchemaFor,
    minors: supportedMinors(),
  };
}

/** A schema file of schema/, parsed. */
function schemaFile(name: string): object {
  return JSON.parse(readFileSync(`${root}schema/${name}`, 'utf8')) as object;
}

/** The module name of release line `minor`'s installer validator (`installer-1.4`). */
export function installerModule(minor: string): string {
  return `installer-${minor}`;
}

/** Every file of src/validate/compiled/ and src/harvester/compiled/, in a fixed order. */
export function renderValidators(sources: ValidatorSources = committedSources()): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  const inventory = (name: string, from: string, schema: object): void => {
    const ajv = inventoryAjv(sources.ajvOptions);
    files.push({ path: `${COMPILED_DIR}${name}.cts`, text: moduleText(from, standalone(ajv, ajv.compile(schema))) });
  };
  inventory('site', 'schema/site.schema.json', sources.site);
  inventory('layer', 'schema/layer.schema.json', sources.layer);
  inventory('facts', 'schema/facts.schema.json', sources.facts ?? schemaFile('facts.schema.json'));
  for (const minor of sources.minors) {
    const ajv = installerAjv(sources.ajvOptions);
    const code = standalone(ajv, ajv.compile(sources.installer(minor)));
    files.push({
      path: `${INSTALLER_DIR}${installerModule(minor)}.cts`,
      text: moduleText(`schema/harvester-config.schema.json as Harvester v${minor} knows it (installerSchemaFor('${minor}'))`, code),
    });
  }
  files.push({ path: `${COMPILED_DIR}index.ts`, text: INVENTORY_INDEX });
  files.push({ path: `${INSTALLER_DIR}index.ts`, text: installerIndexText(sources.minors) });
  return files;
}

// ajv/dist/standalone is CommonJS: imported from an ES module, its default is module.exports,
// whose `default` is the function (tsx may hand over either).
const standaloneModule = standaloneCode as unknown as { default?: typeof standaloneCode } & typeof standaloneCode;
const generate = standaloneModule.default ?? standaloneModule;

/** The standalone code of one compiled schema. */
function standalone(ajv: Ajv, validate: Parameters<typeof generate>[1]): string {
  return generate(ajv, validate);
}

const HEADER = `// Generated by scripts/gen-validators.ts: do not edit. Run \`${REGENERATE}\` after changing a schema.`;

/**
 * A validator module (CommonJS, `.cts`) from ajv's standalone code, whose run-time helpers are
 * `require("ajv/dist/runtime/<name>")` calls. The code is not type-checked (@ts-nocheck): its
 * one export, `validate`, is declared with the type its callers use.
 */
function moduleText(from: string, code: string): string {
  const exported = /^"use strict";\nmodule\.exports = (validate\d+);\nmodule\.exports\.default = validate\d+;\n/.exec(code);
  if (!exported) throw new Error('ajv standalone code does not start as expected: update moduleText in scripts/gen-validators.ts');
  return [
    HEADER,
    `// The ajv standalone code of ${from}.`,
    '// @ts-nocheck',
    `import type { ErrorObject } from 'ajv';`,
    `export const validate: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null } = ${exported[1]};`,
    code.slice(exported[0].length).trimEnd(),
    '',
  ].join('\n');
}

const INVENTORY_INDEX = `${HEADER}
// Loads the validators of src/validate/compiled/ on first use (src/util/compiled-validators.ts).
import { validatorLoader, type CompiledValidator } from '../../util/compiled-validators.ts';

const load = validatorLoader('validate/compiled');

/** The validator of schema/site.schema.json. */
export function siteValidator(): CompiledValidator {
  return load('site');
}

/** The validator of schema/layer.schema.json. */
export function layerValidator(): CompiledValidator {
  return load('layer');
}

/** The validator of schema/facts.schema.json. */
export function factsValidator(): CompiledValidator {
  return load('facts');
}
`;

function installerIndexText(minors: readonly string[]): string {
  return `${HEADER}
// Loads the installer config validators of src/harvester/compiled/ on first use
// (src/util/compiled-validators.ts); src/harvester/installer-schema.ts calls them.
import { validatorLoader, type CompiledValidator } from '../../util/compiled-validators.ts';

const load = validatorLoader('harvester/compiled');

/** The release lines with an installer config validator: every line harvgen supports. */
export const INSTALLER_LINES: readonly string[] = ${JSON.stringify(minors).replace(/"/g, "'").replace(/,/g, ', ')};

/** The installer config validator of release line \`minor\` (e.g. '1.4'); undefined for a line not generated. */
export function installerValidator(minor: string): CompiledValidator | undefined {
  return INSTALLER_LINES.includes(minor) ? load(\`${installerModule('')}\${minor}\`) : undefined;
}
`;
}

/** Write the files, and remove a module no longer generated (a release line dropped from the range). */
export function writeValidators(): void {
  const files = renderValidators();
  const keep = new Set(files.map((f) => f.path));
  for (const dir of GENERATED_DIRS) {
    mkdirSync(`${root}${dir}`, { recursive: true });
    for (const name of readdirSync(`${root}${dir}`)) if (!keep.has(`${dir}${name}`)) rmSync(`${root}${dir}${name}`);
  }
  // Only the files that change: an unchanged file keeps its time, so dist/ does not look older
  // than src/ (bin/harvgen.js refuses to run then) after a regeneration that changed nothing.
  const changed = files.filter((f) => !existsSync(`${root}${f.path}`) || readFileSync(`${root}${f.path}`, 'utf8') !== f.text);
  for (const f of changed) writeFileSync(`${root}${f.path}`, f.text);
  console.log(`${GENERATED_DIRS.join(', ')}: ${changed.length} of ${files.length} validator modules written (the others were up to date)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) writeValidators();
