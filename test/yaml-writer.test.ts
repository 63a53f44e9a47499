// The node-config YAML writer (src/formats/yaml.ts): every output parses back, as YAML 1.2 and as
// YAML 1.1, to the value it came from, and typical configs come out as the `yaml` package wrote them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fg from 'fast-glob';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { SECRET_MARKERS } from '../src/load/secrets.ts';
import { toYaml } from '../src/formats/yaml.ts';

const repo = join(import.meta.dirname, '..');

test('committed node configs come out byte for byte as the yaml package wrote them', () => {
  const files = fg.sync(['out/*/harvester/*.yaml', 'test/fixtures/build/*/expected/harvester/*.yaml'], { cwd: repo });
  assert.ok(files.length >= 5, 'found the committed configs');
  for (const f of files) {
    const body = readFileSync(join(repo, f), 'utf8').replace(/^(#.*\n)+/, '');
    assert.is(toYaml(parse(body)), body, f);
    // The secret markers, the webhook URLs (Go templates: `{{`, `&`), the reinstall marker's shell
    // command and all-digit MACs are quoted by harvgen's writer (its plain scalars use a small safe
    // alphabet, and are never YAML 1.1 numbers) where the yaml package leaves them plain; the rest
    // is byte for byte the same.
    const ascii = parse(
      body
        .replaceAll(`"${SECRET_MARKERS.password}"`, 'password-marker')
        .replaceAll(`"${SECRET_MARKERS.token}"`, 'token-marker')
        .replace(/^( +(?:url: |- ))"[^\n]*(?:\{\{|\$\()[^\n]*"$/gm, '$1templated-or-shell')
        // A MAC of digits only is a base-60 integer to YAML 1.1: harvgen quotes it.
        .replace(/"(\d\d(?::\d\d){5})"/g, 'mac-$1'.replaceAll(':', '-')),
    );
    assert.is(toYaml(ascii), stringify(ascii, { lineWidth: 0, indentSeq: true, aliasDuplicateObjects: false }), f);
  }
});

// A small seeded generator of values with awkward strings.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const PIECES = [
  'a',
  'Z',
  '0',
  '1',
  '9',
  '.',
  '-',
  '_',
  ':',
  ' ',
  '#',
  '"',
  "'",
  '\\',
  '\n',
  '\t',
  '\r',
  ',',
  '[',
  ']',
  '{',
  '}',
  '&',
  '*',
  '!',
  '|',
  '>',
  '%',
  '@',
  '`',
  '?',
  '~',
  '$',
  '/',
  '=',
  '+',
  '(',
  'e',
  'x',
  'o',
  'b',
  'yes',
  'No',
  'on',
  'OFF',
  'null',
  'true',
  '.inf',
  '.NaN',
  '0x1F',
  '0o17',
  '1_000',
  '1:20',
  '2001-12-14',
  '<<',
  '\u0085',
  '\u2028',
  '\ufeff',
  '\u0000',
  'é',
  '😀',
  '192.168.1.1',
  '1e3',
  '-',
  '---',
  '...',
];
function value(r: () => number, depth: number): unknown {
  const k = r();
  if (depth > 3 || k < 0.55) {
    const t = r();
    if (t < 0.08) return Math.floor(r() * 2000) - 1000;
    if (t < 0.1) return r() * 100;
    if (t < 0.13) return r() < 0.5;
    if (t < 0.15) return null;
    let s = '';
    const n = Math.floor(r() * 5);
    for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
    return s;
  }
  if (k < 0.75) return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) o[String(value(r, 9))] = value(r, depth + 1);
  return o;
}

test('any value parses back to itself, as YAML 1.2 and as YAML 1.1', () => {
  const r = rng(20261122);
  for (let i = 0; i < 3000; i++) {
    const v = { root: value(r, 0), list: [value(r, 1), value(r, 1)] };
    const text = toYaml(v);
    assert.equal(parse(text), v, text);
    assert.equal(parse(text, { version: '1.1' }), v, text);
  }
});

test('strings a YAML reader would take for something else are quoted', () => {
  for (const s of [
    'yes',
    'No',
    'on',
    '~',
    'null',
    '1_000',
    '0x1F',
    '1:20',
    '2001-12-14',
    '.inf',
    '12',
    '1e3',
    '',
    ' a',
    'a: b',
    'a #b',
    '- a',
    '<<',
    // A pattern is skipped by the first character (src/formats/yaml.ts): each first character one can match at.
    'e5',
    'E1',
    '+1',
    '-1',
    '.5',
    '=',
    'Y',
    'OFF',
    'Null',
    'TRUE',
    'False',
  ])
    assert.is(toYaml({ k: s }), `k: ${JSON.stringify(s)}\n`, s);
  for (const s of [
    '192.168.1.1',
    'http://10.0.0.1/x',
    '$6$salt$hash',
    'tty1,115200n8',
    '0.suse.pool.ntp.org',
    '/dev/vda',
    'e',
    'nx',
    'yess',
    'h5',
    'ON5',
  ])
    assert.is(toYaml({ k: s }), `k: ${s}\n`, s);
});

test.run();
