// The fast path for plain inventory YAML (src/load/yaml/fast.ts) may only ever say what the
// general path says: whenever fastParse returns a value, parseYamlFile's general path returns no
// diagnostic and the same value, with the same key order and the same types. Checked against every
// YAML file of the repository, the texts the benchmark generates, the YAML error fixtures, and a
// seeded fuzzer of the subset and its near-misses.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nodeText, richNodeText } from '../bench/gen.ts';
import { fastParse } from '../src/load/yaml/fast.ts';
import { MAX_MAP_KEYS } from '../src/load/yaml/limits.ts';
import { parseWithLibrary, parseYamlFile } from '../src/load/yaml/parse.ts';
import { prng } from './helpers/prng.ts';

const repo = resolve(import.meta.dirname, '..');

/** parseYamlFile's general path (the yaml library), as with HARVGEN_GENERAL_PATH=1. */
function general(text: string): ReturnType<typeof parseWithLibrary> {
  return parseWithLibrary(text, 'x.yaml', '/x.yaml');
}

/**
 * Where two values differ, or undefined: plain objects and arrays alike in their keys and their
 * order, numbers alike with Object.is (so -0 is not 0 and NaN is NaN), everything else by `===`.
 */
function difference(a: unknown, b: unknown, at = '$'): string | undefined {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) ? undefined : `${at}: ${a} vs ${b}`;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    return a === b ? undefined : `${at}: ${JSON.stringify(a)} (${typeof a}) vs ${JSON.stringify(b)} (${typeof b})`;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${at}: prototypes differ`;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.join('\0') !== kb.join('\0') || ka.length !== kb.length) return `${at}: keys ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`;
  for (const k of ka) {
    const d = difference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
    if (d) return d;
  }
  return undefined;
}

/**
 * The rule, for one text: fastParse gives up, or the general path is clean and gives the same
 * value. Returns whether the fast path took the text.
 */
function check(text: string, what: string): boolean {
  const fast = fastParse(text);
  if (fast === undefined) return false;
  const full = general(text);
  const shown = `${what}:\n${JSON.stringify(text)}`;
  assert.equal(full.diagnostics, [], `the fast path read a text the general path reports, ${shown}`);
  // uvu's deep equality compares objects' `constructor` by identity: an own `constructor` key
  // (a fuzzed key) holding two equal mappings reads as a difference there; `difference` below
  // compares those too.
  if (!/constructor/.test(text)) assert.equal(fast, full.value, `values differ, ${shown}`);
  assert.is(JSON.stringify(fast), JSON.stringify(full.value), `key order differs, ${shown}`);
  assert.is(difference(fast, full.value), undefined, `values differ, ${shown}`);
  return true;
}

/** Every .yaml and .yml file under a directory of the repository. */
function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name)) out.push(p);
    }
  };
  walk(join(repo, dir));
  return out;
}

test('every YAML file of the repository: the fast path agrees with the general path, and takes most node files', () => {
  const files = ['sites', 'examples', 'test/fixtures'].flatMap(yamlFiles);
  assert.ok(files.length > 100, `only ${files.length} files`);
  let fast = 0;
  let nodes = 0;
  let fastNodes = 0;
  for (const f of files) {
    const took = check(readFileSync(f, 'utf8'), relative(repo, f));
    if (took) fast++;
    if (/\/nodes\//.test(f)) {
      nodes++;
      if (took) fastNodes++;
    }
  }
  console.log(`  fast path: ${fast} of ${files.length} repository YAML files, ${fastNodes} of ${nodes} node files`);
  assert.ok(nodes >= 5, `only ${nodes} node files`);
  assert.ok(fastNodes * 4 >= nodes * 3, `the fast path took only ${fastNodes} of ${nodes} node files`);
  assert.ok(fast * 2 >= files.length, `the fast path took only ${fast} of ${files.length} files`);
});

test('every node text the benchmark generates takes the fast path, with the general path value', () => {
  let n = 0;
  for (let i = 0; i < 3; i++) {
    for (let k = 0; k < 400; k++) {
      for (const text of [nodeText(i, k), richNodeText(i, k)]) {
        assert.ok(check(text, `site ${i} node ${k}`), `the fast path gave up on ${JSON.stringify(text)}`);
        n++;
      }
    }
  }
  // The last nodes of a large site too (wider MACs and addresses).
  for (const k of [9_990, 9_999, 49_999]) {
    assert.ok(check(richNodeText(149, k), `rich ${k}`));
    assert.ok(check(nodeText(149, k), `plain ${k}`));
    n += 2;
  }
  console.log(`  fast path: all ${n} generated node texts`);
});

test('YAML error fixtures: the fast path gives every one to the general path', () => {
  const files = yamlFiles('test/fixtures/yaml-errors');
  assert.ok(files.length >= 20);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const full = general(text);
    // A fixture that is clean YAML (its mistake is in a value, like a MAC written as digits) may
    // take the fast path, with the same value; one with a YAML error may not.
    if (full.diagnostics.length > 0) assert.is(fastParse(text), undefined, `the fast path read ${relative(repo, f)}`);
    else check(text, relative(repo, f));
  }
});

test('parseYamlFile: the value of the fast path for a plain file, and positions and diagnostics as before', () => {
  const text = 'mac: 52:54:00:aa:bb:01\nip: 10.0.0.5\n';
  const parsed = parseYamlFile(text, 'n.yaml', '/n.yaml');
  assert.equal(parsed.value, fastParse(text));
  assert.equal(parsed.value, { mac: '52:54:00:aa:bb:01', ip: '10.0.0.5' });
  assert.equal(parsed.diagnostics, []);
  assert.equal([parsed.file?.path, parsed.file?.absPath, parsed.file?.text], ['n.yaml', '/n.yaml', text]);
  // The positions of a clean file come from a parse on demand, on either path.
  assert.equal(parsed.file!.lineCounter.linePos(text.indexOf('ip')), { line: 2, col: 1 });
  // A mistake the fast path leaves alone is still reported with its position.
  const bad = parseYamlFile('a: 1\na: 2\n', 'n.yaml', '/n.yaml');
  assert.equal(bad.value, undefined);
  assert.is(bad.diagnostics[0]?.code, 'YAML_DUPLICATE_KEY');
  assert.is(bad.diagnostics[0]?.line, 2);
});

test('what the fast path reads, and what it gives up on', () => {
  const reads: [string, unknown][] = [
    ['a: 1\nb: -2\nc: 1.50\nd: .5\ne: ~\nf:\ng: True\nh: FALSE\n', { a: 1, b: -2, c: 1.5, d: 0.5, e: null, f: null, g: true, h: false }],
    ['mac: b4:96:01:10:00:07 # the first NIC\nip: 10.0.0.1', { mac: 'b4:96:01:10:00:07', ip: '10.0.0.1' }],
    ['x: a#b\ny: yes\nz: 1_000\nt: 12:30\n', { x: 'a#b', y: 'yes', z: '1_000', t: '12:30' }],
    ['l:\n- a\n- [b, { c: d }]\n- e: 1\n  f: 2\n-\n  - g\n', { l: ['a', ['b', { c: 'd' }], { e: 1, f: 2 }, ['g']] }],
    ["q: \"a\\\"b\\n\\u00e9\"\nr: 'it''s'\n", { q: 'a"b\né', r: "it's" }],
    ['a:\r\n  b: 1\r\n', { a: { b: 1 } }],
  ];
  for (const [text, value] of reads) {
    assert.equal(fastParse(text), value, JSON.stringify(text));
    assert.ok(check(text, 'reads'));
  }
  const gives = [
    '',
    '# only a comment\n',
    '- a\n',
    'a: 0x1F\n',
    'a: 1e3\n',
    'a: .inf\n',
    'a: 0o17\n',
    'a: 1234567890123456\n',
    'a: 1\na: 2\n',
    '__proto__: 1\n',
    '<<: 1\n',
    '1: a\n',
    'a: &x 1\n',
    'a: *x\n',
    'a: !!str 1\n',
    'a: |\n  x\n',
    'a:\tb\n',
    '\ta: b\n',
    'a: b\n  c\n',
    'a: b: c\n',
    '---\na: 1\n',
    '\ufeffa: 1\n',
    'a: [b,\n  c]\n',
    'a: [b, c,]\n',
    'a: "b\\q"\n',
    'a: "b\n',
    'a: @b\n',
    'a: `b\n',
    '? a\n: b\n',
    'a: {b: 1, b: 2}\n',
    'a: [b: c]\n',
    'a: [b, c,]\n',
    '"a":b\n',
    "- 'a':b\n",
    '... a: 1\n',
    'a: 1\n... b: 2\n',
    '--- a: 1\n',
    'a:\n  - b\n  c: d\n',
    // The library (strict) refuses an implicit key of more than 1024 characters.
    `${'k'.repeat(1100)}: v\n`,
    `a: { ${'k'.repeat(1100)}: v }\n`,
  ];
  for (const text of gives) assert.is(fastParse(text), undefined, JSON.stringify(text));
});

test('the key and item limit: the fast path reads MAX_MAP_KEYS keys or items, and leaves one more to the general path', () => {
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}: ${i}\n`).join('');
  const items = (n: number) => `l:\n${Array.from({ length: n }, (_, i) => `  - ${i}\n`).join('')}`;
  const flowItems = (n: number) => `l: [${Array.from({ length: n }, (_, i) => i).join(', ')}]\n`;
  const flowKeys = (n: number) => `m: { ${Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join(', ')} }\n`;
  for (const make of [keys, items, flowItems, flowKeys]) {
    assert.ok(check(make(MAX_MAP_KEYS), 'at the limit'), make(2));
    const over = make(MAX_MAP_KEYS + 1);
    assert.is(fastParse(over), undefined, make(2));
    assert.is(general(over).diagnostics[0]?.code, 'YAML_TOO_MANY_KEYS');
  }
});

// Scalars as written: forms of the subset (COMMON), and near-misses of it (NEAR), tried as
// values. Most values are common ones, so that many documents are read whole.
// prettier-ignore
const COMMON = [
  'eno1', 'b4:96:01:10:00:07', '10.0.0.1', '/dev/disk/by-id/nvme-X_1', 'ttyS1,115200n8', '802.3ad', 'layer3+4',
  'http://x.example/y?z=1', 'rack-3', 'a b', 'x y z', 'café', '日本', 'a#b', 'a,b', 'a]', 'x{y', "a'b", 'a"b',
  '0', '1', '-5', '+1', '007', '-0', '00', '9000', '123456789012345', '3.14', '1.0', '1.', '-1.50', '.5', '-.5', '+.5', '-0.0',
  '1_000', '12:30', '~', 'null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'yes', 'off',
  '"q"', '"q\\"x"', '"\\x41\\u00e9\\t\\\\"', '""', '"a#b"', '"a: b"', '"1"', '"true"', "'q'", "'it''s'", "''", "'#'", "'x: y'",
  '[a, b]', '[a,b]', '[ a , b ]', '[]', '[ ]', '{}', '{ }', '{ a: b }', '{a: b}', '[[a], {b: [c]}]', '{ name: eno1, mac: b4:96:01:10:00:07 }',
  '{ "a": b }', '[a] # c', '{ a: [1, 2] } # x', '[ -1, -a ]', '[a#b]', "['a', \"b\"]", '{ a b: c }', 'x # c', 'x  ', 'x   # c', '',
];
// prettier-ignore
const NEAR = [
  'a  b', 'a\u00a0b', '1234567890123456', '99999999999999999999', '.', '..', '1.2.3', '0.0',
  '0x1F', '0x', '0o17', '0o8', '1e3', '1E-3', '.5e1', '1:2', '+', '-', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', '.NAN', '.Nan',
  'nULL', 'tRUE', 'no', 'on', 'y', 'n',
  'a #b', 'a # b # c', 'key:value', 'a: b', 'a:', ':a', 'a :b', 'a}b',
  '"\\q"', '"\\U0001F600"', '"\\u12"', '"a', '"a" b', '"__proto__"', "'a", "'a' b",
  '@x', '`x', '%x', '&a x', '&a', '*a', '!!str x', '!x y', '!!int 1', '|', '>', '|-', '- x', '-x', '-1x', '--x', '?x', '? x', '?',
  '[a, b,]', '[a,, b]', '{a:b}', '{ a }', '{ a: }', '{ a: , b: c }',
  '[a: b]', '{ a: 1, a: 2 }', '{ __proto__: 1 }', '{ "a":b }',
  '[a]#c', '[a] b', '[- a]', '[a #b]', '{ a: b #c }', '[&a x]', '[*a]', '[!!str x]',
  '[a, [b, [c, [d]]]]', '{ <<: x }', '{ 1: x }', '{ a : b }', '[a, b', '{ a: b',
  ' ', '# c', 'x#',
];
// prettier-ignore
const KEYS = [
  'a', 'b', 'c', 'name', 'mac', 'ip', 'install', 'config', 'os', 'labels', 'a b', 'a-b', 'a.b/c', 'k8s.io/zone',
  '"a"', "'a'", '"q k"', '""', "'b'", '1', '-1', '1.5', 'true', 'null', '~', 'yes', '__proto__', '"__proto__"', '<<',
  'a:b', 'a#b', 'a #b', '-k', '?k', '? k', '&x k', '*x', '!!str k', '[k]', '{k: v}', 'a[1]', 'constructor', 'toString', 'a ',
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** A value as written: most often a common form, else a near-miss. */
function scalar(r: () => number): string {
  return r() < 0.85 ? pick(r, COMMON) : pick(r, NEAR);
}

/** Lines of a random block mapping at `indent` (the first key may follow a list item's `- `). */
function mappingLines(r: () => number, indent: number, depth: number, first = ''): string[] {
  const lines: string[] = [];
  const n = 1 + Math.floor(r() * 4);
  // Keys from a small pool: duplicates happen.
  for (let e = 0; e < n; e++) {
    const key = r() < 0.8 ? pick(r, KEYS.slice(0, 10)) : pick(r, KEYS);
    const lead = e === 0 && first ? first : ' '.repeat(indent);
    const v = r();
    if (depth < 3 && v < 0.2) {
      lines.push(`${lead}${key}:${r() < 0.2 ? ' # c' : ''}`, ...mappingLines(r, indent + 1 + Math.floor(r() * 3), depth + 1));
    } else if (depth < 3 && v < 0.35) {
      lines.push(`${lead}${key}:`, ...sequenceLines(r, r() < 0.4 ? indent : indent + 1 + Math.floor(r() * 3), depth + 1));
    } else {
      lines.push(`${lead}${key}: ${scalar(r)}`);
    }
  }
  return lines;
}

/** Lines of a random block list with its `-` at `indent`. */
function sequenceLines(r: () => number, indent: number, depth: number): string[] {
  const lines: string[] = [];
  const n = 1 + Math.floor(r() * 3);
  for (let e = 0; e < n; e++) {
    const dash = `${' '.repeat(indent)}-${' '.repeat(1 + Math.floor(r() * 2))}`;
    const v = r();
    if (depth < 3 && v < 0.25) lines.push(...mappingLines(r, dash.length, depth + 1, dash));
    else if (depth < 3 && v < 0.35) lines.push(`${' '.repeat(indent)}-`, ...mappingLines(r, indent + 1 + Math.floor(r() * 3), depth + 1));
    else if (depth < 3 && v < 0.4) lines.push(`${' '.repeat(indent)}-`, ...sequenceLines(r, indent + 1 + Math.floor(r() * 3), depth + 1));
    else lines.push(`${dash}${scalar(r)}`);
  }
  return lines;
}

/** Near-misses made of a document's lines: a bad indent, a tab, an odd line, CRLF. */
const MUTATIONS: ((r: () => number, lines: string[]) => void)[] = [
  (r, l) => {
    const i = Math.floor(r() * l.length);
    l[i] = (r() < 0.5 ? ' ' : '') + l[i]!.replace(/^ /, r() < 0.5 ? '' : ' ');
  },
  (r, l) => {
    const i = Math.floor(r() * l.length);
    const at = Math.floor(r() * (l[i]!.length + 1));
    l[i] =
      l[i]!.slice(0, at) +
      pick(r, ['\t', '#', ' ', ':', '-', '"', "'", '&a ', '*a', '!!str ', '|', '[', '}', ' #x', '\u00a0', '\u2028', '\r']) +
      l[i]!.slice(at);
  },
  (r, l) => {
    const i = Math.floor(r() * (l.length + 1));
    l.splice(
      i,
      0,
      pick(r, [
        '',
        '   ',
        '# comment',
        '    # indented comment',
        '---',
        '...',
        '%YAML 1.2',
        '- x',
        '  - y',
        'a: 1',
        '  b: 2',
        'cont',
        '  cont',
        '\t',
        '? k',
        ': v',
      ]),
    );
  },
  (r, l) => {
    const i = Math.floor(r() * l.length);
    l[i] = `${l[i]}${pick(r, [' ', '  ', ' # c', '#c', ' x', ':', ' :'])}`;
  },
  (r, l) => {
    // A space left out: `key:value`, `-item`, `[a,b]`, `a#b`.
    const i = Math.floor(r() * l.length);
    const spaces = [...l[i]!.matchAll(/ /g)].map((m) => m.index);
    if (spaces.length > 0) {
      const at = pick(r, spaces);
      l[i] = l[i]!.slice(0, at) + l[i]!.slice(at + 1);
    }
  },
];

test('fuzzer: random documents of the subset and near-misses: the fast path gives up or agrees', () => {
  const started = performance.now();
  const r = prng(20_261_124);
  const cases = 6000;
  let fast = 0;
  for (let c = 0; c < cases; c++) {
    const lines = mappingLines(r, 0, 0);
    const m = r();
    if (m < 0.45) {
      const times = 1 + Math.floor(r() * 2);
      for (let t = 0; t < times; t++) pick(r, MUTATIONS)(r, lines);
    }
    let text = lines.join('\n') + (r() < 0.8 ? '\n' : '');
    if (r() < 0.1) text = text.replace(/\n/g, '\r\n');
    if (check(text, `fuzz case ${c}`)) fast++;
  }
  console.log(`  fast path: ${fast} of ${cases} fuzzed documents (${Math.round(performance.now() - started)} ms)`);
  // Both sides of the rule are exercised: many documents read, many given up on.
  assert.ok(fast > cases / 5, `only ${fast} of ${cases} fuzzed documents took the fast path`);
  assert.ok(fast < (cases * 4) / 5, `${fast} of ${cases} fuzzed documents took the fast path: too few near-misses`);
});

test.run();
