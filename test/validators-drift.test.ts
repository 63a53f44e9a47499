// The validators of src/validate/compiled/ and src/harvester/compiled/ are generated from the schemas by
// scripts/gen-validators.ts; the committed files must be exactly what it writes today, or a run
// would validate against a schema that is no longer the one in schema/.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  COMPILED_DIR,
  committedSources,
  GENERATED_DIRS,
  type GeneratedFile,
  INSTALLER_DIR,
  installerModule,
  REGENERATE,
  renderValidators,
  supportedMinors,
  type ValidatorSources,
} from '../scripts/gen-validators.ts';
import { SUPPORTED_RANGE } from '../src/harvester/versions.ts';

const repo = resolve(import.meta.dirname, '..');

/** The generated files whose committed text differs, and the committed files no longer generated. */
function drift(files: readonly GeneratedFile[]): { differ: string[]; extra: string[] } {
  const differ = files.filter((f) => readFileSync(resolve(repo, f.path), 'utf8') !== f.text).map((f) => f.path);
  const generated = new Set(files.map((f) => f.path));
  const extra = GENERATED_DIRS.flatMap((dir) => readdirSync(resolve(repo, dir)).map((name) => `${dir}${name}`)).filter(
    (p) => !generated.has(p),
  );
  return { differ, extra };
}

const sources = committedSources();

test(`src/validate/compiled/ and src/harvester/compiled/ are what scripts/gen-validators.ts writes (run \`${REGENERATE}\`)`, () => {
  const files = renderValidators(sources);
  const { differ, extra } = drift(files);
  assert.equal(differ, [], `these validators are not those of the schemas today: run \`${REGENERATE}\` and commit the result`);
  assert.equal(extra, [], `these files are no longer generated: run \`${REGENERATE}\` (it removes them)`);
  // Byte for byte, so a failure shows where (assert.fixture prints the first differing lines).
  for (const f of files) assert.fixture(readFileSync(resolve(repo, f.path), 'utf8'), f.text, f.path);
});

test('every release line harvgen supports has an installer validator', () => {
  const minors = supportedMinors();
  assert.is(minors[0], SUPPORTED_RANGE.oldest);
  assert.is(minors[minors.length - 1], SUPPORTED_RANGE.newest);
  for (const m of minors) assert.ok(sources.minors.includes(m), m);
  const index = readFileSync(resolve(repo, INSTALLER_DIR, 'index.ts'), 'utf8');
  for (const m of minors) {
    assert.ok(readdirSync(resolve(repo, INSTALLER_DIR)).includes(`${installerModule(m)}.cts`), `${installerModule(m)}.cts`);
    assert.ok(index.includes(`'${m}'`), `index.ts lists ${m}`);
  }
});

/** What the drift check reports when the generation runs from edited sources. */
function driftFrom(edit: Partial<ValidatorSources>): { differ: string[]; extra: string[] } {
  return drift(renderValidators({ ...sources, ...edit }));
}

test('a schema edited without regenerating is caught, in the module of that schema only', () => {
  // One render for three edits (each render compiles every schema): a site pattern, the layer's
  // additionalProperties, and an enum of the installer schema of v1.5 only.
  const site = structuredClone(sources.site) as { properties: { site: { pattern?: string } } };
  assert.type(site.properties.site.pattern, 'string');
  site.properties.site.pattern = `${site.properties.site.pattern}x`;
  const layer = structuredClone(sources.layer) as { additionalProperties?: unknown };
  assert.is(layer.additionalProperties, false);
  layer.additionalProperties = true;
  const installer = (minor: string): object => {
    const s = structuredClone(sources.installer(minor)) as { properties: { install: { properties: { mode: { enum: string[] } } } } };
    if (minor === '1.5') s.properties.install.properties.mode.enum.push('upgrade');
    return s;
  };
  assert.equal(driftFrom({ site, layer, installer }), {
    differ: [`${COMPILED_DIR}site.cts`, `${COMPILED_DIR}layer.cts`, `${INSTALLER_DIR}${installerModule('1.5')}.cts`],
    extra: [],
  });
});

test('a changed ajv option is caught in every module', () => {
  const all = [
    `${COMPILED_DIR}site.cts`,
    `${COMPILED_DIR}layer.cts`,
    `${COMPILED_DIR}facts.cts`,
    ...sources.minors.map((m) => `${INSTALLER_DIR}${installerModule(m)}.cts`),
  ];
  // Not verbose: no error would carry the schema and data its diagnostic is made from.
  assert.equal(driftFrom({ ajvOptions: { verbose: false } }).differ, all);
});

test('a release line dropped from the range leaves its module to remove', () => {
  const minors = sources.minors.filter((m) => m !== '1.9');
  assert.equal(driftFrom({ minors }), { differ: [`${INSTALLER_DIR}index.ts`], extra: [`${INSTALLER_DIR}${installerModule('1.9')}.cts`] });
});

test.run();
