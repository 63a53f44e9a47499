// Bad input gets a clear, positioned diagnostic and exit code 1 or 2, never a stack trace.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { check } from '../src/index.ts';
import { hasStackTrace, runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';

const VALID = `site: bad_input
harvester: { version: v1.4.1, artifacts: http://10.0.0.1/a }
boot: { server: http://10.0.0.1 }
network: { cidr: 10.0.0.0/24, gateway: 10.0.0.1, dns: [10.0.0.1], dhcp_range: 10.0.0.100-10.0.0.199 }
cluster: { vip: 10.0.0.10, token: t0ken, password: pw.123 }
defaults: { install: { device: /dev/vda } }
nodes:
  - { hostname: n1, mac: 52:54:00:00:00:01 }
`;

/** A site directory whose site.yaml holds `contents`. */
function siteWith(contents: string | Buffer, extra: Record<string, string | Buffer> = {}): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'site.yaml'), contents);
  for (const [rel, body] of Object.entries(extra)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), body);
  }
  return dir;
}

const cases: { name: string; make: () => string; code: string; line?: number; col?: number; exit?: number }[] = [
  { name: 'an empty file', make: () => siteWith(''), code: 'YAML_EMPTY', line: 1, col: 1 },
  { name: 'a file of comments only', make: () => siteWith('# nothing here\n'), code: 'YAML_EMPTY', line: 1, col: 1 },
  { name: 'a file that is not YAML', make: () => siteWith('site: [unclosed\nnodes: {\n'), code: 'YAML_SYNTAX', line: 2 },
  {
    name: 'tabs used for indentation',
    make: () => siteWith('site: x\nnetwork:\n\tcidr: 10.0.0.0/24\n'),
    code: 'YAML_TAB_INDENT',
    line: 3,
    col: 1,
  },
  {
    name: 'a duplicate key',
    make: () => siteWith(VALID.replace('boot:', 'site: again\nboot:')),
    code: 'YAML_DUPLICATE_KEY',
    line: 3,
    col: 1,
  },
  { name: 'a YAML alias bomb', make: () => siteWith(aliasBomb()), code: 'YAML_ALIAS_LIMIT', line: 1, col: 1 },
  {
    name: 'a !!binary value (no JSON form; it used to crash deepFreeze)',
    make: () => siteWith(`${VALID}description: !!binary aGVsbG8=\n`),
    code: 'YAML_TAG',
    line: 9,
    col: 23,
  },
  { name: 'a !!set', make: () => siteWith(`${VALID}description: !!set {a, b}\n`), code: 'YAML_TAG', line: 9, col: 20 },
  { name: 'a __proto__ key', make: () => siteWith(`${VALID}__proto__: {polluted: true}\n`), code: 'YAML_TAG', line: 9, col: 1 },
  { name: 'a multi-document file', make: () => siteWith(`${VALID}---\nsite: second\n`), code: 'YAML_MULTI_DOCUMENT', line: 9, col: 1 },
  { name: 'a 10 MB file', make: () => siteWith(`# ${'x'.repeat(10 * 1024 * 1024)}\n`), code: 'LOAD_FILE_TOO_LARGE' },
  {
    name: 'binary garbage',
    make: () => siteWith(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0xff, 0xfe, 0x10])),
    code: 'LOAD_BINARY_FILE',
    line: 1,
    col: 7,
  },
  {
    name: 'invalid UTF-8',
    make: () => siteWith(Buffer.concat([Buffer.from('site: x\ndescription: caf'), Buffer.from([0xe9]), Buffer.from('\n')])),
    code: 'LOAD_INVALID_UTF8',
    line: 2,
    col: 17,
  },
  {
    name: 'a scalar where a map is expected',
    make: () => siteWith(VALID.replace(/^boot: .*$/m, 'boot: http://10.0.0.1')),
    code: 'SCHEMA_TYPE',
    line: 3,
    col: 7,
  },
  { name: 'a list at the top level', make: () => siteWith('- site: x\n'), code: 'YAML_NOT_A_MAP', line: 1, col: 1 },
  { name: 'a missing site.yaml', make: () => tempDir(), code: 'LOAD_SITE_YAML_MISSING' },
  { name: 'a site directory that does not exist', make: () => join(tempDir(), 'no-such-site'), code: 'LOAD_SITE_DIR_NOT_FOUND' },
  {
    name: 'a node key with ../ in it',
    make: () => siteWith(VALID.replace('hostname: n1', 'hostname: ../../etc/passwd')),
    code: 'NODE_HOSTNAME_INVALID',
    line: 8,
    col: 17,
  },
  {
    name: 'a node key with / in it',
    make: () => siteWith(VALID.replace('hostname: n1', 'hostname: a/b')),
    code: 'NODE_HOSTNAME_INVALID',
    line: 8,
    col: 17,
  },
  {
    name: 'a node file whose name is not a hostname',
    make: () => siteWith(VALID.replace(/nodes:[\s\S]*$/, ''), { 'nodes/Bad_Name.yaml': 'mac: 52:54:00:00:00:09\n' }),
    code: 'NODE_HOSTNAME_INVALID',
  },
  {
    name: 'a node file that is a list',
    make: () => siteWith(VALID, { 'nodes/n2.yaml': '- mac: 52:54:00:00:00:09\n' }),
    code: 'YAML_NOT_A_MAP',
    line: 1,
    col: 1,
  },
];

function aliasBomb(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return lines.join('\n') + '\n';
}

for (const c of cases) {
  test(`${c.name} is reported as ${c.code}${c.line ? ` at ${c.line}:${c.col ?? '*'}` : ''}`, async () => {
    const dir = c.make();
    const result = await check({ sites: [dir] });
    assert.is(result.ok, false);
    const d = result.diagnostics.find((x) => x.code === c.code);
    assert.ok(d, `no ${c.code}; got ${result.diagnostics.map((x) => `${x.code} ${x.message}`).join('; ')}`);
    assert.ok(d.hint, 'a hint says what to do');
    if (c.line !== undefined) assert.is(d.line, c.line);
    if (c.col !== undefined) assert.is(d.col, c.col);
    const cli = runCli(['check', dir]);
    assert.ok(cli.code === 1 || cli.code === 2, `exit code ${cli.code}`);
    assert.ok(cli.stderr.includes(c.code), cli.stdout + cli.stderr);
    assert.not.ok(hasStackTrace(cli.stdout + cli.stderr), 'no stack trace');
  });
}

test('a failed build writes nothing and keeps the previous output', async () => {
  const dir = siteWith(VALID);
  const out = tempDir();
  assert.is(runCli(['build', dir, '--out', out]).code, 0);
  const before = runCli(['build', dir, '--out', out, '--check']);
  assert.is(before.code, 0, before.stdout);
  writeFileSync(join(dir, 'site.yaml'), VALID.replace('hostname: n1', 'hostname: N1'));
  const failed = runCli(['build', dir, '--out', out]);
  assert.is(failed.code, 1);
  assert.match(failed.stderr, /nothing was written/);
  writeFileSync(join(dir, 'site.yaml'), VALID);
  assert.is(runCli(['build', dir, '--out', out, '--check']).code, 0, 'the previous output is intact');
});

test.run();
