// The shape of the code (ARCHITECTURE.md, "Tests"): no hand-written function in src/ over 100
// lines, and each one over 80 either split or kept with a reason written here. A reader should
// not have to scroll through one function; where splitting would scatter one story (a table, a
// sequence of checks read top to bottom), the reason says so. Every hand-written `src/**/*.ts`
// (not the generated ones, which start with `/* Generated`) is parsed with prettier's TypeScript
// parser, the one the formatter uses, and each function, method and arrow is measured from its
// first line to its last.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fg from 'fast-glob';
import * as tsPlugin from 'prettier/plugins/typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const repo = resolve(import.meta.dirname, '..');

/** No function may be longer than this. */
const MAX_LINES = 100;
/** A function longer than this needs a reason in REASONS. */
const EXPLAIN_OVER = 80;

/** Functions kept over EXPLAIN_OVER lines, by `file:function`, with why splitting them would make them harder to read. */
const REASONS: Readonly<Record<string, string>> = {};

/** A function as measured: its file, first line, name (of its declaration, variable, property or method) and length in lines. */
interface Measured {
  readonly file: string;
  readonly line: number;
  readonly name: string;
  readonly lines: number;
}

interface EsNode {
  readonly type: string;
  readonly range?: readonly [number, number];
  readonly start?: number;
  readonly end?: number;
  readonly id?: { readonly name?: string } | null;
  readonly key?: { readonly name?: string } | null;
  readonly [k: string]: unknown;
}

const FUNCTION = /^(FunctionDeclaration|FunctionExpression|ArrowFunctionExpression)$/;

/** The 1-based line of each offset of `text`. */
function lineOf(text: string): (pos: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (pos) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** Every function of a TypeScript source text longer than `over` lines. */
async function longFunctions(text: string, file: string, over: number): Promise<Measured[]> {
  const parse = tsPlugin.parsers.typescript.parse as (text: string, options: object) => EsNode | Promise<EsNode>;
  const ast = await parse(text, { filepath: file });
  const line = lineOf(text);
  const out: Measured[] = [];
  const visit = (n: EsNode, parent: EsNode | undefined): void => {
    if (FUNCTION.test(n.type)) {
      const [s, e] = n.range ?? [n.start!, n.end!];
      const lines = line(e) - line(s) + 1;
      const name = n.id?.name ?? parent?.id?.name ?? parent?.key?.name ?? '<anonymous>';
      if (lines > over) out.push({ file, line: line(s), name, lines });
    }
    for (const [k, v] of Object.entries(n)) {
      if (k === 'parent' || k === 'loc' || k === 'range' || k === 'tokens' || k === 'comments') continue;
      if (Array.isArray(v)) {
        for (const c of v) if (isNode(c)) visit(c, n);
      } else if (isNode(v)) visit(v, n);
    }
  };
  visit(ast, undefined);
  return out;
}

function isNode(v: unknown): v is EsNode {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}

/** The functions of the hand-written sources over EXPLAIN_OVER lines. */
async function measureSources(): Promise<Measured[]> {
  const files = fg.sync('src/**/*.ts', { cwd: repo }).sort();
  const out: Measured[] = [];
  for (const file of files) {
    const text = readFileSync(join(repo, file), 'utf8');
    if (text.startsWith('/* Generated')) continue;
    out.push(...(await longFunctions(text, file, EXPLAIN_OVER)));
  }
  return out;
}

const keyOf = (m: Measured) => `${m.file}:${m.name}`;
const show = (m: Measured) => `${m.file}:${m.line} ${m.name} (${m.lines} lines)`;

let measured: Promise<Measured[]> | undefined;
const sources = () => (measured ??= measureSources());

test(`no function in src is over ${MAX_LINES} lines`, async () => {
  const over = (await sources()).filter((m) => m.lines > MAX_LINES);
  assert.equal(over.map(show), [], `split these into named steps (a function per job, each with a one-line doc comment)`);
});

test(`each function in src over ${EXPLAIN_OVER} lines is split or has a reason`, async () => {
  const unexplained = (await sources()).filter((m) => REASONS[keyOf(m)] === undefined);
  assert.equal(
    unexplained.map(show),
    [],
    `split these, or add 'file:function': 'why splitting it would make it harder to read' to REASONS`,
  );
});

test('every reason names a function over 80 lines (no stale entry)', async () => {
  const long = new Set((await sources()).map(keyOf));
  const stale = Object.keys(REASONS).filter((k) => !long.has(k));
  assert.equal(stale, [], 'these are no longer over 80 lines (or were renamed): remove them from REASONS');
  for (const [k, why] of Object.entries(REASONS)) assert.ok(why.trim().length > 0, `${k}: the reason is empty`);
});

test('the measure sees a 101-line function, method and arrow in a source text (the check can fail)', async () => {
  const body = Array.from({ length: 99 }, (_, i) => `  const v${i} = ${i};`).join('\n');
  const text = [
    'export function long(): void {',
    body,
    '}',
    'class K {',
    '  method(): void {',
    body.replaceAll('\n', '\n  '),
    '  }',
    '}',
    'export const arrow = (): void => {',
    body,
    '};',
    'function short(): number {',
    '  return 1;',
    '}',
    '',
  ].join('\n');
  const found = await longFunctions(text, 'synthetic.ts', MAX_LINES);
  assert.equal(
    found.map((m) => [m.name, m.line, m.lines]),
    [
      ['long', 1, 101],
      ['method', 103, 101],
      ['arrow', 205, 101],
    ],
  );
  // One line fewer is within the limit.
  assert.equal(await longFunctions(text.replace('  const v0 = 0;\n', ''), 'synthetic.ts', MAX_LINES).then((f) => f.length), 2);
});

test.run();
