// YAML mistakes get the line and column of the mistake, plain words, a hint that says what to
// write, and a code frame. Each fixture in test/fixtures/yaml-errors/ holds one common mistake
// and is checked as the site.yaml of a site of its own.
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { check, formatDiagnostics, type Diagnostic } from '../src/index.ts';
import { main } from '../src/cli.ts';
import { tempDir } from './helpers/tmp.ts';

const fixtures = resolve(import.meta.dirname, 'fixtures/yaml-errors');

/** A site directory whose site.yaml is the fixture. */
function siteOf(fixture: string): string {
  const dir = tempDir('yaml-errors');
  copyFileSync(join(fixtures, fixture), join(dir, 'site.yaml'));
  return dir;
}

/** Secrets come from the environment in the complete fixtures. */
const env = { LAB_TOKEN: 't0ken.123', LAB_PASSWORD: 'passw0rd.123' };

interface Case {
  readonly fixture: string;
  readonly code: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
  readonly hint: string;
}

// The mistake alone is reported: one diagnostic each, not the lines after it.
const syntax: Case[] = [
  {
    fixture: 'indent-more.yaml',
    code: 'YAML_SYNTAX',
    line: 4,
    col: 5,
    message: 'this line is indented more than the key above it (`cidr` on line 3)',
    hint: 'Indent `gateway` to column 3 like `cidr` to make it the next key. `cidr` already has a value (`10.0.0.0/24`), so nothing can be nested under it.',
  },
  {
    fixture: 'indent-more-in-list-item.yaml',
    code: 'YAML_SYNTAX',
    line: 4,
    col: 6,
    message: 'this line is indented more than the key above it (`hostname` on line 3)',
    hint: 'Indent `mac` to column 5 like `hostname`',
  },
  {
    fixture: 'indent-less.yaml',
    code: 'YAML_SYNTAX',
    line: 4,
    col: 3,
    message: 'this line is indented less than the key `vip` above it (column 5) but more than the key `cluster` (column 1)',
    hint: 'Indent `token` to column 5 to put it next to `vip`, or to column 1 to put it next to `cluster`.',
  },
  {
    fixture: 'indent-less-in-list-item.yaml',
    code: 'YAML_SYNTAX',
    line: 4,
    col: 4,
    message: 'this line is indented less than the key `hostname` above it (column 5) but more than the `-` of the list item (column 3)',
    hint: 'Indent `mac` to column 5 to put it next to `hostname`.',
  },
  {
    fixture: 'list-items-misaligned.yaml',
    code: 'YAML_SYNTAX',
    line: 5,
    col: 4,
    message: 'this list item is not lined up with the items above it: their `-` is at column 3, this one at column 4',
    hint: 'Move the `-` to column 3, like the other items of the list.',
  },
  {
    fixture: 'tab-indent.yaml',
    code: 'YAML_TAB_INDENT',
    line: 3,
    col: 1,
    message: 'this line is indented with a tab',
    hint: 'Indent with spaces; YAML does not allow tabs for indentation.',
  },
  {
    fixture: 'missing-colon.yaml',
    code: 'YAML_SYNTAX',
    line: 4,
    col: 13,
    message: 'missing `:` after the key `hostname`?',
    hint: 'Write `hostname: hv-1`',
  },
  {
    fixture: 'missing-colon-first-key.yaml',
    code: 'YAML_SYNTAX',
    line: 3,
    col: 13,
    message: 'missing `:` after the key `hostname`?',
    hint: 'Write `hostname: hv-1`',
  },
  {
    fixture: 'missing-space-after-colon.yaml',
    code: 'YAML_SYNTAX',
    line: 3,
    col: 7,
    message: 'no space after the `:` in `vip:10.0.0.10`',
    hint: 'Put a space after the colon: `vip: 10.0.0.10`.',
  },
  {
    fixture: 'unclosed-list.yaml',
    code: 'YAML_SYNTAX',
    line: 4,
    col: 3,
    message: 'the list opened with `[` on line 3 is not closed before this line',
    hint: 'Add the missing `]` at the end of line 3: `dns: [10.0.0.1, 10.0.0.2]`.',
  },
  {
    fixture: 'unclosed-quote.yaml',
    code: 'YAML_SYNTAX',
    line: 3,
    col: 9,
    message: 'this quoted string is never closed: the closing `"` is missing',
    hint: 'Add the closing `"` on this line: `cidr: "10.0.0.0/24"`.',
  },
  {
    fixture: 'duplicate-key.yaml',
    code: 'YAML_DUPLICATE_KEY',
    line: 5,
    col: 3,
    message: 'the key `vip` appears twice in this mapping (first on line 3)',
    hint: 'Remove or rename one of the two keys',
  },
  {
    fixture: 'list-item-in-mapping.yaml',
    code: 'YAML_SYNTAX',
    line: 4,
    col: 3,
    message: 'a list item (`- `) in the middle of a mapping',
    hint: 'Remove the `- ` to make `token` a key like `vip`.',
  },
  {
    // A list item dedented to its key's column: the fix is to indent it, not to remove the `- `.
    fixture: 'list-item-dedented.yaml',
    code: 'YAML_SYNTAX',
    line: 6,
    col: 3,
    message: 'this list item is indented less than the items of `dns` above it',
    hint: 'Indent it under `dns`: move the `-` to column 5, like the other items of the list (line 5).',
  },
  {
    fixture: 'list-item-below-its-key.yaml',
    code: 'YAML_SYNTAX',
    line: 5,
    col: 1,
    message: 'this list item is indented less than `dns` on line 4, the key it follows',
    hint: 'Indent it under `dns`: move the `-` to column 5',
  },
  {
    fixture: 'list-item-after-value.yaml',
    code: 'YAML_SYNTAX',
    line: 5,
    col: 3,
    message: 'a list item (`- `) after `dns: 10.0.0.1`, a key that already has its value',
    hint: 'To make `dns` a list, leave nothing after `dns:` and put every item on its own `- ` line under it',
  },
  {
    fixture: 'list-item-among-item-keys.yaml',
    code: 'YAML_SYNTAX',
    line: 5,
    col: 3,
    message: "this list item is at the column of the keys of the item above it (column 3), not at the column of its list's `-` (column 1)",
    hint: 'Move the `-` to column 1 to make it the next item of the list, like the item on line 3.',
  },
  {
    fixture: 'colon-in-value.yaml',
    code: 'YAML_SYNTAX',
    line: 2,
    col: 20,
    message: 'the value of `description` holds `: `, which YAML reads as the start of another key',
    hint: 'Quote the value: `description: "rack 4: the lab"`.',
  },
];

// A value YAML read as something else than the user meant: the schema says so, with a hint.
const values: Case[] = [
  {
    fixture: 'mac-all-digits.yaml',
    code: 'SCHEMA_TYPE',
    line: 9,
    col: 10,
    message: 'nodes[0].mac must be a string',
    hint: 'Quote it: `mac: "001122334455"` — YAML reads an unquoted all-digit value as a number.',
  },
  {
    fixture: 'mac-all-digits.yaml',
    code: 'SCHEMA_TYPE',
    line: 11,
    col: 33,
    message: 'nodes[1].macs[1] must be a string',
    hint: 'Quote it: `"001122334456"` — YAML reads an unquoted all-digit value as a number.',
  },
  {
    fixture: 'mac-all-digits.yaml',
    code: 'SCHEMA_TYPE',
    line: 15,
    col: 14,
    message: 'nodes[2].interfaces[0].mac must be a string',
    hint: 'Quote it: `mac: "001122334457"` — YAML reads an unquoted all-digit value as a number.',
  },
  {
    fixture: 'mac-exponent.yaml',
    code: 'SCHEMA_TYPE',
    line: 9,
    col: 10,
    message: 'nodes[0].mac must be a string',
    hint: 'Quote it: `mac: "52e400112233"` — YAML reads an unquoted value of digits around one `e` as a number in exponent notation',
  },
  {
    fixture: 'missing-space-in-value.yaml',
    code: 'SCHEMA_TYPE',
    line: 6,
    col: 3,
    message: 'cluster must be an object, got the string "vip:10.0.0.10"',
    hint: 'YAML reads `vip:10.0.0.10` as one string because there is no space after the colon: write `vip: 10.0.0.10`.',
  },
  {
    fixture: 'one-value-for-a-list.yaml',
    code: 'SCHEMA_TYPE',
    line: 7,
    col: 8,
    message: 'network.dns must be an array, got the string "10.0.0.1"',
    hint: 'Write a list, even of one: `dns: [10.0.0.1]`.',
  },
  {
    fixture: 'comma-values-for-a-list.yaml',
    code: 'SCHEMA_TYPE',
    line: 7,
    col: 8,
    message: 'network.dns must be an array, got the string "10.0.0.1, 10.0.0.2"',
    hint: 'Write a list: `dns: [10.0.0.1, 10.0.0.2]`.',
  },
  {
    fixture: 'quoted-scalars.yaml',
    code: 'SCHEMA_TYPE',
    line: 5,
    col: 15,
    message: 'boot.skipchecks must be a boolean, got the string "yes"',
    hint: 'YAML reads "yes" as text here; write `skipchecks: true`.',
  },
  {
    fixture: 'quoted-scalars.yaml',
    code: 'SCHEMA_TYPE',
    line: 10,
    col: 15,
    message: 'nodes[0].hostname must be a string, got number 123',
    hint: 'Quote it: `hostname: "123"`',
  },
  {
    fixture: 'quoted-scalars.yaml',
    code: 'SCHEMA_TYPE',
    line: 12,
    col: 10,
    message: 'nodes[0].mtu must be an integer, got the string "9000"',
    hint: 'Write the number without quotes: `mtu: 9000`.',
  },
  // A hint's value is what was meant, and YAML reads it back as that.
  {
    fixture: 'hints-as-written.yaml',
    code: 'SCHEMA_TYPE',
    line: 5,
    col: 16,
    message: 'boot.kernel_args must be an array',
    hint: 'Write a list: `kernel_args: [console=tty0, "console=ttyS1,115200n8"]`.', // words split at whitespace, not at the comma
  },
  {
    fixture: 'hints-as-written.yaml',
    code: 'SCHEMA_TYPE',
    line: 6,
    col: 55,
    message: 'network.dns must be an array',
    hint: 'Write a list, even of one: `dns: ["foo:"]`.', // unquoted, `[foo:]` is a list of one mapping
  },
  {
    fixture: 'hints-as-written.yaml',
    code: 'SCHEMA_TYPE',
    line: 10,
    col: 15,
    message: 'nodes[0].hostname must be a string, got number 12',
    hint: 'Quote it: `hostname: "012"`', // as written, not the number YAML made of it
  },
  {
    fixture: 'hints-as-written.yaml',
    code: 'SCHEMA_TYPE',
    line: 12,
    col: 10,
    message: 'nodes[0].mtu must be an integer, got the string "1.5"',
    hint: 'MTU of the management interface', // no `mtu: 1.5`: that is no integer either
  },
  {
    fixture: 'hints-as-written.yaml',
    code: 'SCHEMA_TYPE',
    line: 13,
    col: 18,
    message: 'nodes[0].kernel_args must be an array',
    hint: 'Write a list, even of one: `kernel_args: ["console=ttyS0,115200n8"]`.',
  },
  {
    fixture: 'hints-list-items.yaml',
    code: 'SCHEMA_TYPE',
    line: 5,
    col: 55,
    message: 'network.dns must be an array',
    hint: 'Write a list, even of one: `dns: ["@x"]`.', // a plain `@x` does not parse
  },
  {
    fixture: 'hints-list-items.yaml',
    code: 'SCHEMA_TYPE',
    line: 7,
    col: 19,
    message: 'forward.ports must be an array',
    hint: 'Write a list: `ports: [8080, 8081]`.', // numbers, as the list holds
  },
  {
    fixture: 'hints-list-items.yaml',
    code: 'SCHEMA_TYPE',
    line: 11,
    col: 11,
    message: 'nodes[0].macs must be an array, got number 1122334455',
    hint: 'Write a list, even of one: `macs: ["001122334455"]`.', // as written, not the number YAML made of it
  },
  {
    fixture: 'hints-yaml-1.1.yaml',
    code: 'SCHEMA_TYPE',
    line: 7,
    col: 55,
    message: 'network.dns must be an array',
    hint: 'Write a list: `dns: ["on", "1_000"]`.', // in YAML 1.1, on is true and 1_000 is 1000
  },
  {
    fixture: 'device-control.yaml',
    code: 'SCHEMA_PATTERN',
    line: 7,
    col: 32,
    message: 'defaults.install.device has the wrong form: "/dev/\\u001b[2Jvda"', // no disk has a control character in its path
    hint: 'a path under `/dev/` without control characters',
  },
];

test('each list hint above reads back, in YAML, as the list it names', () => {
  for (const c of values) {
    const m = /^Write a list[^`]*`\w+: (\[.*\])`/.exec(c.hint);
    if (!m) continue;
    for (const version of ['1.1', '1.2'] as const) {
      const back = parse(m[1]!, { version }) as unknown[];
      const want = c.hint.includes('ports:') ? 'number' : 'string';
      assert.ok(Array.isArray(back) && back.every((x) => typeof x === want), `${m[1]} is a list of ${want}s in YAML ${version}`);
    }
  }
});

function assertCase(c: Case, diagnostics: readonly Diagnostic[]): void {
  const d = diagnostics.find((x) => x.code === c.code && x.line === c.line);
  const got = diagnostics.map((x) => `${x.code} ${x.line}:${x.col} ${x.message} | ${x.hint}`).join('\n');
  assert.ok(d, `no ${c.code} at line ${c.line}; got:\n${got}`);
  assert.is(d.col, c.col, got);
  assert.ok(d.message.includes(c.message), `message: ${d.message}`);
  assert.ok(d.hint?.includes(c.hint), `hint: ${d.hint}`);
}

for (const c of syntax) {
  test(`${c.fixture}: ${c.code} at ${c.line}:${c.col}, ${c.message}`, async () => {
    const result = await check({ sites: [siteOf(c.fixture)] });
    assertCase(c, result.diagnostics);
    assert.is(result.diagnostics.length, 1, 'one diagnostic for one mistake');
  });
}

for (const c of values) {
  test(`${c.fixture}: ${c.code} at ${c.line}:${c.col} with the hint ${c.hint.slice(0, 30)}…`, async () => {
    const result = await check({ sites: [siteOf(c.fixture)], env });
    assertCase(c, result.diagnostics);
  });
}

test('a YAML error comes with the text of its file, and the CLI prints its code frame', async () => {
  const dir = siteOf('indent-more.yaml');
  const result = await check({ sites: [dir] });
  const file = result.diagnostics[0]!.file!;
  assert.ok(result.sites[0]!.sources[file]?.includes('    gateway: 10.0.0.1'), 'the failed file is among the sources');
  const frame = formatDiagnostics(result.diagnostics, { sources: result.sites[0]!.sources });
  assert.match(frame, /> 4 \|     gateway: 10\.0\.0\.1\n\s+\|     \^\^\^\^\^\^\^\n/);

  let stderr = '';
  const io = { out: { write: () => true }, err: { write: (s: string) => (stderr += s) } };
  assert.is(await main(['check', dir, '--no-color'], io), 1);
  assert.match(stderr, /site\.yaml:4:5 {2}error {2}YAML_SYNTAX {2}this line is indented more than the key above it/);
  assert.match(stderr, /> 4 \|     gateway: 10\.0\.0\.1\n\s+\|     \^\^\^\^\^\^\^\n/);
  assert.match(stderr, /hint: Indent `gateway` to column 3/);
});

test('the line of the missing colon is framed, not the line where YAML noticed it', async () => {
  let stderr = '';
  const io = { out: { write: () => true }, err: { write: (s: string) => (stderr += s) } };
  assert.is(await main(['check', siteOf('missing-colon.yaml'), '--no-color'], io), 1);
  assert.match(stderr, /> 4 \|     hostname hv-1\n\s+\| {13}\^\n/);
});

test('an inline secret stays masked in the code frame and the hint of a YAML error', async () => {
  let stderr = '';
  const io = { out: { write: () => true }, err: { write: (s: string) => (stderr += s) } };
  assert.is(await main(['check', siteOf('inline-secret.yaml'), '--no-color'], io), 1);
  assert.match(stderr, /this line is indented more than the key above it \(`token` on line 3\)/);
  assert.match(stderr, /> 4 \|     vip: 10\.0\.0\.10/);
  assert.match(stderr, /3 \|   token: \*\*\*\n/);
  assert.match(stderr, /`token` already has a value \(`\*\*\*`\)/);
  assert.not.match(stderr, /s3cret/);
});

test.run();
