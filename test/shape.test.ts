// The shape of src/ (ARCHITECTURE.md "Pipeline"): no import cycle, no import of a lower stage into
// a higher one beyond the allow-list, no hand-written file over 400 lines; and every diagnostic
// code ARCHITECTURE.md names exists. The graph is read from the sources' own imports
// (test/helpers/import-graph.ts), so it cannot drift from the code.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CODES } from '../src/diagnostics/codes.ts';
import {
  cycles,
  importGraph,
  isGenerated,
  lineCount,
  sourceFiles,
  specifiers,
  unstaged,
  upwardImports,
  withEdge,
  type AllowedImport,
  type ImportGraph,
} from './helpers/import-graph.ts';

const repo = resolve(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(repo, path), 'utf8');

/**
 * The stages of src/, ground floor first: each group is folders (or files directly in src/) on one
 * floor, none importing another; a file may import its own stage and those before it. A new
 * folder goes into the group of its floor (`farm-studio look` draws them).
 */
export const STAGES: readonly (readonly string[])[] = [
  ['types', 'util', 'diagnostics'],
  ['durable', 'formats', 'load', 'harvester'],
  ['facts', 'oci'],
  ['model'],
  ['derive'],
  ['render'],
  ['emit', 'sign'],
  ['cache', 'verify', 'validate'],
  ['inputs'],
  ['pipeline.ts'],
  ['measure', 'orchestrate', 'status', 'explain', 'publish'],
  ['watch', 'report', 'pull', 'page'],
  ['index.ts'],
  ['cli', 'cli.ts'],
];

/** Imports of a lower stage into a higher one that are let be, each with its reason (ARCHITECTURE.md says it too). */
export const ALLOWED_UPWARD: readonly AllowedImport[] = [];

/** The most lines a hand-written file of src/ has. */
const MAX_LINES = 400;

const { graph, unresolved } = importGraph(repo);

/** What the shape check says of `g`: its cycles, its upward imports and its unstaged files, as lines. */
function shapeProblems(g: ImportGraph): string[] {
  return [
    ...cycles(g).map((c) => `import cycle among ${c.length} files: ${c.join(', ')}`),
    ...upwardImports(g, STAGES, ALLOWED_UPWARD).map(
      (u) => `${u.from} (stage ${u.fromStage}) imports ${u.to} (stage ${u.toStage}), a higher stage`,
    ),
    ...unstaged(g, STAGES).map((f) => `${f} is in no stage: add its folder to STAGES`),
  ];
}

test('the import graph is read whole: every relative import of src/ names a file, and the graph has the imports it must', () => {
  assert.equal(unresolved, []);
  assert.ok(graph.size > 300, `${graph.size} files`);
  assert.ok(graph.get('src/derive/disks.ts')?.has('src/model/measured.ts'), 'src/derive/disks.ts imports src/model/measured.ts');
});

test('each form of import is read, and no other text', () => {
  const text = [
    "import { a } from './a.ts';",
    'import type {\n  B,\n  C,\n} from "../b.ts";',
    "import './side-effect.ts';",
    "export { d } from './d.ts';",
    "export * from './e.ts';",
    "const f = await import('./f.ts');",
    "type G = import('./g.ts').G;",
    "import { h } from 'node:fs';",
    "export const i = 'from ./not-an-import.ts';",
    "  const j = `import { k } from './in-a-template.ts'`;",
  ].join('\n');
  assert.equal(specifiers(text).sort(), ['../b.ts', './a.ts', './d.ts', './e.ts', './f.ts', './g.ts', './side-effect.ts']);
});

test('src/ has no import cycle, no import of a lower stage into a higher one, and every folder in a stage', () => {
  assert.equal(shapeProblems(graph), []);
});

test('the allow-list of upward imports names imports that exist, each with its reason', () => {
  for (const a of ALLOWED_UPWARD) {
    assert.ok(graph.get(a.from)?.has(a.to), `${a.from} -> ${a.to} is no import: remove it from ALLOWED_UPWARD`);
    assert.ok(a.reason.length > 20, `${a.from} -> ${a.to} says why`);
  }
  assert.ok(ALLOWED_UPWARD.length <= 1, 'at most one upward import is let be');
});

test('a mutation is refused: a new import from validate/ into publish/ is named with both files and both stages', () => {
  const problems = shapeProblems(withEdge(graph, 'src/validate/index.ts', 'src/publish/index.ts'));
  assert.ok(
    problems.includes(
      'src/validate/index.ts (stage cache+verify+validate) imports src/publish/index.ts (stage measure+orchestrate+status+explain+publish), a higher stage',
    ),
    problems.join('\n'),
  );
  // publish/ reaches validate/ today (through the pipeline), so the same import closes a cycle, named as its files.
  const cycle = problems.filter((p) => p.startsWith('import cycle among '));
  assert.is(cycle.length, 1, problems.join('\n'));
  assert.ok(cycle[0]!.includes('src/publish/index.ts') && cycle[0]!.includes('src/validate/index.ts'), cycle[0]);
  assert.is(problems.length, 2, problems.join('\n'));
  // The other way round is the shape: publish/ stands above validate/.
  assert.equal(shapeProblems(withEdge(graph, 'src/publish/index.ts', 'src/validate/index.ts')), []);
});

test('the cycle finder names every file of a cycle and nothing else', () => {
  const g: ImportGraph = new Map([
    ['src/a.ts', new Set(['src/b.ts'])],
    ['src/b.ts', new Set(['src/c.ts'])],
    ['src/c.ts', new Set(['src/a.ts', 'src/d.ts'])],
    ['src/d.ts', new Set<string>()],
    ['src/e.ts', new Set(['src/e.ts'])],
  ]);
  assert.equal(cycles(g), [['src/a.ts', 'src/b.ts', 'src/c.ts'], ['src/e.ts']]);
});

test(`no hand-written file of src/ is over ${MAX_LINES} lines (generated files apart)`, () => {
  const files = sourceFiles(repo).map((f) => ({ f, text: read(f) }));
  const long = files
    .filter(({ text }) => !isGenerated(text) && lineCount(text) > MAX_LINES)
    .map(({ f, text }) => `${f} ${lineCount(text)}`);
  assert.equal(long, [], `split these files (ARCHITECTURE.md "Pipeline")`);
  // The generated ones are generated: each names its generator.
  const generated = files.filter(({ text }) => isGenerated(text)).map(({ f }) => f);
  assert.ok(generated.includes('src/types/site-input.ts') && generated.includes('src/validate/compiled/site.cts'), generated.join(' '));
});

const sources = sourceFiles(repo).map(read);
const codePrefixes = new Set(Object.keys(CODES).map((c) => c.split('_')[0]!));
/** Whether src/ declares `name` (a constant, type, function or class). */
const declared = (name: string) =>
  sources.some((text) => new RegExp(`\\b(?:const|let|type|interface|function|class)\\s+${name}\\b`).test(text));

/**
 * The words of `text` shaped as diagnostic codes (UPPER_SNAKE, starting as some code does:
 * `FAILOVER_`, `MEDIA_`) that are no code of the catalogue and no name src/ declares (DHCP_SERVERS,
 * MEDIA_LOADERS are names).
 */
function missingCodes(text: string): string[] {
  const words = [...new Set(text.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g) ?? [])];
  return words.filter((w) => codePrefixes.has(w.split('_')[0]!) && !Object.hasOwn(CODES, w) && !declared(w));
}

test('every diagnostic code ARCHITECTURE.md names exists; every other name of that shape is declared in src/', () => {
  const text = read('ARCHITECTURE.md');
  assert.equal(missingCodes(text), [], 'ARCHITECTURE.md names these as codes or constants; neither exists');
  assert.ok(
    (text.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g) ?? []).filter((w) => Object.hasOwn(CODES, w)).length > 30,
    'ARCHITECTURE.md names codes',
  );
  // The name it gave once, which never existed, is caught; a code and a declared name are not.
  assert.equal(missingCodes('a format of `FAILOVER_DHCP`; else `FAILOVER_UNSUPPORTED`; `MEDIA_LOADERS`'), ['FAILOVER_DHCP']);
});

test.run();
